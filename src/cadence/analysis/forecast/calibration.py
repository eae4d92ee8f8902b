"""How far past quarters strayed from what was expected of them: the width the interval must allow.

The Monte Carlo over open deals treats deals as independent, but whole quarters run hot or cold (a
large deal slips, a market turns, a rep leaves). That shared swing is measured on the past quarters
themselves: each one, at the same point, is forecast from the *other* past quarters' conversion rates
and its own preceding run-rate, and compared with what it then booked from the deals open then and the
deals created after. The spread of log(realised ÷ expected) over those quarters is the swing the
simulation multiplies its draws by.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from cadence.analysis.forecast.conversion import MIN_ROWS, closing_ratio
from cadence.analysis.forecast.historical import LEVELS
from cadence.analysis.forecast.run_rate import RunRate

MIN_QUARTERS = 2  # past quarters needed to measure a spread at all


def quarter_swing(lessons: pd.DataFrame, run_rates: dict[date, RunRate],
                  realised_new: dict[date, float]) -> float | None:
    """Standard deviation of log(realised ÷ expected) over past quarters at one point; None if too few."""
    ratios = []
    ratio = closing_ratio(lessons)  # what won deals closed at per dollar shown: stable, so not left out
    rates = leave_one_out_rates(lessons, LEVELS)
    value = lessons["value"].to_numpy(dtype="float64") * ratio.of(lessons)
    expected_open = pd.Series(rates * value).groupby(lessons["quarter_start"].to_numpy()).sum()
    won_amount = lessons["won_amount"].groupby(lessons["quarter_start"].to_numpy()).sum()
    single = lessons["quarter_start"].nunique() < 2
    for start in expected_open.index:
        past_rate = run_rates.get(start)
        if single or past_rate is None or not past_rate.values:
            continue
        expected = float(expected_open[start]) + past_rate.expected
        realised = float(won_amount[start]) + realised_new.get(start, 0.0)
        if expected > 0 and realised > 0:
            ratios.append(np.log(realised / expected))
    return float(np.std(ratios, ddof=1)) if len(ratios) >= MIN_QUARTERS else None


def leave_one_out_rates(lessons: pd.DataFrame, levels: list[list[str]]) -> np.ndarray:
    """Each row's `rates_by` rate learned from the *other* quarters' rows (`quarter_start`), from one pass.

    The same rule as `rates_by(others, rows, levels)` quarter by quarter — the finest level with at least
    MIN_ROWS look-alikes, else the overall share won — with every count taken as the whole minus the row's own
    quarter, so a year of replayed quarters costs one grouping per level, not one per quarter."""
    won = lessons["won"].astype("float64")
    quarter = lessons["quarter_start"]
    result = np.full(len(lessons), np.nan)
    for keys in levels:
        everyone = won.groupby([lessons[k] for k in keys])
        own = won.groupby([quarter, *(lessons[k] for k in keys)])
        others_won = (everyone.transform("sum") - own.transform("sum")).to_numpy(dtype="float64")
        others = (everyone.transform("size") - own.transform("size")).to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = np.where(others >= MIN_ROWS, others_won / others, np.nan)
        result = np.where(np.isnan(result), rate, result)
    own_total = won.groupby(quarter)
    others_won = won.sum() - own_total.transform("sum").to_numpy(dtype="float64")
    others = len(won) - own_total.transform("size").to_numpy(dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        overall = np.where(others > 0, others_won / others, 0.0)
    return np.where(np.isnan(result), overall, result)
