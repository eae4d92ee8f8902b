"""`cadence incentives` and `cadence incentives simulate`: quarter-end bunching and executive goal dates."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of, as_of_line
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import InputError, Location

if TYPE_CHECKING:
    from cadence.analysis.incentives import IncentiveReport, Simulation

incentives_app = typer.Typer(help="Incentive timing: quarter-end bunching, what quarter-end deals cost later, "
                                  "executive goal dates and a simulator of staggered ones.")
app.add_typer(incentives_app, name="incentives")

SeedOption = Annotated[int, typer.Option(help="Seed of the bootstrap intervals (same seed, same intervals).")]
MOVEMENTS = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr", "net_new_mrr")
MOVEMENT_QUARTERS = 8
STEP = re.compile(r"^\s*(\d+)\s*([dw])\s*$", re.IGNORECASE)


@incentives_app.callback(invoke_without_command=True)
@supports(Output.csv, Output.markdown)
def incentives(ctx: typer.Context, seed: SeedOption = 0, output: FormatOption = Output.table) -> None:
    """Bunching per quarter and year, quarter-end deals against the rest, goal pressure, MRR movements."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.analysis.incentives import incentive_report

    with open_workspace() as ws:
        day = as_of(ws)
        report = incentive_report(ws, ws.calendar, as_of=day, seed=seed)
    data = report.as_dict()
    render(View(data, [Sheet("Bunching by fiscal quarter", data["quarters"])],
                lambda: render_report(report, data, as_of_line(day))), output)


@incentives_app.command()
@supports(Output.csv, Output.markdown)
def simulate(
    stagger: Annotated[str | None, typer.Option(help="Stagger executives' due dates this far apart: 2w, 4w, 10d "
                                                     "(0w: all on the quarter's last day).")] = None,
    due_dates: Annotated[Path | None, typer.Option("--due-dates", help="CSV (goal_id,due_date) or YAML "
                                                   "(goal_id: date) of proposed due dates.")] = None,
    year: Annotated[list[str] | None, typer.Option(help="Fiscal year to simulate, e.g. 2026 (repeatable).")] = None,
    seed: SeedOption = 0,
    output: FormatOption = Output.table,
) -> None:
    """The goal pressure and the quarter-end bunching to expect under other goal due dates."""
    from cadence.analysis.incentives import simulate_goal_dates

    if (stagger is None) == (due_dates is None):
        raise InputError("say what to simulate: either --stagger (e.g. 4w) or --due-dates FILE")
    proposal = read_due_dates(due_dates) if due_dates else None
    with open_workspace() as ws:
        day = as_of(ws)
        result = simulate_goal_dates(ws, ws.calendar, proposal=proposal, today=day.day,
                                     stagger_days=parse_step(stagger) if stagger else None, years=year, seed=seed)
    data = {**day.as_dict(), **result.as_dict()}
    render(View(data, [Sheet(f"Simulation — {result.proposal}", data["quarters"])],
                lambda: render_simulation(result, as_of_line(day))), output)


def parse_step(text: str) -> int:
    """'4w' → 28 days, '10d' → 10."""
    match = STEP.match(text)
    if not match:
        raise InputError(f"not a stagger: {text!r}", hint="write a number of weeks or days, e.g. 4w or 10d")
    return int(match.group(1)) * (7 if match.group(2).lower() == "w" else 1)


def read_due_dates(path: Path) -> dict[str, date]:
    """goal_id → proposed due date, from a CSV with goal_id and due_date columns or a YAML mapping."""
    if not path.is_file():
        raise InputError(f"no due-dates file at {path}")
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yml", ".yaml"):
        import yaml

        loaded = yaml.safe_load(text) or {}
        if not isinstance(loaded, dict):
            raise InputError("expected a mapping of goal_id: due date", location=Location(str(path)))
        pairs: list[tuple[str, Any, int | None]] = [(str(k), v, None) for k, v in loaded.items()]
    else:
        import csv

        rows = list(csv.DictReader(text.splitlines()))
        if rows and not {"goal_id", "due_date"} <= set(rows[0]):
            raise InputError("the file needs the columns goal_id and due_date", location=Location(str(path)))
        pairs = [(row["goal_id"], row["due_date"], line) for line, row in enumerate(rows, start=2)]
    return {goal: _date(value, path, line, goal) for goal, value, line in pairs}


def _date(value: Any, path: Path, line: int | None, goal: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"due date of {goal} is not a date: {value!r}", location=Location(str(path), line),
                         hint="write it as YYYY-MM-DD") from None


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1%}"


def _interval(low: float | None, high: float | None, fmt: str) -> str:
    return "–" if low is None or high is None else f"[{low:{fmt}}, {high:{fmt}}]"


