"""`cadence hiring …`: which interview criteria predict success, candidates' index, interviewers, managers.

Yearly refits are kept as versions: `cadence hiring fit --save` writes the fit to
`reports/hiring-fits/FY<year>.json` in the workspace (the fiscal year of the data's end), and
`cadence hiring history` shows how the formula changed between them.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, emit_csv, emit_json, errors, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of_line, parse_day
from cadence.errors import InputError, Location, UnknownNameError, WorkspaceError

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf
    from cadence.analysis.hiring import HiringFit
    from cadence.hiring_config import HiringConfig
    from cadence.workspace import Workspace

hiring_app = typer.Typer(help="Hiring science: interview criteria that predict success, a predictive index for "
                              "candidates, interviewer calibration, and managers promoted for breadth.")
app.add_typer(hiring_app, name="hiring")

FITS_DIR = Path("reports") / "hiring-fits"
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


def _settings(ws: Workspace) -> HiringConfig:
    from cadence.hiring_config import HiringConfig

    return ws.config.hiring or HiringConfig()




@hiring_app.command()
def fit(
    measure: Annotated[Measure | None, typer.Option(help="Performance measure (default: cadence.yml's).")] = None,
    as_of: AsOfOption = None,
    save: Annotated[bool, typer.Option(help="Keep this fit as the fiscal year's version.")] = False,
    output: FormatOption = Output.table,
) -> None:
    """Which criteria predict performance: standardised weights, intervals, cross-validated R², warnings."""
    from cadence.analysis.hiring import fit_hiring

    before, source = _known_before(as_of)
    with open_workspace() as ws:
        result = fit_hiring(ws, _settings(ws), as_of=before, measure=measure.value if measure else None)
        saved = _save_fit(ws, result) if save else None
    if output is Output.json:
        emit_json(result.summary())
    elif output is Output.csv:
        emit_csv(result.summary()["criteria"])
    else:
        console.print(_as_of_line(date.fromisoformat(result.context["as_of"]), source))
        render_fit(result)
    if saved:
        (errors if output is not Output.table else console).print(f"Saved as version {saved.stem}: {saved}")


def render_fit(result: HiringFit) -> None:
    trust = "" if result.reliable else " — indicative only, see the warnings"
    rows = [{"criterion": w.criterion, "weight": w.coef_std, "low": w.ci_low, "high": w.ci_high, "p": w.p_value}
            for w in result.criteria]
    console.print(rich_table(f"What predicts {result.measure.replace('_', ' ')} ({result.n_hires} hires; "
                             f"{result.confidence:.0%} intervals; standardised){trust}", rows))
    quality = "–" if result.cv_r2 is None else f"{result.cv_r2:.2f}"
    rank = "" if result.cv_rank_correlation is None else f", held-out rank correlation {result.cv_rank_correlation:.2f}"
    console.print(f"Cross-validated R² {quality} ({result.cv_folds or '–'}-fold{rank}); in-sample R² "
                  f"{'–' if result.r2 is None else f'{result.r2:.2f}'}")
    for warning in result.warnings:
        console.print(Text(f"! {warning}", style="yellow"))
    for note in result.notes:
        console.print(Text(note, style="dim"))
    console.print(Text(f"Calibration: {result.context.get('calibration', '')}.", style="dim"))


def _fits_dir(ws: Workspace) -> Path:
    return ws.root / FITS_DIR


def _save_fit(ws: Workspace, result: HiringFit) -> Path:
    day = date.fromisoformat(result.context["as_of"]) - timedelta(days=1)
    target = _fits_dir(ws) / f"FY{ws.calendar.fiscal_year(day)}.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": target.stem, "saved_at": datetime.now(UTC).isoformat(timespec="seconds"),
               "fit": result.as_dict()}
    target.write_text(json.dumps(payload, indent=2, default=str) + "\n", encoding="utf-8")
    return target


def _saved_fits(ws: Workspace) -> list[tuple[str, HiringFit]]:
    from cadence.analysis.hiring import HiringFit

    out = []
    for path in sorted(_fits_dir(ws).glob("*.json")):
        try:
            out.append((path.stem, HiringFit.from_dict(json.loads(path.read_text(encoding="utf-8"))["fit"])))
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"not a saved hiring fit ({exc})", location=Location(str(path)),
                             hint="delete it or save again with `cadence hiring fit --save`") from None
    return out


@hiring_app.command()
def history(output: FormatOption = Output.table) -> None:
    """How the formula changed between the saved yearly fits."""
    from cadence.analysis.hiring import formula_history

    with open_workspace() as ws:
        versions = _saved_fits(ws)
    if not versions:
        raise WorkspaceError("no saved hiring fits yet", hint="save this year's with `cadence hiring fit --save`")
    rows = _records(formula_history(versions))
    if output is Output.json:
        emit_json({"versions": [label for label, _ in versions], "rows": rows})
    elif output is Output.csv:
        emit_csv(rows)
    else:
        console.print(rich_table("The hiring formula by version (standardised weights; change since the version "
                                 "before)", rows))


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
    from cadence.ingest.hiring_sources import criterion_name, hand_entered
    from cadence.ingest.prepare import prepare

    # an interview entered by hand happened today on the calendar (the real clock), unless a day is named
    day = parse_day(on, "--date") or parse_day(state.today, "--today") or date.today()
    with open_workspace() as ws:
        known = [c.name for c in _settings(ws).criteria]
        if known and criterion_name(criterion) not in known:
            raise UnknownNameError("criterion", criterion, known)
        label = str(ws.root / "hand-entered" / f"{candidate}-{interviewer}-{criterion_name(criterion)}")
        batch = hand_entered([{"candidate_id": candidate, "interviewer_id": interviewer, "criterion": criterion,
                               "score": value, "interviewed_at": day.isoformat()}], label)
        prepared = prepare(batch, ws.stages())
        ws.load(prepared)
    if prepared.quarantined:
        reasons = "; ".join(f"{r.column_name} {r.value!r}: {r.reason}" for r in prepared.quarantine.itertuples())
        raise InputError(f"score refused — {reasons}", hint="logged in `cadence quarantine`")
    summary = {"candidate_id": candidate, "interviewer_id": interviewer, "criterion": criterion_name(criterion),
               "score": int(value), "interviewed_at": day.isoformat()}
    if output is Output.json:
        emit_json(summary)
    else:
        console.print(f"[green]Recorded[/] {summary['criterion']} = {summary['score']} for {candidate} "
                      f"by {interviewer} on {day.isoformat()}.")


@hiring_app.command()
def index(
    candidate: Annotated[str | None, typer.Argument(help="Candidate id or name (default: everyone in play).")] = None,
    version: Annotated[str | None, typer.Option(help="Saved formula to use, e.g. FY2026 (default: the latest "
                                                     "saved one, else a fit now).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """A candidate's predicted performance under the hiring formula, with an 80% prediction interval."""
    from cadence.analysis.hiring import fit_from_data, index_candidate, index_open_candidates, read_hiring_data

    before, source = _known_before(None)
    with open_workspace() as ws:
        settings = _settings(ws)
        data = read_hiring_data(ws, settings, as_of=before)
        label, formula = _formula(ws, version)
        if formula is None:
            label, formula = f"fitted now on data to {data.as_of.isoformat()}", fit_from_data(data, settings)
    results = [index_candidate(data, formula, candidate)] if candidate else index_open_candidates(data, formula)
    if output is Output.json:
        emit_json({"formula": label, "measure": formula.measure, "candidates": [r.as_dict() for r in results]})
        return
    names = dict(zip(data.candidates["candidate_id"].astype(str), data.candidates["name"].astype(str), strict=True))
    rows = [{"candidate": r.candidate_id, "name": names.get(r.candidate_id, ""), "index": r.index, "low": r.low,
             "high": r.high,
             f"predicted {r.measure.replace('_', ' ')}": r.predicted, "range": _range(r.predicted_low,
                                                                                      r.predicted_high),
             "missing": ", ".join(r.missing)} for r in results]
    console.print(_as_of_line(data.as_of, source))
    console.print(rich_table(f"Predictive index (0 = the average hire, in standard deviations; 80% interval) — "
                             f"formula {label}", rows))
    for warning in (results[0].warnings if results else formula.warnings):
        console.print(Text(f"! {warning}", style="yellow"))


