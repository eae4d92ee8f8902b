"""The quarter's bookings forecast, by several methods side by side, and its backtest against past quarters.

Every method sees the pipeline only as it was on the as-of date (`snapshot.py`) and learns only from
quarters that ended before the forecast's quarter began (`training.py`):

- `stage_weighted` — the CRM default: open deals due this quarter × their stage's probability;
- `historical` — conversion by stage and deal age, read off the same point of past quarters;
- `win_model` — gradient boosting on stage, age, amount, segment, owner's record and recent activity.

The last two add the bookings expected from deals not created yet (`run_rate.py`) and give a P10–P90
interval by Monte Carlo over the open deals (`simulate.py`).
"""

from __future__ import annotations

from datetime import date

from cadence.analysis.forecast.backtest import CHECKPOINTS, BacktestRow, MethodScore, run_backtest, score
from cadence.analysis.forecast.data import ForecastData, ForecastDataError, load_forecast_data
from cadence.analysis.forecast.quarter import Forecaster
from cadence.analysis.forecast.result import LABELS, METHODS, MethodForecast, QuarterForecast
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.relations import TableSource

__all__ = ["CHECKPOINTS", "LABELS", "METHODS", "BacktestRow", "ForecastData", "ForecastDataError", "Forecaster",
           "MethodForecast", "MethodScore", "QuarterForecast", "backtest", "forecast_quarter", "score"]


def forecast_quarter(tables: TableSource, calendar: FiscalCalendar, as_of: date,
                     quarter_start: date | None = None) -> QuarterForecast:
    """The forecast of the quarter holding `as_of` (or starting on `quarter_start`), knowing only what came before."""
    return Forecaster(load_forecast_data(tables), calendar).forecast(as_of, quarter_start)


def backtest(tables: TableSource, calendar: FiscalCalendar, *, checkpoints: tuple[str, ...] = tuple(CHECKPOINTS),
             quarters: list[date] | None = None, end: date | None = None) -> list[BacktestRow]:
    """Every method replayed at `checkpoints` of every complete past quarter (or of `quarters`)."""
    forecaster = Forecaster(load_forecast_data(tables), calendar)
    return run_backtest(tables, forecaster, checkpoints=checkpoints, quarters=quarters, end=end)
