"""Every metric: its chart by period, cut by any dimension it allows, its definition and SQL, and from every
figure a drill-down to the rows behind it (as a page, JSON or a CSV download)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.metrics.calendar import GRAINS
from cadence.metrics.drill import drill_rows
from cadence.metrics.explain import explain_metric
from cadence.report.charts import to_svg, trend_spec
from cadence.web.deps import Viewer, viewer
from cadence.web.pages import csv_response, respond
from cadence.web.results import kept

router = APIRouter(tags=["metrics"])


@router.get("/metrics", include_in_schema=False)
@router.get("/metrics.json", summary="The metric catalogue: every definition, once")
def catalogue(request: Request, seen: Viewer = Depends(viewer("metrics"))) -> Response:
    registry = seen.ws.registry
    rows = [{"name": m.name, "label": m.label, "unit": m.unit, "description": m.description, "formula": m.formula,
             "owner": m.owner, "dimensions": list(registry.dimensions_of(m))} for m in registry]
    return respond(request, "metrics.html", {"metrics": rows}, viewer=seen)


def _dimension_filters(request: Request, dimensions: tuple[str, ...]) -> dict[str, str | None]:
    """Query parameters naming one of the metric's dimensions (e.g. ?team=Enterprise) filter its rows."""
    return {d: request.query_params[d] for d in dimensions if request.query_params.get(d)}


@router.get("/metrics/{name}", include_in_schema=False)
@router.get("/metrics/{name}.json", summary="A metric by period, cut by a dimension (rows as `cadence metric`)")
def metric_page(request: Request, name: str, grain: str = "quarter", by: str | None = None,
                seen: Viewer = Depends(viewer("metrics"))) -> Response:
    ws = seen.ws
    metric = ws.registry.get(name)
    dimensions = ws.registry.dimensions_of(metric)
    grain = grain if grain in GRAINS else "quarter"
    cut = [by] if by else []
    result = kept(request, seen, ("metric", name, grain, by),
                  lambda: ws.metric_result(name, by=cut, grain=grain))  # type: ignore[arg-type]
    data = result.as_dict()
    if request.url.path.endswith(".json"):
        return respond(request, "metric.html", data)
    explanation = kept(request, seen, ("explain", name, grain),
                       lambda: explain_metric(ws, name, grain=grain, limit=0))  # type: ignore[arg-type]
    chart = None
    if not by and data["rows"]:
        points = [{"period": r["period"], "value": r["value"]} for r in data["rows"][-12:]]
        chart = to_svg(trend_spec(points, title=f"{metric.label} by {grain}", unit=metric.unit))
    return respond(request, "metric.html", data, viewer=seen, metric=metric, dimensions=dimensions, grain=grain,
                   grains=[g for g in GRAINS if g != "day"], by=by, chart=chart, sql=explanation.sql,
                   dated_by=explanation.dated_by, notes=result.undated_notes())


@router.get("/metrics/{name}/rows", include_in_schema=False)
@router.get("/metrics/{name}/rows.json", summary="The rows behind one figure of a metric (the drill-down)")
@router.get("/metrics/{name}/rows.csv", summary="The drill-down as a CSV download (recorded in the audit log)")
def rows(request: Request, name: str, period: str, where: str | None = None,
         seen: Viewer = Depends(viewer("metrics"))) -> Response:
    ws = seen.ws
    metric = ws.registry.get(name)
    filters = _dimension_filters(request, ws.registry.dimensions_of(metric))
    drill = drill_rows(ws, name, period, by=filters or None, where=where,
                       limit=None if request.url.path.endswith(".csv") else 5000)
    if request.url.path.endswith(".csv"):
        seen.audit("export", request.url.path + (f"?{request.url.query}" if request.url.query else ""),
                   after={"rows": drill.total})
        return csv_response(drill.rows, list(drill.columns), f"{name}-{period}.csv")
    data: dict[str, Any] = drill.as_dict()
    return respond(request, "rows.html", data, viewer=seen, metric=metric, filters=filters, period=period,
                   query=request.url.query)
