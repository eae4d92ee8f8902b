"""This quarter's bookings forecast by each method, with P10–P90, and how far each method missed before.

The backtest shown here replays past quarters at day 30 only (the full start/day-30/day-60 replay is
`cadence forecast backtest`), over the last few complete quarters, so the weekly scorecard stays quick.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from cadence.report.charts import SCHEMA
from cadence.report.model import Chart, Figure, ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.analysis.forecast import MethodScore, QuarterForecast
    from cadence.workspace import Workspace

CHECKPOINT = "day30"
QUARTERS = 4  # complete quarters the scorecard's backtest replays


def interval_spec(result: QuarterForecast, currency: str) -> dict[str, Any]:
    """Each method's forecast as a point on its P10–P90 bar, beside what is already booked."""
    points = [{"method": m.method, "forecast": m.forecast, "p10": m.p10 if m.p10 is not None else m.forecast,
               "p90": m.p90 if m.p90 is not None else m.forecast} for m in result.methods]
    booked = result.methods[0].booked if result.methods else 0.0
    y = {"field": "method", "type": "nominal", "title": None, "sort": None}
    return {
        "$schema": SCHEMA, "title": f"{result.quarter} bookings forecast in {currency} (P10–P90) as of {result.as_of}",
        "width": 320, "height": 24 * max(len(points), 1), "data": {"values": points},
        "layer": [
            {"mark": {"type": "rule", "color": "#57606a", "strokeWidth": 2},
             "encoding": {"y": y, "x": {"field": "p10", "type": "quantitative", "title": None,
                                        "axis": {"format": "~s"}}, "x2": {"field": "p90"}}},
            {"mark": {"type": "point", "filled": True, "color": "#0969da", "size": 60},
             "encoding": {"y": y, "x": {"field": "forecast", "type": "quantitative"},
                          "tooltip": [{"field": "method"}, {"field": "forecast", "format": ",.0f"},
                                      {"field": "p10", "format": ",.0f"}, {"field": "p90", "format": ",.0f"}]}},
            {"data": {"values": [{"booked": booked}]},
             "mark": {"type": "rule", "strokeDash": [4, 4], "color": "#1a7f37"},
             "encoding": {"x": {"field": "booked", "type": "quantitative"}}},
        ],
        "config": {"view": {"stroke": None}},
    }


def method_figure(result: QuarterForecast, index: int, currency: str) -> Figure:
    m = result.methods[index]
    interval = f"P10–P90 {m.p10:,.0f} – {m.p90:,.0f}; " if m.p10 is not None and m.p90 is not None else ""
    return Figure(m.label, m.forecast, "currency", period=result.quarter, chart="forecast-interval",
                  note=f"{currency}: {interval}booked {m.booked:,.0f}, from open deals {m.from_open:,.0f}, "
                       f"from deals not yet created {m.from_new:,.0f}")


def score_row(s: MethodScore) -> dict[str, Any]:
    return {"method": s.method, "checkpoint": s.checkpoint, "quarters": s.quarters,
            "median_abs_pct_error": None if s.median_ape is None else f"{s.median_ape:.1%}",
            "p10_p90_coverage": None if s.coverage is None else f"{s.coverage:.0%}"}


class ForecastSection:
    key = "forecast"
    title = "Bookings forecast"
    order = 30

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        from cadence.analysis.forecast import ForecastDataError, Forecaster, load_forecast_data, score
        from cadence.analysis.forecast.backtest import actual_bookings, replayable_quarters, run_backtest

        try:
            forecaster = Forecaster(load_forecast_data(ws), ws.calendar)
        except ForecastDataError:
            return None
        result = forecaster.forecast(context.as_of)
        starts: list[date] = replayable_quarters(forecaster, actual_bookings(ws, forecaster), context.as_of)
        scores = score(run_backtest(ws, forecaster, checkpoints=(CHECKPOINT,), quarters=starts[-QUARTERS:]))
        section = Section(self.key, self.title,
                          figures=[method_figure(result, i, ws.currency) for i in range(len(result.methods))],
                          rows=[score_row(s) for s in scores],
                          charts=[Chart("forecast-interval", f"Forecast and P10–P90 ({ws.currency})",
                                        interval_spec(result, ws.currency))])
        section.notes.append(f"{result.quarter} as of {result.as_of}, {result.open_deals:,} open deals. The table is "
                             f"each method's error at day 30 of the last {len(starts[-QUARTERS:])} complete quarters "
                             "(`cadence forecast backtest` replays all of them at start, day 30 and day 60).")
        section.notes += result.notes
        return section
