"""How each rep converts, step by step, and the four reps who each need coaching on one step.

A rep's activity funnel is calls → connects → demos → proposals → wins. Every rep converts at
the team's rates give or take a few percent, except the planted coaching gaps: one rep per step
converts at about half the usual rate on that step and normally on the others. How much a rep
sells beyond that follows their performance trait (volume and deal size), never their step rates,
so a strong or weak seller is not mistaken for one who needs coaching on a step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.demo.people import Org

STEPS = ("call_to_connect", "connect_to_demo", "demo_to_proposal", "proposal_to_win")
# team → usual call → connect and connect → demo rates (inbound trials make Growth's much higher)
BASE_RATES = {
    "Enterprise Sales": {"call_to_connect": 0.18, "connect_to_demo": 0.22},
    "Mid-Market Sales": {"call_to_connect": 0.20, "connect_to_demo": 0.25},
    "Growth Sales": {"call_to_connect": 0.30, "connect_to_demo": 0.45},
}
GAP_FACTOR = 0.5
JITTER = 0.04
PERF_VOLUME = 0.10  # exp(PERF_VOLUME × performance): deals a rep gets
PERF_SIZE = 0.60  # exp(PERF_SIZE × performance): the size of those deals
GAPS = {"mm2": "call_to_connect", "mm5": "connect_to_demo", "ent3": "demo_to_proposal", "gr2": "proposal_to_win"}


@dataclass
class RepSkills:
    """One row per quota-carrying account executive: step multipliers, volume and size factors."""

    reps: pd.DataFrame  # person_id, key, team, hire_day, leave_day, perf, one column per step, volume, size

    def factor(self, person_ids: np.ndarray, step: str) -> np.ndarray:
        lookup = self.reps.set_index("person_id")[step]
        return lookup.reindex(person_ids).fillna(1.0).to_numpy()

    def rate(self, person_ids: np.ndarray, step: str) -> np.ndarray:
        """Each rep's own rate on an activity step (call → connect or connect → demo)."""
        base = self.reps["team"].map(lambda team: BASE_RATES[team][step])
        rates = pd.Series((base * self.reps[step]).to_numpy(), index=self.reps["person_id"])
        return rates.reindex(person_ids).to_numpy()

    def gaps(self) -> dict[str, str]:
        rows = self.reps[self.reps["gap"].notna()]
        return dict(zip(rows["person_id"], rows["gap"], strict=True))


def build_skills(org: Org, rng: np.random.Generator) -> RepSkills:
    reps = org.people[org.people["role"] == "rep"][["person_id", "key", "team", "hire_day", "leave_day", "perf"]]
    reps = reps.reset_index(drop=True)
    reps["gap"] = reps["key"].map(GAPS)
    for step in STEPS:
        factor = np.clip(1 + JITTER * rng.standard_normal(len(reps)), 0.9, 1.1)
        factor = np.where(reps["gap"] == step, GAP_FACTOR, factor)
        reps[step] = factor
    relative = reps["perf"] - reps.groupby("team")["perf"].transform("mean")  # a team's deals keep their size
    reps["volume"] = reps["call_to_connect"] * reps["connect_to_demo"] * np.exp(PERF_VOLUME * relative)
    reps["size"] = np.exp(PERF_SIZE * relative)
    return RepSkills(reps)
