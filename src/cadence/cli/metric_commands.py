"""`cadence metric`, `cadence metrics`, `cadence explain`: the registry from the command line."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any

import typer
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from cadence.cli.console import console, rate_with_count, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.render import Sheet, View, render, supports
from cadence.metrics.counts import HITS, TRIALS, rate_counts

ByOption = Annotated[list[str] | None, typer.Option("--by", help="Cut by a dimension (repeatable).")]
GrainOption = Annotated[str, typer.Option("--grain", help="day, week, month, quarter or year (fiscal).")]
FromOption = Annotated[str | None, typer.Option("--from", help="First day (YYYY-MM-DD) or a period (2017-Q1).")]
ToOption = Annotated[str | None, typer.Option("--to", help="Day after the last (YYYY-MM-DD) or last period.")]
WhereOption = Annotated[str | None, typer.Option("--where", help="Filter, e.g. \"segment = 'enterprise'\".")]
CurrencyOption = Annotated[str | None, typer.Option(
    "--currency", help="Show money in this currency (ISO code, e.g. EUR), converted with the workspace's rates.")]


def _bounds(ws: object, start: str | None, end: str | None) -> tuple[date | None, date | None]:
    from cadence.metrics.query import period_bounds

    calendar = ws.calendar  # type: ignore[attr-defined]
    first = period_bounds(calendar, start)[0] if start else None
    last = None
    if end:  # a date is the exclusive end; a period label includes that period
        period_start, next_start, grain = period_bounds(calendar, end)
        last = period_start if grain == "day" else next_start
    return first, last


def _format_value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "currency":
        return f"{value:,.0f}"
    if unit in ("days", "score", "per_day"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


@app.command()
@supports(Output.csv, Output.markdown)
def metric(
    name: Annotated[str, typer.Argument(help="Metric name (see `cadence metrics`).")],
    by: ByOption = None,
    grain: GrainOption = "month",
    start: FromOption = None,
    end: ToOption = None,
    where: WhereOption = None,
    currency: CurrencyOption = None,
    output: FormatOption = Output.table,
) -> None:
    """One metric by period (fiscal calendar) and dimensions; money in the corporate currency or --currency."""
    with open_workspace() as ws:
        first, last = _bounds(ws, start, end)
        result = ws.metric_result(name, by=by or [], grain=grain, start=first, end=last, where=where,  # type: ignore[arg-type]
                                  currency=currency)
        counts = rate_counts(ws, result) if output is Output.table else None
    data = result.as_dict()
    title = f"{result.metric.label} ({_unit_label(data)}) by {grain}"
    render(View(data, [Sheet(title, data["rows"], _metric_columns(data))],
                lambda: _show_metric(title, data, counts, result.undated_notes())), output)


def _metric_columns(data: dict[str, Any]) -> list[str]:
    """The columns of a metric's rows, even when it has none: period, each dimension, value."""
    return list(data["rows"][0]) if data["rows"] else ["period", *(data.get("by") or []), "value"]


def _show_metric(title: str, data: dict[str, Any], counts: Any, notes: list[str]) -> None:
    rows = [{**r, "value": _format_value(r["value"], data["unit"])} for r in data["rows"]]
    if counts is not None:  # a share of rows (win rate, lead conversion) shown with its counts: "54.8% (34 of 62)"
        rows = [{**row, "value": rate_with_count(value, hits, trials)} for row, value, hits, trials
                in zip(rows, counts["value"], counts[HITS], counts[TRIALS], strict=True)]
    console.print(rich_table(title, rows))
    for note in notes:  # rows no period can hold are said, not silently dropped
        console.print(Text(note, style="yellow"))


def _unit_label(data: dict[str, object]) -> str:
    """"USD" for an amount, "USD per day" for velocity, "as entered, per currency" when cut by currency."""
    if data.get("currency"):
        return f"{data['currency']} per day" if data["unit"] == "per_day" else str(data["currency"])
    if "currency" in (data.get("by") or []) and data["unit"] in ("currency", "per_day"):  # type: ignore[operator]
        return "as entered, per currency"
    return str(data["unit"])


