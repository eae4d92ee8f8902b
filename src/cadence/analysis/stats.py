"""The statistics analyses share: Wilson and MOVER-R intervals on rates, the Gini coefficient, and a seeded
bootstrap.

A rate (connects per call, say) gets a Wilson score interval — it stays inside 0–1 and keeps its stated
coverage with few trials or rates near 0, where the textbook ±z·√(p(1−p)/n) does not. The ratio of two
rates gets the MOVER-R interval (method of variance estimates recovery; Donner & Zou, 2012), which builds
the ratio's limits from the two Wilson intervals in closed form, so the uncertainty of both rates counts.

A difference between two averages means little without its uncertainty, so comparisons come with a 95%
percentile-bootstrap interval: rows are resampled with replacement within each group (and within each
stratum, when the comparison is adjusted for one), the difference recomputed, and the 2.5th and 97.5th
percentiles of those differences kept. The seed is explicit, so the same data always gives the same interval.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

RESAMPLES = 2000
LEVEL = 0.95
Z95 = 1.959963984540054


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


def resampled_means(values: np.ndarray, rng: np.random.Generator, resamples: int) -> np.ndarray:
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
        draws += weight * (resampled_means(flagged, rng, resamples) - resampled_means(rest, rng, resamples))
    if weight_total == 0:
        return None
    low, high = np.quantile(draws / weight_total, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    return Interval(float(estimate / weight_total), float(low), float(high))


def z_for(confidence: float) -> float:
    """The two-sided normal quantile for `confidence` (0.95 → 1.96)."""
    if confidence == 0.95:
        return Z95
    from statistics import NormalDist

    return NormalDist().inv_cdf(0.5 + confidence / 2)


def wilson(successes: float, trials: float, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval of a proportion; (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = min(max(successes / trials, 0.0), 1.0)
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def ratio_interval(x1: float, n1: float, x2: float, n2: float, z: float = Z95) -> tuple[float, float] | None:
    """MOVER-R interval of (x1/n1) ÷ (x2/n2) from the two Wilson intervals; None when the model rate is 0.

    The upper limit is infinite when the model's interval reaches 0 (the data cannot bound the ratio).
    """
    if n1 <= 0 or n2 <= 0 or x2 <= 0:
        return None
    p1, p2 = min(x1 / n1, 1.0), min(x2 / n2, 1.0)
    l1, u1 = wilson(x1, n1, z)
    l2, u2 = wilson(x2, n2, z)
    product = p1 * p2
    low_root = max(product**2 - l1 * u2 * (2 * p1 - l1) * (2 * p2 - u2), 0.0)
    low = (product - math.sqrt(low_root)) / (u2 * (2 * p2 - u2))
    high_denominator = l2 * (2 * p2 - l2)
    if high_denominator <= 0:
        return max(low, 0.0), math.inf
    high_root = max(product**2 - u1 * l2 * (2 * p1 - u1) * (2 * p2 - l2), 0.0)
    high = (product + math.sqrt(high_root)) / high_denominator
    return max(low, 0.0), high


def percentile_interval(draws: np.ndarray, level: float = LEVEL) -> tuple[float, float]:
    """The central `level` of bootstrap `draws`: their (1 − level)/2 and (1 + level)/2 percentiles."""
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(draws, [tail, 100 - tail])
    return float(low), float(high)
