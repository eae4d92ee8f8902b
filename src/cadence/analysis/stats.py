"""The two statistics the incentive analysis leans on: the Gini coefficient and a seeded bootstrap.

A difference between two averages means little without its uncertainty, so every comparison of
quarter-end deals with the rest comes with a 95% percentile-bootstrap interval: deals are resampled
with replacement within each group (and within each stratum, when the comparison is adjusted for
one), the difference recomputed, and the 2.5th and 97.5th percentiles of those differences kept.
The seed is explicit, so the same data always gives the same interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

RESAMPLES = 2000
LEVEL = 0.95


def gini(values: np.ndarray | list[float]) -> float | None:
    """Inequality of non-negative amounts: 0 when all are equal, (n − 1) ÷ n when one holds everything.

    None when there is nothing to share out (all zero) or fewer than two values.
    """
    x = np.sort(np.asarray(values, dtype="float64"))
    n = len(x)
    total = x.sum()
    if n < 2 or total <= 0:
        return None
    ranks = np.arange(1, n + 1)
    return float(2 * (ranks * x).sum() / (n * total) - (n + 1) / n)


@dataclass(frozen=True)
class Interval:
    estimate: float
    low: float
    high: float

    @property
    def excludes_zero(self) -> bool:
        return self.low > 0 or self.high < 0


def _resampled_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
    """`resamples` means of `values` resampled with replacement (in chunks, to keep memory small)."""
    out = np.empty(resamples)
    chunk = max(1, 2_000_000 // max(len(values), 1))
    for first in range(0, resamples, chunk):
        size = min(chunk, resamples - first)
        picks = rng.integers(0, len(values), size=(size, len(values)), dtype=np.int32)
        out[first:first + size] = values[picks].mean(axis=1)
    return out


def share_interval(numerator: np.ndarray, denominator: np.ndarray, *, seed: int,
                   resamples: int = RESAMPLES) -> Interval | None:
    """Σ numerator ÷ Σ denominator over rows, with a bootstrap interval resampling rows."""
    num = np.asarray(numerator, dtype="float64")
    den = np.asarray(denominator, dtype="float64")
    if len(den) == 0 or den.sum() <= 0:
        return None
    rng = np.random.default_rng(seed)
    stacked = np.empty(resamples)
    chunk = max(1, 2_000_000 // len(den))
    for first in range(0, resamples, chunk):
        size = min(chunk, resamples - first)
        picks = rng.integers(0, len(den), size=(size, len(den)), dtype=np.int32)
        totals = den[picks].sum(axis=1)
        stacked[first:first + size] = num[picks].sum(axis=1) / np.where(totals > 0, totals, np.nan)
    low, high = np.nanquantile(stacked, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Interval(float(num.sum() / den.sum()), float(low), float(high))


def difference_interval(values: pd.Series, flag: pd.Series, strata: pd.Series | None = None, *, seed: int,
                        resamples: int = RESAMPLES) -> Interval | None:
    """Mean of `values` where `flag` minus mean where not, with its bootstrap interval.

    With `strata`, the difference is taken within each stratum and averaged with the flagged group's
    weights (how many flagged rows each stratum holds); strata lacking either group drop out.
    None when either group is empty.
    """
    frame = pd.DataFrame({"v": values.astype("float64").to_numpy(), "f": flag.astype(bool).to_numpy(),
                          "s": "all" if strata is None else strata.fillna("(none)").astype(str).to_numpy()})
    frame = frame.dropna(subset=["v"])
    rng = np.random.default_rng(seed)
    estimate = 0.0
    draws = np.zeros(resamples)
    weight_total = 0
    for _, cell in frame.groupby("s", sort=True):
        flagged = cell.loc[cell["f"], "v"].to_numpy()
        rest = cell.loc[~cell["f"], "v"].to_numpy()
        if len(flagged) == 0 or len(rest) == 0:
            continue
        weight = len(flagged)
        weight_total += weight
        estimate += weight * (flagged.mean() - rest.mean())
        draws += weight * (_resampled_means(flagged, rng, resamples) - _resampled_means(rest, rng, resamples))
    if weight_total == 0:
        return None
    low, high = np.quantile(draws / weight_total, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Interval(float(estimate / weight_total), float(low), float(high))
