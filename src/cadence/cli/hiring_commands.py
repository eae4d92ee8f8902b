"""`cadence hiring …`: which interview criteria predict success, candidates' index, interviewers, managers.

Each command parses its input, calls one operation of `cadence.hiring_ops` and renders the result. Fits are
kept as versions in the warehouse: `cadence hiring fit --save` saves a new one, `cadence hiring history`
shows how the formula changed between them, and `cadence hiring index` uses the latest unless told which.
"""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.text import Text

from cadence.cli.console import console, emit_json, errors, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of_line, parse_day
from cadence.cli.render import Sheet, View, render, supports

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf
    from cadence.analysis.hiring import HiringFit
    from cadence.hiring_ops import FitResult, IndexReport, InterviewerReport, ManagerReport

hiring_app = typer.Typer(help="Hiring science: interview criteria that predict success, a predictive index for "
                              "candidates, interviewer calibration, and managers promoted for breadth.")
app.add_typer(hiring_app, name="hiring")

VERDICT_STYLE = {"lenient": "bold red", "harsh": "bold red", "in line": "green", "too few shared candidates": "dim"}
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Fit on what was known before this day "
                                                "(YYYY-MM-DD; default: the end of the record).")]


class Measure(StrEnum):
    attainment = "attainment"
    bookings_per_month = "bookings_per_month"
    ramp_months = "ramp_months"


class Breadth(StrEnum):
    min = "min"
    balanced = "balanced"


def _known_before(as_of: str | None) -> tuple[date | None, str]:
    """The first day a hiring analysis does not know (exclusive): --as-of, else the day after the global --today,
    else None (the end of the hiring record); and which of them it was."""
    from cadence.cli.main import state

    given = parse_day(as_of, "--as-of")
    if given is not None:
        return given, "--as-of"
    today = parse_day(state.today, "--today")
    return (today + timedelta(days=1), "--today") if today is not None else (None, "record")


def _as_of_line(before: date, source: str) -> Text:
    """The header of a hiring command: the last day it knows, and where that day came from."""
    from cadence.analysis.as_of import AsOf

    if source == "--as-of":
        return Text(f"knowing what was recorded before {before.isoformat()} (given with --as-of)", style="dim")
    return as_of_line(AsOf(before - timedelta(days=1), source))


@hiring_app.command()
@supports(Output.csv, Output.markdown)
def fit(
    measure: Annotated[Measure | None, typer.Option(help="Performance measure (default: cadence.yml's).")] = None,
    as_of: AsOfOption = None,
    save: Annotated[bool, typer.Option(help="Keep this fit as a new version in the warehouse.")] = False,
    output: FormatOption = Output.table,
) -> None:
    """Which criteria predict performance: standardised weights, intervals, cross-validated R², warnings."""
    from cadence.hiring_ops import fit_model

    before, source = _known_before(as_of)
    with open_workspace() as ws:
        result = fit_model(ws, measure=measure.value if measure else None, known_before=before, save=save)
    sheet = Sheet(_fit_title(result.fit), result.as_dict()["criteria"])
    render(View(result, [sheet], lambda: _show_fit(result, source)), output)
    if result.saved:
        (errors if output is not Output.table else console).print(
            f"Saved as version {result.saved.fit_id} (the formula as of {result.saved.as_of.isoformat()}).")


def _fit_title(result: HiringFit) -> str:
    trust = "" if result.reliable else " — indicative only, see the warnings"
    return (f"What predicts {result.measure.replace('_', ' ')} ({result.n_hires} hires; "
            f"{result.confidence:.0%} intervals; standardised){trust}")


