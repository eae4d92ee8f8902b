"""Leads: SDRs booking qualified demos, self-serve trials, and the many leads that go nowhere.

Every qualified demo an SDR books and every self-serve trial becomes a new-business opportunity
(`Sourced`). An SDR books about eight qualified demos a week once ramped, whichever team they
are in; a team's weekly output is therefore set by how many SDRs it has — which is how SDR EMEA
falls below its tempo target when two of its five SDRs leave and are not replaced.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.demo.arrays import where_or_none
from cadence.demo.calendar import DAYS, MONTH_STARTS, month_index, timestamps, working_days
from cadence.demo.names import FIRST_NAMES, LAST_NAMES
from cadence.demo.people import REGION_SDR_TEAMS, Org

SDR_TRIES_PER_DAY = 3
SDR_SUCCESS = 0.55  # 3 × 0.55 ≈ 1.65 qualified demos a working day, ≈ 8 a week
SDR_RAMP_DAYS = 45
SDR_PERF_EFFECT = 0.12
SDR_SEGMENT_MIX = {"enterprise": 0.12, "mid_market": 0.52, "no_touch": 0.36}
SDR_CHANNELS = {"outbound": 0.55, "events": 0.10, "paid_search": 0.10, "organic": 0.08, "referral": 0.07,
                "partner": 0.05, "podcast": 0.05}
TRIALS_PER_DAY = 4.2  # self-serve trials on the no-touch segment, before growth and season
TRIAL_CHANNELS = {"organic": 0.40, "paid_search": 0.30, "podcast": 0.12, "referral": 0.10, "partner": 0.08}
OTHER_LEADS_PER_DAY = 26.0
OTHER_CHANNELS = {"paid_search": 0.30, "organic": 0.25, "events": 0.15, "podcast": 0.12, "referral": 0.08,
                  "partner": 0.05, "outbound": 0.05}
CAMPAIGNS = {"paid_search": ("google-brand", "google-generic", "linkedin-abm"), "events": ("saas-connect",
             "revops-summit", "webinar-series"), "podcast": ("the-cadence-podcast",), "organic": ("blog", "seo"),
             "referral": ("customer-referral",), "partner": ("partner-program",), "outbound": ("sdr-sequence",)}


@dataclass
class Sourced:
    """New-business opportunities as they are born: one row per qualified demo or trial."""

    frame: pd.DataFrame  # lead_id, account_id, segment, created (fractional day), sdr_id, channel


def demand(rng: np.random.Generator) -> np.ndarray:
    """Per day: the market's appetite, seasonal with a slow random drift, around 1 (growth not included)."""
    months = len(MONTH_STARTS)
    drift = np.cumsum(rng.normal(0, 0.04, months))
    drift -= drift.mean()
    seasonal = 1 + 0.15 * np.sin(2 * np.pi * (np.arange(months) + 2) / 12)
    per_month = seasonal * np.exp(drift)
    return per_month[month_index(np.arange(DAYS))]


def growth(days: np.ndarray) -> np.ndarray:
    """The company grows about 30% a year."""
    return np.asarray(1.3 ** (np.asarray(days) / 365.0))


def build_leads(org: Org, accounts: pd.DataFrame, market: np.ndarray,
                rng: np.random.Generator) -> tuple[pd.DataFrame, Sourced]:
    sdr = _sdr_demos(org, accounts, market, rng)
    trials = _trials(accounts, market, rng)
    sourced = pd.concat([sdr, trials], ignore_index=True).sort_values("created", kind="stable")
    sourced = sourced.reset_index(drop=True)
    other = _other_leads(org, accounts, market, rng)
    start = len(sourced)
    sourced["lead_id"] = [f"L{i + 1:06d}" for i in range(start)]
    other["lead_id"] = [f"L{start + i + 1:06d}" for i in range(len(other))]
    domains = accounts.set_index("account_id")["domain"]
    converted = pd.DataFrame({
        "lead_id": sourced["lead_id"], "account_id": sourced["account_id"],
        "email": _emails(rng, sourced["account_id"].map(domains).to_numpy()),
        "channel": sourced["channel"], "campaign": _campaigns(rng, sourced["channel"].to_numpy()),
        "created_at": timestamps((sourced["created"] - sourced["lead_age"]).to_numpy()),
        "qualified_at": timestamps(sourced["created"].to_numpy()), "opportunity_id": None,
        "converted_at": timestamps(sourced["created"].to_numpy()), "owner_id": sourced["sdr_id"], "status": "converted",
    })
    leads = pd.concat([converted, other], ignore_index=True)
    return leads, Sourced(sourced.drop(columns=["lead_age"]))


