"""`cadence pipeline waterfall`: what moved in the quarter's open pipeline, step by step, and the deals behind it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of, as_of_line, parse_day
from cadence.cli.render import Sheet, View, render, supports

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf
    from cadence.analysis.waterfall import Step, Waterfall

pipeline_app = typer.Typer(help="The open pipeline over time: what moved between two dates (the waterfall).")
app.add_typer(pipeline_app, name="pipeline")

WATERFALL_HELP = (
    "What moved in the open pipeline of a period (deals open with a close date in it), step by step: start + "
    "created + pulled in + increased − decreased − pushed out − won − lost = end, to the cent and in deals; "
    "each step's end is the next one's start. Each deal's state at a step's start and end decides: out → in is "
    "created (created within the step) or pulled in, at its end amount; in → out is won (close date in the "
    "period, at the amount won: a change of amount goes to increased or decreased first), lost, or else "
    "pushed out, at its start amount; in at both: the change of amount; a deal that enters and closes within "
    "one step counts both ways.")
BARS_TEXT = "start, created, pulled_in, increased, decreased, pushed_out, won, lost, end"


@pipeline_app.command(help=WATERFALL_HELP)
@supports(Output.csv, Output.markdown)
def waterfall(
    period: Annotated[str | None, typer.Option(help="Target period: deals closing in it, e.g. 2026-Q1 (default: "
                                               "the quarter holding the data's last day).")] = None,
    grain: Annotated[str, typer.Option(help="Step: week or month (from the period's start).")] = "week",
    by: Annotated[str | None, typer.Option(help="One waterfall per team, owner_name or segment.")] = None,
    currency: Annotated[str | None, typer.Option("--currency", help="Show money in this currency (ISO code), "
                                                 "converted with the workspace's rates.")] = None,
    drill: Annotated[str | None, typer.Option(help=f"List the deals behind one bar ({BARS_TEXT}), with their "
                                              "stage, amount and close date before and after.")] = None,
    step: Annotated[str | None, typer.Option(help="With --drill: only the step starting on this day "
                                             "(YYYY-MM-DD); default every step.")] = None,
    chart: Annotated[Path | None, typer.Option(help="Write the waterfall chart of the whole span: .svg, or .json "
                                               "for Vega-Lite.")] = None,
    output: FormatOption = Output.table,
) -> None:
    from cadence.analysis.waterfall import pipeline_waterfall
    from cadence.metrics.money import in_currency

    bar = _bar(drill)
    first = parse_day(step, "--step")
    with open_workspace() as ws:
        day = as_of(ws)
        result = pipeline_waterfall(in_currency(ws, currency), ws.calendar, period=period, grain=grain, by=by,
                                    through=day.day)
    if chart is not None:
        _write_chart(result, chart)
    data = result.as_dict(drill=bar, step=first)
    title = f"Pipeline waterfall — {result.period} ({result.period_start} – {result.period_end}), " \
        f"{result.currency}, by {result.grain}"
    if bar is not None:
        deals = data["drill"]["deals"]
        sheet = Sheet(f"{title}: {bar} ({len(deals):,} deals)", deals)
    else:
        sheet = Sheet(title, _sheet_rows(result), None)
    render(View(data, [sheet], lambda: _show(result, data, sheet, day, chart)), output)


def _bar(drill: str | None) -> str | None:
    from cadence.analysis.waterfall import BARS
    from cadence.errors import UnknownNameError

    if drill is not None and drill not in BARS:
        raise UnknownNameError("waterfall bar", drill, BARS)
    return drill


def _sheet_rows(result: Waterfall) -> list[dict[str, Any]]:
    """The steps as one table; with --by, one block of steps per group."""
    if result.by is None:
        return [s.as_dict() for s in result.rows]
    return [{result.by: name, **s.as_dict()} for name, steps in result.groups.items() for s in steps]


def _show(result: Waterfall, data: dict[str, Any], sheet: Sheet, day: AsOf, chart: Path | None) -> None:
    console.print(as_of_line(day))
    if "drill" in data:
        console.print(rich_table(sheet.title, sheet.rows))
    else:
        groups = [(None, result.rows)] if result.by is None else list(result.groups.items())
        for name, steps in groups:
            rows = [_step_row(s, result.currency) for s in steps]
            if len(steps) > 1:
                from cadence.analysis.waterfall import overall

                rows.append({**_step_row(overall(steps), result.currency), "from": "whole span"})
            console.print(rich_table(f"{sheet.title}{f' — {result.by} {name}' if name else ''}", rows))
    console.print(Text(f"Rule: {result.method}. `--drill BAR` lists the deals behind a bar; `--format json` has "
                       "every cent.", style="dim"))
    if chart is not None:
        console.print(f"Wrote {chart}")


def _step_row(step: Step, currency: str) -> dict[str, Any]:
    """A step in the terminal: compact amounts (the title names the currency), deals at the end."""
    from cadence.analysis.waterfall import ADDED, MOVEMENTS
    from cadence.report.format import format_value

    def money(bar: str) -> str:
        return format_value(float(step.amount(bar)), "currency", currency).removesuffix(f" {currency}")

    return {"from": step.first.isoformat(), "start": money("start"),
            **{m.replace("_", " "): (("+" if m in ADDED else "−") if step.cents[m] else "") + money(m)
               for m in MOVEMENTS},
            "end": money("end"), "deals at end": step.counts["end"]}


def _write_chart(result: Waterfall, path: Path) -> None:
    import json

    from cadence.report.charts import to_svg
    from cadence.report.waterfall_chart import waterfall_spec

    if not result.rows:
        return
    total = result.total
    spec = waterfall_spec(total, currency=result.currency,
                          title=f"Pipeline closing in {result.period}: {total.first} – {total.last}")
    path.write_text(json.dumps(spec, indent=2) if path.suffix == ".json" else to_svg(spec), encoding="utf-8")
