"""The coaching pages: each rep's activity funnel against the model rep, and the step to coach when the data is
sure (what `cadence coach` prints), and one rep's steps in detail (`cadence coach REP`).

Computed on the reader's rows: a manager sees their team's reps, compared within the team; a rep sees only
themself, so their model is drawn from the rows they may see.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.access.roles import Principal
from cadence.access.scope import scope_for, scoped
from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.coaching import Coaching, CoachingSettings, coach
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond
from cadence.web.results import kept

router = APIRouter(tags=["coaching"])


def coaching(request: Request, seen: Viewer, model: str | None) -> Coaching:
    """`cadence coach [--model REP]` on the reader's rows, with evidence up to the as-of day.

    A rep is coached against their team's model, as their manager sees it: computed on the team's rows, then
    only the rep's own comparison is kept, with the model reps unnamed (their rates are the team's benchmark;
    who they are is not the rep's to see)."""
    if seen.scope.kind == "person":
        return _own_against_team(request, seen, model)
    ws = seen.ws

    def compute() -> dict[str, Any]:
        today = resolve_as_of(ws, settings_of(request).today)
        return {"coaching": coach(ws, ws.calendar, as_of=today.next_day,
                                  settings=CoachingSettings(model_rep=model or None))}

    result: Coaching = kept(request, seen, ("coaching", model or None), compute)["coaching"]
    return result


@router.get("/coaching", include_in_schema=False)
@router.get("/coaching.json", summary="Every rep against the model rep, with the step to coach (as `cadence coach`)")
def coaching_page(request: Request, model: str | None = None,
                  seen: Viewer = Depends(viewer("coaching"))) -> Response:
    result = coaching(request, seen, model)
    data: dict[str, Any] = result.as_dict()
    return respond(request, "coaching.html", data, viewer=seen, model=model or "")


@router.get("/coaching/{person_id}", include_in_schema=False)
@router.get("/coaching/{person_id}.json", summary="One rep's steps against the model (as `cadence coach REP`)")
def rep_page(request: Request, person_id: str, model: str | None = None,
             seen: Viewer = Depends(viewer("coaching"))) -> Response:
    result = coaching(request, seen, model)
    rep = result.rep(person_id)  # a rep outside the reader's rows is not found
    data: dict[str, Any] = {**result.as_dict(), "reps": [rep.as_dict()]}
    return respond(request, "coaching.html", data, viewer=seen,
                   model=model or "", rep=data["reps"][0])


def _own_against_team(request: Request, seen: Viewer, model: str | None) -> Coaching:
    team = _team_of(seen)
    if team is None or model:  # no team to compare within, or a named model the rep may not name: their own rows
        ws = seen.ws
    else:
        ws = scoped(seen.full, scope_for(seen.full, Principal(seen.user.user_id, "manager", team=team)))

    def compute() -> dict[str, Any]:
        today = resolve_as_of(ws, settings_of(request).today)
        return {"coaching": coach(ws, ws.calendar, as_of=today.next_day,
                                  settings=CoachingSettings(model_rep=model or None))}

    whole: Coaching = kept(request, seen, ("coaching-own", team, model or None), compute)["coaching"]
    own = [replace(r, model=[], model_names=[f"the {r.team or 'team'}'s model rep"] if r.model else [])
           for r in whole.reps if r.person_id in seen.scope.person_ids]
    return replace(whole, reps=own, ramp_factors=whole.ramp_factors)


def _team_of(seen: Viewer) -> str | None:
    people = seen.ws.table("people")  # the rep's own row only
    teams = people.filter(people.person_id.isin(list(seen.scope.person_ids))).team.to_pandas().dropna()
    return str(teams.iloc[0]) if len(teams) else None
