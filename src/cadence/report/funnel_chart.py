"""The funnel as a Vega-Lite chart: deals reaching each stage, with the conversion to the next."""

from __future__ import annotations

from typing import Any

from cadence.analysis.funnel import Funnel
from cadence.report.charts import SCHEMA

BAR_COLOUR = "#0969da"


def funnel_spec(result: Funnel, *, title: str | None = None) -> dict[str, Any]:
    """Bars of deals reaching each stage (one funnel), or, cut by a dimension, one line per group of the
    share of its deals that reached each stage — so groups of different sizes compare by shape."""
    title = title or f"Funnel — pipeline {result.pipeline}"
    if result.by is None:
        return _bars(result, title)
    return _lines(result, f"{title}, by {result.by}")


def _bars(result: Funnel, title: str) -> dict[str, Any]:
    values = [{"stage": s.stage, "position": s.position, "reached": s.reached,
               "label": f"{s.reached:,}" + (f" · {s.conversion:.0%} to next" if s.conversion is not None else "")}
              for s in result.stages]
    y = {"field": "stage", "type": "ordinal", "sort": {"field": "position"}, "title": None}
    return {
        "$schema": SCHEMA, "title": title, "width": 360, "height": {"step": 26}, "data": {"values": values},
        "layer": [
            {"mark": {"type": "bar", "color": BAR_COLOUR},
             "encoding": {"y": y, "x": {"field": "reached", "type": "quantitative", "title": "deals reaching it"},
                          "tooltip": [{"field": "stage"}, {"field": "reached", "format": ","},
                                      {"field": "label", "title": "deals · conversion to next"}]}},
            {"mark": {"type": "text", "align": "left", "dx": 4},
             "encoding": {"y": y, "x": {"field": "reached", "type": "quantitative"}, "text": {"field": "label"}}},
        ],
        "config": {"view": {"stroke": None}},
    }


def _lines(result: Funnel, title: str) -> dict[str, Any]:
    first = {s.group: s.reached for s in result.stages if s.position == 1}
    values = [{"group": s.group, "stage": s.stage, "position": s.position,
               "share": s.reached / first[s.group] if first.get(s.group) else None, "reached": s.reached}
              for s in result.stages]
    return {
        "$schema": SCHEMA, "title": title, "width": 360, "height": 180, "data": {"values": values},
        "mark": {"type": "line", "point": True},
        "encoding": {
            "x": {"field": "stage", "type": "ordinal", "sort": {"field": "position"}, "title": None},
            "y": {"field": "share", "type": "quantitative", "title": "share of the cohort reaching the stage",
                  "axis": {"format": ".0%"}},
            "color": {"field": "group", "type": "nominal", "title": result.by},
            "tooltip": [{"field": "group"}, {"field": "stage"}, {"field": "reached", "format": ","},
                        {"field": "share", "format": ".1%"}],
        },
        "config": {"view": {"stroke": None}},
    }
