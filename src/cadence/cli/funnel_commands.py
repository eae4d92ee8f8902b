"""`cadence funnel` and `cadence coach`: the sales model from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, rate_with_count, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of as resolve_as_of
from cadence.cli.options import as_of_line
from cadence.cli.render import Sheet, View, render, supports

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf
    from cadence.analysis.coaching import Coaching, RepCoaching
    from cadence.analysis.funnel import Funnel
    from cadence.metrics.calendar import FiscalCalendar


def _bounds(calendar: FiscalCalendar, start: str | None, end: str | None) -> tuple[date | None, date | None]:
    """--from: a day or the first period; --to: the day after the last, or the last period (included)."""
    from cadence.errors import InputError
    from cadence.metrics.query import period_bounds

    try:
        first = period_bounds(calendar, start)[0] if start else None
        last = None
        if end:
            period_start, next_start, grain = period_bounds(calendar, end)
            last = period_start if grain == "day" else next_start
    except ValueError as exc:
        raise InputError(str(exc)) from None
    return first, last


@app.command()
@supports(Output.csv, Output.markdown)
def funnel(
    by: Annotated[str | None, typer.Option("--by", help="Cut by segment, team, owner_name, region, kind…")] = None,
    start: Annotated[str | None, typer.Option("--from", help="Deals created from this day or period.")] = None,
    end: Annotated[str | None, typer.Option("--to", help="Day after the last, or the last period.")] = None,
    pipeline: Annotated[str | None, typer.Option(help="Pipeline (default: the one with most deals).")] = None,
    chart: Annotated[Path | None, typer.Option(help="Write the funnel chart: .svg, or .json for Vega-Lite.")] = None,
    output: FormatOption = Output.table,
) -> None:
    """Stage-to-stage conversion, time in stage and stage velocity of the deals created in a period."""
    from cadence.analysis.funnel import funnel as build_funnel

    with open_workspace() as ws:
        first, last = _bounds(ws.calendar, start, end)
        result = build_funnel(ws, pipeline=pipeline, start=first, end=last, by=by)
    if chart is not None:
        _write_chart(result, chart)
    rows = [_stage_row(s) for s in result.stages]
    title = f"Funnel — pipeline {result.pipeline}, {result.deals:,} deals created {result.start or 'any time'} – " \
        f"{result.end or 'now'}"
    render(View(result, [Sheet(title, rows, STAGE_COLUMNS)], lambda: _show_funnel(result, title, rows, by, chart)),
           output)


STAGE_COLUMNS = ["group", "stage", "reached", "sitting", "conversion", "median_days", "mean_days", "win_rate",
                 "velocity"]


def _show_funnel(result: Funnel, title: str, rows: list[dict[str, Any]], by: str | None, chart: Path | None) -> None:
    columns = [*(["group"] if by else []), "stage", "reached", "conversion", "median_days", "win_rate", "velocity"]
    dashed = [{**row, **{k: "—" for k in ("conversion", "median_days") if row[k] is None}} for row in rows]
    console.print(rich_table(title, dashed, columns=columns))  # "—": the last step, or no deal has left it yet
    if result.other_pipelines:
        console.print(f"Other pipelines with deals: {', '.join(result.other_pipelines)} (use --pipeline).")
    if result.without_history:
        console.print(f"{result.without_history:,} deals of the cohort have no stage history and are left out "
                      "(import OpportunityHistory, or successive full exports with --full).")
    if result.velocity_note:
        console.print(result.velocity_note)
    console.print(Text(f"Method: {result.method}. Velocity in {result.currency} per day.", style="dim"))
    if chart is not None:
        console.print(f"Wrote {chart}")


def _stage_row(stage: Any) -> dict[str, Any]:
    return {"group": stage.group, "stage": stage.stage, "reached": stage.reached, "sitting": stage.sitting,
            "conversion": rate_with_count(stage.conversion, stage.advanced, stage.decided),
            "median_days": stage.median_days, "mean_days": stage.mean_days,
            "win_rate": rate_with_count(stage.win_rate, stage.won, stage.closed), "velocity": stage.velocity}


def _write_chart(result: Funnel, path: Path) -> None:
    import json

    from cadence.report.charts import to_svg
    from cadence.report.funnel_chart import funnel_spec

    spec = funnel_spec(result)
    path.write_text(json.dumps(spec, indent=2) if path.suffix == ".json" else to_svg(spec), encoding="utf-8")


AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Day after the evidence (default: after the data).")]


@app.command()
@supports(Output.csv, Output.markdown)
def coach(
    rep: Annotated[str | None, typer.Argument(help="One rep, by person_id or name (default: every rep).")] = None,
    model: Annotated[str | None, typer.Option(help="Compare with this rep instead of the team's top quartile.")] = None,
    as_of: AsOfOption = None,
    output: FormatOption = Output.table,
) -> None:
    """Each rep's activity funnel against the model rep, and the step to coach when the data is sure."""
    from cadence.analysis.coaching import CoachingSettings
    from cadence.analysis.coaching import coach as build_coaching

    with open_workspace() as ws:
        today = None if as_of else resolve_as_of(ws)
        day = today.next_day if today else _bounds(ws.calendar, as_of, None)[0]
        result = build_coaching(ws, ws.calendar, as_of=day, settings=CoachingSettings(model_rep=model))
    reps = [result.rep(rep)] if rep else result.reps
    title = f"Coaching — evidence up to {result.as_of} ({result.quarter})"
    render(View({**result.as_dict(), "reps": [r.as_dict() for r in reps]},
                [Sheet(title, [_rep_row(r) for r in reps], ["rep", "team", "focus", "message"])],
                lambda: _show_coaching(result, reps, today, title, single=rep is not None)), output)


def _show_coaching(result: Coaching, reps: list[RepCoaching], today: AsOf | None, title: str, *,
                   single: bool) -> None:
    if today:
        console.print(as_of_line(today))
    if single:
        _show_rep(reps[0])
    else:
        console.print(rich_table(title, [_rep_row(r) for r in reps]))
    for note in result.notes:
        console.print(Text(f"· {note}", style="yellow"))
    console.print(Text(f"Method: {result.method}.", style="dim"))


def _rep_row(rep: RepCoaching) -> dict[str, Any]:
    return {"rep": rep.name, "team": rep.team, "focus": rep.focus_step or "", "message": rep.message}


def _show_rep(rep: RepCoaching) -> None:
    rows = [{"step": s.label, "rep": rate_with_count(s.rate, s.successes, s.trials) if s.kind == "conversion"
             else _value(s.rate, s.kind), "model": _value(s.model_rate, s.kind),
             "ratio": None if s.ratio is None else f"{s.ratio:.0%}",
             "interval": "" if s.ratio_low is None or s.ratio_high is None else
             f"{s.ratio_low:.0%}–{s.ratio_high:.0%}",
             "volume": f"{s.trials:,.0f} {s.unit} {s.window_text()}"} for s in rep.steps]
    ramp = " · in their first months: compared with the model at the same tenure" if rep.ramping else ""
    console.print(rich_table(f"{rep.name} ({rep.team}) against {', '.join(rep.model_names) or 'no model'}{ramp}", rows))
    style = "bold red" if rep.focus_step else "bold"
    console.print(Text.assemble(("Focus: " if rep.focus_step else "No focus: ", style), rep.message))


def _value(value: float | None, kind: str) -> str | None:
    if value is None:
        return None
    return f"{value:.1%}" if kind == "conversion" else f"{value:,.1f}"
