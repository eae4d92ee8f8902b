"""What is known about each open deal on a date, as numbers a model can learn from.

Every feature is computed from rows dated before the snapshot's date: the deal's state then, its
owner's record of deals closed before then, and the activity logged on it in the preceding 30 days.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from cadence.analysis.forecast.amounts import AmountEstimate
from cadence.analysis.forecast.data import ForecastData, as_timestamp
from cadence.analysis.forecast.snapshot import Snapshot

NUMERIC = ["open_rank", "age_days", "stage_days", "log_amount", "days_to_close", "close_in_window", "days_left",
           "owner_win_rate", "owner_closed", "recent_activity"]
CATEGORICAL = ["stage_key", "segment", "kind", "product"]
OWNER_PRIOR = 10.0  # closed deals' worth of weight the company-wide win rate gets in an owner's rate
ACTIVITY_DAYS = 30
AGE_BUCKETS = (0, 15, 30, 60, 120, 240)  # days; the historical method's age bands


def open_deal_features(data: ForecastData, snapshot: Snapshot, window_end: date, closes: pd.DataFrame,
                       amounts: AmountEstimate) -> pd.DataFrame:
    """One row per deal open on the snapshot's date: its features, its (possibly estimated) amount."""
    moment = as_timestamp(snapshot.as_of)
    deals = with_values(snapshot.open.copy(), amounts)
    deals["amount_known"] = deals["amount"].notna()
    deals["stage_key"] = deals["pipeline"].astype(str) + ":" + deals["stage"].astype(str)
    deals["age_days"] = (moment - deals["created_at"]).dt.days.astype("float64")
    deals["stage_days"] = (moment - deals["stage_since"]).dt.days.astype("float64")
    deals["age_band"] = np.searchsorted(np.array(AGE_BUCKETS[1:]), deals["age_days"].to_numpy(), side="right")
    days_to_close = (deals["close_date"] - moment).dt.days.astype("float64")
    deals["days_to_close"] = days_to_close
    deals["close_in_window"] = np.where(days_to_close.isna(), np.nan,
                                        (days_to_close < (window_end - snapshot.as_of).days).astype("float64"))
    deals["days_left"] = float((window_end - snapshot.as_of).days)
    closed, won = owner_record(closes, moment, deals["owner_id"])
    totals = _totals(closes, moment)
    overall = totals[1] / totals[0] if totals[0] else 0.0
    deals["owner_closed"] = closed
    deals["owner_win_rate"] = (won + OWNER_PRIOR * overall) / (closed + OWNER_PRIOR)
    deals["recent_activity"] = recent_activity(data, deals["opportunity_id"], moment)
    return deals.reset_index(drop=True)


def with_values(deals: pd.DataFrame, amounts: AmountEstimate) -> pd.DataFrame:
    """`value` (the amount, estimated where unknown) and its log, the model's amount feature."""
    deals["value"] = amounts.fill(deals)
    deals["log_amount"] = np.log1p(deals["value"].clip(lower=0))
    return deals


def owner_record(closes: pd.DataFrame, moment: pd.Timestamp, owners: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Deals each of `owners` closed, and won, before `moment` (`closes` sorted by closed_at, with owner_id)."""
    before = closes.iloc[:int(np.searchsorted(closes["closed_at"].to_numpy(), np.datetime64(moment)))]
    codes, names = pd.factorize(before["owner_id"])
    mine = pd.Index(names).get_indexer(owners)
    if not len(names):
        return np.zeros(len(owners)), np.zeros(len(owners))
    known = codes >= 0
    closed = np.append(np.bincount(codes[known], minlength=len(names)), 0).astype("float64")
    won = np.append(np.bincount(codes[known], weights=before["is_won"].to_numpy(dtype="float64")[known],
                                minlength=len(names)), 0.0)
    return closed[mine], won[mine]  # an owner with no closes indexes -1: the appended zero


def _totals(closes: pd.DataFrame, moment: pd.Timestamp) -> tuple[float, float]:
    """Deals closed and won, company-wide, before `moment`."""
    before = int(np.searchsorted(closes["closed_at"].to_numpy(), np.datetime64(moment)))
    return float(before), float(closes["is_won"].iloc[:before].sum())


def recent_activity(data: ForecastData, deal_ids: pd.Series, moment: pd.Timestamp) -> np.ndarray:
    """Activities logged against each deal in the 30 days before `moment`."""
    acts = data.activity
    times = acts["occurred_at"].to_numpy()
    lo, hi = np.searchsorted(times, [np.datetime64(moment - timedelta(days=ACTIVITY_DAYS)), np.datetime64(moment)])
    counts = acts.iloc[lo:hi].groupby("opportunity_id")["activities"].sum()
    return deal_ids.map(counts).fillna(0).to_numpy(dtype="float64")
