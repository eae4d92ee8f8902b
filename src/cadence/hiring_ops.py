"""Every hiring operation a user runs, once, for any shell: enter a score, fit and save the formula, list the
saved fits, index candidates, calibrate interviewers, rank managers, follow the leadership course.

Each returns a dataclass with `as_dict()` (its JSON form); the shells only parse input and render. Saved fits
live in the warehouse's `hiring_fits` table: every save is a new version, and the latest is the default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.analysis.as_of import AsOf
from cadence.analysis.hiring import (
    Calibration,
    CandidateIndex,
    HiringFit,
    course_progress,
    fit_from_data,
    formula_history,
    index_candidate,
    index_open_candidates,
    manager_candidates,
    rank_managers,
    read_hiring_data,
)
from cadence.analysis.hiring.managers import JOB_METRICS
from cadence.analysis.hiring.saved import SavedFit, fit_rows, saved_fits
from cadence.config.hiring import HiringConfig
from cadence.entries.policy import Entry, entry_key, prepare_entry
from cadence.errors import CadenceError, InputError, UnknownNameError, WorkspaceError
from cadence.ingest.hiring_sources import criterion_name
from cadence.schema.tables import table_named
from cadence.schema.validate import validate_rows

if TYPE_CHECKING:
    from cadence.workspace import Workspace

FITS_TABLE = "hiring_fits"
SAVED_BY = "cadence hiring fit --save"
SCORE_FORMAT = "hiring-score"  # how a score typed by hand is logged in `imports`


def settings_of(ws: Workspace) -> HiringConfig:
    return ws.config.hiring or HiringConfig()


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows with plain Python values: NaN and NA as None, so JSON and tables show them as empty."""
    plain = frame.astype(object).where(frame.notna(), None)
    return [{str(k): v.item() if hasattr(v, "item") else v for k, v in row.items()} for row in plain.to_dict("records")]


# -- entering what people type --------------------------------------------------------------------------
@dataclass(frozen=True)
class ScoreEntry:
    candidate_id: str
    interviewer_id: str
    criterion: str  # as typed: "Work Ethic" is read as work_ethic
    score: str  # as typed: validation decides whether it is a 1–10 score
    interviewed_at: date


@dataclass(frozen=True)
class ScoreEntered:
    candidate_id: str
    interviewer_id: str
    criterion: str
    score: int
    interviewed_at: date

    def as_dict(self) -> dict[str, Any]:
        return {"candidate_id": self.candidate_id, "interviewer_id": self.interviewer_id,
                "criterion": self.criterion, "score": self.score, "interviewed_at": self.interviewed_at.isoformat()}


def enter_score(ws: Workspace, entry: ScoreEntry) -> ScoreEntered:
    """Record one interview score typed by hand (`cadence hiring score`) under the one hand-entry policy
    (`cadence.entries.policy`): a score the schema refuses is an `EntryRefused` naming the field, with nothing
    written; a good one is an import of its own, and entering the same candidate, interviewer and criterion
    again replaces it."""
    name = criterion_name(entry.criterion)
    known = [c.name for c in settings_of(ws).criteria]
    if known and name not in known:
        raise UnknownNameError("criterion", entry.criterion, known)
    row = {"candidate_id": entry.candidate_id, "interviewer_id": entry.interviewer_id, "criterion": name,
           "score": entry.score, "interviewed_at": entry.interviewed_at.isoformat()}
    key = entry_key(entry.candidate_id, entry.interviewer_id, name)
    prepared = prepare_entry(ws, Entry("score", "interview_scores", row, SCORE_FORMAT, key))
    ws.load(prepared)
    score = next(frame for table, frame, _ in prepared.upserts if table == "interview_scores")["score"].iloc[0]
    return ScoreEntered(entry.candidate_id, entry.interviewer_id, name, int(score), entry.interviewed_at)


# -- fitting and the saved versions ----------------------------------------------------------------------
@dataclass
class FitResult:
    """A fit of the hiring formula, and the version it was saved as (None when not saved)."""

    fit: HiringFit
    saved: SavedFit | None = None

    @property
    def known_before(self) -> date:
        return date.fromisoformat(self.fit.context["as_of"])

    def as_dict(self) -> dict[str, Any]:
        return self.fit.summary()


def fit_model(ws: Workspace, *, measure: str | None = None, known_before: date | None = None,
              save: bool = False) -> FitResult:
    """Fit the formula on what was recorded before `known_before` (default: the whole record); `save` keeps it
    as a new version in the warehouse."""
    settings = settings_of(ws)
    fit = fit_from_data(read_hiring_data(ws, settings, as_of=known_before), settings, measure=measure)
    return FitResult(fit, save_fit(ws, fit) if save else None)


def save_fit(ws: Workspace, fit: HiringFit) -> SavedFit:
    """Keep `fit` as the next version in `hiring_fits`."""
    if not fit.criteria:
        raise InputError("nothing to save: the fit has no criteria")
    table = table_named(FITS_TABLE)
    as_of = date.fromisoformat(fit.context["as_of"]) - timedelta(days=1)
    with ws.warehouse.transaction():
        latest = ws.warehouse.query(f"SELECT MAX(version) FROM {FITS_TABLE}")[0][0]
        version = int(latest or 0) + 1
        saved = SavedFit(f"v{version}", version, datetime.now(UTC).replace(tzinfo=None, microsecond=0), as_of,
                         ws.calendar.fiscal_year(as_of), fit)
        checked = validate_rows(table, fit_rows(saved, SAVED_BY))
        if len(checked.problems):
            raise CadenceError(f"a hiring fit did not fit its table: {checked.problems.to_dict('records')}")
        ws.warehouse.upsert(table, checked.clean)
    return saved


