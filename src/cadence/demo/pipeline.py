"""New business: every qualified demo and trial becomes a deal owned by a rep of its segment's team.

Deals go to the team's reps on the day they are created, in proportion to each rep's volume
(their funnel rates up to the demo, their performance, and their ramp in the first months), and
convert at the segment's rates adjusted by the rep's own rates on the later steps.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS
from cadence.demo.deals import new_deals
from cadence.demo.people import SEGMENT_TEAMS, Org
from cadence.demo.skills import RepSkills

REP_RAMP_DAYS = 90
SDR_PERF_SIZE = 0.35


def assign_owners(org: Org, skills: RepSkills, segment: np.ndarray, created: np.ndarray,
                  rng: np.random.Generator) -> np.ndarray:
    """The rep of `segment`'s team who gets each deal, weighted by volume and ramp on its day."""
    owners = np.empty(len(segment), dtype=object)
    days = np.arange(DAYS + 400)
    day = np.clip(np.floor(created).astype("int64"), 0, len(days) - 1)
    for seg, team in SEGMENT_TEAMS.items():
        reps = skills.reps[skills.reps["team"] == team]
        weights = org.ramp(days, reps, REP_RAMP_DAYS) * reps["volume"].to_numpy()[None, :]
        cumulative = np.cumsum(weights, axis=1)
        need = np.nonzero(segment == seg)[0]
        rows = cumulative[day[need]]
        pick = (rng.random(len(need))[:, None] * rows[:, -1:] > rows).sum(axis=1)
        owners[need] = reps["person_id"].to_numpy()[np.minimum(pick, len(reps) - 1)]
    return owners


def rep_factors(skills: RepSkills, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per deal: multipliers of the five transition probabilities, and of the deal size."""
    ones = np.ones(len(owners))
    demo_to_proposal = skills.factor(owners, "demo_to_proposal")
    closing = np.sqrt(skills.factor(owners, "proposal_to_win"))
    transitions = np.column_stack([ones, ones, demo_to_proposal, closing, closing])
    size = skills.reps.set_index("person_id")["size"].reindex(owners).fillna(1.0).to_numpy()
    return transitions, size


def _sdr_size(org: Org, sdr_ids: np.ndarray) -> np.ndarray:
    """Better SDRs qualify bigger opportunities."""
    sdrs = org.people[org.people["role"] == "sdr"]
    perf = (sdrs["perf"] - sdrs["perf"].mean()).set_axis(sdrs["person_id"])
    return np.exp(SDR_PERF_SIZE * pd.Series(sdr_ids).map(perf).fillna(0.0).to_numpy())


def new_business(sourced: pd.DataFrame, org: Org, skills: RepSkills, rng: np.random.Generator) -> pd.DataFrame:
    """One deal per sourced row, with its owner, outcome, timing and amounts."""
    frame = sourced.copy()
    frame["owner_id"] = assign_owners(org, skills, frame["segment"].to_numpy(), frame["created"].to_numpy(), rng)
    transitions, size = rep_factors(skills, frame["owner_id"].to_numpy())
    size = size * _sdr_size(org, frame["sdr_id"].to_numpy())
    return new_deals(frame, kind="new", rng=rng, transition_factor=transitions, size_factor=size)
