"""Incentive timing on the scorecard: how bunched bookings are at quarter end, year by year."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence.analysis.incentives.bunching import DEFINITION, Bunching, YearBunching, bookings_bunching
from cadence.analysis.incentives.data import WEEKS_PER_QUARTER
from cadence.errors import MissingDataError
from cadence.report.charts import SCHEMA
from cadence.report.format import format_value
from cadence.report.model import Chart, Figure, ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.workspace import Workspace

CHART_KEY = "incentives-week-of-quarter"


def week_of_quarter_spec(rows: list[dict[str, Any]], *, title: str) -> dict[str, Any]:
    """Share of each fiscal year's bookings by week of quarter (1–13), one line per year, even spread dashed."""
    even = 1 / WEEKS_PER_QUARTER
    return {
        "$schema": SCHEMA, "title": title, "width": 420, "height": 180,
        "layer": [
            {"data": {"values": rows},
             "mark": {"type": "line", "point": True},
             "encoding": {
                 "x": {"field": "week", "type": "ordinal", "title": "week of quarter (13 = its last 7 days)",
                       "axis": {"labelAngle": 0}},
                 "y": {"field": "share", "type": "quantitative", "title": "share of the year's bookings",
                       "axis": {"format": ".0%"}},
                 "color": {"field": "year", "type": "nominal", "title": "fiscal year"},
                 "tooltip": [{"field": "year"}, {"field": "week"}, {"field": "share", "format": ".1%"},
                             {"field": "bookings", "format": ",.0f"}],
             }},
            {"data": {"values": [{"even": even}]},
             "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#57606a"},
             "encoding": {"y": {"field": "even", "type": "quantitative"}}},
        ],
        "config": {"view": {"stroke": None}},
    }


def _pct(value: float | None) -> str:
    return format_value(value, "ratio")


def year_row(year: YearBunching) -> dict[str, Any]:
    """One fiscal year's bunching as the scorecard table shows it."""
    interval = (f"{_pct(year.share_last_two_weeks_low)}–{_pct(year.share_last_two_weeks_high)}"
                if year.share_last_two_weeks_low is not None else "–")
    return {"fiscal_year": year.year + ("" if year.complete else " (to date)"),
            "bookings": round(year.bookings), "last_two_weeks": _pct(year.share_last_two_weeks),
            "95%_interval": interval, "last_week": _pct(year.share_last_week),
            "even_spread_would_give": _pct(year.even_share_last_two_weeks),
            "weekly_gini": None if year.gini_weekly is None else round(year.gini_weekly, 2),
            "third_month": _pct(year.share_month_three), "linearity": year.linearity or "–"}


def incentives_section(bunching: Bunching, currency: str, *, key: str, title: str) -> Section:
    """The section for a measured bunching: the latest year as a figure, every year as a row, the chart."""
    latest = bunching.years[-1]
    before = bunching.years[-2] if len(bunching.years) > 1 else None
    note = f"even spread: {_pct(latest.even_share_last_two_weeks)}"
    if before is not None:
        note += f" · FY{before.year}: {_pct(before.share_last_two_weeks)}"
    section = Section(key, title)
    section.figures.append(Figure(f"Bookings in a quarter's last two weeks, FY{latest.year}",
                                  latest.share_last_two_weeks, "ratio", period=latest.year, note=note))
    quarter = next((q for q in reversed(bunching.quarters) if q.complete and q.share_month_three is not None), None)
    if quarter is not None:
        section.figures.append(Figure("Bookings in the last complete quarter's third month",
                                      quarter.share_month_three, "ratio", period=quarter.quarter,
                                      note=f"linearity: {quarter.linearity} (healthy up to 40%, hockey stick from "
                                           f"60%) · weekly Gini {quarter.gini_weekly:.2f}"
                                      if quarter.gini_weekly is not None else f"linearity: {quarter.linearity}"))
    section.rows = [year_row(y) for y in bunching.years]
    section.charts.append(Chart(CHART_KEY, "Bookings by week of quarter",
                                week_of_quarter_spec(bunching.by_week_of_quarter(),
                                                     title="Bookings by week of quarter, per fiscal year")))
    section.notes.append(f"Definition — {DEFINITION}. Bookings in {currency}; the dashed line is an even spread "
                         "(1 of 13 weeks); `cadence incentives` shows discounts, churn and goal dates.")
    return section


class IncentivesSection:
    key = "incentives"
    title = "Incentive timing: is the quarter made in its last two weeks?"
    order = 50

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        try:
            bunching = bookings_bunching(ws, ws.calendar, before=context.as_of)
        except MissingDataError:
            return None
        return incentives_section(bunching, ws.currency, key=self.key, title=self.title)
