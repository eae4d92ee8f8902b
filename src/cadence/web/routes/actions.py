"""The gap loop: on an off-track or at-risk figure, an action (gap, cause, action, owner, due date) and a comment
thread; the action comes back on every week's scorecard until it is closed, flagged when past due."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.entries.tempo import CAUSES
from cadence.errors import AccessDenied, CadenceError
from cadence.review.actions import Action, actions_for_week, add_comment, close_action, comments_on, open_action
from cadence.review.snapshots import parse_week
from cadence.web.deps import Viewer, viewer
from cadence.web.pages import html, respond
from cadence.web.routes.scorecard import iso_week, week_of

router = APIRouter(tags=["gap actions"])
COMPANY = "Company"  # the team an action on a company-wide figure belongs to
FIELDS = ("team", "metric", "week", "gap", "cause", "action", "owner_id", "due")


def _teams(seen: Viewer) -> set[str] | None:
    return None if seen.scope.kind == "all" else set(seen.scope.teams)


def _check_team(seen: Viewer, team: str) -> None:
    allowed = _teams(seen)
    if allowed is not None and team not in allowed:
        raise AccessDenied(f"{team or 'that team'} is not yours", hint="you may act on your own team's figures")


@router.get("/actions", include_in_schema=False)
@router.get("/actions.json", summary="Gap actions open in a week (tempo gap reviews and KPI actions, one list)")
def actions(request: Request, week: str | None = None, seen: Viewer = Depends(viewer("actions"))) -> Response:
    week_start = week_of(request, seen, week)
    listed = actions_for_week(seen.full, week_start, teams=_teams(seen))
    if seen.scope.kind == "person":  # a rep follows the actions they own
        listed = [a for a in listed if a.owner_id in seen.scope.person_ids or a.owner_id == seen.user.user_id]
    data = {"week": iso_week(week_start), "actions": listed}
    return respond(request, "actions.html", data, viewer=seen)


def _form(request: Request, seen: Viewer, values: dict[str, Any], errors: dict[str, str],
          status: int = 200) -> Response:
    owners = sorted({u for u in seen.scope.person_ids} | {seen.user.user_id}) if seen.scope.kind != "all" else []
    return html(request, "action_form.html", status_code=status, viewer=seen, values=values, errors=errors,
                causes=CAUSES, owners=owners)


@router.get("/actions/new", include_in_schema=False)
def new_action(request: Request, team: str = "", metric: str = "", week: str = "", gap: str = "",
               target: str = "", actual: str = "", seen: Viewer = Depends(viewer("actions"))) -> Response:
    seen.require_write("actions")
    if not team and seen.scope.kind == "all":
        team = COMPANY  # a figure of the whole company (the mission metric): leadership's own action
    values = {"team": team, "metric": metric, "week": week, "gap": gap, "target": target, "actual": actual,
              "cause": "", "action": "", "owner_id": "", "due": ""}
    return _form(request, seen, values, {})


def _number(text: str) -> float | None:
    try:
        return float(text) if text.strip() else None
    except ValueError:
        return None


@router.post("/actions", include_in_schema=False)
def record_action(request: Request, team: str = Form(""), metric: str = Form(""), week: str = Form(""),
                  gap: str = Form(""), cause: str = Form(""), action: str = Form(""), owner_id: str = Form(""),
                  due: str = Form(""), target: str = Form(""), actual: str = Form(""),
                  seen: Viewer = Depends(viewer("actions"))) -> Response:
    seen.require_write("actions")
    values = {"team": team, "metric": metric, "week": week, "gap": gap, "cause": cause, "action": action,
              "owner_id": owner_id, "due": due, "target": target, "actual": actual}
    allowed = _teams(seen)
    if allowed is not None and team not in allowed:
        return _form(request, seen, values, {"team": f"{team or 'that team'} is not yours: you may record actions "
                                                     f"for {', '.join(sorted(allowed)) or 'no team'}"}, 400)
    try:
        parse_week(week)
        made = open_action(seen.full, team=team.strip(), metric=metric.strip(), week=week.strip(), gap=gap.strip(),
                           cause=cause.strip(), action=action.strip(), owner_id=owner_id.strip(), due=due.strip(),
                           recorded_by=seen.user.user_id, target=_number(target), actual=_number(actual))
    except CadenceError as refused:
        return _form(request, seen, values, {_field_of(refused): refused.one_line()}, 400)
    seen.audit("write", f"actions/{made.review_id}", after=made.as_dict())
    return RedirectResponse(f"/scorecard?week={week.strip().upper()}#actions", status_code=303)


def _field_of(error: CadenceError) -> str:
    """The form field a refusal is about (EntryRefused names a column; others name none)."""
    field = getattr(error, "field", None) or getattr(error, "column", None)
    if field in FIELDS:
        return str(field)
    if "week" in error.message.lower():
        return "week"
    return "action"


@router.post("/actions/{review_id}/close", include_in_schema=False)
def close(request: Request, review_id: str, week: str = Form(""),
          seen: Viewer = Depends(viewer("actions"))) -> Response:
    seen.require_write("actions")
    known = {a.review_id: a for a in actions_for_week(seen.full, date.today(), teams=None)}
    before = known.get(review_id)
    if before is not None:
        _check_team(seen, before.team)
    closed: Action = close_action(seen.full, review_id, closed_by=seen.user.user_id)
    if before is None:
        _check_team(seen, closed.team)
    seen.audit("write", f"actions/{review_id}", before=before.as_dict() if before else None, after=closed.as_dict())
    target = f"/scorecard?week={week}#actions" if week else "/actions"
    return RedirectResponse(target, status_code=303)


def _subject_team(seen: Viewer, subject: str) -> str | None:
    """The team a comment thread belongs to: a figure's team, or the action's."""
    if subject.startswith("kpi:"):
        return subject[4:].split("/", 1)[0] or None
    if subject.startswith("action:"):
        wanted = subject[7:]
        for a in actions_for_week(seen.full, date.today(), teams=None):
            if a.review_id == wanted:
                return a.team
    return None


@router.get("/comments", include_in_schema=False)
@router.get("/comments.json", summary="The comment thread on a figure (kpi:TEAM/METRIC) or an action (action:ID)")
def thread(request: Request, subject: str, week: str | None = None,
           seen: Viewer = Depends(viewer("actions"))) -> Response:
    team = _subject_team(seen, subject)
    if team:
        _check_team(seen, team)
    data = {"subject": subject, "team": team, "comments": comments_on(seen.full, subject)}
    return respond(request, "comments.html", data, viewer=seen, week=week or "", error=None, body="")


@router.post("/comments", include_in_schema=False)
def comment(request: Request, subject: str = Form(...), body: str = Form(""), week: str = Form(""),
            seen: Viewer = Depends(viewer("actions"))) -> Response:
    team = _subject_team(seen, subject)
    if team:
        _check_team(seen, team)
    week_start = None
    try:
        week_start = parse_week(week) if week else None
        made = add_comment(seen.full, subject=subject, body=body, author=seen.user.user_id, week_start=week_start,
                           team=team)
    except CadenceError as refused:
        data = {"subject": subject, "team": team, "comments": comments_on(seen.full, subject)}
        return html(request, "comments.html", status_code=400, viewer=seen, data=data, week=week,
                    error=refused.one_line(), body=body)
    seen.audit("write", f"comments/{subject}", after=made)
    return RedirectResponse(f"/comments?subject={_quote(subject)}&week={_quote(week)}", status_code=303)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")