@dataclass
class FitHistory:
    """The saved versions of the formula, oldest first, and how each weight moved between them."""

    versions: list[SavedFit]

    def rows(self) -> list[dict[str, Any]]:
        return records(formula_history([(s.fit_id, s.fit) for s in self.versions]))

    def as_dict(self) -> dict[str, Any]:
        return {"versions": [s.fit_id for s in self.versions], "rows": self.rows()}


def list_fits(ws: Workspace) -> FitHistory:
    """Every saved fit, read back from the warehouse."""
    return FitHistory(saved_fits(ws.table(FITS_TABLE).to_pandas()))


def saved_fit(ws: Workspace, version: str | None = None) -> SavedFit | None:
    """A saved fit by id (v3), version number (3) or fiscal year (FY2026: its latest); the latest when None."""
    versions = list_fits(ws).versions
    if version is None:
        return versions[-1] if versions else None
    wanted = version.strip().lower()
    found = [s for s in versions if wanted in (s.fit_id.lower(), str(s.version), f"fy{s.fiscal_year}")]
    if not found:
        raise UnknownNameError("saved hiring fit", version, [s.fit_id for s in versions] or ["(none saved)"])
    return found[-1]


def require_fits(history: FitHistory) -> FitHistory:
    if not history.versions:
        raise WorkspaceError("no saved hiring fits yet", hint="save one with `cadence hiring fit --save`")
    return history


# -- using the formula -----------------------------------------------------------------------------------
@dataclass
class IndexReport:
    """Candidates' predictive index under one formula."""

    formula: str  # which formula: a saved fit's id, or "fitted now on data to …"
    measure: str
    candidates: list[CandidateIndex]
    names: dict[str, str]
    as_of: date
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[dict[str, Any]]:
        return [{"candidate": r.candidate_id, "name": self.names.get(r.candidate_id, ""), "index": r.index,
                 "low": r.low, "high": r.high, f"predicted {r.measure.replace('_', ' ')}": r.predicted,
                 "range": _range(r.predicted_low, r.predicted_high), "missing": ", ".join(r.missing)}
                for r in self.candidates]

    def as_dict(self) -> dict[str, Any]:
        return {"formula": self.formula, "measure": self.measure, "candidates": [r.as_dict() for r in self.candidates]}


def index_candidates(ws: Workspace, candidate: str | None = None, *, version: str | None = None,
                     known_before: date | None = None) -> IndexReport:
    """One candidate's index (or everyone's in play) under a saved formula, else one fitted now."""
    settings = settings_of(ws)
    data = read_hiring_data(ws, settings, as_of=known_before)
    chosen = saved_fit(ws, version)
    label, formula = (chosen.fit_id, chosen.fit) if chosen else \
        (f"fitted now on data to {data.as_of.isoformat()}", fit_from_data(data, settings))
    results = [index_candidate(data, formula, candidate)] if candidate else index_open_candidates(data, formula)
    names = dict(zip(data.candidates["candidate_id"].astype(str), data.candidates["name"].astype(str), strict=True))
    return IndexReport(label, formula.measure, results, names, data.as_of,
                       results[0].warnings if results else formula.warnings)


def _range(low: float | None, high: float | None) -> str:
    return "" if low is None or high is None else f"{low:,.2f} – {high:,.2f}"


def people_names(ws: Workspace) -> dict[str, str]:
    people = ws.table("people").select("person_id", "name").to_pandas()
    return dict(zip(people["person_id"].astype(str), people["name"].astype(str), strict=True))


@dataclass
class InterviewerReport:
    calibration: Calibration
    names: dict[str, str]
    as_of: date

    def rows(self) -> list[dict[str, Any]]:
        return [{**i.as_dict(), "name": self.names.get(i.interviewer_id, "")} for i in self.calibration.interviewers]

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.calibration.method, "confidence": self.calibration.confidence,
                "interviewers": self.rows()}


def calibrate(ws: Workspace, *, known_before: date | None = None) -> InterviewerReport:
    """Each interviewer's offset against colleagues on the same candidates."""
    data = read_hiring_data(ws, settings_of(ws), as_of=known_before)
    return InterviewerReport(data.calibration, people_names(ws), data.as_of)


@dataclass
class ManagerReport:
    method: str
    dimensions: list[str]
    candidates: list[dict[str, Any]]
    as_of: date

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "dimensions": self.dimensions, "candidates": self.candidates}


def rank_manager_candidates(ws: Workspace, *, method: str | None = None,
                            known_before: date | None = None) -> ManagerReport:
    """Manager candidates ranked by breadth of competence, beside the top-seller ranking."""
    settings = settings_of(ws)
    data = read_hiring_data(ws, settings, as_of=known_before)
    chosen = method or settings.manager_breadth
    dimensions = [*data.criteria, *JOB_METRICS]
    pool = manager_candidates(data.performance, data.candidate_scores, data.criteria, as_of=data.as_of)
    return ManagerReport(chosen, dimensions, records(rank_managers(pool, dimensions, method=chosen)),  # type: ignore[arg-type]
                         data.as_of)


@dataclass
class CourseReport:
    day: AsOf
    modules: int
    participants: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {**self.day.as_dict(), "modules": self.modules, "participants": self.participants}


def leadership_course(ws: Workspace, day: AsOf) -> CourseReport:
    """Each new manager's modules done against the schedule on `day`."""
    course = settings_of(ws).leadership_course
    if course is None:
        raise WorkspaceError("no leadership course in cadence.yml",
                             hint="add hiring.leadership_course with its modules and participants")
    names = people_names(ws)
    rows = [{**p.as_dict(), "name": names.get(p.person_id, "")} for p in course_progress(course, day.day)]
    return CourseReport(day, course.modules, rows)
