"""Sales activities: the calls, connects, e-mails, meetings, demos and proposals behind every deal.

An account executive's demos and proposals are the deals they took into those stages. Their
connects and calls are what it took to get there, at their own rates: a rep who connects on one
call in ten instead of one in five makes twice the calls for each connect. SDRs dial and e-mail
all day; success managers meet and e-mail their customers.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, timestamps, weekday, working_days
from cadence.demo.deals import DEMO, PROPOSAL
from cadence.demo.people import REGION_SDR_TEAMS, SEGMENT_TEAMS, Org
from cadence.demo.skills import RepSkills

AE_EMAILS_PER_DAY = 6.0
SDR_CALLS_PER_DAY = 22.0
SDR_CONNECT_RATE = 0.12
SDR_EMAILS_PER_DAY = 8.0
CSM_EMAILS_PER_DAY = 8.0
CSM_MEETINGS_PER_DAY = 1.2


def build_activities(deals: pd.DataFrame, org: Org, skills: RepSkills, accounts: pd.DataFrame,
                     customers: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    parts = [
        _stage_activities(deals, skills, rng),
        _prospecting(deals, skills, rng),
        _daily(org, "rep", "email", AE_EMAILS_PER_DAY, _segment_accounts(accounts, org), rng),
        _sdr_dialling(org, accounts, rng),
        _daily(org, "csm", "email", CSM_EMAILS_PER_DAY, {"*": customers}, rng),
        _daily(org, "csm", "meeting", CSM_MEETINGS_PER_DAY, {"*": customers}, rng),
    ]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame[(frame["day"] >= 0) & (frame["day"] < DAYS)]
    frame = frame.sort_values("day", kind="stable").reset_index(drop=True)
    return pd.DataFrame({
        "activity_id": [f"ACT{i + 1:07d}" for i in range(len(frame))],
        "person_id": frame["person_id"].to_numpy(), "account_id": frame["account_id"].to_numpy(),
        "opportunity_id": frame["opportunity_id"].to_numpy(), "kind": frame["kind"].to_numpy(),
        "occurred_at": timestamps(frame["day"].to_numpy()),
    })


def _rep_deals(deals: pd.DataFrame, skills: RepSkills) -> pd.DataFrame:
    return deals[deals["owner_id"].isin(skills.reps["person_id"])]


def _stage_activities(deals: pd.DataFrame, skills: RepSkills, rng: np.random.Generator) -> pd.DataFrame:
    """A discovery meeting, a demo and a proposal for each deal that entered those stages."""
    mine = _rep_deals(deals, skills)
    parts = []
    for stage, kind in ((1, "meeting"), (DEMO, "demo"), (PROPOSAL, "proposal")):
        reached = mine[mine["reached"] >= stage]
        day = (reached["created"] + reached[f"f{stage}"] * reached["span"]).to_numpy()
        parts.append(pd.DataFrame({"person_id": reached["owner_id"].to_numpy(),
                                   "account_id": reached["account_id"].to_numpy(),
                                   "opportunity_id": reached["opportunity_id"].to_numpy(), "kind": kind,
                                   "day": day + rng.uniform(0.002, 0.02, len(day))}))
    return pd.concat(parts, ignore_index=True)


def _prospecting(deals: pd.DataFrame, skills: RepSkills, rng: np.random.Generator) -> pd.DataFrame:
    """Each week's connects and calls: what the rep's demos that week took, at the rep's own rates."""
    mine = _rep_deals(deals, skills)
    demos = mine[mine["reached"] >= DEMO]
    demo_day = (demos["created"] + demos["f2"] * demos["span"]).to_numpy()
    seen = demo_day < DAYS
    owners, week = demos["owner_id"].to_numpy()[seen], _week_start(demo_day[seen])
    table = pd.DataFrame({"person_id": owners, "week": week}).value_counts().rename("demos").reset_index()
    p_demo = skills.rate(table["person_id"].to_numpy(), "connect_to_demo")
    p_connect = skills.rate(table["person_id"].to_numpy(), "call_to_connect")
    connects = rng.poisson(table["demos"].to_numpy() / p_demo)
    calls = connects + rng.poisson(connects * (1 - p_connect) / p_connect)
    accounts = _recent_accounts(mine)
    parts = []
    for kind, counts in (("connect", connects), ("call", calls)):
        rows = np.repeat(np.arange(len(table)), counts)
        day = table["week"].to_numpy()[rows] + rng.integers(0, 5, len(rows)) + rng.uniform(0.35, 0.75, len(rows))
        person = table["person_id"].to_numpy()[rows]
        parts.append(pd.DataFrame({"person_id": person, "account_id": accounts(person, day, rng),
                                   "opportunity_id": None, "kind": kind, "day": day}))
    return pd.concat(parts, ignore_index=True)