def _show_fit(found: FitResult, source: str) -> None:
    console.print(_as_of_line(found.known_before, source))
    result = found.fit
    rows = [{"criterion": w.criterion, "weight": w.coef_std, "low": w.ci_low, "high": w.ci_high, "p": w.p_value}
            for w in result.criteria]
    console.print(rich_table(_fit_title(result), rows))
    quality = "–" if result.cv_r2 is None else f"{result.cv_r2:.2f}"
    rank = "" if result.cv_rank_correlation is None else f", held-out rank correlation {result.cv_rank_correlation:.2f}"
    console.print(f"Cross-validated R² {quality} ({result.cv_folds or '–'}-fold{rank}); in-sample R² "
                  f"{'–' if result.r2 is None else f'{result.r2:.2f}'}")
    for warning in result.warnings:
        console.print(Text(f"! {warning}", style="yellow"))
    for note in result.notes:
        console.print(Text(note, style="dim"))
    console.print(Text(f"Calibration: {result.context.get('calibration', '')}.", style="dim"))


@hiring_app.command()
@supports(Output.csv, Output.markdown)
def history(output: FormatOption = Output.table) -> None:
    """How the formula changed between the saved fits."""
    from cadence.hiring_ops import list_fits, require_fits

    with open_workspace() as ws:
        result = require_fits(list_fits(ws))
    title = "The hiring formula by version (standardised weights; change since the version before)"
    render(View(result, [Sheet(title, result.rows())]), output)


