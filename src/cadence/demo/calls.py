"""Managers' forecast calls on every quarter, with two planted biases.

Each sales manager, and the CRO above them, calls the quarter their team will close at its start, day 30
and day 60 (made on the day or up to two days before, in working hours). A call is what the team then
closed times (1 + the manager's bias + noise): a quarter-level misjudgement shared by the three calls, and
a checkpoint's own noise that shrinks as the quarter goes by. One manager sandbags (calls about 20% under
what the team closes), one over-calls (about 25% over); the others are unbiased. The quarter after the
data's end gets a day-0 call too, from the team's last four quarters, so the latest calls have something
current to show. Recorded by 'demo', in the corporate currency.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.calendar import QUARTER_STARTS, date_of, timestamps
from cadence.demo.people import Org

CALLERS = ("ent_mgr", "mm_mgr", "gr_mgr", "cro")
BIASES = {"ent_mgr": -0.20, "gr_mgr": 0.25}  # the planted ones: a sandbagger and an over-caller
QUARTER_NOISE = 0.06
CHECKPOINT_NOISE = {0: 0.10, 30: 0.06, 60: 0.03}
BEST_CASE_UPLIFT = (1.08, 1.25)


def planted_biases(org: Org) -> dict[str, str]:
    """person_id → "under" / "over" of the two planted forecasters."""
    return {org.ids(key): "under" if bias < 0 else "over" for key, bias in BIASES.items()}


def build_calls(org: Org, opportunities: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """`forecast_calls` rows for every caller, every quarter of the window and the one after it."""
    won = opportunities[opportunities["is_won"]]
    base = timestamps(np.array([0.0]))[0]
    closed_day = ((won["closed_at"] - base) / pd.Timedelta(days=1)).to_numpy()
    quarter = np.searchsorted(QUARTER_STARTS, closed_day, side="right") - 1
    rows = []
    for key in CALLERS:
        person = org.ids(key)
        team = _team(org.people, person)
        mine = won["owner_id"].isin(team).to_numpy()
        actual = np.bincount(quarter[mine], weights=won.loc[mine, "amount"].to_numpy(dtype="float64"),
                             minlength=len(QUARTER_STARTS))[: len(QUARTER_STARTS) - 1]
        bias = BIASES.get(key, 0.0)
        for q, start in enumerate(QUARTER_STARTS):
            last = q == len(QUARTER_STARTS) - 1  # the quarter after the window: its outcome is not known
            truth = float(actual[max(0, q - 4):q].mean()) if last else float(actual[q])
            if truth <= 0:
                continue
            misjudged = rng.normal(0.0, QUARTER_NOISE)
            for day in (0,) if last else tuple(CHECKPOINT_NOISE):
                factor = max(0.2, 1.0 + bias + misjudged + rng.normal(0.0, CHECKPOINT_NOISE[day]))
                commit = round(truth * factor, -3)
                when = start + day - rng.integers(0, 3) + rng.uniform(9 / 24, 17 / 24)
                rows.append({"person_id": person, "quarter": _label(int(start)), "commit_amount": commit,
                             "best_case_amount": round(commit * rng.uniform(*BEST_CASE_UPLIFT), -3),
                             "called_at": timestamps(np.array([when]))[0]})
    calls = pd.DataFrame(rows).sort_values(["called_at", "person_id"], kind="stable").reset_index(drop=True)
    calls["call_id"] = [f"FC{i + 1:05d}" for i in range(len(calls))]
    calls["currency"] = "USD"
    calls["recorded_by"] = "demo"
    calls["note"] = None
    return calls


def _team(people: pd.DataFrame, manager: str) -> set[str]:
    """The manager and everyone whose chain of managers leads to them."""
    team, frontier = {manager}, [manager]
    while frontier:
        frontier = [p for p in people.loc[people["manager_id"].isin(frontier), "person_id"] if p not in team]
        team.update(frontier)
    return team


def _label(start_day: int) -> str:
    """Cadence's label of the fiscal quarter starting on day `start_day` (fiscal years named by their end)."""
    start = date_of(start_day)
    fiscal_year = start.year + 1 if start.month >= 2 else start.year
    number = ((start.month - 2) % 12) // 3 + 1
    return f"{fiscal_year}-Q{number}"
