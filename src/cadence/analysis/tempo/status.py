"""Actual against target for every period of a track, and whether the current one is on pace.

The rule, stated once (`PACE_RULE` carries it to every report):

- A period that has ended is **met** when the track shipped at least its target in it, else **missed**.
- A period under way that has already reached its target is **met**.
- Otherwise Cadence asks how likely the period is to end at or above its target, given what shipped so
  far and the **team's own record**: the totals of its last `LOOKBACK` periods (13 weeks, 6 months or
  4 quarters; fewer when tracking began later; none at all: the target itself as the team's pace).
  - Before looking at this period, its total T is believed to follow those past totals, smoothed with a
    Poisson of their mean weighted as one more period (so a total never seen is unlikely, not impossible).
  - Each of the T shipments falls on any business day (Monday to Friday) of the period alike, so with a
    share e of the business days gone, the count so far is Binomial(T, e).
  - Bayes' rule gives P(T ≥ target | shipped so far); the period is **at risk** when that chance is
    below `AT_RISK_BELOW` (0.5: a miss is more likely than not), else **on pace**.

Why this and not a plain Poisson projection of the rest of the period: most teams ship to a plan, more
regularly than Poisson. "One case study a month", shipped every month, is not at risk on the 15th just
because it has not shipped yet — a Poisson projection would say so in half of all months; conditioning
on the team's own period totals does not. For a team whose totals vary like Poisson counts, the two
agree. Business days, because teams ship on weekdays: a Friday evening is the end of the week.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

import numpy as np

from cadence.analysis.tempo.data import TempoData
from cadence.analysis.tempo.targets import Period, Track, counted_days, periods_until, versions
from cadence.metrics.calendar import FiscalCalendar, Grain

Status = Literal["met", "missed", "on_pace", "at_risk"]
AT_RISK_BELOW = 0.5
LOOKBACK: dict[str, int] = {"week": 13, "month": 6, "quarter": 4}
PACE_RULE = (f"a period that ended is met or missed; one under way is met once it reaches its target, else at risk "
             f"when the chance of reaching it is below {AT_RISK_BELOW:.0%}: the period's total is expected to be like "
             "the team's own last 13 weeks, 6 months or 4 quarters, updated by what shipped so far (each shipment "
             "equally likely on any business day of the period)")


@dataclass(frozen=True)
class PeriodStatus:
    label: str
    start: date
    end: date  # exclusive
    grain: Grain
    target: int
    actual: int
    status: Status
    complete: bool
    elapsed: float  # share of the period's business days gone by
    chance: float | None = None  # P(reaching the target by the end), for a period under way
    expected: float | None = None  # the total the period is expected to end with


@dataclass(frozen=True)
class Streak:
    status: Literal["met", "missed"]
    length: int

    def __str__(self) -> str:
        return f"{self.status} {self.length} in a row"


@dataclass
class TrackStatus:
    track: Track
    periods: list[PeriodStatus]

    @property
    def current(self) -> PeriodStatus | None:
        """The latest period begun before as_of: the one under review."""
        return self.periods[-1] if self.periods else None

    @property
    def streak(self) -> Streak | None:
        """The run of met or missed periods that ends with the last period that ended."""
        return streak_of(self.periods)


def streak_of(periods: Sequence[PeriodStatus]) -> Streak | None:
    """The run of met or missed periods ending with the last of `periods` that ended."""
    done = [p.status for p in periods if p.complete]
    if not done:
        return None
    last, length = done[-1], 0
    for status in reversed(done):
        if status != last:
            break
        length += 1
    return Streak(last, length)  # type: ignore[arg-type]


def business_days(start: date, end: date) -> int:
    """Monday-to-Friday days in [start, end)."""
    return int(np.busday_count(np.datetime64(start, "D"), np.datetime64(end, "D"))) if end > start else 0


def prior_totals(totals: Sequence[int], target: int, top: int) -> np.ndarray:
    """P(T = 0…top) before looking at the period: past totals, smoothed with a Poisson of their mean."""
    support = np.arange(top + 1)
    mean = float(np.mean(totals)) if len(totals) else float(target)
    with np.errstate(divide="ignore"):
        poisson = np.exp(support * np.log(mean) - mean - _log_factorial(support)) if mean > 0 \
            else (support == 0).astype(float)
    if not len(totals):
        return poisson / poisson.sum()
    empirical = np.bincount(np.minimum(np.asarray(totals, dtype=int), top), minlength=top + 1) / len(totals)
    weight = 1 / (len(totals) + 1)
    prior = (1 - weight) * empirical + weight * poisson
    return prior / prior.sum()


def _log_factorial(values: np.ndarray) -> np.ndarray:
    return np.array([math.lgamma(v + 1) for v in values])


def chance_to_reach(actual: int, target: int, elapsed: float, totals: Sequence[int]) -> tuple[float, float]:
    """P(the period ends at or above `target` | `actual` shipped with `elapsed` of it gone), and the expected total.

    `totals` are the team's recent period totals (see the module's rule); `elapsed` is a share of business days.
    """
    if actual >= target:
        return 1.0, float(actual)
    if elapsed >= 1:
        return 0.0, float(actual)
    top = 3 * max([target, actual, *totals]) + 20
    support = np.arange(top + 1)
    posterior = prior_totals(totals, target, top) * _binomial(actual, support, elapsed)
    if posterior.sum() <= 0:
        return 0.0, float(actual)
    posterior /= posterior.sum()
    return float(posterior[support >= target].sum()), float((posterior * support).sum())


def _binomial(k: int, n: np.ndarray, p: float) -> np.ndarray:
    """P(k of n shipments fell in the share p of the period already gone), for each possible total n."""
    out = np.zeros(len(n))
    possible = n >= k
    if p <= 0:  # nothing of the period has gone by: every total is as likely as before, if none shipped
        out[possible] = 1.0 if k == 0 else 0.0
        return out
    m = n[possible]
    log_choose = _log_factorial(m) - math.lgamma(k + 1) - _log_factorial(m - k)
    out[possible] = np.exp(log_choose + k * math.log(p) + (m - k) * math.log1p(-p))
    return out


def pace(actual: int, target: int, elapsed: float, totals: Sequence[int], *, at_risk_below: float = AT_RISK_BELOW) \
        -> tuple[Status, float, float]:
    """The status of a period under way, the chance it reaches its target, and its expected total."""
    if actual >= target:
        return "met", 1.0, float(actual)
    chance, expected = chance_to_reach(actual, target, elapsed, totals)
    return ("on_pace" if chance >= at_risk_below else "at_risk"), chance, expected


def periods_back(calendar: FiscalCalendar, start: date, grain: Grain, count: int) -> date:
    """The start of the period `count` periods before the one starting at `start`."""
    for _ in range(count):
        start = calendar.start_of(start - timedelta(days=1), grain)
    return start


def _count(days: np.ndarray, start: date, end: date) -> int:
    lo, hi = np.searchsorted(days, [np.datetime64(start, "us"), np.datetime64(end, "us")])
    return int(hi - lo)


def recent_totals(days: np.ndarray, period: Period, calendar: FiscalCalendar, history_from: date) -> list[int]:
    """The track's totals in the LOOKBACK periods before `period` that began after its history did."""
    totals = []
    start = period.start
    for _ in range(LOOKBACK[period.grain]):
        previous = calendar.start_of(start - timedelta(days=1), period.grain)
        if previous < history_from:
            break
        totals.append(_count(days, previous, start))
        start = previous
    return totals[::-1]