@hiring_app.command()
def score(
    candidate: Annotated[str, typer.Argument(help="Candidate id.")],
    interviewer: Annotated[str, typer.Argument(help="Interviewer (people.person_id).")],
    criterion: Annotated[str, typer.Argument(help="Criterion, as cadence.yml's scorecard names it.")],
    value: Annotated[str, typer.Argument(metavar="SCORE", help="1–10 on the criterion's anchored scale.")],
    on: Annotated[str | None, typer.Option("--date", help="Interview day (YYYY-MM-DD; default today).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """Enter one interview score by hand: validated like an import, logged, refused with the reason if bad."""
    from cadence.cli.main import state
    from cadence.hiring_ops import ScoreEntry, enter_score

    # an interview entered by hand happened today on the calendar (the real clock), unless a day is named
    day = parse_day(on, "--date") or parse_day(state.today, "--today") or date.today()
    with open_workspace() as ws:
        entered = enter_score(ws, ScoreEntry(candidate, interviewer, criterion, value, day))
    if output is Output.json:
        emit_json(entered.as_dict())
    else:
        console.print(f"[green]Recorded[/] {entered.criterion} = {entered.score} for {candidate} "
                      f"by {interviewer} on {day.isoformat()}.")


@hiring_app.command()
@supports(Output.csv, Output.markdown)
def index(
    candidate: Annotated[str | None, typer.Argument(help="Candidate id or name (default: everyone in play).")] = None,
    version: Annotated[str | None, typer.Option(help="Saved fit to use: v3, 3, or FY2026 for that year's latest "
                                                     "(default: the latest saved, else a fit now).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """A candidate's predicted performance under the hiring formula, with an 80% prediction interval."""
    from cadence.hiring_ops import index_candidates

    before, source = _known_before(None)
    with open_workspace() as ws:
        result = index_candidates(ws, candidate, version=version, known_before=before)
    title = f"Predictive index (0 = the average hire, in standard deviations; 80% interval) — formula {result.formula}"
    render(View(result, [Sheet(title, result.rows())], lambda: _show_index(result, title, source)), output)


def _show_index(result: IndexReport, title: str, source: str) -> None:
    console.print(_as_of_line(result.as_of, source))
    console.print(rich_table(title, result.rows()))
    for warning in result.warnings:
        console.print(Text(f"! {warning}", style="yellow"))


@hiring_app.command()
@supports(Output.csv, Output.markdown)
def interviewers(as_of: AsOfOption = None, output: FormatOption = Output.table) -> None:
    """Does one interviewer score systematically high or low? Offsets against colleagues on the same candidates."""
    from cadence.hiring_ops import calibrate

    before, source = _known_before(as_of)
    with open_workspace() as ws:
        result = calibrate(ws, known_before=before)
    sheet = Sheet("Interviewer calibration", result.rows())
    render(View(result, [sheet], lambda: _show_interviewers(result, source)), output)


def _show_interviewers(result: InterviewerReport, source: str) -> None:
    calibration = result.calibration
    console.print(_as_of_line(result.as_of, source))
    console.print(rich_table(f"Interviewer calibration (points on the 1–10 scale; {calibration.confidence:.0%} "
                             "interval)", result.rows(), columns=["interviewer_id", "name", "candidates", "mean_score",
                                                                  "raw_difference", "offset", "ci_low", "ci_high"]))
    for item in calibration.interviewers:
        if item.verdict != "in line":
            console.print(Text.assemble((f"{item.verdict:>26}", VERDICT_STYLE[item.verdict]),
                                        f"  {result.names.get(item.interviewer_id, item.interviewer_id)}"))
    console.print(Text(f"Method: {calibration.method}.", style="dim"))


@hiring_app.command()
@supports(Output.csv, Output.markdown)
def managers(
    method: Annotated[Breadth | None, typer.Option(help="min (weakest side) or balanced (geometric mean); "
                                                        "default: cadence.yml's.")] = None,
    top: Annotated[int, typer.Option(help="Rows to show.")] = 15,
    output: FormatOption = Output.table,
) -> None:
    """Manager candidates ranked by breadth of competence, beside the top-seller ranking."""
    from cadence.hiring_ops import rank_manager_candidates

    before, source = _known_before(None)
    with open_workspace() as ws:
        result = rank_manager_candidates(ws, method=method.value if method else None, known_before=before)
    rows = [{k: v for k, v in r.items() if k != "not_scored"} for r in result.candidates]
    sheet = Sheet(f"Manager candidates by breadth ({result.method})", rows)
    render(View(result, [sheet], lambda: _show_managers(result, source, top)), output)


def _show_managers(result: ManagerReport, source: str, top: int) -> None:
    rows = result.candidates
    console.print(_as_of_line(result.as_of, source))
    console.print(rich_table(f"Manager candidates by breadth ({result.method}) beside the top-seller ranking",
                             rows[:top], columns=["person_id", "name", "team", "breadth", "breadth_rank",
                                                  "seller_rank", "seller", "weakest"]))
    for row in rows:
        gap = row["rank_gap"]
        if gap is not None and abs(gap) >= max(3, len(rows) // 4):
            side = "ranks higher on breadth than on sales" if gap > 0 else "sells better than their breadth"
            console.print(f"  {row['name']}: {side} (breadth #{row['breadth_rank']}, seller #{row['seller_rank']};"
                          f" weakest: {row['weakest']})")


@hiring_app.command()
@supports(Output.csv, Output.markdown)
def course(
    on: Annotated[str | None, typer.Option("--as-of", help="Day to judge progress on (default: --today, else "
                                                       "today's date).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """The leadership course: each new manager's modules done against the schedule."""
    from cadence.hiring_ops import leadership_course

    with open_workspace() as ws:
        result = leadership_course(ws, _course_day(on))
    sheet = Sheet("Leadership course", result.participants, COURSE_COLUMNS)
    render(View(result, [sheet], lambda: _show_course(sheet, result.day)), output)


COURSE_COLUMNS = ["person_id", "name", "started", "completed", "expected", "modules", "next_module", "status"]


def _show_course(sheet: Sheet, day: AsOf) -> None:
    console.print(as_of_line(day))
    console.print(rich_table(sheet.title, sheet.rows, columns=sheet.columns))


def _course_day(on: str | None) -> AsOf:
    """The day course progress is judged on: --as-of, else the global --today, else today's date — the course
    and who finished which module live in cadence.yml, kept up to date by hand, not in the imported data."""
    from cadence.analysis.as_of import AsOf
    from cadence.cli.main import state

    given = parse_day(on, "--as-of")
    if given is not None:
        return AsOf(given, "--as-of")
    today = parse_day(state.today, "--today")
    return AsOf(today, "--today") if today is not None else AsOf(date.today(), "clock")
