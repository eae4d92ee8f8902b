"""Is a team's miss organisational or about one person? The comparison, and the rule that decides.

"Tim is not delivering" is usually an organisational problem seen nine months late. So before anyone is
named, a missing track is compared on three things, over its recent window (the last `LOOKBACK` periods
up to the current one: 13 weeks, 6 months or 4 quarters):

- **capacity**: the team's contributors over time, from `people` (hired_at, left_at): everyone in the
  team except managers and executives, plus anyone who shipped for it. Headcount now, on average over
  the window, and over the same window a year earlier; who left and who joined in the last year.
- **output per person**: each contributor's shipments per business day, counted only after their first
  `NEW_JOINER_DAYS` (90) days and only when that leaves `MIN_JUDGED_DAYS` (20) business days in the
  window — a new joiner ramping up is not judged.
- **the norm**: the median output per person of *comparable teams* (other teams with a target for the
  same deliverable and size) in the same window; without one, the team's own members a year earlier;
  without those, the median of the *other* members of the team.

The rule, in this order (`DIAGNOSIS_RULE` carries it to every report):

1. **organisational — capacity**: even at the better of the norm and the team's own median output per
   person, the target needs more people than the team has now, by more than `CAPACITY_MARGIN` (10%,
   about how far output per person moves from one window to the next): headcount < 0.9 × target per
   business day ÷ that output.
2. **organisational — the whole team is below tempo**: the median member ships below `PAR` (80%) of a
   norm taken from another team or from the team's own past — something shared is in the way.
3. **individual**: some members ship below `FAR_BELOW` (50%) of the norm — and so few that chance
   explains it less than `SIGNIFICANCE` (5%) of the time (Poisson at the norm over their judged days:
   with a handful of case studies a year, a quiet half-year is luck, not a verdict) — they are fewer
   than half of those judged, and every other member is on par (≥ 80%). They are named, with their figures.
4. **organisational** otherwise: capacity is enough and no member stands out, so the miss is the team's
   (scope, priorities, a blocker) — never a person's.

Without any owner on the shipments and no capacity finding, the verdict is left open (None): there is
nothing to compare. Unplanned work (shipments.unplanned) and the causes the gap reviews recorded are
reported as evidence but do not decide: they are what people said, the rule is what the data shows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from statistics import median
from typing import Literal

import pandas as pd

from cadence.analysis.tempo.data import TempoData
from cadence.analysis.tempo.status import LOOKBACK, TrackStatus, business_days, periods_back
from cadence.analysis.tempo.targets import Track, counts_toward, sized_tracks, tracks
from cadence.metrics.calendar import FiscalCalendar

Verdict = Literal["organisational", "individual"]
PAR = 0.8
CAPACITY_MARGIN = 0.1
FAR_BELOW = 0.5
SIGNIFICANCE = 0.05
NEW_JOINER_DAYS = 90
MIN_JUDGED_DAYS = 20
NOT_CONTRIBUTORS = frozenset({"manager", "executive"})
YEAR = timedelta(days=364)  # 52 weeks: the same weekdays a year earlier
DIAGNOSIS_RULE = (
    "organisational when, even at the better of its members' own output and that of comparable teams (else its own "
    "a year earlier), the target needs over 10% more people than the team has, or when the whole team ships below "
    "80% of that norm; individual when fewer than half of the members ship below 50% of it (and chance explains it "
    "less than 5% of the time) while every other member is on par (≥ 80%); organisational otherwise. New joiners "
    "are not judged in their first 90 days")


@dataclass(frozen=True)
class MemberOutput:
    person_id: str
    name: str
    team: str
    shipped: int  # in the days judged
    judged_days: int  # business days in the window after the member's first 90 days
    rate: float | None  # shipments per business day; None when not judged


@dataclass
class Diagnosis:
    verdict: Verdict | None
    reason: str
    evidence: list[str]
    window_start: date
    window_end: date
    headcount_now: float | None = None
    headcount_window: float | None = None
    headcount_year_before: float | None = None
    needed: float | None = None  # people the target needs at the norm
    norm: float | None = None  # shipments per business day per person
    norm_from: str | None = None
    members: list[MemberOutput] = field(default_factory=list)
    comparable: list[MemberOutput] = field(default_factory=list)
    singled_out: list[str] = field(default_factory=list)  # person_ids named by an individual verdict


@dataclass(frozen=True)
class _Window:
    start: date
    end: date

    @property
    def days(self) -> int:
        return business_days(self.start, self.end)

    def year_before(self) -> _Window:
        return _Window(self.start - YEAR, self.end - YEAR)


class _Team:
    """One team's contributors to a track and what each shipped: the facts the rule compares."""

    def __init__(self, data: TempoData, track: Track):
        self.track = track
        shipments = data.shipments[(data.shipments["team"] == track.team)
                                   & (data.shipments["deliverable"] == track.deliverable)]
        self.shipments = shipments[counts_toward(shipments["size"], track, sized_tracks(data, track))]
        self.all_shipments = data.shipments[data.shipments["team"] == track.team]
        members = data.people[(data.people["team"] == track.team)
                              & ~data.people["role"].fillna("").str.lower().isin(NOT_CONTRIBUTORS)]
        owners = set(self.shipments["owner_id"].dropna()) - set(members["person_id"])
        shipping = data.people[data.people["person_id"].isin(owners)]
        unknown = pd.DataFrame({"person_id": sorted(owners - set(shipping["person_id"]))})
        self.people = pd.concat([members, shipping, unknown], ignore_index=True) \
            .reindex(columns=["person_id", "name", "hired_at", "left_at"])
        self.known = len(members) + len(shipping) > 0

    def _spans(self, window: _Window, *, judged: bool) -> list[tuple[str, date, date]]:
        out = []
        for person, hired, left in zip(self.people["person_id"], self.people["hired_at"], self.people["left_at"],
                                       strict=True):
            first = window.start if pd.isna(hired) else max(window.start, pd.Timestamp(hired).date()
                                                            + timedelta(days=NEW_JOINER_DAYS if judged else 0))
            last = window.end if pd.isna(left) else min(window.end, pd.Timestamp(left).date() + timedelta(days=1))
            out.append((str(person), first, last))
        return out

    def headcount(self, window: _Window) -> float | None:
        """Average contributors over the window's business days (a ramping joiner counts: they are capacity)."""
        if not self.known or window.days == 0:
            return None
        return sum(business_days(a, b) for _, a, b in self._spans(window, judged=False)) / window.days

    def headcount_on(self, day: date) -> float | None:
        """Contributors on the payroll on `day`."""
        if not self.known:
            return None
        hired, left = pd.to_datetime(self.people["hired_at"]), pd.to_datetime(self.people["left_at"])
        on = pd.Timestamp(day)
        return float(((hired.isna() | (hired <= on)) & (left.isna() | (left >= on))).sum())

    def outputs(self, window: _Window, names: dict[str, str]) -> list[MemberOutput]:
        owned = self.shipments.dropna(subset=["owner_id"])
        present = [business_days(a, b) > 0 for _, a, b in self._spans(window, judged=False)]
        out = []
        for (person, first, last), here in zip(self._spans(window, judged=True), present, strict=True):
            if not here:
                continue  # not in the team during the window
            days = business_days(first, last)
            mine = owned[(owned["owner_id"] == person) & (owned["shipped_at"] >= pd.Timestamp(first))
                         & (owned["shipped_at"] < pd.Timestamp(last))] if days else owned.iloc[:0]
            rate = len(mine) / days if days >= MIN_JUDGED_DAYS else None
            out.append(MemberOutput(person, names.get(person, person), self.track.team, len(mine), days, rate))
        return out

    def unplanned_share(self, window: _Window) -> float | None:
        rows = self.all_shipments[(self.all_shipments["shipped_at"] >= pd.Timestamp(window.start))
                                  & (self.all_shipments["shipped_at"] < pd.Timestamp(window.end))]
        recorded = rows["unplanned"].dropna()
        return float(recorded.astype(bool).mean()) if len(recorded) else None

    def turnover(self, since: date, until: date) -> tuple[int, int]:
        """Contributors who left, and who joined, in [since, until)."""
        def between(days: pd.Series) -> int:
            days = pd.to_datetime(days)
            return int(((days >= pd.Timestamp(since)) & (days < pd.Timestamp(until))).sum())

        return between(self.people["left_at"]), between(self.people["hired_at"])


