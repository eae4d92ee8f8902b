"""The coaching pages: each rep's activity funnel against the model rep, and the step to coach when the data is
sure (what `cadence coach` prints), and one rep's steps in detail (`cadence coach REP`).

Computed on the reader's rows: a manager sees their team's reps, compared within the team; a rep sees only
themself, so their model is drawn from the rows they may see.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.coaching import Coaching, CoachingSettings, coach
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond
from cadence.web.results import kept

router = APIRouter(tags=["coaching"])


def coaching(request: Request, seen: Viewer, model: str | None) -> Coaching:
    """`cadence coach [--model REP]` on the reader's rows, with evidence up to the as-of day."""
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
