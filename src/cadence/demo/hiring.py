"""Hiring: candidates, their interview scorecards, and quota carriers' quarterly performance.

Every hire since 2020 was interviewed by their manager and one or two other leaders, each scoring
ten criteria from 1 to 10. Scores reflect the candidate's true traits plus the interviewer's own
leniency and noise; one interviewer (the mid-market sales manager) scores about 1.5 points high
on everything. Performance — quota attained, straight from each rep's won deals or each SDR's
sourced pipeline — follows the traits, mostly coachability.
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, FISCAL_YEARS, QUARTER_STARTS, date_of, quarter_label
from cadence.demo.names import person_names
from cadence.demo.people import CRITERIA, QUOTA_ROLES, Org

LENIENT_INTERVIEWER = "mm_mgr"
LENIENCY = 1.5
SCORE_CENTRE, SCORE_SCALE, SCORE_NOISE = 5.5, 1.5, 0.8
REJECTED_PER_HIRE = (2, 6)
OPEN_ROLE_CANDIDATES = {"interviewing": 5, "rejected": 8, "withdrawn": 2, "offered": 1}
FIRST_SCORED_HIRE = pd.Timestamp("2020-01-01")
RAMP_QUARTERS = 2  # a new rep's quota is 1/3, then 2/3, then full


def build_candidates(org: Org, rng: np.random.Generator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(candidates, interview_scores) for every hire since 2020, the people turned down, and open roles."""
    people = org.people
    hires = people[people["hired_at"] >= FIRST_SCORED_HIRE].reset_index()
    rows: list[dict[str, object]] = []
    latent: list[np.ndarray] = []
    for hire in hires.to_dict("records"):
        applied = hire["hired_at"] - timedelta(days=int(rng.integers(35, 80)))
        rows.append({"name": hire["name"], "role": hire["title"], "applied_at": applied, "status": "hired",
                     "person_id": hire["person_id"], "manager_id": hire["manager_id"]})
        latent.append(org.traits[int(hire["index"])])
        for _ in range(int(rng.integers(*REJECTED_PER_HIRE))):
            rows.append({"name": "", "role": hire["title"], "applied_at": applied + timedelta(days=int(rng.integers(
                -20, 20))), "status": "rejected", "person_id": None, "manager_id": hire["manager_id"]})
            latent.append(rng.normal(-0.6, 1.0, len(CRITERIA)))
    manager = org.ids("se_mgr")
    for status, count in OPEN_ROLE_CANDIDATES.items():
        for _ in range(count):
            applied = pd.Timestamp(date_of(int(rng.integers(DAYS - 230, DAYS - 20))))
            rows.append({"name": "", "role": "Sales Development Representative (EMEA)", "applied_at": applied,
                         "status": status, "person_id": None, "manager_id": manager})
            latent.append(rng.normal(-0.2, 1.0, len(CRITERIA)))
    candidates = pd.DataFrame(rows)
    candidates["interviewed"] = candidates["applied_at"] + pd.to_timedelta(rng.integers(7, 30, len(candidates)), "D")
    candidates = candidates.sort_values("applied_at", kind="stable").reset_index()
    order = candidates.pop("index").to_numpy()
    traits = np.array(latent)[order]
    unnamed = candidates["name"] == ""
    candidates.loc[unnamed, "name"] = _other_names(rng, int(unnamed.sum()), set(people["name"]))
    candidates["candidate_id"] = [f"C{i + 1:04d}" for i in range(len(candidates))]
    scores = _scores(org, candidates, traits, rng)
    return candidates.drop(columns=["manager_id", "interviewed"]), scores


def _other_names(rng: np.random.Generator, count: int, taken: set[str]) -> list[str]:
    pool = [n for n in person_names(rng, 4_000) if n not in taken]
    names = list(dict.fromkeys(pool))
    while len(names) < count:
        names += [f"{n} {len(names)}" for n in names[: count - len(names)]]
    return [str(n) for n in rng.permutation(names)[:count]]


