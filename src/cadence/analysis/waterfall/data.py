"""What the waterfall reads, once: every deal's history in one currency, in whole cents, with its stage's outcome.

A history row carries the deal's whole state from `changed_at` until the next row (`valid_until`): a row
that leaves amount or close date empty keeps the value the deal had (a CRM records only what changed).
Amounts are converted at the rate of their deal (metrics/money.py `convert_history`: a deal's amount
changes are the rep's, never the exchange rate's) and rounded to whole cents, so every sum is exact.
A deal is "created" when `opportunities.created_at` says, else at its first history row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.errors import MissingDataError
from cadence.metrics.money import convert_history, reporting_currency, require_rates
from cadence.metrics.relations import TableSource, deals

DIMENSIONS = ("team", "owner_name", "segment")
DEAL_COLUMNS = ("opportunity_id", "name", "pipeline", "created_at", *DIMENSIONS)
HISTORY_COLUMNS = ("opportunity_id", "changed_at", "stage", "amount", "close_date")


@dataclass
class WaterfallData:
    """Deals (indexed by opportunity_id) and their history rows, each with the moment the next one replaced it."""

    deals: pd.DataFrame  # name, owner_name, team, segment, pipeline, created_at
    history: pd.DataFrame  # opportunity_id, changed_at, valid_until, stage, cents, close_date, is_won, is_lost
    currency: str


def load_waterfall_data(tables: TableSource, *, active_since: date | None = None,
                        touching: tuple[date, date] | None = None) -> WaterfallData:
    """Read deals and history once. `active_since` (the scorecard's week) skips deals whose CRM row says they
    closed before that day: they cannot move any more, and the scorecard stays cheap. `touching` (a period's
    first and last day) reads only deals the engine finds with a history row dated in it (its close date, else
    the day it was recorded): a deal with none can neither be in that period's pipeline nor close in it, and a
    quarter's waterfall reads its own deals' history, not the company's."""
    relation = deals(tables)
    if active_since is not None:
        relation = relation.filter(relation.closed_at.isnull()
                                   | (relation.closed_at >= ibis.timestamp(pd.Timestamp(active_since))))
    require_rates(relation, tables)  # one currency, or no waterfall (MissingRatesError names the currencies)
    if touching is not None:
        relation = relation.semi_join(_dated_in(tables, *touching), "opportunity_id")
    frame = relation.select(*DEAL_COLUMNS).to_pandas()
    history = convert_history(tables.table("opportunity_history"), relation)
    history = history.semi_join(relation.select("opportunity_id"), "opportunity_id")
    rows = history.select(*HISTORY_COLUMNS).to_pandas()
    if rows.empty and active_since is None and _no_history(tables):  # not merely none dated in the period
        raise MissingDataError("the pipeline waterfall needs opportunity_history (each deal's stage, amount and close "
                               "date over time), and the table is empty",
                               hint="import a CRM export that includes stage history")
    stages = tables.table("stages").select("pipeline", "stage", "is_won", "is_lost").to_pandas()
    deal_rows = _deals(frame, rows)
    return WaterfallData(deal_rows, _history(rows, deal_rows, stages), reporting_currency(tables))


def _no_history(tables: TableSource) -> bool:
    history = tables.table("opportunity_history")
    return int(history.limit(1).count().execute()) == 0


def _dated_in(tables: TableSource, first: date, last: date) -> Any:
    """The deals with a history row whose close date (else the day it was recorded) falls in [first, last]: every
    deal `touching` keeps, since a row's carried-forward close date is an earlier row's own, and a few more."""
    history = tables.table("opportunity_history")
    day = ibis.coalesce(history.close_date, history.changed_at.date())
    return history.filter((day >= first) & (day <= last)).select("opportunity_id").distinct()


def _deals(frame: pd.DataFrame, history: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(opportunity_id=frame["opportunity_id"].astype(object))
    frame = frame.drop_duplicates("opportunity_id").set_index("opportunity_id")
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[us]")
    first_seen = pd.to_datetime(history.groupby("opportunity_id")["changed_at"].min()).astype("datetime64[us]")
    frame["created_at"] = frame["created_at"].fillna(first_seen.reindex(frame.index))
    for column in ("name", "owner_name", "team", "segment", "pipeline"):
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    return frame


def _history(rows: pd.DataFrame, deal_rows: pd.DataFrame, stages: pd.DataFrame) -> pd.DataFrame:
    history = rows.copy()
    for column in ("opportunity_id", "stage"):  # plain strings: quicker to look up and to take than Arrow's
        history[column] = history[column].astype(object)
    history["changed_at"] = pd.to_datetime(history["changed_at"]).astype("datetime64[us]")
    history["close_date"] = pd.to_datetime(history["close_date"]).astype("datetime64[us]")
    history["amount"] = pd.to_numeric(history["amount"], errors="coerce").astype("float64")
    history = history.sort_values(["opportunity_id", "changed_at"], kind="stable").reset_index(drop=True)
    grouped = history.groupby("opportunity_id", sort=False)
    history["amount"] = grouped["amount"].ffill()
    history["close_date"] = grouped["close_date"].ffill()
    history["valid_until"] = grouped["changed_at"].shift(-1)
    history["cents"] = np.round(history["amount"].fillna(0.0).to_numpy() * 100).astype("int64")
    history["pipeline"] = history["opportunity_id"].map(deal_rows["pipeline"]).astype("object")
    facts = stages.drop_duplicates(["pipeline", "stage"]).set_index(["pipeline", "stage"])[["is_won", "is_lost"]]
    joined = history.join(facts, on=["pipeline", "stage"])
    joined["is_won"] = joined["is_won"].astype("boolean").fillna(False).astype(bool)
    joined["is_lost"] = joined["is_lost"].astype("boolean").fillna(False).astype(bool)
    return joined.drop(columns=["amount", "pipeline"])


def live_at(history: pd.DataFrame, moment: Any) -> pd.DataFrame:
    """Each deal's state at `moment` (a timestamp): its latest history row before it, indexed by opportunity_id."""
    at = pd.Timestamp(moment)
    mask = (history["changed_at"] < at) & (history["valid_until"].isna() | (history["valid_until"] >= at))
    return history.loc[mask].set_index("opportunity_id")
