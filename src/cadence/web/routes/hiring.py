"""Hiring: the fitted formula (which interview criteria predict success), the interviewers' calibration and the
managers' ranking on /hiring — aggregates an executive may read; each candidate's index and scores on
/hiring/candidates, and the interview scorecard form on /hiring/scorecard — for admins and recruiters only.

Every page calls the `cadence.hiring_ops` operation its `cadence hiring …` command calls, so each JSON twin is
what that command prints with `--format json`. Every view is recorded in the audit log (web/deps.py).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.access.scope import Scope, scoped
from cadence.config.hiring import SCORE_MAX, SCORE_MIN, Criterion
from cadence.errors import CadenceError
from cadence.hiring_ops import (
    ScoreEntered,
    ScoreEntry,
    calibrate,
    enter_score,
    fit_model,
    index_candidates,
    list_fits,
    rank_manager_candidates,
    records,
)
from cadence.hiring_ops import settings_of as hiring_settings
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import html, respond, wants_json
from cadence.web.results import kept
from cadence.workspace import Workspace

router = APIRouter(tags=["hiring"])

MANAGERS_SHOWN = 15  # as `cadence hiring managers` shows by default (the JSON holds every candidate)
HIRING_RECORD = Scope("all", label="the company's hiring record", key="company", hiring_scores=True)


def known_before(request: Request) -> date | None:
    """The first day the analyses do not know: the day after the server's --today, else the end of the record
    (as `cadence hiring …` without --as-of)."""
    today = settings_of(request).today
    return today + timedelta(days=1) if today is not None else None


def hiring_reader(seen: Viewer) -> Workspace:
    """The workspace the hiring analyses read. They learn from the whole company's record — who was hired, how
    each hire performed (quota attainment, bookings) — so they read it whole for anyone the page lets in; the
    users, sessions and audit tables stay closed, and the pages show only the analyses' results: aggregates on
    /hiring, candidates on /hiring/candidates (which only roles that may see interview scores reach)."""
    if seen.scope.kind == "all" and seen.scope.hiring_scores:
        return seen.ws
    return scoped(seen.full, HIRING_RECORD)


def without_scores(ranking: dict[str, Any]) -> dict[str, Any]:
    """The manager candidates without their per-criterion interview percentiles: interview scores are HR data,
    which only admins and recruiters see (the breadth and seller ranks stay)."""
    criteria = {str(d) for d in ranking.get("dimensions", [])}
    hidden = {f"{c}_pct" for c in criteria} | {"weakest", "weakest_percentile"}
    return {**ranking, "candidates": [{k: v for k, v in c.items() if k not in hidden}
                                      for c in ranking.get("candidates", [])]}


@router.get("/hiring", include_in_schema=False)
@router.get("/hiring.json", summary="The hiring formula (as `cadence hiring fit`), interviewer calibration "
            "(`cadence hiring interviewers`), manager candidates (`cadence hiring managers`) and saved fits")
def hiring_page(request: Request, seen: Viewer = Depends(viewer("hiring"))) -> Response:
    ws, before = hiring_reader(seen), known_before(request)
    fitted, interviewers, managers, history = kept(request, seen, ("hiring", before), lambda: (
        fit_model(ws, known_before=before), calibrate(ws, known_before=before),
        rank_manager_candidates(ws, known_before=before), list_fits(ws)))
    data = {"fit": fitted.as_dict(), "interviewers": interviewers.as_dict(),
            "managers": managers.as_dict() if seen.may_see("hiring_scores") else without_scores(managers.as_dict()),
            "history": history.as_dict()}
    if wants_json(request):
        return respond(request, "hiring.html", data)
    return respond(request, "hiring.html", data, viewer=seen, fit=fitted.fit, as_of=fitted.known_before,
                   calibration=interviewers.calibration, managers=managers.candidates[:MANAGERS_SHOWN],
                   more_managers=max(0, len(managers.candidates) - MANAGERS_SHOWN),
                   may_see_candidates=seen.may_see("hiring_scores"), may_enter=seen.may_write("hiring_scores"))


@router.get("/hiring/candidates", include_in_schema=False)
@router.get("/hiring/candidates.json", summary="Candidates' predictive index and calibrated interview scores "
            "(as `cadence hiring index`)")
def candidates_page(request: Request, candidate: str | None = None, version: str | None = None,
                    seen: Viewer = Depends(viewer("hiring_scores"))) -> Response:
    report = index_candidates(hiring_reader(seen), candidate or None, version=version or None,
                              known_before=known_before(request))
    if wants_json(request):
        return respond(request, "hiring_candidates.html", report)
    criteria = sorted({c for r in report.candidates for c in (*r.scores, *r.missing)})
    return respond(request, "hiring_candidates.html", report.as_dict(), viewer=seen, report=report,
                   names=report.names, criteria=criteria, candidate=candidate or "", version=version or "",
                   may_enter=seen.may_write("hiring_scores"))


# -- the interview scorecard ------------------------------------------------------------------------------
SCORE = "score_"  # a criterion's radio group is named score_<criterion>
SCALE = tuple(range(SCORE_MIN, SCORE_MAX + 1))
IN_PLAY = ("interviewing", "offered")


class _Refused(Exception):
    """Raised inside the scorecard's transaction so that no score of a refused scorecard is kept."""


