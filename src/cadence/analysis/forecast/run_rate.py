"""Bookings from deals not created yet: what the same stretch of past quarters produced from new deals.

A forecast made d days into a quarter also collects deals created after day d and won before the
quarter ends (short-cycle, self-serve, small expansions). The expectation is the mean of the same
stretch — day d to the quarter's end — in the last few quarters, counting only deals created and won
within it. Using the same stretch keeps a quarter-end rush in the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cadence.analysis.forecast.data import ForecastData, as_timestamp
from cadence.analysis.forecast.snapshot import won_between

QUARTERS_BACK = 4


@dataclass
class RunRate:
    """Bookings from deals created and won within the same stretch of recent past quarters."""

    values: list[float]

    @property
    def expected(self) -> float:
        return float(np.mean(self.values)) if self.values else 0.0

    @property
    def spread(self) -> float:
        """Standard deviation of the past stretches (half the mean when only one is known)."""
        if len(self.values) < 2:
            return 0.5 * self.expected
        return float(np.std(self.values, ddof=1))


def new_deal_bookings(data: ForecastData, closes: pd.DataFrame, quarter: tuple[date, date],
                      offset: int) -> float | None:
    """Bookings of deals created `offset` days or more into `quarter` and won before its end (None: not covered)."""
    start, end = quarter
    moment = start + timedelta(days=offset)
    if moment >= end or start < data.first_day:
        return None
    won = won_between(closes, moment, end)
    created = won["opportunity_id"].map(data.deals["created_at"])
    return float(won.loc[created >= as_timestamp(moment), "amount"].fillna(0).sum())


def run_rate(stretches: list[float | None]) -> RunRate:
    """The run-rate from the same stretch of past quarters (oldest first): the last few that are covered."""
    return RunRate([v for v in stretches if v is not None][-QUARTERS_BACK:])