def _rates(members: list[MemberOutput]) -> list[float]:
    return [m.rate for m in members if m.rate is not None]


def diagnose(data: TempoData, status: TrackStatus, calendar: FiscalCalendar, as_of: date) -> Diagnosis:
    """Compare a missing track's team with its own past, its members with each other and with comparable teams."""
    current = status.current
    if current is None:
        raise ValueError(f"{status.track.team} · {status.track.label} has no period before {as_of}")
    track, grain = status.track, current.grain
    window = _Window(periods_back(calendar, current.start, grain, LOOKBACK[grain] - 1), as_of)
    names = dict(zip(data.people["person_id"], data.people["name"].fillna(data.people["person_id"]), strict=True))
    team = _Team(data, track)
    members = team.outputs(window, names)
    comparable = [m for other in tracks(data) if other.team != track.team and other.deliverable == track.deliverable
                  and other.size == track.size for m in _Team(data, other).outputs(window, names)]
    past = team.outputs(window.year_before(), names)
    norm, norm_from = _norm(comparable, past)
    result = Diagnosis(None, "", [], window.start, window.end, team.headcount_on(as_of - timedelta(days=1)),
                       team.headcount(window), team.headcount(window.year_before()), None, norm, norm_from,
                       members, comparable)
    per_day_target = current.target / max(business_days(current.start, current.end), 1)
    own = _rates(members)
    at = max([r for r in (norm, median(own) if own else None) if r is not None], default=None)
    if at and result.headcount_now is not None:
        result.needed = per_day_target / at
    _decide(result, own)
    result.evidence = _evidence(result, status, team, window, data, as_of)
    return result


