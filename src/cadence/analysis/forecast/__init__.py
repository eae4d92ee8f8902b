"""The quarter's bookings forecast, by several methods side by side, and its backtest against past quarters.

Every method sees the pipeline only as it was on the as-of date (`snapshot.py`) and learns only from
quarters that ended before the forecast's quarter began (`training.py`):

- `stage_weighted` — the CRM default: open deals due this quarter × their stage's probability;
- `historical` — conversion by stage and deal age, read off the same point of past quarters;
- `win_model` — gradient boosting on stage, age, amount, segment, owner's record and recent activity.

The last two add the bookings expected from deals not created yet (`run_rate.py`) and give a P10–P90
interval by Monte Carlo over the open deals (`simulate.py`).

Beside the methods: the CRM's forecast categories rolled up the manager hierarchy (`rollup.py`, with
`categories.py` and `hierarchy.py`), and the calls people made (`calls.py`) scored against what closed,
beside the model's and the stage-weighted forecast restricted to the same team (`accuracy.py`, `scoped.py`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cadence.analysis.forecast.accuracy import CallsReport, score_calls
from cadence.analysis.forecast.backtest import (
    CHECKPOINTS,
    BacktestRow,
    MethodScore,
    actual_bookings,
    best_against_baseline,
    missing_methods,
    replayable_quarters,
    run_backtest,
    score,
    too_few_to_rank,
)
from cadence.analysis.forecast.data import ForecastData, ForecastDataError, load_forecast_data
from cadence.analysis.forecast.quarter import Forecaster
from cadence.analysis.forecast.result import LABELS, METHODS, MethodForecast, QuarterForecast
from cadence.analysis.forecast.rollup import Rollup, quarter_rollup
from cadence.errors import InputError
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.relations import TableSource
from cadence.progress import Progress

__all__ = ["CHECKPOINTS", "LABELS", "METHODS", "BacktestRow", "CallsReport", "ForecastData", "ForecastDataError",
           "Forecaster", "MethodForecast", "MethodScore", "QuarterForecast", "Rollup", "backtest",
           "backtest_report", "best_against_baseline", "calls_report", "forecast_and_backtest",
           "forecast_beside_backtest", "forecast_quarter", "forecast_with_rollup", "load_forecast_data",
           "missing_methods", "quarter_rollup", "resolve_quarter", "score", "too_few_to_rank"]


def resolve_quarter(calendar: FiscalCalendar, data_end: date, as_of: date | None,
                    quarter_start: date | None) -> tuple[date, date]:
    """(as_of, quarter start) from what a user gave: neither, either, or both.

    Without `as_of` the forecast knows everything the data holds (as of the day after its last day),
    kept within the asked quarter; without a quarter it forecasts the one holding `as_of`.
    """
    if quarter_start is None:
        day = as_of or data_end
        return day, calendar.start_of(day, "quarter")
    end = calendar.next_start(quarter_start, "quarter")
    if as_of is None:
        return min(max(data_end, quarter_start), end), quarter_start
    if not quarter_start <= as_of <= end:
        raise InputError(f"--as-of {as_of} is outside {calendar.label(quarter_start, 'quarter')} "
                         f"({quarter_start} to {end - timedelta(days=1)})",
                         hint="give a date inside the quarter, or leave one of the two out")
    return as_of, quarter_start


def forecast_quarter(tables: TableSource, calendar: FiscalCalendar, as_of: date | None = None,
                     quarter_start: date | None = None) -> QuarterForecast:
    """The forecast of the quarter holding `as_of` (or starting on `quarter_start`), knowing only what came before."""
    data = load_forecast_data(tables)
    as_of, start = resolve_quarter(calendar, data.end, as_of, quarter_start)
    return Forecaster(data, calendar).forecast(as_of, start)


def forecast_with_rollup(tables: TableSource, calendar: FiscalCalendar, as_of: date | None = None,
                         quarter_start: date | None = None) -> tuple[QuarterForecast, Rollup]:
    """The quarter's forecast and its forecast categories rolled up the manager hierarchy, from one load."""
    forecaster = Forecaster(load_forecast_data(tables), calendar)
    as_of, start = resolve_quarter(calendar, forecaster.data.end, as_of, quarter_start)
    return forecaster.forecast(as_of, start), quarter_rollup(tables, forecaster, as_of, start)


