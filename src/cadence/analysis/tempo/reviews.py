"""The gap review's memory: did last week's action close the gap, and which actions are past due?

A review is about one track (its `metric` is the track's label, "launch" or "big launch", or its
deliverable) and one period. Its gap is **closed** once the latest period of that track that has ended
after the reviewed one was met; **still open** when it was missed; unknown while no later period has
ended. An action is **past due** when it is not marked done and its due date is before as_of.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

from cadence.analysis.tempo.status import TrackStatus
from cadence.metrics.calendar import FiscalCalendar


@dataclass(frozen=True)
class ReviewFollowUp:
    review_id: str
    team: str
    metric: str
    period: str
    target: float | None
    actual: float | None
    cause: str | None
    action: str | None
    owner_id: str | None
    owner: str | None
    due: date | None
    done: bool
    past_due: bool
    gap_closed: bool | None  # None: no later period of the track has ended yet
    checked_in: str | None  # the later period that says so
    created_at: date

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "due": self.due.isoformat() if self.due else None,
                "created_at": self.created_at.isoformat()}


def _track_for(statuses: list[TrackStatus], team: str, metric: str) -> TrackStatus | None:
    same_team = [s for s in statuses if s.track.team == team]
    by_label = [s for s in same_team if s.track.label == metric]
    by_deliverable = [s for s in same_team if s.track.deliverable == metric and not s.track.size]
    found = by_label or by_deliverable
    return found[0] if found else None


def _period_start(calendar: FiscalCalendar, label: str) -> date | None:
    try:
        return calendar.parse(label)[0]
    except ValueError:
        return None


def follow_up(reviews: pd.DataFrame, people: pd.DataFrame, statuses: list[TrackStatus], calendar: FiscalCalendar,
              as_of: date, *, recorded_before: date | None = None) -> list[ReviewFollowUp]:
    """Every review recorded before `recorded_before` (default: as_of), newest first, with whether its gap closed
    by as_of and whether its action is past due on as_of."""
    names = dict(zip(people["person_id"], people["name"], strict=True))
    recorded = reviews[reviews["created_at"] < pd.Timestamp(recorded_before or as_of)]
    recorded = recorded.sort_values("created_at", ascending=False, kind="stable")
    out = []
    for row in recorded.to_dict("records"):
        status = _track_for(statuses, row["team"], row["metric"])
        start = _period_start(calendar, str(row["period"]))
        closed, checked = None, None
        if status is not None and start is not None:
            later = [p for p in status.periods if p.complete and p.start > start and p.end <= as_of]
            if later:
                closed, checked = later[-1].status == "met", later[-1].label
        due = None if pd.isna(row["due"]) else pd.Timestamp(row["due"]).date()
        done = row.get("status") == "done"
        out.append(ReviewFollowUp(
            str(row["review_id"]), row["team"], row["metric"], str(row["period"]), _number(row.get("target")),
            _number(row.get("actual")), row.get("cause"), row.get("action"), row.get("owner_id"),
            names.get(row.get("owner_id")), due, done, (not done) and due is not None and due < as_of, closed, checked,
            pd.Timestamp(row["created_at"]).date()))
    return out


def _number(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)
