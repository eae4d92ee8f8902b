"""What every forecast method reads from the warehouse: deals, their history as spans, stages, activity.

The forecast replays the pipeline on many past dates (the backtest asks for dozens of snapshots). The deals are
read once (one row each, only the columns the methods use); their stage history stays in the engine, kept once
per version of the data as spans of time (`states.py`), and each snapshot asks it for the spans that hold its
date: the deals open then, never the history itself. Times are naive UTC timestamps throughout.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.forecast.states import HistoryStates
from cadence.analysis.spans import dated, kept_spans, stage_facts
from cadence.errors import MissingDataError
from cadence.metrics.money import require_rates
from cadence.metrics.relations import TableSource, deals

DEAL_COLUMNS = ("opportunity_id", "pipeline", "owner_id", "segment", "kind", "product", "created_at", "closed_at",
                "is_won", "amount_value")


class ForecastDataError(MissingDataError):
    """The workspace lacks what the forecast needs (deals, or their stage history)."""


@dataclass
class ForecastData:
    """The deals (static attributes), their history as spans in the engine, stages, and deal-linked activity."""

    deals: pd.DataFrame  # one row per opportunity, indexed by opportunity_id; `first_seen`: its first history row
    states: HistoryStates  # the deals' spans of history, asked per as-of date
    stages: pd.DataFrame  # pipeline, stage, position, probability, is_won, is_lost, open_rank
    activity: pd.DataFrame  # opportunity_id, occurred_at (a day), activities: logged against the deal that day
    last_change: pd.Timestamp  # the latest history row's time
    closes: Any  # every close, as an engine table (opportunity_id, closed_at, is_won, amount): see `closing_rows`
    undated: int = 0  # deals with no created_at and no history row: no replay can place them in time

    @cached_property
    def closing_rows(self) -> pd.DataFrame:
        """Each deal's close, one row per deal: from history where it shows the close, else from the deal row."""
        frame = self.closes.to_pandas()
        frame["closed_at"] = pd.to_datetime(frame["closed_at"]).astype("datetime64[us]")
        frame["amount"] = pd.to_numeric(frame["amount"], errors="coerce").astype("float64")
        frame["is_won"] = frame["is_won"].astype(bool)
        return frame

    @cached_property
    def deal_index(self) -> pd.Index:
        """The deals' ids as plain Python strings, hashed once: every snapshot finds its deals' rows by it."""
        return pd.Index(self.deals["opportunity_id"].to_numpy(dtype=object), dtype=object)

    def positions(self, ids: pd.Series) -> np.ndarray:
        """Each id's row in `deals` (-1: a deal the deals table lacks)."""
        return self.deal_index.get_indexer(pd.Index(ids.to_numpy(dtype=object), dtype=object))

    @cached_property
    def stage_reach(self) -> pd.DataFrame:
        """pipeline, stage, closed_on, won, deals: how many closed deals had reached each stage, by day and outcome
        (asked only when a stage has no CRM probability)."""
        return self.states.reached(self.closes)

    @property
    def first_day(self) -> date:
        return pd.Timestamp(self.deals["created_at"].min()).date()

    @property
    def end(self) -> date:
        """The first day the data does not cover: the day after the last creation, change or close."""
        last = max(self.deals["created_at"].max(), self.last_change,
                   self.deals["closed_at"].max() if self.deals["closed_at"].notna().any() else pd.NaT)
        return pd.Timestamp(last).date() + timedelta(days=1)


def load_forecast_data(tables: TableSource) -> ForecastData:
    """Read what the forecast needs; a clear error naming the missing table when it cannot be done."""
    relation = deals(tables)
    require_rates(relation, tables)  # amounts in one currency, or no forecast
    frame = dated(relation, tables, DEAL_COLUMNS).to_pandas()
    if frame.empty:
        raise ForecastDataError("the forecast needs deals, and the opportunities table is empty",
                                hint="import a CRM export first (`cadence ingest … --from salesforce|hubspot|maven`)")
    history = tables.table("opportunity_history")
    counted = history.aggregate(rows=history.count(), last=history.changed_at.max()).to_pandas()
    if not int(counted["rows"].iloc[0]):
        raise ForecastDataError(
            "the forecast needs opportunity_history (each deal's stage, amount and close date over time) to rebuild "
            "the pipeline as it stood on past dates, and the table is empty",
            hint="import a CRM export that includes stage history")
    stages = stage_facts(tables)
    rows = kept_spans(tables, stages)
    deal_rows = _deals(frame)
    return ForecastData(deal_rows, HistoryStates(rows), stages, _activity(tables),
                        pd.Timestamp(counted["last"].iloc[0]), _closes(rows, relation),
                        undated=int(deal_rows["created_at"].isna().sum()))


def _closes(rows: Any, relation: Any) -> Any:
    """Every deal's close: where history shows it (`analysis/spans.py` says which), else the deal row's."""
    shown = rows.filter(rows.closed_since == rows.changed_at)
    shown = shown.select("opportunity_id", closed_at=shown.changed_at.cast("timestamp"), is_won=shown.is_won,
                         amount=shown.amount)
    dated = relation.filter(relation.closed_at.notnull())
    rest = dated.anti_join(shown, dated.opportunity_id == shown.opportunity_id)
    rest = rest.select("opportunity_id", closed_at=rest.closed_at.cast("timestamp"),
                       is_won=rest.is_won.fill_null(False), amount=rest.amount_value.cast("float64"))
    return shown.union(rest)


def _deals(frame: pd.DataFrame) -> pd.DataFrame:
    """One row per deal, dated as `spans.dated` says; an undated deal is in no snapshot."""
    frame = frame.rename(columns={"amount_value": "final_amount"})
    for column in ("created_at", "closed_at", "first_seen"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    frame["is_won"] = frame["is_won"].fillna(False).astype(bool)
    for column in ("pipeline", "owner_id", "segment", "kind", "product"):
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    frame = frame.sort_values("opportunity_id", kind="stable")  # one order, whatever order the engine returns
    return frame.drop_duplicates("opportunity_id").set_index("opportunity_id", drop=False)


def _activity(tables: TableSource) -> pd.DataFrame:
    """Activities logged against each deal, counted per day by the engine: forecasts ask how many fell in
    the 30 days before a date, and a date means midnight, so a day's count is all they need."""
    acts = tables.table("activities")
    acts = acts.filter(acts.opportunity_id.notnull() & acts.occurred_at.notnull())
    daily = acts.group_by(opportunity_id=acts.opportunity_id, occurred_at=acts.occurred_at.truncate("D")) \
        .aggregate(activities=acts.count()).to_pandas()
    daily["occurred_at"] = pd.to_datetime(daily["occurred_at"]).astype("datetime64[us]")
    daily["activities"] = daily["activities"].astype("int64")
    return daily.sort_values(["occurred_at", "opportunity_id"]).reset_index(drop=True)


def as_timestamp(day: date) -> pd.Timestamp:
    """The first instant of `day`: an as-of date means everything recorded before that day began."""
    return pd.Timestamp(day)
