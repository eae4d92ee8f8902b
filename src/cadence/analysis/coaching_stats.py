"""How sure we are that a rep converts below the model: Wilson intervals, combined into one on the ratio.

A rep's rate on a step (connects per call, say) is a proportion, and so is the model's. Each gets a
Wilson score interval — it stays inside 0–1 and keeps its stated coverage with few trials or rates
near 0, where the textbook ±z·√(p(1−p)/n) does not. The ratio rep ÷ model then gets the MOVER-R
interval (method of variance estimates recovery; Donner & Zou, 2012), which builds the ratio's limits
from the two Wilson intervals in closed form. So the model's own uncertainty counts too: a model
measured on 40 demos cannot make a rep look confidently worse than it.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054


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
