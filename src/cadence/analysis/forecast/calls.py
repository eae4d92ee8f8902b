"""The calls people made on quarters (`forecast_calls`), read back: every call kept, the latest one at a moment.

Rows are only ever added, so a forecaster who changed their mind has two rows; which one counts at a
checkpoint is the latest made at or before it, and the earlier one is still there to read.
"""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from cadence.metrics.relations import TableSource

CALL_COLUMNS = ("call_id", "person_id", "quarter", "commit_amount", "best_case_amount", "currency", "called_at",
                "recorded_by", "note")


def read_calls(tables: TableSource) -> pd.DataFrame:
    """Every call (of the people `tables` shows), oldest first, amounts as floats."""
    frame = tables.table("forecast_calls").select(*CALL_COLUMNS).to_pandas()
    frame["called_at"] = pd.to_datetime(frame["called_at"]).astype("datetime64[us]")
    for column in ("commit_amount", "best_case_amount"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("recorded_by", "note"):  # text left empty stays empty (None), never a float NaN shown as "nan"
        frame[column] = frame[column].astype(object).where(frame[column].notna(), None)
    return frame.sort_values(["called_at", "call_id"], kind="stable").reset_index(drop=True)


def latest_call(calls: pd.DataFrame, person_id: str, quarter: str, day: date) -> pd.Series | None:
    """The call `person_id` last made on `quarter` at or before `day` (any time that day), or None."""
    cutoff = pd.Timestamp(day + timedelta(days=1))
    mine = calls[(calls["person_id"] == person_id) & (calls["quarter"] == quarter) & (calls["called_at"] < cutoff)]
    return None if mine.empty else mine.iloc[-1]


def latest_calls(calls: pd.DataFrame, quarter: str) -> pd.DataFrame:
    """Each forecaster's latest call on `quarter` (newest first)."""
    mine = calls[calls["quarter"] == quarter]
    return mine.drop_duplicates("person_id", keep="last").sort_values("called_at", ascending=False)
