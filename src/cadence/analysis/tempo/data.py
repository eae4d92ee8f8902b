"""The warehouse tables tempo reads, loaded once and normalised, so every later step is plain pandas.

Shipments, people and reviews are small next to deals and activities (a team ships tens of things a
week), so they are read whole; everything after this module is a pure function of `TempoData` and an
`as_of` date, which lets a test or a backfill ask "what did the board say on that Monday?" without
reading the warehouse again.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cadence.metrics.relations import TableSource

NO_SIZE = ""  # a target or shipment whose size does not matter


@dataclass(frozen=True)
class TempoData:
    """targets: team, deliverable, size, count, period, valid_from (datetime64, midnight).
    shipments: team, deliverable, size, owner_id, shipped_at, unplanned (None when not recorded).
    people: person_id, name, team, role, hired_at, left_at.
    reviews: the gap_reviews table as stored.
    """

    targets: pd.DataFrame
    shipments: pd.DataFrame
    people: pd.DataFrame
    reviews: pd.DataFrame


def _text(values: pd.Series) -> pd.Series:
    return values.astype("object").where(values.notna(), NO_SIZE).map(lambda v: str(v).strip())


def _day(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values).astype("datetime64[us]")


def load_tempo(tables: TableSource) -> TempoData:
    """Read targets, shipments, people and gap reviews from `tables` (e.g. a Workspace)."""
    targets = tables.table("tempo_targets").select("team", "deliverable", "size", "count", "period",
                                                   "valid_from").to_pandas()
    targets["size"] = _text(targets["size"]).str.lower()
    targets["valid_from"] = _day(targets["valid_from"])
    targets["count"] = targets["count"].astype("int64")
    shipments = tables.table("shipments").select("shipment_id", "team", "deliverable", "size", "owner_id",
                                                 "shipped_at", "unplanned").to_pandas()
    shipments["size"] = _text(shipments["size"]).str.lower()
    shipments["shipped_at"] = _day(shipments["shipped_at"])
    shipments["unplanned"] = shipments["unplanned"].astype("object").where(shipments["unplanned"].notna(), None)
    people = tables.table("people").select("person_id", "name", "team", "role", "hired_at", "left_at").to_pandas()
    people["hired_at"] = _day(people["hired_at"])
    people["left_at"] = _day(people["left_at"])
    reviews = tables.table("gap_reviews").to_pandas()
    reviews["due"] = _day(reviews["due"])
    reviews["created_at"] = _day(reviews["created_at"])
    return TempoData(targets, shipments.sort_values("shipped_at", kind="stable").reset_index(drop=True),
                     people, reviews)
