"""The pipeline page: the stage funnel (what `cadence funnel` prints, with the HTML report's funnel chart) and
pipeline coverage against the bookings targets for this quarter and the next (the scorecard's pipeline section)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.funnel import Funnel, funnel
from cadence.errors import InputError
from cadence.report.charts import to_svg
from cadence.report.funnel_chart import funnel_spec
from cadence.report.model import Figure, ScorecardContext, Section
from cadence.report.sections.pipeline import PipelineSection
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond, wants_json
from cadence.web.results import kept

router = APIRouter(tags=["pipeline"])

CUTS = ("team", "segment")


def _cut(by: str | None) -> str | None:
    """`?by=`: nothing, team or segment; anything else is refused in one line."""
    if not by:
        return None
    if by not in CUTS:
        raise InputError(f"cannot cut the funnel by {by!r}", hint=f"use by={' or by='.join(CUTS)}, or leave it out")
    return by


def _visible(figure: Figure, seen: Viewer) -> bool:
    """A team's coverage is shown to the company, or to that team's manager; a rep sees the company-level
    figures only (their own deals against a team's target would read as a team's shortfall)."""
    if figure.team is None or seen.scope.kind == "all":
        return True
    return seen.scope.kind == "team" and figure.team in seen.scope.teams


def coverage(request: Request, seen: Viewer) -> dict[str, Any]:
    """The scorecard's pipeline section for the quarter holding the as-of day and for the quarter after it,
    computed on the viewer's rows (the next quarter as it stands before it starts)."""
    ws = seen.ws
    today = resolve_as_of(ws, settings_of(request).today)
    calendar = ws.calendar
    this_start = calendar.start_of(today.day, "quarter")
    next_start = calendar.next_start(this_start, "quarter")
    quarters = []
    for as_of in (today.next_day, next_start + timedelta(days=1)):
        context = ScorecardContext("", as_of - timedelta(days=7), as_of, today=today)
        section = PipelineSection().build(ws, context) or Section("pipeline", "Pipeline")
        section.figures = [f for f in section.figures if _visible(f, seen)]
        label = calendar.label(calendar.start_of(as_of - timedelta(days=1), "quarter"), "quarter")
        quarters.append({"quarter": label, **section.as_dict()})
    return {**today.as_dict(), "currency": ws.currency, "quarters": quarters}


@router.get("/pipeline", include_in_schema=False)
@router.get("/pipeline.json", summary="The stage funnel (as `cadence funnel`) and pipeline coverage this quarter "
            "and next")
def pipeline_page(request: Request, pipeline: str | None = None, by: str | None = None,
                  seen: Viewer = Depends(viewer("pipeline"))) -> Response:
    cut = _cut(by)
    data: dict[str, Any] = kept(request, seen, ("pipeline", pipeline or None, cut), lambda: {
        "funnel": funnel(seen.ws, pipeline=pipeline or None, by=cut), "coverage": coverage(request, seen)})
    if wants_json(request):
        return respond(request, "pipeline.html", data)
    result: Funnel = data["funnel"]
    chart = to_svg(funnel_spec(result)) if result.stages else None
    return respond(request, "pipeline.html", {**data, "funnel": result.as_dict()}, viewer=seen, chart=chart, by=cut,
                   cuts=CUTS, pipelines=sorted([result.pipeline, *result.other_pipelines]))
