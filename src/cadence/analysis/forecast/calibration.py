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

from cadence.analysis.forecast.conversion import closing_ratio, rates_by
from cadence.analysis.forecast.historical import LEVELS
from cadence.analysis.forecast.run_rate import RunRate

MIN_QUARTERS = 2  # past quarters needed to measure a spread at all


def quarter_swing(lessons: pd.DataFrame, run_rates: dict[date, RunRate],
                  realised_new: dict[date, float]) -> float | None:
    """Standard deviation of log(realised ÷ expected) over past quarters at one point; None if too few."""
    ratios = []
    ratio = closing_ratio(lessons)  # what won deals closed at per dollar shown: stable, so not left out
    for start, rows in lessons.groupby("quarter_start"):
        others = lessons[lessons["quarter_start"] != start]
        past_rate = run_rates.get(start)  # type: ignore[arg-type]
        if others.empty or past_rate is None or not past_rate.values:
            continue
        value = rows["value"].to_numpy(dtype="float64") * ratio.of(rows)
        expected = float(np.sum(rates_by(others, rows, LEVELS) * value)) + past_rate.expected
        realised = float(rows["won_amount"].sum()) + realised_new.get(start, 0.0)  # type: ignore[arg-type]
        if expected > 0 and realised > 0:
            ratios.append(np.log(realised / expected))
    return float(np.std(ratios, ddof=1)) if len(ratios) >= MIN_QUARTERS else None
