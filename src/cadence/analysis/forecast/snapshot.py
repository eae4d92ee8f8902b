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
STATE = ["opportunity_id", "stage", "open_rank", "known_stage", "amount", "close_date", "is_won", "is_lost",
         "closed_since", "forecast_category"]


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

    Deals are matched to their history rows by position (`ForecastData.history_deal`), not by id: the
    backtest rebuilds hundreds of snapshots, and hashing every id again for each is most of its time.
    """
    moment = np.datetime64(as_timestamp(as_of))
    history = data.history
    changed = history["changed_at"].to_numpy()
    until = history["valid_until"].to_numpy()
    live = (changed < moment) & (np.isnat(until) | (until >= moment))
    created = (data.deals["created_at"] < as_timestamp(as_of)).to_numpy()
    covered = np.zeros(len(data.deals), dtype=bool)  # deals history places on that day, open or closed
    everyone = data.history_deal[live]
    covered[everyone[everyone >= 0]] = True
    if open_only:
        live &= ~data.history_closed
    rows = np.flatnonzero(live)
    position = data.history_deal[rows]
    keep = position >= 0
    keep[keep] = created[position[keep]]  # a row of a deal the snapshot holds (inner join on created deals)
    rows = rows[keep]
    current = history[STATE].take(rows)
    current = current.assign(stage_since=changed[rows], from_history=True)
    positions = [position[keep]]
    states = [current]
    missing = np.flatnonzero(created & ~covered)
    unplaced = len(missing)
    if len(missing):
        missing = missing[np.argsort(data.deals["opportunity_id"].to_numpy()[missing], kind="stable")]
        fallback = _fallback(data, data.deals.iloc[missing], pd.Timestamp(moment))
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
    and the deal's owner and product.

    From history where it shows the close; from the deal row for deals history has no close for.
    """
    history = data.history
    closing_rows = history[history["closed_since"].notna() & (history["closed_since"] == history["changed_at"])]
    from_history = pd.DataFrame({"opportunity_id": closing_rows["opportunity_id"].to_numpy(),
                                 "closed_at": closing_rows["changed_at"].to_numpy(),
                                 "is_won": closing_rows["is_won"].to_numpy(),
                                 "amount": closing_rows["amount"].to_numpy()})
    uncovered = data.deals[data.deals["closed_at"].notna()
                           & ~data.deals.index.isin(from_history["opportunity_id"])]
    from_rows = pd.DataFrame({"opportunity_id": uncovered["opportunity_id"].to_numpy(),
                              "closed_at": uncovered["closed_at"].to_numpy(),
                              "is_won": uncovered["is_won"].to_numpy(),
                              "amount": uncovered["final_amount"].to_numpy(dtype="float64")})
    both = pd.concat([from_history, from_rows], ignore_index=True)
    position = data.deals.index.get_indexer(pd.Index(both["opportunity_id"]))
    known = position >= 0
    for column in ("owner_id", "product"):  # read by every owner's record and every amount estimate
        values = np.full(len(both), None, dtype=object)
        values[known] = data.deals[column].to_numpy(dtype=object)[position[known]]
        both[column] = values
    return both.sort_values("closed_at", kind="stable").reset_index(drop=True)


def won_between(closes: pd.DataFrame, start: date, end: date) -> pd.DataFrame:
    """Deals won in [start, end): opportunity_id, closed_at, amount."""
    window = (closes["closed_at"] >= as_timestamp(start)) & (closes["closed_at"] < as_timestamp(end))
    return closes[window & closes["is_won"]].drop_duplicates("opportunity_id")
