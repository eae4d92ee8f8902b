"""The CRM's default forecast: open deals due this quarter, each weighted by its stage's probability.

Probabilities come from the `stages` table (for the default pipeline, cadence.yml's stages). A stage
without one (imports that do not carry it, such as Maven's) is given the share of deals that reached
it and were later won, among deals closed before the as-of date — and the forecast says so. A deal is
due this quarter when its expected close date falls in it; a deal without an expected close date is
counted as due (the CRM shows it in the open pipeline), and the forecast says that too.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from cadence.analysis.forecast.conversion import OpenDealOutlook
from cadence.analysis.forecast.data import ForecastData, as_timestamp


def stage_probabilities(data: ForecastData, as_of: date) -> tuple[pd.Series, list[str]]:
    """Probability by (pipeline, stage), and a note for each stage whose probability had to be measured."""
    stages = data.stages.dropna(subset=["open_rank"]).set_index(["pipeline", "stage"])["probability"]
    missing = stages[stages.isna()]
    if missing.empty:
        return stages, []
    reach = data.stage_reach  # counted by the engine per stage, day of closing and outcome
    before = reach[reach["closed_on"] < as_timestamp(as_of)]
    closed = before.groupby(["pipeline", "stage"])["deals"].sum()
    won = before[before["won"]].groupby(["pipeline", "stage"])["deals"].sum().reindex(closed.index, fill_value=0)
    measured = won / closed
    filled = stages.fillna(measured)
    notes = [f"{pipeline} · {stage} has no CRM probability; used the {filled[(pipeline, stage)]:.0%} of deals "
             f"that reached it and were won (closed before {as_of})"
             for pipeline, stage in missing.index if not np.isnan(filled[(pipeline, stage)])]
    return filled, notes


def stage_weighted(open_deals: pd.DataFrame, probabilities: pd.Series, quarter_start: date,
                   quarter_end: date) -> OpenDealOutlook:
    """Open deals (with `value`) due in [quarter_start, quarter_end) or undated, times stage probability."""
    close = open_deals["close_date"]
    due = close.isna() | ((close >= as_timestamp(quarter_start)) & (close < as_timestamp(quarter_end)))
    keys = pd.MultiIndex.from_frame(open_deals[["pipeline", "stage"]].astype("object"))
    probability = pd.Series(probabilities.reindex(keys).to_numpy(), index=open_deals.index).fillna(0.0)
    return OpenDealOutlook(open_deals["opportunity_id"].to_numpy(),
                           np.where(due, probability.to_numpy(dtype="float64"), 0.0),
                           open_deals["value"].to_numpy(dtype="float64"))
