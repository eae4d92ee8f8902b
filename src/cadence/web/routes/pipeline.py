"""The pipeline page: the stage funnel (what `cadence funnel` prints, with the HTML report's funnel chart), the
waterfall of a period's open pipeline (what `cadence pipeline waterfall` prints, each bar linking to its deals) and
pipeline coverage against the bookings targets for this quarter and the next (the scorecard's pipeline section).
Everything is computed on the viewer's rows: a manager's waterfall holds their team's deals, a rep's their own."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.funnel import Funnel, funnel
from cadence.analysis.waterfall import BARS, DRILL_COLUMNS, Waterfall, pipeline_waterfall
from cadence.errors import InputError, UnknownNameError
from cadence.report.charts import to_svg
from cadence.report.funnel_chart import funnel_spec
from cadence.report.model import Figure, ScorecardContext
from cadence.report.sections.pipeline import coverage_section
from cadence.report.waterfall_chart import LABELS, waterfall_spec, waterfall_svg
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
        section = coverage_section(ws, context)
        section.figures = [f for f in section.figures if _visible(f, seen)]
        label = calendar.label(calendar.start_of(as_of - timedelta(days=1), "quarter"), "quarter")
        quarters.append({"quarter": label, **section.as_dict()})
    return {**today.as_dict(), "currency": ws.currency, "quarters": quarters}


def moves(request: Request, seen: Viewer, period: str | None, grain: str) -> Waterfall:
    """The waterfall of `period` (default: the quarter holding the as-of day) on the viewer's rows, kept."""
    if grain not in ("week", "month"):
        raise InputError(f"no waterfall by {grain!r}", hint="use grain=week or grain=month")
    today = resolve_as_of(seen.ws, settings_of(request).today)
    return kept(request, seen, ("waterfall", period or None, grain), lambda: pipeline_waterfall(
        seen.ws, seen.ws.calendar, period=period or None, grain=grain, through=today.day))


def drill_link(result: Waterfall, bar: str, step: date | None = None) -> str:
    query = {"period": result.period, "grain": result.grain, "bar": bar, **({"step": step.isoformat()} if step else {})}
    return f"/pipeline/waterfall?{urlencode(query)}"


@router.get("/pipeline", include_in_schema=False)
@router.get("/pipeline.json", summary="The stage funnel (as `cadence funnel`), the pipeline waterfall (as `cadence "
            "pipeline waterfall`) and pipeline coverage this quarter and next")
def pipeline_page(request: Request, pipeline: str | None = None, by: str | None = None, period: str | None = None,
                  grain: str = "week", seen: Viewer = Depends(viewer("pipeline"))) -> Response:
    cut = _cut(by)
    data: dict[str, Any] = kept(request, seen, ("pipeline", pipeline or None, cut), lambda: {
        "funnel": funnel(seen.ws, pipeline=pipeline or None, by=cut), "coverage": coverage(request, seen)})
    if wants_json(request):
        return respond(request, "pipeline.html", {**data, "waterfall": moves(request, seen, period, grain).as_dict()})
    errors: dict[str, str] = {}
    try:
        waterfall = moves(request, seen, period, grain)
    except InputError as error:  # the form again, saying which field to fix, over the default waterfall
        errors["grain" if grain not in ("week", "month") else "period"] = error.one_line()
        waterfall = moves(request, seen, None, "week")
    data = {**data, "waterfall": waterfall.as_dict()}
    result: Funnel = data["funnel"]
    chart = to_svg(funnel_spec(result)) if result.stages else None
    waterfall_chart = waterfall_svg(waterfall_spec(
        waterfall.total, currency=waterfall.currency, link=lambda bar: drill_link(waterfall, bar),
        title=f"Pipeline closing in {waterfall.period}: {waterfall.total.first} – {waterfall.total.last}")) \
        if waterfall.rows else None
    links = [{bar: drill_link(waterfall, bar, step.first) for bar in BARS} for step in waterfall.rows]
    return respond(request, "pipeline.html", {**data, "funnel": result.as_dict()}, viewer=seen, chart=chart, by=cut,
                   cuts=CUTS, pipelines=sorted([result.pipeline, *result.other_pipelines]),
                   waterfall_chart=waterfall_chart, links=links, labels=LABELS,
                   total_links={bar: drill_link(waterfall, bar) for bar in BARS}, errors=errors,
                   asked={"period": period or "", "grain": grain}, status_code=400 if errors else 200)


@router.get("/pipeline/waterfall", include_in_schema=False)
@router.get("/pipeline/waterfall.json", summary="The deals behind one bar of the pipeline waterfall (as `cadence "
            "pipeline waterfall --drill BAR`), with their stage, amount and close date before and after")
def waterfall_deals(request: Request, bar: str, period: str | None = None, grain: str = "week",
                    step: str | None = None, seen: Viewer = Depends(viewer("pipeline"))) -> Response:
    if bar not in BARS:
        raise UnknownNameError("waterfall bar", bar, BARS)
    try:
        first = date.fromisoformat(step) if step else None
    except ValueError:
        raise InputError(f"step {step!r} is not a date", hint="give the first day of a step, as YYYY-MM-DD") from None
    result = moves(request, seen, period, grain)
    deals = result.drill(bar, step=first)
    data = {"currency": result.currency, "period": result.period, "grain": result.grain, "bar": bar,
            "step": first.isoformat() if first else None, "method": result.method, "deals": deals}
    return respond(request, "pipeline_waterfall.html", data, viewer=seen, label=LABELS[bar],
                   columns=[c for c in DRILL_COLUMNS if c != "group"])
