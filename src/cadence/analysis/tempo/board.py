"""The tempo board: every track's current period, its pace, its streak, and — when it is missing — why.

This is what `cadence tempo`, the scorecard's tempo section and later the web page show: one row per
team and deliverable, for the latest period begun before as_of, and the follow-up of the gap reviews.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cadence.analysis.tempo.data import TempoData
from cadence.analysis.tempo.diagnosis import Diagnosis, diagnose
from cadence.analysis.tempo.reviews import ReviewFollowUp, follow_up
from cadence.analysis.tempo.status import AT_RISK_BELOW, PeriodStatus, Streak, TrackStatus, streak_of, track_status
from cadence.analysis.tempo.targets import Track, tracks
from cadence.metrics.calendar import FiscalCalendar

DIAGNOSED = ("missed", "at_risk")


@dataclass
class TempoRow:
    track: Track
    current: PeriodStatus
    streak: Streak | None
    evidence: list[str]
    diagnosis: Diagnosis | None = None

    def as_dict(self) -> dict[str, Any]:
        """The interface later work relies on: exactly these keys."""
        return {"team": self.track.team, "deliverable": self.track.label, "period": self.current.label,
                "target": self.current.target, "actual": self.current.actual, "status": self.current.status,
                "diagnosis": self.diagnosis.verdict if self.diagnosis else None, "evidence": list(self.evidence)}


@dataclass
class TempoBoard:
    as_of: date
    rows: list[TempoRow]
    statuses: list[TrackStatus]
    reviews: list[ReviewFollowUp] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"teams": [row.as_dict() for row in self.rows]}

    @property
    def past_due(self) -> list[ReviewFollowUp]:
        return [r for r in self.reviews if r.past_due]

    def diagnosed(self) -> list[TempoRow]:
        """The rows with a verdict, each track once (a track's rows share one diagnosis)."""
        seen: set[int] = set()
        out = []
        for row in self.rows:
            if row.diagnosis is not None and row.diagnosis.verdict and id(row.diagnosis) not in seen:
                seen.add(id(row.diagnosis))
                out.append(row)
        return out

    def rows_for(self, team: str, deliverable: str) -> list[TempoRow]:
        """The rows of one track: the period under way, and the one just ended when it ended this week."""
        return [row for row in self.rows if row.track.team == team and row.track.label == deliverable]


def latest_day(data: TempoData) -> date | None:
    """The last day anything shipped."""
    if data.shipments.empty:
        return None
    return data.shipments["shipped_at"].max().date()  # type: ignore[no-any-return]


def pace_line(period: PeriodStatus, label: str) -> str:
    if period.complete:
        return f"{period.actual} of {period.target} {label} in {period.label}: {period.status}"
    left = f"{1 - period.elapsed:.0%} of the period's business days left"
    if period.status == "met":
        return f"{period.actual} of {period.target} {label} in {period.label}, target reached with {left}"
    return (f"{period.actual} of {period.target} {label} in {period.label} with {left}; at its usual pace the team "
            f"ends near {period.expected or 0:.0f}, a {period.chance or 0:.0%} chance of reaching {period.target}")


def under_review(status: TrackStatus, as_of: date) -> list[PeriodStatus]:
    """The period under way, and the one before it when it ended in the week before `as_of`: on the first Monday
    of a month the meeting wants last month's result as well as this month's pace."""
    if not status.periods:
        return []
    current = status.periods[-1]
    if not current.complete and len(status.periods) > 1 and status.periods[-2].end > as_of - timedelta(days=7):
        return [status.periods[-2], current]
    return [current]


def _row(status: TrackStatus, period: PeriodStatus, diagnosis: Diagnosis | None) -> TempoRow:
    evidence = [pace_line(period, status.track.label)]
    done = [p for p in status.periods if p.complete and p.end <= period.end]
    streak = streak_of(done)
    if streak is not None:
        evidence.append(f"{streak} up to {done[-1].label}")
    if period.status not in DIAGNOSED:
        return TempoRow(status.track, period, streak, evidence)
    if diagnosis is not None:
        evidence.append(f"{diagnosis.verdict or 'no diagnosis'}: {diagnosis.reason}")
    return TempoRow(status.track, period, streak, evidence + (diagnosis.evidence if diagnosis else []), diagnosis)


def tempo_board(data: TempoData, calendar: FiscalCalendar, as_of: date, *, at_risk_below: float = AT_RISK_BELOW,
                reviews_until: date | None = None) -> TempoBoard:
    """Judge every track as of `as_of` (exclusive), diagnose the missing ones, follow up the gap reviews
    recorded before `reviews_until` (default: as_of; later, to show reviews recorded after the data ends)."""
    statuses = [track_status(data, track, calendar, as_of, at_risk_below=at_risk_below) for track in tracks(data)]
    rows = []
    for status in statuses:
        periods = under_review(status, as_of)
        missing = any(p.status in DIAGNOSED for p in periods)
        diagnosis = diagnose(data, status, calendar, as_of) if missing else None
        rows += [_row(status, period, diagnosis) for period in periods]
    reviews = follow_up(data.reviews, data.people, statuses, calendar, as_of, recorded_before=reviews_until)
    return TempoBoard(as_of, rows, statuses, reviews)
