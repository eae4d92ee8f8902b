"""The charts a message carries as PNG images: the mission metric's and those of the off-track KPIs.

Mail clients show no SVG and run no scripts, and Slack shows an uploaded file: so a chart leaves Cadence as a PNG,
drawn from the same Vega-Lite spec the web page and the HTML report draw (locally, by vl-convert; no network).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadence.delivery.briefing import Briefing

__all__ = ["MAX_IMAGES", "Image", "chart_images", "headline_png", "png_of"]

MAX_IMAGES = 6
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class Image:
    """One chart as a PNG, with the Content-ID an email's HTML refers to it by (`cid:` + content_id)."""

    key: str
    title: str
    png: bytes
    content_id: str

    @property
    def filename(self) -> str:
        return f"{self.content_id.split('@')[0]}.png"


def png_of(spec: dict[str, Any]) -> bytes:
    """A Vega-Lite spec drawn as a PNG at twice the pixel density (sharp on high-resolution screens)."""
    import vl_convert

    png: bytes = vl_convert.vegalite_to_png(spec, scale=2)
    if not png.startswith(PNG_MAGIC):
        raise RuntimeError("vl-convert returned something other than a PNG")
    return png


def chart_specs(b: Briefing, limit: int = MAX_IMAGES) -> list[dict[str, Any]]:
    """The charts worth an image, at most `limit`: the mission metric's, then each off-track KPI's, then each
    at-risk KPI's — all among what the recipient may see."""
    charts = {str(c.get("key")): c for s in b.sections() for c in s["charts"]}
    wanted: list[str] = []
    mission = b.mission()
    for figure in [*([mission] if mission else []), *b.off_track(), *b.with_status("at_risk")]:
        key = str(figure.get("chart"))
        if key in charts and key not in wanted:
            wanted.append(key)
    return [charts[k] for k in wanted[:limit]]


def chart_images(b: Briefing, limit: int = MAX_IMAGES) -> list[Image]:
    """`chart_specs` drawn as PNGs, each with a Content-ID unique within the message."""
    images = []
    for number, chart in enumerate(chart_specs(b, limit), start=1):
        slug = re.sub(r"[^a-z0-9]+", "-", str(chart.get("key")).lower()).strip("-") or "chart"
        images.append(Image(str(chart.get("key")), str(chart.get("title") or chart.get("key")),
                            png_of(chart["spec"]), f"chart{number}-{slug}@cadence"))
    return images


def headline_png(b: Briefing) -> bytes | None:
    """The mission metric's chart (else the first chart the recipient may see) as a PNG, or None without one."""
    specs = chart_specs(b, limit=1)
    if not specs:
        specs = [c for s in b.sections() for c in s["charts"]][:1]
    return png_of(specs[0]["spec"]) if specs else None
