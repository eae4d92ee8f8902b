"""Quarter-end pressure: while every executive goal falls due on the last day of the quarter, won deals bunch.

In fiscal 2024 and 2025 sales-led deals that would have closed mid-quarter wait for the
quarter-end discount, and deals due early next quarter are pulled in; either way they land in
the last two weeks, at a deeper discount, and (see `revenue.py`) churn or contract more at their
first renewal. From fiscal 2026 the goals are staggered and the pressure all but disappears.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.calendar import LAST_WEEKS_DAYS, QUARTER_STARTS, STAGGERED_FROM_YEAR, fiscal_year, quarter_index
from cadence.demo.deals import close_day, set_won_close

SALES_LED = ("enterprise", "mid_market")
DELAY = {2024: 0.55, 2025: 0.55, 2026: 0.03}  # mid-quarter deals that wait for the quarter end
PULL = {2024: 0.60, 2025: 0.60, 2026: 0.03}  # deals due early next quarter pulled into this one
PULL_WINDOW_DAYS = 40
EXTRA_DISCOUNT = (6.0, 14.0)  # percentage points added to a pushed deal's discount


def push_to_quarter_end(deals: pd.DataFrame, rng: np.random.Generator,
                        kinds: tuple[str, ...] = ("new", "expansion")) -> None:
    """Move eligible won deals' closes into the last two weeks of a quarter, in place."""
    close = close_day(deals)
    quarter = quarter_index(close)
    last = len(QUARTER_STARTS) - 1
    eligible = (deals["won"].to_numpy() & deals["segment"].isin(SALES_LED).to_numpy()
                & deals["kind"].isin(kinds).to_numpy() & ~deals["unblocked"].to_numpy()
                & (quarter >= 0) & (quarter < last))
    q = np.clip(quarter, 0, last - 1)
    end = QUARTER_STARTS[q + 1].astype("float64")
    start = QUARTER_STARTS[q].astype("float64")
    # the day of landing counted back from the quarter's last day, mostly the last few days
    landing = 1 + np.floor(LAST_WEEKS_DAYS * rng.random(len(deals)) ** 2) - rng.uniform(0.35, 0.8, len(deals))
    roll = rng.random(len(deals))
    created = deals["created"].to_numpy()

    target_year = fiscal_year(end - 1)
    delay = eligible & (quarter < last) & (close < end - LAST_WEEKS_DAYS) & (roll < _chance(DELAY, target_year))
    new_close = np.where(delay, end - landing, close)

    prior_year = fiscal_year(start - 1)
    pull = (eligible & ~delay & (quarter >= 1) & (close - start < PULL_WINDOW_DAYS)
            & (roll < _chance(PULL, prior_year)))
    pulled_close = start - landing
    pull &= pulled_close > created + 7
    new_close = np.where(pull, pulled_close, new_close)

    moved = delay | pull
    set_won_close(deals, moved, new_close[moved])
    deals.loc[moved, "pushed"] = True
    extra = rng.uniform(*EXTRA_DISCOUNT, len(deals))
    deals.loc[moved, "discount"] = np.clip(deals.loc[moved, "discount"].to_numpy() + extra[moved], 0, 60).round(1)


def _chance(table: dict[int, float], years: np.ndarray) -> np.ndarray:
    return np.array([table.get(int(y), table[STAGGERED_FROM_YEAR]) for y in years])