@app.command("metrics")
@supports(Output.csv, Output.markdown)
def list_metrics(output: FormatOption = Output.table) -> None:
    """Every metric with its definition, unit, direction, owner and dimensions."""
    if output is Output.markdown:
        from cadence.metrics.catalog import build_registry
        from cadence.metrics.catalogue_doc import metrics_markdown

        render(View(None, markdown=metrics_markdown(build_registry())), output)  # the built-ins: no workspace
        return
    with open_workspace() as ws:
        registry = ws.registry
        rows = [{"name": m.name, "label": m.label, "unit": m.unit, "direction": m.direction, "owner": m.owner,
                 "definition": m.formula, "description": m.description,
                 "dimensions": list(registry.dimensions_of(m))} for m in registry]
    sheet = Sheet("Metrics", [{**r, "dimensions": " ".join(r["dimensions"])} for r in rows])
    render(View({"metrics": rows}, [sheet], lambda: console.print(rich_table(
        "Metrics", rows, columns=["name", "unit", "owner", "definition", "description"]))), output)


@app.command()
def explain(
    name: Annotated[str, typer.Argument(help="Metric name.")],
    period: Annotated[str | None, typer.Option(help="Drill into one period, e.g. 2017-Q1.")] = None,
    by: ByOption = None,
    grain: GrainOption = "quarter",
    where: WhereOption = None,
    limit: Annotated[int, typer.Option(help="Rows behind the figure to show.")] = 20,
    currency: CurrencyOption = None,
    output: FormatOption = Output.table,
) -> None:
    """A metric's definition, the SQL it ran, and the rows behind a figure."""
    from cadence.metrics.explain import explain_metric

    with open_workspace() as ws:
        explanation = explain_metric(ws, name, period=period, by=by or [], grain=grain, where=where,  # type: ignore[arg-type]
                                     limit=limit, currency=currency)
    render(View(explanation, show=lambda: _show_explanation(explanation.as_dict())), output)


def _show_explanation(d: dict[str, Any]) -> None:
    if d["period"] and d["value"] is None and not d["rows"]:
        console.print(f"{d['label']} ({d['name']}): no rows in {d['period']}, so there is no figure to explain "
                      f"(`cadence explain {d['name']}` without --period shows its definition and SQL).")
        return
    console.print(Panel(f"[bold]{d['label']}[/] ({d['name']}, {d['unit']}, {d['direction']} is better, "
                        f"owner {d['owner']})\n{d['description']}\n\n[bold]Definition:[/] {d['formula']}",
                        title="Definition"))
    for sql in d["sql"]:
        console.print(Syntax(sql, "sql", word_wrap=True))
    if d["value"] is not None:
        code = f" {d['currency']}" if d.get("currency") else ""
        console.print(f"[bold]{d['period']}:[/] {_format_value(d['value'], d['unit'])}{code} "
                      f"from {d['row_count']:,} rows")
    if d["rows"]:
        console.print(rich_table(f"Rows behind the figure (first {len(d['rows'])})", _drill_rows(d["rows"])))


@app.command()
def scorecard(
    week: Annotated[str | None, typer.Option(help="ISO week, e.g. 2026-W47 (default: last complete week).")] = None,
    html: Annotated[str | None, typer.Option(help="Also write a self-contained HTML report to this file.")] = None,
    currency: CurrencyOption = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Compute every section again instead of reading back "
                                                        "the one kept for the same data and settings.")] = False,
    output: FormatOption = Output.table,
) -> None:
    """The weekly executive scorecard: mission metric, team KPIs vs target, pipeline, data quality.

    A section computed before for the same data, cadence.yml, week and currency is read back; any import, sync
    or hand entry computes it again."""
    from pathlib import Path

    from cadence.cli.main import state
    from cadence.cli.options import parse_day
    from cadence.cli.scorecard_view import render_scorecard
    from cadence.report.scorecard import build_scorecard

    with open_workspace() as ws:
        card = build_scorecard(ws, week=week, today=parse_day(state.today, "--today"), currency=currency,
                               fresh=fresh)
    if html:
        from cadence.report.html import render_html

        Path(html).write_text(render_html(card), encoding="utf-8")
    render(View(card, show=lambda: console.print(render_scorecard(card))), output)
    if html and output is Output.table:
        console.print(f"Wrote {html}")


def _drill_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The rows behind a figure as people read them: columns empty on every row left out, a date at
    midnight shown as the day, amounts with thousands separators (ids and names exactly as stored)."""
    shown = [c for c in rows[0] if any(r.get(c) not in (None, "") for r in rows)]

    def cell(column: str, value: Any) -> Any:
        if hasattr(value, "isoformat") and str(value).endswith("00:00:00"):
            return str(value)[:10]
        if column.startswith("amount") and isinstance(value, (int, float, Decimal)):
            return f"{float(value):,.2f}"
        return value

    return [{c: cell(c, r.get(c)) for c in shown} for r in rows]
