"""Charts as Vega-Lite specs (one spec for the web, the HTML report and static images) and their SVG."""

from __future__ import annotations

from typing import Any

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
STATUS_COLOURS = {"on_track": "#1a7f37", "at_risk": "#bf8700", "off_track": "#cf222e"}


def trend_spec(points: list[dict[str, Any]], *, title: str, unit: str, target: float | None = None,
               colour: str = "#0969da") -> dict[str, Any]:
    """A line of `points` ({"period", "value"}) with the target as a dashed rule."""
    axis_format = ".0%" if unit == "ratio" else "~s"
    layers: list[dict[str, Any]] = [{
        "mark": {"type": "line", "point": True, "color": colour},
        "encoding": {
            "x": {"field": "period", "type": "ordinal", "title": None, "sort": None},
            "y": {"field": "value", "type": "quantitative", "title": None, "axis": {"format": axis_format}},
            "tooltip": [{"field": "period"}, {"field": "value", "format": ",.2f"}],
        },
    }]
    if target is not None:
        layers.append({"data": {"values": [{"target": target}]},
                       "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#57606a"},
                       "encoding": {"y": {"field": "target", "type": "quantitative"}}})
    return {"$schema": SCHEMA, "title": title, "width": 260, "height": 110,
            "data": {"values": points}, "layer": layers, "config": {"view": {"stroke": None}}}


def to_svg(spec: dict[str, Any]) -> str:
    """Render a Vega-Lite spec to an SVG string, locally (no network)."""
    import vl_convert

    svg: str = vl_convert.vegalite_to_svg(spec)
    return svg
