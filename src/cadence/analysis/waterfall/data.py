"""What the waterfall reads, once: its deals, and their history spans in one currency, in whole cents.

Each deal's history comes as spans of time (`analysis/spans.py`): a row carries the deal's whole state from
`changed_at` until `valid_until`, what a CRM row leaves empty carried from the deal's earlier rows, amounts
converted at the rate of their deal (a deal's amount changes are the rep's, never the exchange rate's); here
rounded to whole cents, so every sum is exact. For a period only the spans that overlap it are read. A deal is
"created" when `opportunities.created_at` says, else at its first history row (`spans.dated`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.analysis.spans import dated, kept_spans
from cadence.errors import MissingDataError
from cadence.metrics.money import reporting_currency, require_rates
from cadence.metrics.relations import TableSource, deals

DIMENSIONS = ("team", "owner_name", "segment")
DEAL_COLUMNS = ("opportunity_id", "name", "pipeline", "created_at", *DIMENSIONS)
SPAN_COLUMNS = ("opportunity_id", "changed_at", "valid_until", "stage", "amount", "close_date", "is_won", "is_lost")


@dataclass
class WaterfallData:
    """Deals (indexed by opportunity_id) and their history rows, each with the moment the next one replaced it."""

    deals: pd.DataFrame  # name, owner_name, team, segment, pipeline, created_at
    history: pd.DataFrame  # opportunity_id, changed_at, valid_until, stage, cents, close_date, is_won, is_lost
    currency: str


def load_waterfall_data(tables: TableSource, *, active_since: date | None = None,
                        touching: tuple[date, date] | None = None) -> WaterfallData:
    """Read deals and their history spans once. `active_since` (the scorecard's week) skips deals whose CRM row
    says they closed before that day: they cannot move any more, and the scorecard stays cheap. `touching` (a
    period's first and last day) reads only deals the engine finds with a history row dated in it (its close
    date, else the day it was recorded), and of them only the spans overlapping the period: a deal with none can
    neither be in that period's pipeline nor close in it, and a quarter's waterfall reads its own deals' history,
    not the company's."""
    relation = deals(tables)
    if active_since is not None:
        relation = relation.filter(relation.closed_at.isnull()
                                   | (relation.closed_at >= ibis.timestamp(pd.Timestamp(active_since))))
    require_rates(relation, tables)  # one currency, or no waterfall (MissingRatesError names the currencies)
    if touching is not None:
        relation = relation.semi_join(_dated_in(tables, *touching), "opportunity_id")
    frame = dated(relation, tables, DEAL_COLUMNS).drop("first_seen").to_pandas()
    rows = kept_spans(tables).semi_join(relation.select("opportunity_id"), "opportunity_id")
    if touching is not None:  # the spans holding some moment from the first midnight asked for to the period's last
        since = min(touching[0], active_since) if active_since is not None else touching[0]  # a week may start before
        first, last = (ibis.timestamp(pd.Timestamp(day)) for day in (since, touching[1] + timedelta(days=1)))
        rows = rows.filter((rows.changed_at < last) & (rows.valid_until >= first))
    rows = rows.select(*SPAN_COLUMNS).to_pandas()
    if rows.empty and active_since is None and _no_history(tables):  # not merely none dated in the period
        raise MissingDataError("the pipeline waterfall needs opportunity_history (each deal's stage, amount and close "
                               "date over time), and the table is empty",
                               hint="import a CRM export that includes stage history")
    return WaterfallData(_deals(frame), _history(rows), reporting_currency(tables))


def _no_history(tables: TableSource) -> bool:
    history = tables.table("opportunity_history")
    return int(history.limit(1).count().execute()) == 0


def _dated_in(tables: TableSource, first: date, last: date) -> Any:
    """The deals with a history row whose close date (else the day it was recorded) falls in [first, last]: every
    deal `touching` keeps, since a row's carried-forward close date is an earlier row's own, and a few more."""
    history = tables.table("opportunity_history")
    day = ibis.coalesce(history.close_date, history.changed_at.date())
    return history.filter((day >= first) & (day <= last)).select("opportunity_id").distinct()


def _deals(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.assign(opportunity_id=frame["opportunity_id"].astype(object))
    frame = frame.drop_duplicates("opportunity_id").set_index("opportunity_id")
    frame["created_at"] = pd.to_datetime(frame["created_at"]).astype("datetime64[us]")
    for column in ("name", "owner_name", "team", "segment", "pipeline"):
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    return frame


def _history(rows: pd.DataFrame) -> pd.DataFrame:
    history = rows.copy()
    for column in ("opportunity_id", "stage"):  # plain strings: quicker to look up and to take than Arrow's
        history[column] = history[column].astype(object)
    for column in ("changed_at", "valid_until", "close_date"):
        history[column] = pd.to_datetime(history[column]).astype("datetime64[us]")
    amount = pd.to_numeric(history.pop("amount"), errors="coerce").astype("float64")
    history["cents"] = np.round(amount.fillna(0.0).to_numpy() * 100).astype("int64")
    for column in ("is_won", "is_lost"):
        history[column] = history[column].astype(bool)
    return history.sort_values(["opportunity_id", "changed_at"], kind="stable").reset_index(drop=True)


def live_at(history: pd.DataFrame, moment: Any) -> pd.DataFrame:
    """Each deal's state at `moment` (a timestamp): its span holding it, indexed by opportunity_id."""
    at = pd.Timestamp(moment)
    mask = (history["changed_at"] < at) & (history["valid_until"] >= at)
    return history.loc[mask].set_index("opportunity_id")
