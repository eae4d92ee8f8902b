"""What the forecast asks of the deals' history spans (`analysis/spans.py`): the open deals on each replayed day.

A pipeline as of a date is the spans that hold that date: a few thousand rows of a large CRM's millions, and the
only rows that come back. The backtest asks for dozens of dates at once, in one query, so an engine where every
query is a job (Spark) pays for one, not dozens.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.analysis.spans import STATE, holding


class HistoryStates:
    """The spans of one load of the forecast's data, with what the forecast asks of them remembered."""

    def __init__(self, rows: Any):
        self.rows = rows
        self._at: dict[tuple[pd.Timestamp, bool], pd.DataFrame] = {}

    def at(self, moment: pd.Timestamp, *, open_only: bool) -> pd.DataFrame:
        """Each deal's span holding `moment` (STATE and `stage_since`), by opportunity_id; with `open_only`, only
        the open ones."""
        if open_only:
            self.prefetch([moment])
        elif (moment, False) not in self._at:
            held = holding(self.rows, _moments([moment]))
            self._at[(moment, False)] = _typed(held.select(*STATE, stage_since=held.changed_at).to_pandas())
        return self._at[(moment, open_only)]

    def prefetch(self, moments: Iterable[pd.Timestamp]) -> None:
        """Fetch, in one query, the open deals' spans on every moment not asked for yet."""
        wanted = sorted({m for m in moments if (m, True) not in self._at})
        if not wanted:
            return
        held = holding(self.rows.filter(~(self.rows.is_won | self.rows.is_lost)), _moments(wanted))
        frame = held.select("_as_of", *STATE, stage_since=held.changed_at).to_pandas()
        frame = _typed(frame)  # sorted: the moments are read after
        moment = pd.to_datetime(frame.pop("_as_of")).astype("datetime64[us]").to_numpy()
        for day in wanted:
            self._at[(day, True)] = frame[moment == np.datetime64(day)].reset_index(drop=True)

    def reached(self, closes: Any) -> pd.DataFrame:
        """For each pipeline, stage, day of closing and outcome, how many of the deals in `closes` (an engine
        table: opportunity_id, closed_at, is_won) had reached the stage at any time."""
        pairs = self.rows.filter(self.rows.pipeline.notnull() & self.rows.stage.notnull()) \
            .select("opportunity_id", "pipeline", "stage").distinct()
        joined = pairs.inner_join(closes, pairs.opportunity_id == closes.opportunity_id)
        counted = joined.group_by(pipeline=joined.pipeline, stage=joined.stage,
                                  closed_on=joined.closed_at.truncate("D"), won=joined.is_won) \
            .aggregate(deals=joined.count()).to_pandas()
        counted["closed_on"] = pd.to_datetime(counted["closed_on"]).astype("datetime64[us]")
        counted["won"] = counted["won"].astype(bool)
        return counted


def _moments(moments: list[pd.Timestamp]) -> Any:
    return ibis.memtable(pd.DataFrame({"_as_of": pd.to_datetime(moments).astype("datetime64[us]")}))


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """The engine's rows in the types every method reads, in opportunity_id order (one span per deal)."""
    for column in ("close_date", "closed_since", "stage_since"):
        frame[column] = pd.to_datetime(frame[column]).astype("datetime64[us]")
    for column in ("amount", "open_rank"):
        frame[column] = pd.to_numeric(frame[column], errors="coerce").astype("float64")
    for column in ("known_stage", "is_won", "is_lost"):
        frame[column] = frame[column].astype(bool)
    for column in ("opportunity_id", "stage", "forecast_category"):
        frame[column] = frame[column].astype("object").where(frame[column].notna(), None)
    return frame.sort_values("opportunity_id", kind="stable").reset_index(drop=True)