def scorecard_criteria(ws: Workspace) -> list[Criterion]:
    """The current scorecard's criteria from cadence.yml, with their anchors; without any there, the criteria
    interviewers have scored so far (with no anchors to show)."""
    settings = hiring_settings(ws)
    current = settings.criteria_in()
    if current:
        return [c for c in settings.criteria if c.name in current]
    found = ws.table("interview_scores").select("criterion").distinct().to_pandas()["criterion"].dropna()
    return [Criterion.model_construct(name=str(n)) for n in sorted(found.astype(str))]


def scorecard_choices(seen: Viewer) -> dict[str, Any]:
    """Who may be scored (candidates, those in play first) and who may score (people still employed)."""
    candidates = seen.ws.table("candidates").select("candidate_id", "name", "status").to_pandas()
    candidates["later"] = ~candidates["status"].isin(IN_PLAY)
    candidates = candidates.sort_values(["later", "name", "candidate_id"], kind="stable")
    people = seen.ws.table("people").select("person_id", "name", "left_at").to_pandas()
    people = people[people["left_at"].isna()].sort_values(["name", "person_id"], kind="stable")
    return {"candidates": records(candidates.drop(columns="later")),
            "interviewers": records(people[["person_id", "name"]]), "criteria": scorecard_criteria(seen.ws),
            "scale": SCALE}


def _today(request: Request) -> date:
    return settings_of(request).today or date.today()


def _form(request: Request, seen: Viewer, values: dict[str, Any], errors: dict[str, str], *, status: int = 200,
          recorded: str = "") -> Response:
    return html(request, "hiring_scorecard.html", status_code=status, viewer=seen, values=values, errors=errors,
                recorded=recorded, score_prefix=SCORE, **scorecard_choices(seen))


@router.get("/hiring/scorecard", include_in_schema=False)
def scorecard_form(request: Request, candidate: str = "", recorded: str = "",
                   seen: Viewer = Depends(viewer("hiring_scores"))) -> Response:
    """The form an interviewer fills in after an interview: one row per criterion on the anchored 1–10 scale."""
    seen.require_write("hiring_scores")
    values = {"candidate_id": candidate, "interviewer_id": seen.user.person_id or "",
              "interviewed_at": _today(request).isoformat(), "scores": {}}
    return _form(request, seen, values, {}, recorded=recorded)


async def typed_scores(request: Request) -> dict[str, str]:
    """The scorecard's score_<criterion> fields as typed, by criterion."""
    form = await request.form()
    return {key.removeprefix(SCORE): str(value) for key, value in form.items() if key.startswith(SCORE)}


