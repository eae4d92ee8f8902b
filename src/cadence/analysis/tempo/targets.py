"""What good looks like: each team's agreed output per period, versioned by `valid_from`.

A *track* is one team's deliverable of one size ("Product · launch", "Product · big launch"). Its
targets are versions: a version applies to every period of its grain that **starts on or after its
valid_from**, until the next version's valid_from. So a target changed today never rewrites a period
that had already begun: past weeks, months and quarters keep the target they were run against.

Which shipments a track counts: a sized track (size "big") counts shipments of that size; the unsized
track of the same team and deliverable counts every other shipment. "Two launches a month and one big
launch a quarter" are two promises, and the big launch is counted under its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cadence.analysis.tempo.data import NO_SIZE, TempoData
from cadence.metrics.calendar import FiscalCalendar, Grain

PERIOD_GRAINS: tuple[Grain, ...] = ("week", "month", "quarter")


@dataclass(frozen=True)
class Track:
    """One team's deliverable of one size: the unit a target, a status and a diagnosis are about."""

    team: str
    deliverable: str
    size: str = NO_SIZE

    @property
    def label(self) -> str:
        """How people say it: 'launch', 'big launch'."""
        return f"{self.size} {self.deliverable}" if self.size else self.deliverable


@dataclass(frozen=True)
class TargetVersion:
    count: int
    grain: Grain
    valid_from: date


@dataclass(frozen=True)
class Period:
    """One period of a track, with the target in force when it started."""

    label: str
    start: date
    end: date  # exclusive
    grain: Grain
    target: int


def tracks(data: TempoData) -> list[Track]:
    """Every track that has a target, in a stable order."""
    keys = data.targets[["team", "deliverable", "size"]].drop_duplicates()
    return [Track(t, d, s) for t, d, s in sorted(keys.itertuples(index=False, name=None))]


def versions(data: TempoData, track: Track) -> list[TargetVersion]:
    """The track's target versions, oldest first (a repeated valid_from keeps its last row)."""
    rows = data.targets[(data.targets["team"] == track.team) & (data.targets["deliverable"] == track.deliverable)
                        & (data.targets["size"] == track.size)]
    rows = rows.sort_values("valid_from", kind="stable").drop_duplicates("valid_from", keep="last")
    return [TargetVersion(int(c), g, pd.Timestamp(v).date())
            for c, g, v in zip(rows["count"], rows["period"], rows["valid_from"], strict=True)]


def periods_until(track_versions: list[TargetVersion], calendar: FiscalCalendar, as_of: date) -> list[Period]:
    """Every period that has begun before `as_of`, each with the version in force at its start."""
    out: list[Period] = []
    for index, version in enumerate(track_versions):
        stop = track_versions[index + 1].valid_from if index + 1 < len(track_versions) else as_of
        stop = min(stop, as_of)
        start = calendar.start_of(version.valid_from, version.grain)
        if start < version.valid_from:
            start = calendar.next_start(start, version.grain)
        while start < stop:
            end = calendar.next_start(start, version.grain)
            out.append(Period(calendar.label(start, version.grain), start, end, version.grain, version.count))
            start = end
    return out


def target_on(track_versions: list[TargetVersion], day: date) -> TargetVersion | None:
    """The version in force on `day` (the last one whose valid_from is on or before it)."""
    current = None
    for version in track_versions:
        if version.valid_from <= day:
            current = version
    return current


def counted_days(data: TempoData, track: Track) -> np.ndarray:
    """Sorted shipment times (datetime64) that count toward `track` (see the module's rule on sizes)."""
    rows = data.shipments[(data.shipments["team"] == track.team)
                          & (data.shipments["deliverable"] == track.deliverable)]
    rows = rows[counts_toward(rows["size"], track, sized_tracks(data, track))]
    return np.sort(rows["shipped_at"].to_numpy(dtype="datetime64[us]"))


def sized_tracks(data: TempoData, track: Track) -> set[str]:
    """Sizes with a target of their own for the same team and deliverable."""
    mine = data.targets[(data.targets["team"] == track.team) & (data.targets["deliverable"] == track.deliverable)]
    return set(mine["size"]) - {NO_SIZE}


def counts_toward(sizes: pd.Series, track: Track, own_targets: set[str]) -> pd.Series:
    """Which shipments (by their size) count toward `track`, given the sizes that have targets of their own."""
    if track.size:
        return sizes == track.size
    return ~sizes.isin(own_targets)