def _scores(org: Org, candidates: pd.DataFrame, traits: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    people = org.people
    leaders = people[people["role"].isin(["executive", "manager"])]
    bias = dict(zip(leaders["person_id"], rng.normal(0, 0.25, len(leaders)), strict=True))
    bias[org.ids(LENIENT_INTERVIEWER)] = LENIENCY
    rows = []
    for i, candidate in enumerate(candidates.to_dict("records")):
        when = candidate["interviewed"]
        available = leaders[(leaders["hired_at"] < when) & (leaders["left_at"].isna() | (leaders["left_at"] > when))]
        panel = [str(candidate["manager_id"])] if candidate["manager_id"] in set(available["person_id"]) else []
        others = [p for p in available["person_id"] if p not in panel]
        if others:
            extra = rng.choice(np.array(others, dtype=object), min(len(others), int(rng.integers(1, 3))),
                               replace=False)
            panel += [str(p) for p in extra]
        for interviewer in panel:
            raw = SCORE_CENTRE + SCORE_SCALE * traits[i] + bias[interviewer] + rng.normal(0, SCORE_NOISE, len(CRITERIA))
            for criterion, score in zip(CRITERIA, np.clip(np.round(raw), 1, 10).astype(int), strict=True):
                rows.append((candidate["candidate_id"], interviewer, criterion, int(score), when.normalize()))
    return pd.DataFrame(rows, columns=["candidate_id", "interviewer_id", "criterion", "score", "interviewed_at"])


def build_performance(org: Org, opportunities: pd.DataFrame, leads: pd.DataFrame) -> pd.DataFrame:
    """Quota and attainment per quarter for everyone carrying a quota while they worked there.

    Reps attain their won deals' amounts (by close); SDRs the amount of the deals they sourced
    (by creation). A team's full quota is its typical ramped member's quarter; new hires ramp into it.
    """
    people = org.people[org.people["role"].isin(QUOTA_ROLES)]
    won = opportunities[opportunities["is_won"]]
    rep_credit = _by_quarter(won, "owner_id", "closed_at")
    sourced = leads.dropna(subset=["opportunity_id"])[["owner_id", "opportunity_id"]].merge(
        opportunities[["opportunity_id", "amount", "created_at"]], on="opportunity_id")
    sdr_credit = _by_quarter(sourced, "owner_id", "created_at")
    credit = pd.concat([rep_credit, sdr_credit]).groupby(["person_id", "quarter"])["amount"].sum()
    rows = []
    for person in people.to_dict("records"):
        hired, left = int(person["hire_day"]), int(person["leave_day"])
        for q in range(len(QUARTER_STARTS) - 1):
            first, last = int(QUARTER_STARTS[q]), int(QUARTER_STARTS[q + 1])
            worked = min(last, left) - max(first, hired)
            if worked <= 0:
                continue
            tenure_quarters = (first - hired) / 91
            ramp = min(1.0, max(tenure_quarters + 1, 1) / (RAMP_QUARTERS + 1))
            rows.append({"person_id": person["person_id"], "team": person["team"], "quarter": q,
                         "share": worked / (last - first) * ramp,
                         "attained": float(credit.get((person["person_id"], q), 0.0))})
    frame = pd.DataFrame(rows)
    full = frame[frame["share"] >= 0.999]
    typical = full.groupby(["team", frame["quarter"] // 4])["attained"].median()
    year = frame["quarter"] // 4
    base = [typical.get((t, y), np.nan) for t, y in zip(frame["team"], year, strict=True)]
    frame["quota"] = np.round(np.array(base, dtype="float64") * frame["share"], -3)
    frame["period"] = frame["quarter"].map(quarter_label)
    return frame[["person_id", "period", "quota", "attained"]].assign(attained=lambda f: f["attained"].round(2))


def _by_quarter(frame: pd.DataFrame, who: str, when: str) -> pd.DataFrame:
    day = (frame[when] - pd.Timestamp(date_of(0))).dt.total_seconds() / 86_400
    quarter = np.searchsorted(QUARTER_STARTS, np.floor(day.to_numpy()), side="right") - 1
    return pd.DataFrame({"person_id": frame[who].to_numpy(), "quarter": quarter,
                         "amount": frame["amount"].astype("float64").to_numpy()})


__all__ = ["FISCAL_YEARS", "build_candidates", "build_performance"]
