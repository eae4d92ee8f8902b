"""Product usage and customer sentiment: weekly active paying users per account, and NPS answers.

Active users follow seats and how engaged each customer is, but the company-wide total swings
with product's own engagement pushes (a persistent drift of its own) that have nothing to do with
revenue — which is why product's "weekly active users" KPI does not move with net new ARR.
Customers whose first deal was pushed into a quarter's last weeks take longer to adopt.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, QUARTER_STARTS, dates, mondays, timestamps

ADOPTION_WEEKS = 3.0
PUSHED_ADOPTION_WEEKS = 10.0
SWING_PERSISTENCE = 0.95
SWING_SHOCK = 0.06
NPS_RESPONSE_RATE = 0.22
COMMENTS = {
    "promoter": ("Love the dashboards", "Our weekly meeting runs on it", "Support is quick and kind",
                 "Saves our ops team hours every week"),
    "passive": ("Good, but reporting could be more flexible", "Fine for now", "Setup took longer than expected"),
    "detractor": ("Too expensive for what we use", "Missing integrations we need", "Hard to get the team to use it",
                  "Slow when our data grows"),
}


def engagement_cycle(rng: np.random.Generator, weeks: int) -> np.ndarray:
    """Company-wide engagement factor per week: product's campaigns and releases, not revenue.

    A persistent random walk (AR(1), weekly) with no period, so that it cannot line up with the
    fiscal calendar by accident.
    """
    drift = np.zeros(weeks)
    shocks = rng.normal(0, SWING_SHOCK, weeks)
    for i in range(1, weeks):
        drift[i] = SWING_PERSISTENCE * drift[i - 1] + shocks[i]
    return np.clip(1 + drift, 0.5, 1.5)


def build_usage(subscriptions: pd.DataFrame, spell_start: np.ndarray, spell_pushed: np.ndarray,
                engaged: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """One row per customer per Monday on which a subscription period is active."""
    weeks = mondays()
    cycle = engagement_cycle(rng, len(weeks))
    first = np.searchsorted(weeks, subscriptions["start"].to_numpy(), side="left")
    last = np.searchsorted(weeks, np.minimum(subscriptions["end"].to_numpy(), DAYS), side="left")
    counts = np.maximum(last - first, 0)
    rows = np.repeat(np.arange(len(subscriptions)), counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    week_index = np.repeat(first, counts) + offsets
    spell = subscriptions["spell"].to_numpy()[rows]
    age_weeks = (weeks[week_index] - spell_start[spell]) / 7
    tau = np.where(spell_pushed[spell], PUSHED_ADOPTION_WEEKS, ADOPTION_WEEKS)
    adoption = 1 - np.exp(-np.maximum(age_weeks, 0) / tau)
    account = subscriptions["account_id"].to_numpy()[rows]
    level = engaged.reindex(account).to_numpy() * adoption * cycle[week_index]
    seats = subscriptions["seats"].to_numpy()[rows]
    active = rng.binomial(seats, np.clip(level, 0, 1))
    frame = pd.DataFrame({"account_id": account, "week": dates(weeks[week_index]), "active_paying_users": active,
                          "seats": seats})
    return frame.drop_duplicates(["account_id", "week"], keep="last").reset_index(drop=True)


def build_nps(subscriptions: pd.DataFrame, engaged: pd.Series, rng: np.random.Generator) -> pd.DataFrame:
    """A survey each quarter, a month before its end, answered by about one customer in five."""
    parts = []
    for q in range(len(QUARTER_STARTS) - 1):
        day = float(QUARTER_STARTS[q + 1] - 30)
        active = subscriptions[(subscriptions["start"] <= day) & (subscriptions["end"] > day)]
        customers = active["account_id"].unique()
        answered = customers[rng.random(len(customers)) < NPS_RESPONSE_RATE]
        parts.append(pd.DataFrame({"account_id": answered, "day": day + rng.uniform(0, 20, len(answered))}))
    frame = pd.concat(parts, ignore_index=True).sort_values("day", kind="stable").reset_index(drop=True)
    mood = engaged.reindex(frame["account_id"]).to_numpy()
    score = np.clip(np.round(rng.normal(7.0 + 4.0 * (mood - 0.65), 1.8)), 0, 10).astype("int64")
    kind = np.where(score >= 9, "promoter", np.where(score >= 7, "passive", "detractor"))
    comment = [COMMENTS[k][i % len(COMMENTS[k])] if i < 8 else None
               for k, i in zip(kind, rng.integers(0, 16, len(frame)), strict=True)]
    return pd.DataFrame({"response_id": [f"N{i + 1:06d}" for i in range(len(frame))],
                         "account_id": frame["account_id"].to_numpy(), "score": score,
                         "responded_at": timestamps(frame["day"].to_numpy()), "comment": comment})