def track_status(data: TempoData, track: Track, calendar: FiscalCalendar, as_of: date, *,
                 at_risk_below: float = AT_RISK_BELOW) -> TrackStatus:
    """Every period of `track` begun before `as_of` (exclusive), judged as the module says."""
    periods = periods_until(versions(data, track), calendar, as_of)
    days = counted_days(data, track)
    days = days[days < np.datetime64(as_of, "us")]
    history_from = min([periods[0].start] if periods else [as_of])
    if len(days):
        history_from = min(history_from, days[0].astype("datetime64[D]").item())
    out = []
    for period in periods:
        complete = period.end <= as_of
        actual = _count(days, period.start, min(period.end, as_of))
        total = business_days(period.start, period.end)
        elapsed = 1.0 if complete else business_days(period.start, as_of) / max(total, 1)
        if complete:
            out.append(PeriodStatus(period.label, period.start, period.end, period.grain, period.target, actual,
                                    "met" if actual >= period.target else "missed", True, 1.0))
            continue
        if elapsed == 0 and actual:  # shipped over the weekend before the first business day
            elapsed = 0.5 / max(total, 1)
        totals = recent_totals(days, period, calendar, history_from)
        status, chance, expected = pace(actual, period.target, elapsed, totals, at_risk_below=at_risk_below)
        out.append(PeriodStatus(period.label, period.start, period.end, period.grain, period.target, actual, status,
                                False, elapsed, chance, expected))
    return TrackStatus(track, out)