def render_report(report: IncentiveReport, data: dict[str, Any], header: Text) -> None:
    """The incentive report in the terminal: one table per part, and what the missing parts need."""
    console.print(header)
    if data["quarters"]:
        console.print(rich_table("Bunching by fiscal quarter", [
            {"quarter": q["quarter"], "bookings": round(q["bookings"]), "last 2 weeks": _pct(q["share_last_two_weeks"]),
             "last week": _pct(q["share_last_week"]), "weekly gini": q["gini_weekly"],
             "month 3": _pct(q["share_month_three"]), "linearity": q["linearity"] or "–",
             "complete": "yes" if q["complete"] else "to date"} for q in data["quarters"]]))
        console.print(rich_table("Bunching by fiscal year (last 2 weeks with its 95% interval)", [
            {"year": y["year"], "bookings": round(y["bookings"]), "last 2 weeks": _pct(y["share_last_two_weeks"]),
             "interval": _interval(y["share_last_two_weeks_low"], y["share_last_two_weeks_high"], ".1%"),
             "last week": _pct(y["share_last_week"]), "even spread": _pct(y["even_share_last_two_weeks"]),
             "weekly gini": y["gini_weekly"], "month 3": _pct(y["share_month_three"]),
             "linearity": y["linearity"] or "–"} for y in data["years"]]))
        console.print(Text("Linearity: the share of a quarter's bookings closed in its third month — healthy up to "
                           "40% (35–40% is usual), back-loaded above, a hockey stick from 60%.", style="dim"))
    if report.effects:
        console.print(rich_table("Quarter-end deals against the rest: difference within segment [95% interval]", [
            {"measure": e.label, "quarter-end": _value(e.quarter_end.mean, e.unit),
             "rest": _value(e.other.mean, e.unit), "difference": _difference(e.difference, e.low, e.high, e.unit),
             "plain difference": _difference(e.unadjusted_difference, None, None, e.unit)} for e in report.effects]))
    _render_pressure(data["goal_pressure"])
    if report.movements:
        recent = data["movements"]["quarters"][-MOVEMENT_QUARTERS:]
        console.print(rich_table(f"MRR movements, last {len(recent)} fiscal quarters (all months: --format json)", [
            {"quarter": q["quarter"], **{k.removesuffix("_mrr"): round(q[k]) for k in MOVEMENTS},
             "from expansion": _pct(q["expansion_share"]), "NRR": _pct(q["net_revenue_retention"])}
            for q in recent]))
    for part, message in report.unavailable.items():
        console.print(Text(f"{part.replace('_', ' ')}: {message}", style="yellow"))


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "–"
    return f"{value:.1%}" if unit == "share of deals" else f"{value:.2f}"


def _difference(value: float | None, low: float | None, high: float | None, unit: str) -> str:
    """A difference in the unit people read: points for shares and discounts, else the unit itself."""
    if value is None:
        return "–"
    scale, suffix = (100, " pts") if unit == "share of deals" else (1, " pts" if unit == "percentage points" else "")
    text = f"{value * scale:+.1f}{suffix}"
    return text if low is None or high is None else f"{text} [{low * scale:+.1f}, {high * scale:+.1f}]"


def _render_pressure(pressure: dict[str, Any]) -> None:
    if pressure["weeks"]:
        weeks = pressure["peak_weeks"]
        console.print(f"[bold]Goal pressure:[/] up to {pressure['peak_executives_due']} executives' goals due in "
                      f"one week ({len(weeks)} such weeks{': ' + ', '.join(weeks[:4]) if weeks else ''}"
                      f"{' …' if len(weeks) > 4 else ''}).")
    model = pressure["model"]
    if model:
        console.print(f"Measured effect: each executive with a goal due this week or next adds "
                      f"{model['slope']:.2f} to the week's pace (95% interval {model['slope_low']:.2f}–"
                      f"{model['slope_high']:.2f}; 1 = an even week), R² {model['r_squared']:.2f} over "
                      f"{model['weeks']} weeks. Try `cadence incentives simulate --stagger 2w`.")


def render_simulation(result: Simulation, header: Text) -> None:
    """The simulated quarters and the model they come from."""
    console.print(header)
    console.print(rich_table(f"Simulation — {result.proposal} ({result.moved_goals} goals moved)", [
        {"quarter": q.quarter, "peak executives now": q.peak_executives_current,
         "peak as proposed": q.peak_executives_proposed, "last 2 weeks now": _pct(q.expected_share_current),
         "last 2 weeks as proposed": _pct(q.expected_share_proposed),
         "95% interval": _interval(q.expected_share_proposed_low, q.expected_share_proposed_high, ".1%"),
         "actual": _pct(q.actual_share), "extrapolated": "yes" if q.extrapolated else ""} for q in result.quarters]))
    model = result.model.as_dict()
    console.print(Text(f"Model: {model['formula']}; slope {model['slope']:.2f} "
                       f"[{model['slope_low']:.2f}, {model['slope_high']:.2f}], R² {model['r_squared']:.2f}, "
                       f"{model['weeks']} weeks of {len(model['quarters'])} quarters. {model['description']}.",
                       style="dim"))
