"""Monte Carlo over the open deals: an interval for the quarter's bookings, not just a point.

Each simulated quarter wins every open deal with its probability (independently) and adds bookings
from deals not yet created, drawn around the recent run-rate with the spread those past stretches
showed; then the whole of what is still to come is scaled by the quarter's shared swing (a lognormal
factor of mean 1 whose spread `calibration.py` measured on past quarters). P10/P50/P90 are read off
the simulated totals. The point forecast is the plain expectation (booked + Σ probability × value +
the run-rate), which the simulation's mean matches up to the draws cut at zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cadence.analysis.forecast.conversion import OpenDealOutlook
from cadence.analysis.forecast.run_rate import RunRate

SIMULATIONS = 4000


@dataclass(frozen=True)
class Interval:
    mean: float
    p10: float
    p50: float
    p90: float


def simulate(booked: float, outlook: OpenDealOutlook, new_deals: RunRate, swing: float, *,
             simulations: int = SIMULATIONS, seed: int = 0) -> Interval:
    """Quantiles of booked + Σ won open deals + new-deal bookings over `simulations` draws."""
    rng = np.random.default_rng(seed)
    totals = np.zeros(simulations, dtype="float64")
    chunk = max(1, 2_000_000 // max(len(outlook.value), 1))
    for lo in range(0, simulations, chunk):
        hi = min(lo + chunk, simulations)
        wins = rng.random((hi - lo, len(outlook.value))) < outlook.probability[None, :]
        totals[lo:hi] += wins @ outlook.value
    if new_deals.expected > 0:
        totals += np.clip(rng.normal(new_deals.expected, new_deals.spread, simulations), 0, None)
    totals = booked + totals * rng.lognormal(-swing**2 / 2, swing, simulations)
    p10, p50, p90 = np.quantile(totals, [0.1, 0.5, 0.9])
    return Interval(float(totals.mean()), float(p10), float(p50), float(p90))