def _formula(ws: Workspace, version: str | None) -> tuple[str, HiringFit | None]:
    saved = dict(_saved_fits(ws))
    if version is not None:
        if version not in saved:
            raise UnknownNameError("saved hiring fit", version, list(saved))
        return version, saved[version]
    if saved:
        latest = sorted(saved)[-1]
        return latest, saved[latest]
    return "", None


def _range(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{low:,.2f} – {high:,.2f}"


@hiring_app.command()
def interviewers(as_of: AsOfOption = None, output: FormatOption = Output.table) -> None:
    """Does one interviewer score systematically high or low? Offsets against colleagues on the same candidates."""
    from cadence.analysis.hiring import read_hiring_data

    before, source = _known_before(as_of)
    with open_workspace() as ws:
        data = read_hiring_data(ws, _settings(ws), as_of=before)
        names = _names(ws)
    calibration = data.calibration
    rows = [{**i.as_dict(), "name": names.get(i.interviewer_id, "")} for i in calibration.interviewers]
    if output is Output.json:
        emit_json({"method": calibration.method, "confidence": calibration.confidence, "interviewers": rows})
        return
    if output is Output.csv:
        emit_csv(rows)
        return
    console.print(_as_of_line(data.as_of, source))
    console.print(rich_table(f"Interviewer calibration (points on the 1–10 scale; {calibration.confidence:.0%} "
                             "interval)", rows, columns=["interviewer_id", "name", "candidates", "mean_score",
                                                         "raw_difference", "offset", "ci_low", "ci_high"]))
    for item in calibration.interviewers:
        if item.verdict != "in line":
            console.print(Text.assemble((f"{item.verdict:>26}", VERDICT_STYLE[item.verdict]),
                                        f"  {names.get(item.interviewer_id, item.interviewer_id)}"))
    console.print(Text(f"Method: {calibration.method}.", style="dim"))


def _names(ws: Workspace) -> dict[str, str]:
    people = ws.table("people").select("person_id", "name").to_pandas()
    return dict(zip(people["person_id"].astype(str), people["name"].astype(str), strict=True))


@hiring_app.command()
def managers(
    method: Annotated[Breadth | None, typer.Option(help="min (weakest side) or balanced (geometric mean); "
                                                        "default: cadence.yml's.")] = None,
    top: Annotated[int, typer.Option(help="Rows to show.")] = 15,
    output: FormatOption = Output.table,
) -> None:
    """Manager candidates ranked by breadth of competence, beside the top-seller ranking."""
    from cadence.analysis.hiring import manager_candidates, rank_managers, read_hiring_data
    from cadence.analysis.hiring.managers import JOB_METRICS

    before, source = _known_before(None)
    with open_workspace() as ws:
        settings = _settings(ws)
        data = read_hiring_data(ws, settings, as_of=before)
    chosen = method.value if method else settings.manager_breadth
    pool = manager_candidates(data.performance, data.candidate_scores, data.criteria, as_of=data.as_of)
    ranked = rank_managers(pool, [*data.criteria, *JOB_METRICS], method=chosen)  # type: ignore[arg-type]
    rows = _records(ranked)
    if output is Output.json:
        emit_json({"method": chosen, "dimensions": [*data.criteria, *JOB_METRICS], "candidates": rows})
        return
    if output is Output.csv:
        emit_csv([{k: v for k, v in r.items() if k != "not_scored"} for r in rows])
        return
    console.print(_as_of_line(data.as_of, source))
    console.print(rich_table(f"Manager candidates by breadth ({chosen}) beside the top-seller ranking", rows[:top],
                             columns=["person_id", "name", "team", "breadth", "breadth_rank", "seller_rank",
                                      "seller", "weakest"]))
    for row in rows:
        gap = row["rank_gap"]
        if gap is not None and abs(gap) >= max(3, len(rows) // 4):
            side = "ranks higher on breadth than on sales" if gap > 0 else "sells better than their breadth"
            console.print(f"  {row['name']}: {side} (breadth #{row['breadth_rank']}, seller #{row['seller_rank']};"
                          f" weakest: {row['weakest']})")


def _records(frame: Any) -> list[dict[str, Any]]:
    """Rows with plain Python values: NaN and NA as None, so JSON and the table show them as empty."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [{k: v.item() if hasattr(v, "item") else v for k, v in row.items()} for row in plain.to_dict("records")]


@hiring_app.command()
def course(
    on: Annotated[str | None, typer.Option("--as-of", help="Day to judge progress on (default: --today, else "
                                                       "today's date).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """The leadership course: each new manager's modules done against the schedule."""
    from cadence.analysis.hiring import course_progress

    with open_workspace() as ws:
        settings = _settings(ws)
        names = _names(ws)
    if settings.leadership_course is None:
        raise WorkspaceError("no leadership course in cadence.yml",
                             hint="add hiring.leadership_course with its modules and participants")
    day = _course_day(on)
    progress = course_progress(settings.leadership_course, day.day)
    rows = [{**p.as_dict(), "name": names.get(p.person_id, "")} for p in progress]
    if output is Output.json:
        emit_json({**day.as_dict(), "modules": settings.leadership_course.modules, "participants": rows})
        return
    console.print(as_of_line(day))
    console.print(rich_table("Leadership course", rows, columns=["person_id", "name", "started", "completed",
                                                               "expected", "modules", "next_module", "status"]))


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