def _norm(comparable: list[MemberOutput], past: list[MemberOutput]) -> tuple[float | None, str | None]:
    if _rates(comparable):
        teams = sorted({m.team for m in comparable if m.rate is not None})
        return median(_rates(comparable)), f"{' and '.join(teams)} members"
    if _rates(past):
        return median(_rates(past)), "the team's own members a year earlier"
    return None, None


def _decide(result: Diagnosis, own: list[float]) -> None:
    if result.needed is not None and result.headcount_now is not None \
            and result.headcount_now < (1 - CAPACITY_MARGIN) * result.needed:
        result.verdict, result.reason = "organisational", "capacity: the target needs more people than the team has"
        return
    if result.norm and own and median(own) < PAR * result.norm:
        result.verdict = "organisational"
        result.reason = "the whole team ships below the norm: look for what they share"
        return
    judged = [m for m in result.members if m.rate is not None]
    if not judged:
        if result.needed is not None:
            result.verdict, result.reason = "organisational", "capacity is enough and no member can be singled out"
        else:
            result.reason = "nothing to compare: no shipments carry an owner and the team's capacity is unknown"
        return
    far = [m for m in judged if _far_below(m, _reference(result, m, judged))]
    rest_on_par = all(m.rate >= PAR * _reference(result, m, judged) for m in judged if m not in far)  # type: ignore[operator]
    if far and len(far) < len(judged) / 2 and rest_on_par:
        result.verdict, result.reason = "individual", "one part of the team is far below peers who are on par"
        result.singled_out = [m.person_id for m in far]
        return
    result.verdict = "organisational"
    result.reason = "capacity is enough and no member stands out: the miss is the team's"


def _far_below(member: MemberOutput, reference: float) -> bool:
    """Below FAR_BELOW of the reference, and too far below for chance (a Poisson lower tail under SIGNIFICANCE)."""
    if member.rate is None or member.rate >= FAR_BELOW * reference:
        return False
    return poisson_at_most(member.shipped, reference * member.judged_days) < SIGNIFICANCE


def poisson_at_most(count: int, mean: float) -> float:
    """P(X ≤ count) for X ~ Poisson(mean)."""
    if mean <= 0:
        return 1.0
    return min(1.0, sum(math.exp(k * math.log(mean) - mean - math.lgamma(k + 1)) for k in range(count + 1)))


