"""The tempo trend: each track's recent periods, shipped against target, as one small-multiples chart."""

from __future__ import annotations

from typing import Any

from cadence.analysis.tempo import TempoBoard
from cadence.report.charts import SCHEMA

RECENT = {"week": 13, "month": 12, "quarter": 8}
STATUS_COLOURS = {"met": "#1a7f37", "missed": "#cf222e", "on_pace": "#0969da", "at_risk": "#bf8700"}


def tempo_points(board: TempoBoard) -> list[dict[str, Any]]:
    """One point per track and recent period: what shipped, the target then, and the status."""
    points = []
    for status in board.statuses:
        if not status.periods:
            continue
        grain = status.periods[-1].grain
        name = f"{status.track.team} · {status.track.label} per {grain}"
        for period in status.periods[-RECENT[grain]:]:
            points.append({"track": name, "period": period.label, "actual": period.actual, "target": period.target,
                           "status": period.status.replace("_", " ")})
    return points


def tempo_trend_spec(board: TempoBoard, *, columns: int = 3) -> dict[str, Any]:
    """Bars of what each track shipped per period, coloured by status, with the target as a tick."""
    x = {"field": "period", "type": "ordinal", "title": None, "sort": None,
         "axis": {"labelAngle": -60, "labelFontSize": 8}}
    counts = {"tickMinStep": 1, "labelExpr": "datum.value % 1 ? '' : format(datum.value, 'd')"}  # whole shipments
    colour = {"field": "status", "type": "nominal", "title": None,
              "scale": {"domain": [k.replace("_", " ") for k in STATUS_COLOURS],
                        "range": list(STATUS_COLOURS.values())},
              "legend": {"orient": "bottom"}}
    return {
        "$schema": SCHEMA,
        "title": "Shipped against target, period by period (tick: the target then)",
        "data": {"values": tempo_points(board)},
        "facet": {"field": "track", "type": "nominal", "title": None, "sort": None},
        "columns": columns,
        "spec": {"width": 220, "height": 90, "layer": [
            {"mark": {"type": "bar"},
             "encoding": {"x": x, "y": {"field": "actual", "type": "quantitative", "title": None, "axis": counts},
                          "color": colour,
                          "tooltip": [{"field": "period"}, {"field": "actual"}, {"field": "target"},
                                      {"field": "status"}]}},
            {"mark": {"type": "tick", "color": "#24292f", "thickness": 2},
             "encoding": {"x": x, "y": {"field": "target", "type": "quantitative", "axis": counts}}},
        ]},
        "resolve": {"scale": {"x": "independent", "y": "independent"}},
        "config": {"view": {"stroke": None}},
    }
