"""Past quarters replayed as lessons: which deals open at a point of a quarter were won by its end.

For a forecast of a quarter starting on `quarter_start`, every earlier quarter that ended by then is
replayed at a few points (days into the quarter). At each point the pipeline is rebuilt as it was
then (`pipeline_as_of`), and each open deal is labelled with whether it was won before that quarter
ended, and for how much. Every label is therefore settled before the forecast's own quarter begins:
the lessons use only what was known on the as-of date. Deals still open today are settled as "not won
in that quarter", which was already certain when it ended — leaving them out would flatter the rates.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cadence.analysis.forecast.amounts import AmountEstimate
from cadence.analysis.forecast.data import ForecastData
from cadence.analysis.forecast.features import open_deal_features
from cadence.analysis.forecast.snapshot import pipeline_as_of, won_between
from cadence.analysis.frames import isin
from cadence.metrics.calendar import FiscalCalendar

UNVALUED = AmountEstimate({}, float("nan"))


def past_quarters(calendar: FiscalCalendar, first_day: date, quarter_start: date) -> list[tuple[date, date]]:
    """(start, end) of every quarter from the one holding `first_day` up to the one before `quarter_start`."""
    quarters = []
    start = calendar.start_of(first_day, "quarter")
    while start < quarter_start:
        end = calendar.next_start(start, "quarter")
        quarters.append((start, end))
        start = end
    return quarters


def lesson(data: ForecastData, closes: pd.DataFrame, start: date, end: date, offset: int,
           amounts: AmountEstimate = UNVALUED) -> pd.DataFrame:
    """Deals open `offset` days into the quarter [start, end), with `won` and `won_amount` by its end.

    Deals without an amount are left unvalued unless `amounts` says otherwise: the forecast values them
    with what it knows on its own as-of date (see `Forecaster._training`).
    """
    moment = start + timedelta(days=offset)
    if moment >= end or moment <= data.first_day:
        return pd.DataFrame()
    deals = open_deal_features(data, pipeline_as_of(data, moment, open_only=True), end, closes, amounts)
    closed_won = won_between(closes, moment, end)
    won = closed_won.set_index("opportunity_id")["amount"]
    deals["won"] = isin(deals["opportunity_id"], closed_won["opportunity_id"])
    deals["won_amount"] = deals["opportunity_id"].map(won).fillna(0.0).astype("float64")
    deals["offset"] = offset
    deals["quarter_start"] = start
    return deals
