"""Every version of every tempo target, oldest first: what `cadence tempo target` lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cadence.analysis.tempo.data import TempoData


@dataclass(frozen=True)
class TargetVersions:
    """One row per version: team, deliverable, size (None when it does not matter), count, per, valid_from."""

    rows: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {"targets": self.rows}


def target_versions(data: TempoData) -> TargetVersions:
    frame = data.targets.sort_values(["team", "deliverable", "size", "valid_from"], kind="stable")
    columns = frame[["team", "deliverable", "size", "count", "period", "valid_from"]]
    return TargetVersions([{"team": t, "deliverable": d, "size": s or None, "count": int(c), "per": p,
                            "valid_from": v.date().isoformat()}
                           for t, d, s, c, p, v in columns.itertuples(index=False, name=None)])
