"""From lessons to expectations: how likely an open deal is to be won this quarter, and for how much.

Shared by the historical method (rates read off past quarters) and the win model (a fitted classifier):
both give each open deal a probability of being won before the quarter ends and a value if won.
The value is the deal's amount times what won deals of that stage finally closed at per dollar of the
amount they showed (discounts, re-scoping), learned from the same past quarters.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_ROWS = 20  # past observations before a rate of its own is trusted; otherwise the broader one is used


@dataclass
class OpenDealOutlook:
    """Per open deal: probability of being won by the quarter's end and its value if won."""

    opportunity_id: np.ndarray
    probability: np.ndarray
    value: np.ndarray

    @property
    def expected(self) -> float:
        return float(np.sum(self.probability * self.value))


@dataclass(frozen=True)
class ClosingRatio:
    """Won amount per dollar of shown amount, by stage, with the overall ratio for stages seen too rarely."""

    by_stage: dict[str, float]
    overall: float

    def of(self, deals: pd.DataFrame) -> np.ndarray:
        return deals["stage_key"].map(self.by_stage).fillna(self.overall).to_numpy(dtype="float64")


def closing_ratio(training: pd.DataFrame) -> ClosingRatio:
    """What won deals of `training` closed at per dollar of the amount they showed, by stage."""
    won = training[training["won"] & (training["value"] > 0)]
    overall = float(won["won_amount"].sum() / won["value"].sum()) if len(won) else 1.0
    sums = won.groupby("stage_key").agg(won_amount=("won_amount", "sum"), value=("value", "sum"),
                                        rows=("won", "size"))
    trusted = sums[sums["rows"] >= MIN_ROWS]
    return ClosingRatio({str(k): float(v) for k, v in (trusted["won_amount"] / trusted["value"]).items()}, overall)


def rates_by(training: pd.DataFrame, deals: pd.DataFrame, levels: list[list[str]]) -> np.ndarray:
    """Each deal's share of past look-alikes won, from the finest level of `levels` with enough rows."""
    overall = float(training["won"].mean()) if len(training) else 0.0
    result = pd.Series(np.nan, index=deals.index)
    for keys in levels:
        counts = training.groupby(keys)["won"].agg(["mean", "size"])
        rates = counts[counts["size"] >= MIN_ROWS]["mean"].rename("rate")
        looked_up = deals[keys].join(rates, on=keys)["rate"]
        result = result.fillna(looked_up)
    return result.fillna(overall).to_numpy(dtype="float64")
