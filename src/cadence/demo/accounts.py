"""Accounts: the companies Northwind sells to, by segment, industry and region — plus a few entered twice.

Some accounts were already customers before fiscal 2024 (billing predates the CRM). Owners and
creation dates are settled once every deal is known (`settle_accounts`): an account is created
before anything refers to it, and is owned by a rep of its segment's team who still works there.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.arrays import where_or_none
from cadence.demo.calendar import DAYS, day_of, timestamps
from cadence.demo.names import REGION_SHARES, REGIONS, company_names
from cadence.demo.people import SEGMENT_TEAMS, Org

SEGMENTS = ("enterprise", "mid_market", "no_touch")
ACCOUNTS_PER_SEGMENT = {"enterprise": 520, "mid_market": 1_900, "no_touch": 3_000}
EXISTING_CUSTOMERS = {"enterprise": 45, "mid_market": 150, "no_touch": 170}
EMPLOYEES = {"enterprise": (2_000, 60_000), "mid_market": (200, 2_000), "no_touch": (5, 200)}
DUPLICATE_VARIANTS = ("{name} Inc.", "{name}, LLC", "The {name}", "{name} Ltd", "{upper}", "{name} Corp.")
FIRST_ACCOUNT_DAY = day_of(pd.Timestamp("2019-06-01").date())


def build_accounts(rng: np.random.Generator) -> pd.DataFrame:
    """Every account (duplicates not yet added), with `existing` marking customers from before fiscal 2024."""
    total = sum(ACCOUNTS_PER_SEGMENT.values())
    names, industries, domains = company_names(rng, total)
    segment = np.repeat(SEGMENTS, list(ACCOUNTS_PER_SEGMENT.values()))
    region = rng.choice(REGIONS, size=total, p=REGION_SHARES)
    low = np.array([EMPLOYEES[s][0] for s in segment])
    high = np.array([EMPLOYEES[s][1] for s in segment])
    employees = np.round(np.exp(rng.uniform(np.log(low), np.log(high)))).astype("int64")
    revenue = np.round(employees * rng.uniform(120_000, 320_000, total), -3)
    existing = np.zeros(total, dtype=bool)
    offset = 0
    for seg in SEGMENTS:
        count = ACCOUNTS_PER_SEGMENT[seg]
        existing[offset + rng.choice(count, EXISTING_CUSTOMERS[seg], replace=False)] = True
        offset += count
    order = rng.permutation(total)  # ids do not reveal the segment
    accounts = pd.DataFrame({
        "account_id": [f"A{i + 1:05d}" for i in range(total)],
        "name": np.array(names)[order], "domain": np.array(domains)[order], "segment": segment[order],
        "industry": np.array(industries)[order], "region": region[order], "employees": employees[order],
        "annual_revenue": revenue[order], "existing": existing[order],
    })
    return accounts


def add_duplicates(accounts: pd.DataFrame, rng: np.random.Generator, count: int = 6) -> tuple[pd.DataFrame,
                                                                                              list[list[str]]]:
    """Enter `count` companies a second time under a near-identical name and the same domain."""
    originals = accounts.iloc[rng.choice(len(accounts), count, replace=False)]
    copies = originals.copy()
    start = len(accounts)
    copies["account_id"] = [f"A{start + i + 1:05d}" for i in range(count)]
    copies["name"] = [DUPLICATE_VARIANTS[i % len(DUPLICATE_VARIANTS)].format(name=n, upper=n.upper())
                      for i, n in enumerate(originals["name"])]
    copies["domain"] = [f"www.{d}" if i % 2 else d.upper() for i, d in enumerate(originals["domain"])]
    copies["existing"] = False
    copies["duplicate_of"] = originals["account_id"].to_numpy()
    pairs = [[a, b] for a, b in zip(originals["account_id"], copies["account_id"], strict=True)]
    return pd.concat([accounts, copies], ignore_index=True), pairs


def settle_accounts(accounts: pd.DataFrame, first_seen: pd.Series, last_owner: pd.Series, org: Org,
                    rng: np.random.Generator) -> pd.DataFrame:
    """Fill created_at (before anything refers to the account) and owner_id (a current rep of the segment)."""
    accounts = accounts.copy()
    seen = first_seen.reindex(accounts["account_id"]).to_numpy(dtype="float64")
    duplicate_of = accounts["duplicate_of"] if "duplicate_of" in accounts else pd.Series(None, index=accounts.index)
    original_seen = first_seen.reindex(duplicate_of.fillna("")).to_numpy(dtype="float64")
    lead_time = rng.exponential(90, len(accounts))
    unseen = rng.uniform(FIRST_ACCOUNT_DAY, DAYS - 1, len(accounts))
    created = np.where(np.isnan(seen), unseen, seen - lead_time)
    is_copy = duplicate_of.notna().to_numpy()
    created = np.where(is_copy, np.fmax(np.nan_to_num(original_seen, nan=0.0), 0) + rng.uniform(30, 300, len(
        accounts)), created)
    created = np.minimum(created, DAYS - 1)
    accounts["created_at"] = timestamps(np.floor(created) + rng.uniform(0.35, 0.75, len(accounts)))
    accounts["owner_id"] = _owners(accounts, last_owner, org, rng)
    return accounts


def _owners(accounts: pd.DataFrame, last_owner: pd.Series, org: Org, rng: np.random.Generator) -> np.ndarray:
    current = org.people[(org.people["role"] == "rep") & (org.people["leave_day"] > DAYS)]
    owner = last_owner.reindex(accounts["account_id"]).to_numpy(dtype="object")
    still_here = np.isin(owner, current["person_id"].to_numpy())
    out = where_or_none(still_here, owner)
    for segment, team in SEGMENT_TEAMS.items():
        reps = current.loc[current["team"] == team, "person_id"].to_numpy()
        need = (~still_here) & (accounts["segment"].to_numpy() == segment)
        out[need] = rng.choice(reps, int(need.sum()))
    return out