def _recent_accounts(deals: pd.DataFrame) -> Callable[[np.ndarray, np.ndarray, np.random.Generator], np.ndarray]:
    """A function giving, for each (rep, day), the account of one of the rep's deals created around then."""
    ordered = deals.sort_values(["owner_id", "created"])
    by_rep = {rep: (group["created"].to_numpy(), group["account_id"].to_numpy())
              for rep, group in ordered.groupby("owner_id", sort=False)}

    def pick(person: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        out = np.empty(len(person), dtype=object)
        for rep, (created, account) in by_rep.items():
            need = np.nonzero(person == rep)[0]
            position = np.searchsorted(created, day[need] + rng.uniform(0, 21, len(need)))
            out[need] = account[np.clip(position - 1 - rng.integers(0, 3, len(need)), 0, len(account) - 1)]
        return out

    return pick


def _daily(org: Org, role: str, kind: str, per_day: float, pools: dict[str, np.ndarray],
           rng: np.random.Generator) -> pd.DataFrame:
    """`per_day` activities of `kind` on average, every working day each person of `role` works."""
    people = org.people[org.people["role"] == role].reset_index(drop=True)
    days = working_days()
    active = org.active(days, people)
    counts = rng.poisson(per_day * active)
    day_index, person_index = np.nonzero(counts)
    repeat = counts[day_index, person_index]
    person_rows = np.repeat(person_index, repeat)
    day = np.repeat(days[day_index], repeat) + rng.uniform(0.33, 0.76, int(repeat.sum()))
    account = np.empty(len(day), dtype=object)
    teams = people["team"].to_numpy()[person_rows]
    for team, pool in pools.items():
        need = np.ones(len(day), dtype=bool) if team == "*" else teams == team
        account[need] = pool[rng.integers(0, len(pool), int(need.sum()))]
    return pd.DataFrame({"person_id": people["person_id"].to_numpy()[person_rows], "account_id": account,
                         "opportunity_id": None, "kind": kind, "day": day})


def _sdr_dialling(org: Org, accounts: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    team_of_region = accounts["region"].map(REGION_SDR_TEAMS).to_numpy()
    pools = {team: accounts["account_id"].to_numpy()[team_of_region == team]
             for team in sorted(set(REGION_SDR_TEAMS.values()))}
    calls = _daily(org, "sdr", "call", SDR_CALLS_PER_DAY, pools, rng)
    connected = rng.random(len(calls)) < SDR_CONNECT_RATE
    connects = calls[connected].assign(kind="connect", day=calls["day"][connected] + 0.001)
    emails = _daily(org, "sdr", "email", SDR_EMAILS_PER_DAY, pools, rng)
    return pd.concat([calls, connects, emails], ignore_index=True)


def _segment_accounts(accounts: pd.DataFrame, org: Org) -> dict[str, np.ndarray]:
    return {team: accounts.loc[accounts["segment"] == segment, "account_id"].to_numpy()
            for segment, team in SEGMENT_TEAMS.items()}


def _week_start(days: np.ndarray) -> np.ndarray:
    whole = np.floor(days)
    return whole - weekday(whole)