@router.post("/hiring/scorecard", include_in_schema=False)
def enter_scorecard(request: Request, candidate_id: str = Form(""), interviewer_id: str = Form(""),
                    interviewed_at: str = Form(""), scores: dict[str, str] = Depends(typed_scores),
                    seen: Viewer = Depends(viewer("hiring_scores"))) -> Response:
    """Every criterion's score in one go (`hiring_ops.enter_score` per criterion): all are kept, or none."""
    seen.require_write("hiring_scores")
    candidate, interviewer = candidate_id.strip(), interviewer_id.strip()
    values: dict[str, Any] = {"candidate_id": candidate, "interviewer_id": interviewer,
                              "interviewed_at": interviewed_at.strip(), "scores": scores}
    choices = scorecard_choices(seen)
    errors = check_scorecard(values, choices, _today(request))
    if errors:
        return _form(request, seen, values, errors, status=400)
    before = _scores_of(seen, candidate, interviewer)
    entered, errors = enter_all(seen, values, choices["criteria"])
    if errors:
        return _form(request, seen, values, errors, status=400)
    seen.audit("write", f"hiring/scorecard/{candidate}/{interviewer}", before=before,
               after=[e.as_dict() for e in entered])
    return RedirectResponse(f"/hiring/scorecard?recorded={quote(candidate)}", status_code=303)


def check_scorecard(values: dict[str, Any], choices: dict[str, Any], today: date) -> dict[str, str]:
    """What the form itself can tell before any score is tried: who, when, and a score on every criterion."""
    errors: dict[str, str] = {}
    if not choices["criteria"]:
        errors["criteria"] = "no interview criteria to score: list them under hiring.criteria in cadence.yml"
    if values["candidate_id"] not in {c["candidate_id"] for c in choices["candidates"]}:
        errors["candidate_id"] = "choose the candidate from the list"
    if values["interviewer_id"] not in {p["person_id"] for p in choices["interviewers"]}:
        errors["interviewer_id"] = "choose the interviewer from the list"
    try:
        day = date.fromisoformat(values["interviewed_at"])
    except ValueError:
        errors["interviewed_at"] = "the interview date must be a day (YYYY-MM-DD)"
    else:
        if day > today:
            errors["interviewed_at"] = f"{day.isoformat()} has not come yet: enter the day the interview took place"
    for criterion in choices["criteria"]:
        if not str(values["scores"].get(criterion.name, "")).strip():
            errors[SCORE + criterion.name] = f"choose a score from {SCORE_MIN} to {SCORE_MAX}"
    return errors


def enter_all(seen: Viewer, values: dict[str, Any], criteria: list[Criterion]
              ) -> tuple[list[ScoreEntered], dict[str, str]]:
    """Each criterion's score through `enter_score`, in one transaction: a refusal of any rolls back the others,
    and every refusal is kept beside its field."""
    entered: list[ScoreEntered] = []
    errors: dict[str, str] = {}
    day = date.fromisoformat(values["interviewed_at"])
    try:
        with seen.full.warehouse.transaction():
            for criterion in criteria:
                entry = ScoreEntry(values["candidate_id"], values["interviewer_id"], criterion.name,
                                   str(values["scores"][criterion.name]).strip(), day)
                try:
                    entered.append(enter_score(seen.full, entry))
                except CadenceError as refused:
                    errors.setdefault(_field_of(refused, criterion.name), refused.one_line())
            if errors:
                raise _Refused
    except _Refused:
        return [], errors
    return entered, errors


def _field_of(refused: CadenceError, criterion: str) -> str:
    """The form field a refusal belongs beside: the candidate, interviewer or date it names, else the criterion's
    row."""
    column = getattr(refused, "column", None)
    if column in ("candidate_id", "interviewer_id", "interviewed_at"):
        return str(column)
    return SCORE + criterion


def _scores_of(seen: Viewer, candidate: str, interviewer: str) -> list[dict[str, Any]]:
    """The scores this interviewer had given this candidate (for the audit log's before)."""
    rows = seen.full.warehouse.query("SELECT criterion, score FROM interview_scores WHERE candidate_id = $1 AND "
                                     "interviewer_id = $2 ORDER BY criterion", (candidate, interviewer))
    return [{"criterion": r[0], "score": r[1]} for r in rows]
