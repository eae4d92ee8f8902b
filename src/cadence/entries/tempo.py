"""Tempo typed in by hand — a shipment, a target, a gap review and its end — each written by the one policy.

Logged in `imports` as `tempo-ship`, `tempo-target` and `tempo-review`; each keyed by what identifies it, so
the same entry twice is one row.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.analysis.tempo import Track, load_tempo, track_status, tracks
from cadence.analysis.tempo.as_of import board_as_of
from cadence.analysis.tempo.board import under_review
from cadence.entries.policy import Entry, entry_key, write_entry
from cadence.entries.tempo_names import resolve_kind, resolve_person, resolve_team
from cadence.errors import InputError, UnknownNameError
from cadence.schema.tables import table_named

if TYPE_CHECKING:
    from cadence.workspace import Workspace

CAUSES: tuple[str, ...] = table_named("gap_reviews").column("cause").allowed or ()  # declared once, in the schema


@dataclass(frozen=True)
class ShipmentLogged:
    shipment_id: str
    team: str
    deliverable: str
    title: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TargetSet:
    team: str
    deliverable: str
    count: int
    period: str
    size: str | None
    valid_from: date

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "valid_from": self.valid_from.isoformat()}


@dataclass(frozen=True)
class ReviewRecorded:
    review_id: str
    team: str
    deliverable: str
    period: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ReviewClosed:
    review_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def record_shipment(ws: Workspace, team: str, deliverable: str, title: str, *, shipped_at: datetime,
                    owner: str | None = None, size: str | None = None, link: str | None = None,
                    unplanned: bool | None = None) -> ShipmentLogged:
    """Log one shipment; the same team, deliverable, title and time again updates it."""
    data = load_tempo(ws)
    team = resolve_team(ws, data, team)
    deliverable = resolve_kind(data, team, deliverable)
    shipment_id = f"manual-{entry_key(team, deliverable, title.strip(), shipped_at.isoformat())}"
    write_entry(ws, Entry("shipment", "shipments", {
        "shipment_id": shipment_id, "team": team, "deliverable": deliverable, "title": title,
        "owner_id": resolve_person(data, owner), "shipped_at": shipped_at.isoformat(),
        "size": (size or "").strip().lower() or None, "link": link, "unplanned": unplanned,
    }, "tempo-ship", shipment_id))
    return ShipmentLogged(shipment_id, team, deliverable, title)


def set_target(ws: Workspace, team: str, deliverable: str, count: int, period: str, *,
               valid_from: date | None = None, size: str | None = None, today: date | None = None) -> TargetSet:
    """A new version of a team's target, from `valid_from` on (default: the start of the period `today` is in);
    earlier periods keep the target they had."""
    data = load_tempo(ws)
    team = resolve_team(ws, data, team, new=True)
    size_text, deliverable = (size or "").strip().lower(), deliverable.strip()
    start = valid_from or ws.calendar.start_of(today or date.today(), period)  # type: ignore[arg-type]
    # an unsized version is stored with an empty size; one an import stored with no size (NULL) is the same version
    replaces = {"team": team, "deliverable": deliverable, "valid_from": start, "size": None} if not size_text else None
    write_entry(ws, Entry("tempo target", "tempo_targets", {
        "team": team, "deliverable": deliverable, "count": count, "period": period, "size": size_text,
        "valid_from": start.isoformat(),
    }, "tempo-target", entry_key(team, deliverable, size_text, start), replaces))
    return TargetSet(team, deliverable, count, period, size_text or None, start)


def record_review(ws: Workspace, team: str, deliverable: str, *, cause: str, action: str, owner: str | None,
                  due: date, period: str | None = None, size: str | None = None,
                  today: date | None = None) -> ReviewRecorded:
    """Record the gap conversation for a track's period (default: the latest one missed or at risk).

    The gap's target and actual are read from the tempo status, not typed in; `today` is the day of the
    review (default: today's date).
    """
    data = load_tempo(ws)
    team = resolve_team(ws, data, team)
    track = Track(team, deliverable, (size or "").strip().lower())
    if track not in set(tracks(data)):
        raise UnknownNameError(f"tempo target of {team}", track.label,
                               [t.label for t in tracks(data) if t.team == team] or ["(none)"])
    as_of = board_as_of(ws, data, today or date.today())  # a review is held now: the real clock, unless given
    status = track_status(data, track, ws.calendar, as_of)
    chosen = _period_for(status.periods, under_review(status, as_of), period)
    now = datetime.now(UTC).replace(tzinfo=None)
    if today is not None:  # a review held (or back-filled) on another day is recorded on that day
        now = datetime.combine(today, now.time())
    review_id = f"GR-{entry_key(team, track.label, chosen.label, now.date().isoformat())}"  # one a day per gap
    write_entry(ws, Entry("gap review", "gap_reviews", {
        "review_id": review_id, "kind": "tempo", "team": team, "period": chosen.label, "metric": track.label,
        "target": chosen.target, "actual": chosen.actual, "cause": cause, "action": action,
        "owner_id": resolve_person(data, owner), "due": due.isoformat(), "status": "open",
        "created_at": now.isoformat(),
    }, "tempo-review", review_id))
    return ReviewRecorded(review_id, team, track.label, chosen.label)


def _period_for(periods: list[Any], reviewed: list[Any], label: str | None) -> Any:
    if label is None:
        missing = [p for p in reviewed if p.status in ("missed", "at_risk")]
        if not reviewed:
            raise InputError("this track has no period yet", hint="its target starts later; pass --period")
        return (missing or reviewed)[-1]
    for candidate in periods:
        if candidate.label.upper() == label.strip().upper():
            return candidate
    raise UnknownNameError("period of this track", label, [p.label for p in periods[-12:]])


def close_review(ws: Workspace, review_id: str) -> ReviewClosed:
    """Mark a review's action done (next week's review then shows whether the gap closed)."""
    reviews = ws.table("gap_reviews")
    found = reviews.filter(reviews.review_id == review_id).to_pandas()
    if found.empty:
        known = ws.table("gap_reviews").review_id.to_pandas().tolist()
        raise UnknownNameError("gap review", review_id, known)
    row = found.iloc[0].to_dict()
    row.update(status="done", due=_iso(row["due"]), created_at=_iso(row["created_at"]),
               closed_at=_iso(row.get("closed_at")) or datetime.now(UTC).replace(tzinfo=None).isoformat())
    write_entry(ws, Entry("gap review", "gap_reviews", {k: v for k, v in row.items() if k != "source"},
                          "tempo-review", review_id))
    return ReviewClosed(review_id)


def _iso(value: Any) -> str | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).isoformat()
