"""This quarter's bookings forecast by each method, with P10–P90, and how far each method missed before; and
beside it the CRM's forecast categories rolled up the manager hierarchy with each manager's latest call.

The backtest shown here replays past quarters at day 30 only (the full start/day-30/day-60 replay is
`cadence forecast backtest`), over the last few complete quarters, so the weekly scorecard stays quick.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.report.charts import SCHEMA
from cadence.report.format import format_value
from cadence.report.model import Chart, Figure, ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.analysis.forecast import Forecaster, MethodScore, QuarterForecast, Rollup
    from cadence.workspace import Workspace

CHECKPOINT = "day30"
QUARTERS = 4  # complete quarters the scorecard's backtest replays
_SHARED: dict[tuple[int, int], tuple[weakref.ref[Any], weakref.ref[Any], Forecaster]] = {}


def shared_forecaster(ws: Workspace, context: ScorecardContext) -> Forecaster:
    """One Forecaster for both forecast sections of one scorecard (its data read and its model fitted once)."""
    from cadence.analysis.forecast import Forecaster, load_forecast_data

    key = (id(ws), id(context))
    kept = _SHARED.get(key)
    if kept is not None and kept[0]() is ws and kept[1]() is context:
        return kept[2]
    forecaster = Forecaster(load_forecast_data(ws), ws.calendar)
    for stale in [k for k, (w, c, _) in _SHARED.items() if w() is None or c() is None]:
        del _SHARED[stale]
    _SHARED[key] = (weakref.ref(ws), weakref.ref(context), forecaster)
    return forecaster


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
        from cadence.analysis.forecast import ForecastDataError, forecast_beside_backtest, score

        try:
            forecaster = shared_forecaster(ws, context)
        except ForecastDataError:
            return None
        current = ws.calendar.start_of(context.as_of, "quarter")
        result, rows = forecast_beside_backtest(ws, forecaster, context.as_of, current, checkpoints=(CHECKPOINT,),
                                                last_quarters=QUARTERS, end=context.as_of)
        scores = score(rows)
        replayed = len({r.quarter for r in rows})
        section = Section(self.key, self.title,
                          figures=[method_figure(result, i, ws.currency) for i in range(len(result.methods))],
                          rows=[score_row(s) for s in scores],
                          charts=[Chart("forecast-interval", f"Forecast and P10–P90 ({ws.currency})",
                                        interval_spec(result, ws.currency))])
        section.notes.append(f"{result.quarter} as of {result.as_of}, {result.open_deals:,} open deals. The table is "
                             f"each method's error at day 30 of the last {replayed} complete quarters "
                             "(`cadence forecast backtest` replays all of them at start, day 30 and day 60).")
        section.notes += result.notes
        return section


def rollup_rows(rollup: Rollup, calls: pd.DataFrame, managers: set[str], currency: str) -> list[dict[str, Any]]:
    """The roll-up's lines for managers and forecasters (a rep's scorecard: their own line), each beside the
    model's forecast of the same deals and the person's latest call on the quarter."""
    latest = {str(r["person_id"]): r for r in calls[calls["quarter"] == rollup.quarter]
              .drop_duplicates("person_id", keep="last").to_dict("records")}
    shown = [line for line in rollup.lines if line.person_id in managers or line.person_id in latest] \
        or rollup.lines

    def money(value: float | None) -> str | None:
        return None if value is None or pd.isna(value) else format_value(value, "currency", currency)

    rows = []
    for line in shown:
        call = latest.get(line.person_id)
        rows.append({"person": "  " * line.depth + line.name, "closed": money(line.team["closed"]),
                     "commit": money(line.team["commit"]), "best_case": money(line.team["best_case"]),
                     "pipeline": money(line.team["pipeline"]), "closed_plus_commit": money(line.commit_total),
                     "model": money(line.model),
                     "latest_call": None if call is None else money(float(call["commit_amount"])),
                     "called_on": None if call is None else pd.Timestamp(call["called_at"]).date().isoformat()})
    return rows


class ForecastRollupSection:
    key = "forecast_rollup"
    title = "Forecast categories and managers' calls"
    order = 31

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        from cadence.analysis.forecast import ForecastDataError, quarter_rollup
        from cadence.analysis.forecast.calls import read_calls
        from cadence.analysis.forecast.rollup import people_hierarchy

        try:
            forecaster = shared_forecaster(ws, context)
        except ForecastDataError:
            return None
        start = ws.calendar.start_of(context.as_of, "quarter")
        rollup = quarter_rollup(ws, forecaster, context.as_of, start)
        if not rollup.lines:
            return None
        hierarchy = people_hierarchy(ws, forecaster)
        managers = {m for m in hierarchy.manager.values() if m is not None}
        calls = read_calls(ws)
        calls = calls[calls["called_at"] < pd.Timestamp(context.as_of)]  # what was called by the week's end
        section = Section(self.key, self.title, rows=rollup_rows(rollup, calls, managers, ws.currency))
        section.notes.append(f"{rollup.quarter} as known before {rollup.as_of}: each line is the person's deals and "
                             "every report's, by the CRM's forecast category (closed: won in the quarter); model: "
                             "the win model's forecast of the same deals; latest call: their newest commit on the "
                             "quarter. `cadence forecast calls` scores past calls against what closed.")
        section.notes += rollup.notes
        return section
