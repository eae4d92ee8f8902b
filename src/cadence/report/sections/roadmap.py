"""Product and sales on one dollar KPI: what shipped features brought in, and which customer needs are worth most.

The theme edits (`themes.yml`, written by `cadence requests themes …`) are read by `entries.themes`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from cadence.entries.themes import load_theme_overrides
from cadence.report.model import Chart, Figure, ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.analysis.roadmap.value import ThemeValue
    from cadence.workspace import Workspace

TOP_THEMES = 5


def themes_chart(themes: list[ThemeValue], currency: str) -> dict[str, Any]:
    """Horizontal bars: each theme's dollar value, largest on top."""
    from cadence.report.charts import SCHEMA

    points = [{"theme": t.name, "value": round(t.value, 2), "deals": t.deals} for t in themes]
    return {"$schema": SCHEMA, "title": f"Waiting customer needs by dollar value ({currency})", "width": 260,
            "height": 20 * max(len(points), 1), "data": {"values": points},
            "mark": {"type": "bar", "color": "#0969da"},
            "encoding": {"y": {"field": "theme", "type": "nominal", "sort": "-x", "title": None},
                         "x": {"field": "value", "type": "quantitative", "title": None, "axis": {"format": "~s"}},
                         "tooltip": [{"field": "theme"}, {"field": "value", "format": ",.0f"}, {"field": "deals"}]},
            "config": {"view": {"stroke": None}}}


class RoadmapSection:
    key = "roadmap"
    title = "Product and sales: one dollar KPI"
    order = 60

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        from cadence.analysis.roadmap.influence import WEEKS, influenced_bookings
        from cadence.analysis.roadmap.plan import next_period, value_roadmap
        from cadence.analysis.roadmap.value import money
        from cadence.report.sections.kpis import range_value

        if int(ws.table("feature_requests").count().execute()) == 0:
            return None
        calendar = ws.calendar
        quarter_start = calendar.start_of(context.as_of - timedelta(days=1), "quarter")
        label = calendar.label(quarter_start, "quarter")
        plan_start, plan_end, plan_label = next_period(calendar, context.as_of)
        valuation = value_roadmap(ws, period_start=plan_start, period_end=plan_end, as_of=context.as_of,
                                  overrides=load_theme_overrides(ws))
        influenced = influenced_bookings(ws, start=quarter_start, end=context.as_of, weeks=WEEKS,
                                         data=valuation.data)
        bookings = range_value(ws, "bookings", quarter_start, context.as_of) or 0.0
        currency = ws.currency
        section = Section(self.key, self.title)
        section.figures += [
            Figure("Product-influenced bookings this quarter", influenced.bookings, "currency", period=label,
                   note=f"{len(influenced.deals)} deals that asked for a feature closed won within {WEEKS} weeks "
                        "of its shipping"),
            Figure("Share of bookings influenced by product", influenced.bookings / bookings if bookings else None,
                   "ratio", period=label, note=f"of {money(bookings, currency)} bookings"),
        ]
        top = valuation.themes[:TOP_THEMES]
        section.rows = [{"theme": t.name, "value": round(t.value), "deals": t.deals, "requests": t.requests,
                         "accounts": t.accounts, "features": ", ".join(t.features) or "none yet"} for t in top]
        if top:
            section.charts.append(Chart("roadmap-themes", f"Waiting customer needs by value ({currency})",
                                        themes_chart(top, currency)))
        section.notes += [
            f"Top customer needs by the expected won revenue ({currency}) they hold if answered in {plan_label} "
            "(`cadence requests themes`; plan with `cadence roadmap plan --capacity …h`).",
            f"Value — {valuation.method}.",
            "Product-influenced bookings: won amount of deals that asked for a feature before it shipped and "
            f"closed won within {WEEKS} weeks of it (`cadence roadmap influence` compares them with similar deals).",
        ]
        return section
