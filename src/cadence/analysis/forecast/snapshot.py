"""The pipeline as it was known on a past date, rebuilt from opportunity history — with no look-ahead.

For an as-of date d (meaning: the start of day d, so everything recorded before d), each deal created
before d takes its stage, amount and expected close date from its latest history row before d. It is
open unless that row is a won or lost stage. A deal that history does not cover by d (created before d,
first history row later or none at all) falls back to the deal row only for facts the row can prove
were known on d: closed if its closed_at is before d (won and amount as the row says), otherwise open
in its pipeline's first stage with amount and close date unknown. Such deals are counted, so reports can
say how much of the picture is fallback.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

from cadence.analysis.forecast.data import ForecastData, as_timestamp

STATIC = ["pipeline", "owner_id", "segment", "kind", "product", "created_at"]


@dataclass
class Snapshot:
    """Every deal created before `as_of`, in the state history shows for it then."""

    as_of: date
    deals: pd.DataFrame  # STATIC + STATE + is_open, from_history
    unplaced: int = 0  # deals created before `as_of` that history does not place then, open or closed

    @property
    def open(self) -> pd.DataFrame:
        return self.deals[self.deals["is_open"]]

    @property
    def unknown_stage_count(self) -> int:
        return int((self.deals["is_open"] & ~self.deals["known_stage"]).sum())


def pipeline_as_of(data: ForecastData, as_of: date, *, open_only: bool = False) -> Snapshot:
    """The pipeline at the start of `as_of`; with `open_only`, only the deals open then (what a forecast and a
    replayed lesson need: a few thousand of the hundreds of thousands of deals a large CRM has created by then).
    Either way `unplaced` counts every deal created by then that only its deal row places, open or closed.

    The engine returns each deal's span of history holding the moment (`states.py`); a deal history does not
    place yet (no row before the moment) is placed by what its deal row proves.
    """
    moment = as_timestamp(as_of)
    current = data.states.at(moment, open_only=open_only)
    position = data.positions(current["opportunity_id"])
    created = (data.deals["created_at"] < moment).to_numpy()
    keep = position >= 0
    keep[keep] = created[position[keep]]  # a span of a deal the snapshot holds (inner join on created deals)
    current = current[keep].assign(from_history=True)
    positions = [position[keep]]
    states = [current]
    covered = (data.deals["first_seen"] < moment).to_numpy()  # deals history places then, open or closed
    missing = np.flatnonzero(created & ~covered)
    unplaced = len(missing)
    if len(missing):
        missing = missing[np.argsort(data.deals["opportunity_id"].to_numpy()[missing], kind="stable")]
        fallback = _fallback(data, data.deals.iloc[missing], moment)
        if open_only:
            still_open = ~(fallback["is_won"].to_numpy() | fallback["is_lost"].to_numpy())
            fallback, missing = fallback[still_open], missing[still_open]
        states.append(fallback)
        positions.append(missing)
    frame = pd.concat(states, ignore_index=True) if len(states) > 1 else current.reset_index(drop=True)
    static = data.deals[STATIC].iloc[np.concatenate(positions)].reset_index(drop=True)
    frame = pd.concat([frame, static], axis=1)
    frame["is_open"] = ~(frame["is_won"] | frame["is_lost"])
    return Snapshot(as_of, frame, unplaced)


def _fallback(data: ForecastData, deals: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """Deals created before `moment` that history does not cover yet: only what the deal row proves."""
    closed = deals["closed_at"].notna() & (deals["closed_at"] < moment)
    won = closed & deals["is_won"]
    first_open = data.stages.dropna(subset=["open_rank"]).sort_values("open_rank").drop_duplicates("pipeline")
    first_stage = deals["pipeline"].map(first_open.set_index("pipeline")["stage"])
    return pd.DataFrame({
        "opportunity_id": deals["opportunity_id"].to_numpy(),
        "stage": first_stage.where(~closed).to_numpy(dtype=object),
        "open_rank": np.where(closed, np.nan, 1.0),
        "known_stage": (~closed & first_stage.notna()).to_numpy() | closed.to_numpy(),
        "amount": np.where(closed, deals["final_amount"].to_numpy(dtype="float64"), np.nan),
        "close_date": deals["closed_at"].where(closed).to_numpy(dtype="datetime64[us]"),
        "stage_since": deals["created_at"].to_numpy(),
        "is_won": won.to_numpy(),
        "is_lost": (closed & ~deals["is_won"]).to_numpy(),
        "closed_since": deals["closed_at"].where(closed).to_numpy(),
        "forecast_category": None,  # what the CRM's category was then is not known without history
        "from_history": False,
    })


def closings(data: ForecastData) -> pd.DataFrame:
    """Each deal's closing (the moment it entered a won or lost stage), with whether it was won and for how much,
    and the deal's owner and product, in the order they closed.

    From history where it shows the close; from the deal row for deals history has no close for.
    """
    both = data.closing_rows.sort_values(["closed_at", "opportunity_id"], kind="stable").reset_index(drop=True)
    position = data.positions(both["opportunity_id"])
    known = position >= 0
    for column in ("owner_id", "product"):  # read by every owner's record and every amount estimate
        values = np.full(len(both), None, dtype=object)
        values[known] = data.deals[column].to_numpy(dtype=object)[position[known]]
        both[column] = values
    return both


def won_between(closes: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Deals won in [start, end): opportunity_id, closed_at, amount."""
    window = (closes["closed_at"] >= as_timestamp(start)) & (closes["closed_at"] < as_timestamp(end))
    return closes[window & closes["is_won"]].drop_duplicates("opportunity_id")