def forecast_beside_backtest(tables: TableSource, forecaster: Forecaster, as_of: date, start: date, *,
                             checkpoints: tuple[str, ...] = tuple(CHECKPOINTS), last_quarters: int | None = None,
                             end: date | None = None) -> tuple[QuarterForecast, list[BacktestRow]]:
    """The forecast of the quarter starting `start` as of `as_of`, and the backtest at `checkpoints` of the complete
    quarters before `end` (default: the data's end; with `last_quarters`, the last few of them). The forecast's win
    model and each replayed quarter's are fitted together, two at a time, and a past quarter replayed for one is
    not replayed again for another."""
    actuals = actual_bookings(tables, forecaster)
    starts = replayable_quarters(forecaster, actuals, end)
    starts = starts[-last_quarters:] if last_quarters else starts
    forecaster.prepare([(as_of, start)] + [(s + timedelta(days=CHECKPOINTS[c]), s) for s in starts
                                           for c in checkpoints])
    result = forecaster.forecast(as_of, start)
    return result, run_backtest(tables, forecaster, checkpoints=checkpoints, quarters=starts, actuals=actuals)


def forecast_and_backtest(tables: TableSource, calendar: FiscalCalendar, as_of: date | None = None,
                          quarter_start: date | None = None, *, checkpoints: tuple[str, ...] = tuple(CHECKPOINTS),
                          last_quarters: int | None = None) -> tuple[QuarterForecast, Rollup, list[BacktestRow]]:
    """The quarter's forecast, its roll-up and the backtest (`forecast_beside_backtest`), from one load of the data:
    the same answers as `forecast_with_rollup` and `backtest` asked one after the other."""
    forecaster = Forecaster(load_forecast_data(tables), calendar)
    as_of, start = resolve_quarter(calendar, forecaster.data.end, as_of, quarter_start)
    result, rows = forecast_beside_backtest(tables, forecaster, as_of, start, checkpoints=checkpoints,
                                            last_quarters=last_quarters)
    return result, quarter_rollup(tables, forecaster, as_of, start), rows


def backtest_report(rows: list[BacktestRow]) -> dict[str, Any]:
    """What `cadence forecast backtest --format json` prints and the forecast page shows: every replay, each
    method's scores, the headline, and why methods are unranked or missing."""
    scores = score(rows)
    return {"rows": [r.as_dict() for r in rows], "summary": [s.as_dict() for s in scores],
            "headline": best_against_baseline(scores), "not_ranked": too_few_to_rank(scores),
            "missing_methods": missing_methods(scores)}


def calls_report(tables: TableSource, calendar: FiscalCalendar, currency: str,
                 last_quarters: int | None = None) -> CallsReport:
    """Every forecaster's calls on complete past quarters (or the last few) scored against what their team closed."""
    return score_calls(tables, Forecaster(load_forecast_data(tables), calendar), currency, last_quarters)


def backtest(tables: TableSource, calendar: FiscalCalendar, *, checkpoints: tuple[str, ...] = tuple(CHECKPOINTS),
             quarters: list[date] | None = None, end: date | None = None,
             progress: Progress | None = None) -> list[BacktestRow]:
    """Every method replayed at `checkpoints` of every complete past quarter (or of `quarters`)."""
    forecaster = Forecaster(load_forecast_data(tables), calendar)
    return run_backtest(tables, forecaster, checkpoints=checkpoints, quarters=quarters, end=end, progress=progress)
