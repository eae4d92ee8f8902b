"""The forecast page: the quarter's bookings by every method with its P10–P90 (what `cadence forecast` prints) and
how far each method missed in past quarters (the backtest), with charts of both.

The backtest replays day 30 of the last four complete quarters by default, as the weekly scorecard does, so the
page stays quick; `?replay=full` replays every complete quarter at its start, day 30 and day 60, exactly as
`cadence forecast backtest` does (tens of seconds on a company with years of deals). A result is kept for a few
minutes per scope and question, so the page and its JSON twin are computed once.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.forecast import (
    Forecaster,
    backtest,
    best_against_baseline,
    forecast_quarter,
    load_forecast_data,
    missing_methods,
    score,
    too_few_to_rank,
)
from cadence.analysis.forecast.backtest import actual_bookings, replayable_quarters, run_backtest
from cadence.errors import InputError
from cadence.metrics.money import in_currency, reporting_currency
from cadence.report.charts import SCHEMA, to_svg
from cadence.report.sections.forecast import CHECKPOINT, QUARTERS, interval_spec
from cadence.web.deps import Viewer, settings_of, viewer
from cadence.web.pages import respond, wants_json
from cadence.web.results import kept
from cadence.workspace import Workspace

router = APIRouter(tags=["forecast"])

REPLAYS = ("quick", "full")


def _day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(f"as_of {text!r} is not a date", hint="write it as YYYY-MM-DD") from None


def _quarter(ws: Workspace, label: str | None) -> date | None:
    if not label:
        return None
    try:
        start, grain = ws.calendar.parse(label)
    except ValueError as exc:
        raise InputError(str(exc), hint="write the quarter like 2026-Q1 (fiscal)") from None
    if grain != "quarter":
        raise InputError(f"period {label!r} is not a quarter", hint="write it like 2026-Q1 (fiscal)")
    return start


def quarter_forecast(ws: Workspace, day: date | None, quarter: date | None, today: date | None) -> dict[str, Any]:
    """What `cadence forecast [--as-of DAY] [--period QUARTER] --format json` prints."""
    as_of = None if day or quarter else resolve_as_of(ws, today)
    source = in_currency(ws, None)
    result = forecast_quarter(source, ws.calendar, as_of.next_day if as_of else day, quarter)
    return {**result.as_dict(), "currency": reporting_currency(source)}


def backtest_table(ws: Workspace, replay: str) -> dict[str, Any]:
    """What `cadence forecast backtest --format json` prints: over every complete quarter (full), or at day 30
    of the last four (quick, the scorecard's replay)."""
    if replay == "full":
        results = backtest(ws, ws.calendar)
    else:
        forecaster = Forecaster(load_forecast_data(ws), ws.calendar)
        starts = replayable_quarters(forecaster, actual_bookings(ws, forecaster))
        results = run_backtest(ws, forecaster, checkpoints=(CHECKPOINT,), quarters=starts[-QUARTERS:])
    scores = score(results)
    return {"rows": [r.as_dict() for r in results], "summary": [s.as_dict() for s in scores],
            "headline": best_against_baseline(scores), "not_ranked": too_few_to_rank(scores),
            "missing_methods": missing_methods(scores)}


def forecast_data(request: Request, seen: Viewer, day: date | None, quarter: date | None, replay: str
                  ) -> dict[str, Any]:
    """The quarter's forecast and the backtest, as `cadence forecast` and `cadence forecast backtest` print them."""
    today = settings_of(request).today
    return kept(request, seen, ("forecast", day, quarter, replay), lambda: {
        "forecast": quarter_forecast(seen.ws, day, quarter, today), "backtest": backtest_table(seen.ws, replay),
        "replay": replay})


def backtest_spec(rows: list[dict[str, Any]], checkpoint: str, currency: str) -> dict[str, Any]:
    """Each method's forecast at `checkpoint` of every replayed quarter as points, the actual bookings as a line."""
    points = [{"quarter": r["quarter"], "method": r["method"], "forecast": r["forecast"]}
              for r in rows if r["checkpoint"] == checkpoint]
    actuals = list({r["quarter"]: {"quarter": r["quarter"], "actual": r["actual"]}
                    for r in rows if r["checkpoint"] == checkpoint}.values())
    x = {"field": "quarter", "type": "ordinal", "title": None, "sort": None}
    return {
        "$schema": SCHEMA, "title": f"Forecast at {checkpoint} against actual bookings ({currency})",
        "width": 420, "height": 200,
        "layer": [
            {"data": {"values": actuals}, "mark": {"type": "line", "color": "#24292f", "point": True},
             "encoding": {"x": x, "y": {"field": "actual", "type": "quantitative", "title": None,
                                        "axis": {"format": "~s"}},
                          "tooltip": [{"field": "quarter"}, {"field": "actual", "format": ",.0f"}]}},
            {"data": {"values": points}, "mark": {"type": "point", "filled": True, "size": 50},
             "encoding": {"x": x, "y": {"field": "forecast", "type": "quantitative"},
                          "color": {"field": "method", "type": "nominal", "title": None},
                          "tooltip": [{"field": "quarter"}, {"field": "method"},
                                      {"field": "forecast", "format": ",.0f"}]}},
        ],
        "config": {"view": {"stroke": None}},
    }


@router.get("/forecast", include_in_schema=False)
@router.get("/forecast.json", summary="The quarter's bookings forecast by every method (as `cadence forecast`) and "
            "the backtest")
def forecast_page(request: Request, period: str | None = None, as_of: str | None = None, replay: str = "quick",
                  seen: Viewer = Depends(viewer("forecast"))) -> Response:
    if replay not in REPLAYS:
        raise InputError(f"replay {replay!r} is neither quick nor full", hint="use replay=quick or replay=full")
    day, quarter = _day(as_of), _quarter(seen.ws, period)
    data = forecast_data(request, seen, day, quarter, replay)
    if wants_json(request):
        return respond(request, "forecast.html", data)
    forecast, rows = data["forecast"], data["backtest"]["rows"]
    charts = {"interval": to_svg(interval_spec(_as_result(forecast), forecast["currency"]))}
    checkpoint = CHECKPOINT if any(r["checkpoint"] == CHECKPOINT for r in rows) else (rows[0]["checkpoint"]
                                                                                      if rows else None)
    if checkpoint:
        charts["backtest"] = to_svg(backtest_spec(rows, checkpoint, forecast["currency"]))
    return respond(request, "forecast.html", data, viewer=seen, charts=charts, period=period or "",
                   as_of=as_of or "", replay=replay)


def _as_result(forecast: dict[str, Any]) -> Any:
    """The kept forecast dict back as a QuarterForecast, for the report's interval chart."""
    from cadence.analysis.forecast import MethodForecast, QuarterForecast

    methods = [MethodForecast(m["method"], m["forecast"], m["p10"], m["p50"], m["p90"], m["booked"], m["from_open"],
                              m["from_new"]) for m in forecast["methods"]]
    return QuarterForecast(forecast["quarter"], date.fromisoformat(forecast["start"]),
                           date.fromisoformat(forecast["end"]), date.fromisoformat(forecast["as_of"]),
                           forecast["open_deals"], methods, list(forecast["notes"]))