def _reference(result: Diagnosis, member: MemberOutput, judged: list[MemberOutput]) -> float:
    """The norm a member is held to: comparable teams' or the team's past, else the other members' median."""
    if result.norm is not None:
        return result.norm
    others = [m.rate for m in judged if m is not member and m.rate is not None]
    return median(others) if others else member.rate or 0.0


def _evidence(result: Diagnosis, status: TrackStatus, team: _Team, window: _Window, data: TempoData,
              as_of: date) -> list[str]:
    track, current = status.track, status.current
    assert current is not None
    grain, label = current.grain, track.label
    per_period = business_days(current.start, current.end)
    shown = [p for p in status.periods if p.start >= window.start and p.complete]
    lines = []
    if shown:
        missed = sum(p.status == "missed" for p in shown)
        lines.append(f"{track.team} shipped {sum(p.actual for p in shown)} {label} against a target of "
                     f"{sum(p.target for p in shown)} over the last {len(shown)} {grain}s: {missed} missed")
    if result.headcount_now is not None:
        left, joined = team.turnover(as_of - timedelta(days=365), as_of)
        before = "" if result.headcount_year_before is None else f", {result.headcount_year_before:.1f} a year earlier"
        lines.append(f"headcount {result.headcount_now:.0f} now (average {result.headcount_window:.1f} over the "
                     f"window{before}); in the last year {left} left and {joined} joined")
    own = _rates(result.members)
    if own and result.norm:
        ratio = median(own) / result.norm
        lines.append(f"per person: {median(own) * per_period:.1f} {label} a {grain} (median of {len(own)}), "
                     f"{result.norm_from}: {result.norm * per_period:.1f} — {ratio:.0%} of the norm")
    if result.needed is not None and result.headcount_now is not None:
        lines.append(f"at that output the target of {current.target} a {grain} needs {result.needed:.1f} people; "
                     f"the team has {result.headcount_now:.0f}")
    lines += _member_lines(result, per_period, label, grain)
    unplanned, earlier = team.unplanned_share(window), team.unplanned_share(window.year_before())
    if unplanned is not None:
        lines.append(f"unplanned work: {unplanned:.0%} of the team's shipments in the window"
                     + ("" if earlier is None else f", {earlier:.0%} a year earlier"))
    lines += _review_lines(data, track, window)
    return lines


def _member_lines(result: Diagnosis, per_period: float, label: str, grain: str) -> list[str]:
    judged = [m for m in result.members if m.rate is not None]
    new = [m.name for m in result.members if m.rate is None]
    lines = []
    if result.verdict == "individual":
        for person in (m for m in judged if m.person_id in result.singled_out):
            reference = _reference(result, person, judged)
            lines.append(f"{person.name} shipped {person.rate * per_period:.1f} {label} a {grain} "  # type: ignore[operator]
                         f"({person.rate / reference:.0%} of the norm); every other member is on par")  # type: ignore[operator]
    elif judged:
        lowest = min(judged, key=lambda m: m.rate or 0.0)
        reference = _reference(result, lowest, judged)
        if reference:
            lines.append(f"no member is singled out: the lowest ships {lowest.rate / reference:.0%} of the norm"  # type: ignore[operator]
                         f" (below {FAR_BELOW:.0%}, beyond chance, would stand out)")
    if new and len(new) < len(result.members):
        lines.append(f"not judged (first {NEW_JOINER_DAYS} days or too few days in the window): {len(new)}")
    return lines


def _review_lines(data: TempoData, track: Track, window: _Window) -> list[str]:
    reviews = data.reviews
    if reviews.empty:
        return []
    mine = reviews[(reviews["team"] == track.team) & reviews["metric"].isin({track.label, track.deliverable})
                   & (reviews["created_at"] >= pd.Timestamp(window.start))
                   & (reviews["created_at"] < pd.Timestamp(window.end))]
    causes = mine["cause"].dropna().value_counts()
    if causes.empty:
        return []
    listed = ", ".join(f"{cause} ({count})" for cause, count in causes.items())
    return [f"causes recorded in {len(mine)} gap reviews since {window.start}: {listed}"]
