"""The pipeline waterfall as a Vega-Lite chart: start, each movement floating from the running total, end."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cadence.analysis.waterfall import ADDED, MOVEMENTS, Step
from cadence.report.charts import SCHEMA

LABELS = {"start": "Start", "created": "Created", "pulled_in": "Pulled in", "increased": "Increased",
          "decreased": "Decreased", "pushed_out": "Pushed out", "won": "Won", "lost": "Lost", "end": "End"}
COLOURS = {"total": "#57606a", "up": "#1a7f37", "down": "#cf222e", "won": "#0969da"}


def waterfall_bars(step: Step) -> list[dict[str, Any]]:
    """Each bar with where it starts and ends: movements float from the running total."""
    start = float(step.amount("start"))
    bars = [{"bar": "start", "label": LABELS["start"], "low": 0.0, "high": start, "amount": start,
             "deals": step.counts["start"], "kind": "total"}]
    running = start
    for name in MOVEMENTS:
        amount = float(step.amount(name))
        after = running + amount if name in ADDED else running - amount
        kind = "up" if name in ADDED else "won" if name == "won" else "down"
        bars.append({"bar": name, "label": LABELS[name], "low": min(running, after), "high": max(running, after),
                     "amount": amount, "deals": step.counts[name], "kind": kind})
        running = after
    end = float(step.amount("end"))
    bars.append({"bar": "end", "label": LABELS["end"], "low": 0.0, "high": end, "amount": end,
                 "deals": step.counts["end"], "kind": "total"})
    return bars


def waterfall_spec(step: Step, *, title: str, currency: str,
                   link: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A waterfall bar chart of one step (or of a whole period's steps taken as one); `link(bar)` makes each
    bar a link to its deals."""
    bars = waterfall_bars(step)
    if link is not None:
        for bar in bars:
            bar["href"] = link(str(bar["bar"]))
    encoding: dict[str, Any] = {
        "x": {"field": "label", "type": "ordinal", "sort": None, "title": None, "axis": {"labelAngle": 0}},
        "y": {"field": "low", "type": "quantitative", "title": currency, "axis": {"format": "~s"}},
        "y2": {"field": "high"},
        "color": {"field": "kind", "type": "nominal", "legend": None,
                  "scale": {"domain": list(COLOURS), "range": list(COLOURS.values())}},
        "tooltip": [{"field": "label", "title": "bar"}, {"field": "amount", "format": ",.2f", "title": currency},
                    {"field": "deals", "title": "deals"}],
    }
    if link is not None:
        encoding["href"] = {"field": "href"}
    return {"$schema": SCHEMA, "title": title, "width": 520, "height": 220, "data": {"values": bars},
            "layer": [{"mark": {"type": "bar", "cursor": "pointer" if link else "default"}, "encoding": encoding},
                      {"mark": {"type": "text", "dy": -6, "fontSize": 10},
                       "encoding": {"x": encoding["x"], "y": {"field": "high", "type": "quantitative"},
                                    "text": {"field": "amount", "type": "quantitative", "format": ",.3~s"}}}],
            "config": {"view": {"stroke": None}}}


CONVERTER_BASE = "https://vega.github.io/vega-datasets/"  # where the SVG converter resolves relative links


def waterfall_svg(spec: dict[str, Any]) -> str:
    """The chart as SVG, each bar linking to the site-relative address `link` gave it (the converter would
    otherwise point relative links at its own data server)."""
    from cadence.report.charts import to_svg

    return to_svg(spec).replace(f'xlink:href="{CONVERTER_BASE}/', 'xlink:href="/')
