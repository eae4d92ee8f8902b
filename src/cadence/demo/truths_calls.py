"""Whose forecast calls are biased, measured on the loaded warehouse: `truths.json`'s `forecast_bias`.

Read with plain pandas from `forecast_calls`, `opportunities` and `people`: for each forecaster and each
complete quarter they called, the latest call at or before the quarter's start, day 30 and day 60 against
what their team (themselves and everyone whose chain of managers leads to them) won in the quarter; the
quarter's mean relative error (call − actual) ÷ actual is one observation, and a forecaster is biased when
a 95% t-interval on the mean of those excludes zero ("under" below, "over" above).
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from cadence.workspace import Workspace

CHECKPOINTS = (0, 30, 60)
# Student's t at 97.5% for 1–30 degrees of freedom, as printed in any t-table (the demo has at most 12 quarters;
# importing SciPy for it would add seconds to every demo build)
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)


def measure_forecast_bias(ws: Workspace, tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    calls = ws.table("forecast_calls").to_pandas()
    calls["commit_amount"] = calls["commit_amount"].astype("float64")
    opportunities, people = tables["opportunities"], tables["people"]
    won = opportunities[opportunities["is_won"].fillna(False).astype(bool)]
    end = pd.Timestamp(opportunities["closed_at"].max()).normalize() + pd.Timedelta(days=1)
    found: dict[str, str] = {}
    detail: dict[str, Any] = {}
    for person, mine in calls.groupby("person_id"):
        team = _team(people, str(person))
        errors = []
        for label, quarter_calls in mine.groupby("quarter"):
            start, _ = ws.calendar.parse(str(label))
            stop = ws.calendar.next_start(start, "quarter")
            if pd.Timestamp(stop) > end:
                continue
            in_quarter = (won["closed_at"] >= pd.Timestamp(start)) & (won["closed_at"] < pd.Timestamp(stop))
            actual = float(won.loc[in_quarter & won["owner_id"].isin(team), "amount"].astype("float64").sum())
            said = []
            for day in CHECKPOINTS:
                cutoff = pd.Timestamp(start + timedelta(days=day + 1))
                before = quarter_calls[quarter_calls["called_at"] < cutoff].sort_values("called_at")
                if len(before) and actual > 0:
                    said.append((float(before["commit_amount"].iloc[-1]) - actual) / actual)
            if said:
                errors.append(float(np.mean(said)))
        if len(errors) < 3:
            continue
        mean, sd = float(np.mean(errors)), float(np.std(errors, ddof=1))
        half = T_975[min(len(errors) - 1, len(T_975)) - 1] * sd / np.sqrt(len(errors))
        detail[str(person)] = {"quarters": len(errors), "mean_relative_error": round(mean, 4),
                               "interval_95": [round(mean - half, 4), round(mean + half, 4)]}
        if mean + half < 0:
            found[str(person)] = "under"
        elif mean - half > 0:
            found[str(person)] = "over"
    return {"forecast_bias": found, "forecast_bias_detail": {
        "method": "per complete quarter, the mean of (latest call at or before day 0, 30, 60 − team's won amount) "
                  "÷ won amount; a 95% t-interval over quarters excluding zero names the bias",
        "forecasters": detail}}


def _team(people: pd.DataFrame, manager: str) -> set[str]:
    team, frontier = {manager}, [manager]
    while frontier:
        frontier = [p for p in people.loc[people["manager_id"].isin(frontier), "person_id"] if p not in team]
        team.update(frontier)
    return team
