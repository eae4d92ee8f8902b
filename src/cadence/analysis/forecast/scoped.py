"""The company's forecast on a date, split by deal owner, so one manager's team gets its own share of it.

A forecast is a sum over deals: what was booked before the as-of day, each open deal's probability × value,
and the deals not created yet (the run-rate of the same stretch of past quarters). Each part can be summed
over one team's deals honestly — the same model, the same probabilities, only fewer deals — so a team's
stage-weighted and model forecasts are the company's, restricted to the deals its people own; the run-rate
is the team's own past stretches. The replay of the company (the expensive part: a snapshot and a fitted
model) is done once per checkpoint and shared by every team.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from cadence.analysis.forecast.data import as_timestamp
from cadence.analysis.forecast.quarter import Forecaster
from cadence.analysis.forecast.run_rate import run_rate
from cadence.analysis.forecast.snapshot import won_between

MODEL = "win_model"


@dataclass
class CompanyReplay:
    """One checkpoint replayed for the whole company: per open deal, each method's expectation; what each owner
    had booked; and the quarter it belongs to."""

    start: date
    end: date
    as_of: date
    open_deals: pd.DataFrame  # opportunity_id, owner_id, stage_weighted, model (expected value; NaN: no model)
    booked: pd.DataFrame  # owner_id, amount: won in [start, as_of)
    has_model: bool
    stretches: dict[tuple[date, int], pd.Series | None]  # shared by every replay of one forecaster

    def for_owners(self, owners: Collection[str], forecaster: Forecaster) -> tuple[float, float | None]:
        """(stage-weighted, model) forecasts of the quarter for the deals `owners` own."""
        mine = self.open_deals[self.open_deals["owner_id"].isin(owners)]
        booked = float(self.booked.loc[self.booked["owner_id"].isin(owners), "amount"].sum())
        weighted = booked + float(mine["stage_weighted"].sum())
        if not self.has_model:
            return weighted, None
        return weighted, booked + float(mine["model"].sum()) + self._new_deals(owners, forecaster)

    def _new_deals(self, owners: Collection[str], forecaster: Forecaster) -> float:
        """The owners' run-rate of deals created after the checkpoint and won within the quarter."""
        if self.as_of >= self.end:
            return 0.0
        offset = (self.as_of - self.start).days
        stretches = [_stretch(self.stretches, forecaster, q, offset) for q in forecaster.past(self.start)]
        return run_rate([None if s is None else float(s[s.index.isin(owners)].sum()) for s in stretches]).expected


def _stretch(cache: dict[tuple[date, int], pd.Series | None], forecaster: Forecaster, quarter: tuple[date, date],
             offset: int) -> pd.Series | None:
    """Per owner, what deals created `offset` days or more into `quarter` and won by its end brought (None: the
    data does not cover that stretch) — the same stretch `run_rate.new_deal_bookings` sums for the company."""
    key = (quarter[0], offset)
    if key not in cache:
        start, end = quarter
        moment = start + timedelta(days=offset)
        if moment >= end or start < forecaster.data.first_day:
            cache[key] = None
        else:
            won = won_between(forecaster.closes, moment, end)
            created = won["opportunity_id"].map(forecaster.data.deals["created_at"])
            fresh = won[created >= as_timestamp(moment)]
            cache[key] = fresh["amount"].fillna(0.0).groupby(fresh["owner_id"]).sum()
    return cache[key]


def replay_company(forecaster: Forecaster, start: date, offset: int,
                   stretches: dict[tuple[date, int], pd.Series | None] | None = None) -> CompanyReplay:
    """The company at `offset` days into the quarter starting `start`, per deal (`stretches`: a cache shared
    with the other replays of the same forecaster)."""
    end = forecaster.calendar.next_start(start, "quarter")
    as_of = min(start + timedelta(days=offset), end)
    open_deals, outlooks = forecaster.deal_outlooks(as_of, start)
    weighted = outlooks["stage_weighted"]
    frame = pd.DataFrame({"opportunity_id": open_deals["opportunity_id"].to_numpy(),
                          "owner_id": open_deals["owner_id"].to_numpy(),
                          "stage_weighted": weighted.probability * weighted.value})
    model = outlooks.get(MODEL)
    frame["model"] = model.probability * model.value if model is not None else np.nan
    won = won_between(forecaster.closes, start, as_of)
    booked = pd.DataFrame({"owner_id": won["owner_id"].to_numpy(),
                           "amount": won["amount"].astype("float64").fillna(0.0).to_numpy()})
    return CompanyReplay(start, end, as_of, frame, booked, model is not None, {} if stretches is None else stretches)
