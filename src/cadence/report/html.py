"""The scorecard as one self-contained HTML file: inline CSS, charts as inline SVG, no network needed."""

from __future__ import annotations

from datetime import UTC, datetime
from importlib.resources import files

from jinja2 import Environment, select_autoescape

from cadence.report.charts import to_svg
from cadence.report.format import format_change, format_value, status_label
from cadence.report.model import Scorecard


def render_html(scorecard: Scorecard) -> str:
    env = Environment(autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["value"] = lambda v, unit: format_value(v, unit, scorecard.currency)
    env.filters["change"] = format_change
    env.filters["status"] = status_label
    template = env.from_string(files("cadence.report").joinpath("templates/scorecard.html.j2").read_text("utf-8"))
    charts = {c.key: to_svg(c.spec) for s in scorecard.sections for c in s.charts}
    return template.render(card=scorecard, charts=charts,
                           generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"))
