"""The hiring pipeline: which roles are open and how far their candidates have got.

A role is open while it has candidates interviewing or holding an offer. Counts come straight from
`candidates.status`; days open is measured from the earliest application still in play.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import pandas as pd

OPEN_STATUSES = ("interviewing", "offered")
STATUSES = ("interviewing", "offered", "hired", "rejected", "withdrawn")


@dataclass(frozen=True)
class OpenRole:
    role: str
    interviewing: int
    offered: int
    days_open: int | None  # since the earliest application still in play

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Pipeline:
    open_roles: list[OpenRole]
    by_status: dict[str, int]  # candidates who applied in the window, by status
    window_start: date
    as_of: date
    hires: int = 0
    applied: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"open_roles": [r.as_dict() for r in self.open_roles], "by_status": self.by_status,
                "window_start": self.window_start.isoformat(), "as_of": self.as_of.isoformat(),
                "hires": self.hires, "applied": self.applied}


def hiring_pipeline(candidates: pd.DataFrame, *, as_of: date, window_start: date) -> Pipeline:
    """Open roles now, and the candidates who applied from `window_start` up to `as_of` by status."""
    frame = candidates.copy()
    frame["applied_at"] = pd.to_datetime(frame["applied_at"])
    frame["status"] = frame["status"].fillna("unknown").astype(str)
    frame["role"] = frame["role"].fillna("(no role)").astype(str)
    before = frame[frame["applied_at"].isna() | (frame["applied_at"] < pd.Timestamp(as_of))]
    in_play = before[before["status"].isin(OPEN_STATUSES)]
    roles = []
    for role, group in in_play.groupby("role", sort=True):
        first = group["applied_at"].min()
        roles.append(OpenRole(str(role), int((group["status"] == "interviewing").sum()),
                              int((group["status"] == "offered").sum()),
                              None if pd.isna(first) else (pd.Timestamp(as_of) - first).days))
    window = before[before["applied_at"] >= pd.Timestamp(window_start)]
    counts = window["status"].value_counts()
    by_status = {s: int(counts.get(s, 0)) for s in STATUSES}
    by_status.update({str(s): int(n) for s, n in counts.items() if s not in STATUSES})
    return Pipeline(roles, by_status, window_start, as_of, hires=by_status.get("hired", 0), applied=len(window))