def _sdr_demos(org: Org, accounts: pd.DataFrame, market: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    sdrs = org.people[org.people["role"] == "sdr"].reset_index(drop=True)
    days = working_days()
    ramp = org.ramp(days, sdrs, SDR_RAMP_DAYS)
    skill = np.exp(SDR_PERF_EFFECT * sdrs["perf"].to_numpy())[None, :]
    p = np.clip(SDR_SUCCESS * ramp * skill * market[days][:, None] ** 0.3, 0, 0.95)
    counts = rng.binomial(SDR_TRIES_PER_DAY, p)
    day_index, sdr_index = np.nonzero(counts)
    repeat = counts[day_index, sdr_index]
    day = np.repeat(days[day_index], repeat)
    who = np.repeat(sdr_index, repeat)
    created = day + rng.uniform(0.38, 0.75, len(day))
    teams = sdrs["team"].to_numpy()[who]
    segment = rng.choice(list(SDR_SEGMENT_MIX), size=len(day), p=list(SDR_SEGMENT_MIX.values()))
    account = _pick_accounts(accounts, segment, teams, rng)
    return pd.DataFrame({
        "account_id": account, "segment": segment, "created": created, "sdr_id": sdrs["person_id"].to_numpy()[who],
        "channel": rng.choice(list(SDR_CHANNELS), size=len(day), p=list(SDR_CHANNELS.values())),
        "lead_age": rng.exponential(12, len(day)), "sourced_by": "sdr",
    })


def _trials(accounts: pd.DataFrame, market: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    days = np.arange(DAYS)
    counts = rng.poisson(TRIALS_PER_DAY * market * growth(days))
    day = np.repeat(days, counts)
    created = day + rng.uniform(0.0, 1.0, len(day))
    segment = np.full(len(day), "no_touch")
    pool = accounts.loc[accounts["segment"] == "no_touch", "account_id"].to_numpy()
    return pd.DataFrame({
        "account_id": rng.choice(pool, len(day)), "segment": segment, "created": created, "sdr_id": None,
        "channel": rng.choice(list(TRIAL_CHANNELS), size=len(day), p=list(TRIAL_CHANNELS.values())),
        "lead_age": rng.exponential(2, len(day)), "sourced_by": "trial",
    })


def _pick_accounts(accounts: pd.DataFrame, segment: np.ndarray, teams: np.ndarray,
                   rng: np.random.Generator) -> np.ndarray:
    """A random account of the segment in the regions the SDR's team covers."""
    account_team = accounts["region"].map(REGION_SDR_TEAMS).to_numpy()
    out = np.empty(len(segment), dtype=object)
    for seg in np.unique(segment):
        for team in np.unique(teams):
            need = (segment == seg) & (teams == team)
            pool = accounts["account_id"].to_numpy()[(accounts["segment"].to_numpy() == seg) & (account_team == team)]
            out[need] = rng.choice(pool, int(need.sum()))
    return out


def _other_leads(org: Org, accounts: pd.DataFrame, market: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    """Leads that never become a deal: disqualified, or still open near the end."""
    days = np.arange(DAYS)
    counts = rng.poisson(OTHER_LEADS_PER_DAY * market * growth(days))
    day = np.repeat(days, counts)
    n = len(day)
    created = day + rng.uniform(0, 1, n)
    known = rng.random(n) < 0.45
    account = where_or_none(known, rng.choice(accounts["account_id"].to_numpy(), n))
    domains = accounts.set_index("account_id")["domain"]
    domain = pd.Series(account).map(domains).to_numpy()
    free = rng.choice(["gmail.com", "outlook.com", "yahoo.com", "proton.me"], n)
    domain = np.where(known, domain, free)
    channel = rng.choice(list(OTHER_CHANNELS), size=n, p=list(OTHER_CHANNELS.values()))
    region = pd.Series(account).map(accounts.set_index("account_id")["region"]).to_numpy()
    team = pd.Series(region).map(REGION_SDR_TEAMS).to_numpy()
    owner = _active_sdr(org, team, day, rng)
    recent = created > DAYS - 45
    status = np.where(recent & (rng.random(n) < 0.7), "open", "disqualified")
    return pd.DataFrame({
        "account_id": account, "email": _emails(rng, domain), "channel": channel,
        "campaign": _campaigns(rng, channel), "created_at": timestamps(created), "qualified_at": pd.NaT,
        "opportunity_id": None, "converted_at": pd.NaT, "owner_id": owner, "status": status,
    })


def _active_sdr(org: Org, team: np.ndarray, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(day), dtype=object)
    for name in ("SDR Americas", "SDR EMEA"):
        sdrs = org.members(name, "sdr")
        active = org.active(np.arange(DAYS), sdrs)
        need = np.nonzero(team == name)[0]
        if not len(need):
            continue
        weights = active[day[need]].astype("float64")
        cumulative = np.cumsum(weights, axis=1)
        pick = (rng.random(len(need))[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
        out[need] = sdrs["person_id"].to_numpy()[np.minimum(pick, len(sdrs) - 1)]
    return out


def _emails(rng: np.random.Generator, domains: np.ndarray) -> list[str | None]:
    first = rng.choice(FIRST_NAMES, len(domains))
    last = rng.choice(LAST_NAMES, len(domains))
    return [f"{f.lower()}.{la.lower().replace(chr(39), '')}@{d}" if isinstance(d, str) else None
            for f, la, d in zip(first, last, domains, strict=True)]


def _campaigns(rng: np.random.Generator, channels: np.ndarray) -> np.ndarray:
    out = np.empty(len(channels), dtype=object)
    for channel, options in CAMPAIGNS.items():
        need = channels == channel
        out[need] = rng.choice(options, int(need.sum()))
    return out
