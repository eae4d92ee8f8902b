"""What changed since last week: each figure of this week's snapshot beside last week's, worsenings first.

Figures are matched by their section, label and team. A figure whose status got worse (on track → off track)
leads; then improvements, figures new this week, figures gone, and values that moved without a change of
status, largest relative move first. When the two snapshots were computed by different metric definitions or
KPI rules, the result says so: the figures may differ because the definitions did.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cadence.review.snapshots import Snapshot

SEVERITY = {"on_track": 0, "at_risk": 1, "off_track": 2}  # no_target / no_data are not judged
ORDER = {"worse": 0, "better": 1, "new": 2, "gone": 3, "moved": 4}
DEFINITIONS_NOTE = "figures are computed by changed definitions"


@dataclass(frozen=True)
class Change:
    """One figure, last week → this week."""

    section: str
    label: str
    team: str | None
    metric: str | None
    unit: str | None
    kind: str  # worse, better, new, gone, moved
    before: float | None
    after: float | None
    delta: float | None  # after − before
    relative: float | None  # delta ÷ |before|
    status_before: str | None
    status_after: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Changes:
    """The changes between two snapshots; iterates like a list of `Change`."""

    changes: list[Change] = field(default_factory=list)
    definitions_changed: bool = False
    note: str | None = None
    week: str | None = None
    previous_week: str | None = None

    def __iter__(self) -> Iterator[Change]:
        return iter(self.changes)

    def __len__(self) -> int:
        return len(self.changes)

    def __getitem__(self, index: int) -> Change:
        return self.changes[index]

    def as_dict(self) -> dict[str, Any]:
        return {"week": self.week, "previous_week": self.previous_week,
                "definitions_changed": self.definitions_changed, "note": self.note,
                "changes": [c.as_dict() for c in self.changes]}


def what_changed(current: Snapshot, previous: Snapshot | None) -> Changes:
    """Every figure that moved, changed status, appeared or went away since `previous` (none: nothing to say)."""
    if previous is None:
        return Changes(week=current.week)
    before = _by_key(previous.figures())
    after = _by_key(current.figures())
    found = [change for key in [*after, *(k for k in before if k not in after)]
             if (change := _compare(key, before.get(key), after.get(key))) is not None]
    found.sort(key=lambda c: (ORDER[c.kind], -abs(c.relative) if c.relative is not None else 0.0))
    changed = current.definitions_version != previous.definitions_version
    return Changes(found, changed, DEFINITIONS_NOTE if changed else None, current.week, previous.week)


def _by_key(figures: list[dict[str, Any]]) -> dict[tuple[str, str, str | None], dict[str, Any]]:
    return {(str(f.get("section")), str(f.get("label")), f.get("team")): f for f in figures}


def _compare(key: tuple[str, str, str | None], old: dict[str, Any] | None,
             new: dict[str, Any] | None) -> Change | None:
    shown = new or old
    assert shown is not None
    was, now = _number(old, "value"), _number(new, "value")
    status_before = old.get("status") if old else None
    status_after = new.get("status") if new else None
    kind: str | None
    if old is None:
        kind = "new"
    elif new is None:
        kind = "gone"
    else:
        kind = _kind(status_before, status_after, was, now)
    if kind is None:
        return None
    delta = now - was if now is not None and was is not None else None
    relative = delta / abs(was) if delta is not None and was else None
    return Change(key[0], key[1], key[2], shown.get("metric"), shown.get("unit"), kind, was, now, delta, relative,
                  status_before, status_after)


def _kind(status_before: str | None, status_after: str | None, was: float | None, now: float | None) -> str | None:
    rank_before, rank_after = SEVERITY.get(status_before or ""), SEVERITY.get(status_after or "")
    if rank_before is not None and rank_after is not None and rank_before != rank_after:
        return "worse" if rank_after > rank_before else "better"
    if status_before != status_after:
        return "worse" if rank_after is not None and rank_after > 0 else "moved"
    return None if was == now else "moved"


def _number(figure: dict[str, Any] | None, name: str) -> float | None:
    value = None if figure is None else figure.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
