"""The roadmap: the features that earn the most expected revenue under the developer hours given (what
`cadence roadmap plan --capacity HOURS` prints), beside the naive plan. The hours are asked for on the page;
anything but a positive number is answered beside the field."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from cadence.analysis.roadmap.listing import plan_for
from cadence.analysis.roadmap.optimiser import parse_capacity
from cadence.entries.themes import load_theme_overrides
from cadence.errors import CadenceError
from cadence.web.deps import Viewer, viewer
from cadence.web.pages import respond, wants_json
from cadence.web.results import kept
from cadence.web.routes.requests import as_of_of

router = APIRouter(tags=["roadmap"])
NAIVE_RULES = ("value-per-hour", "rice")


@router.get("/roadmap", include_in_schema=False)
@router.get("/roadmap.json", summary="The roadmap under developer hours, beside the naive plan (as `cadence roadmap "
            "plan --capacity HOURS`)")
def roadmap_page(request: Request, capacity: str | None = None, period: str | None = None,
                 naive: str = "value-per-hour", monthly: bool = True,
                 seen: Viewer = Depends(viewer("roadmap"))) -> Response:
    values = {"capacity": capacity or "", "period": period or "", "naive": naive, "monthly": monthly}
    if capacity is None or not capacity.strip():
        if wants_json(request):
            return JSONResponse({"error": "capacity: say how many developer hours the period has, e.g. "
                                          "capacity=320", "field": "capacity"}, status_code=400)
        return _page(request, seen, None, values, {})
    try:
        data = kept(request, seen, ("roadmap", capacity.strip(), period or None, naive, monthly),
                    lambda: _plan(request, seen, capacity, period, naive, monthly))
    except CadenceError as error:
        field = _field_of(error, values)
        if wants_json(request):
            return JSONResponse({"error": error.one_line(), "field": field}, status_code=400)
        return _page(request, seen, None, values, {field: error.one_line()}, status=400)
    return _page(request, seen, data, values, {})


def _plan(request: Request, seen: Viewer, capacity: str, period: str | None, naive: str,
          monthly: bool) -> dict[str, Any]:
    """The plan as the CLI's JSON prints it, computed on the viewer's rows."""
    hours = parse_capacity([capacity])
    result = plan_for(seen.ws, hours, as_of_of(request, seen), period or None,
                      overrides=load_theme_overrides(seen.ws), monthly=monthly, naive_rule=naive)
    data: dict[str, Any] = result.as_dict(seen.ws.currency)
    return data


def _field_of(error: CadenceError, values: dict[str, Any]) -> str:
    """The field a refusal is about: the capacity unless it names the period or the naive rule."""
    text = error.message.lower()
    if "capacity" in text or "hours" in text:
        return "capacity"
    if values["period"] and ("period" in text or "plan a" in text or repr(values["period"]) in error.message):
        return "period"
    if "naive" in text or "rice" in text or values["naive"] in error.message:
        return "naive"
    return "capacity"


def _page(request: Request, seen: Viewer, data: dict[str, Any] | None, values: dict[str, Any],
          errors: dict[str, str], *, status: int = 200) -> Response:
    if wants_json(request):
        return respond(request, "roadmap.html", data, status_code=status)
    chosen = sorted((f for f in (data or {}).get("features", []) if f["chosen"]),
                    key=lambda f: (f["ships_by"], -f["value"]))
    left = [f for f in (data or {}).get("features", []) if not f["chosen"] and f["value"] > 0]
    return respond(request, "roadmap.html", data, status_code=status, viewer=seen, values=values, errors=errors,
                   chosen=chosen, left=left, currency=seen.ws.currency, naive_rules=NAIVE_RULES)
