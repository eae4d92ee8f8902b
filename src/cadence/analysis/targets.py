"""Is a KPI on track? The rule, stated once, used by every scorecard.

Flows (bookings, leads, activities: amounts that add up over a period) are judged on pace: the
period's target scaled by the share of the period already elapsed. Levels (rates, medians, MRR,
NPS: values that do not add up) are judged against the target itself.
  on track   ≥ 100% of the paced target (≤ 100% when lower is better)
  at risk    within 10% short of it
  off track  more than 10% short
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["on_track", "at_risk", "off_track", "no_target", "no_data"]
AT_RISK_BAND = 0.10
RULE = ("on track: at or beyond the target (paced by the elapsed share of the period for amounts that add up); "
        f"at risk: within {AT_RISK_BAND:.0%} short; off track: more than {AT_RISK_BAND:.0%} short")


@dataclass(frozen=True)
class TargetCheck:
    status: Status
    actual: float | None
    target: float | None
    expected: float | None  # what the target asks for by now
    attainment: float | None  # actual ÷ expected (inverted when lower is better)
    rule: str = RULE


def check_target(actual: float | None, target: float | None, *, elapsed_share: float, additive: bool,
                 higher_is_better: bool = True) -> TargetCheck:
    """Judge `actual` against `target` for a period `elapsed_share` (0–1) of the way through."""
    if target is None:
        return TargetCheck("no_target", actual, None, None, None)
    if actual is None:
        return TargetCheck("no_data", None, target, None, None)
    expected = target * min(max(elapsed_share, 0.0), 1.0) if additive else target
    if expected == 0:
        attainment = 1.0 if (actual >= 0 if higher_is_better else actual <= 0) else 0.0
    elif higher_is_better:
        attainment = actual / expected
    else:
        attainment = expected / actual if actual else float("inf")
    if attainment >= 1.0:
        status: Status = "on_track"
    elif attainment >= 1.0 - AT_RISK_BAND:
        status = "at_risk"
    else:
        status = "off_track"
    return TargetCheck(status, actual, target, expected, attainment)
