"""Managers: promote for breadth of competence, not for being the top seller; then run them through the course.

**Breadth.** Each manager candidate is placed on every dimension — their calibrated interview score on each
criterion and their on-the-job record (attainment and the share of periods at quota, by default) — as a
percentile among the candidates: the normal distribution's share below their z-score (Φ(z), 0.5 = the
pool's average). Φ(z) rather than a plain rank because ranks tie: with a dozen dimensions almost everyone
is the very lowest on one of them, and a breadth made of ranks would put half the pool level at zero. A
manager needs all of it, so breadth is either the **minimum** percentile — as strong as their weakest side
— or the **balanced** score, the geometric mean of the percentiles, which rewards an even profile over a
spiky one with the same average.
Beside it is the **top-seller** ranking, by attainment, which is how promotions are usually decided, and
for each person the gap between the two ranks and their weakest dimension: where the rankings differ is
the point of the comparison.

**Leadership course.** Modules are taken one every `weeks_per_module` weeks from the start date; a manager
is behind when they have completed fewer modules than the weeks elapsed allow.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any, Literal

import numpy as np
import pandas as pd

from cadence.config.hiring import LeadershipCourse

Method = Literal["min", "balanced"]
JOB_METRICS = ("attainment", "quota_hit_rate")
LEADER_ROLES = ("manager", "executive")
PERCENTILE_FLOOR = 0.001  # keeps a geometric mean finite for an extreme low
CourseStatus = Literal["done", "on track", "behind", "not started"]


def manager_candidates(performance: pd.DataFrame, candidate_scores: pd.DataFrame, criteria: list[str], *,
                       metrics: tuple[str, ...] = JOB_METRICS, as_of: date | None = None) -> pd.DataFrame:
    """Current people who lead no one yet, with a track record: person_id, name, team, criteria…, metrics…."""
    pool = performance[~performance["role"].isin(LEADER_ROLES) & performance[list(metrics)].notna().all(axis=1)]
    if as_of is not None:
        pool = pool[pool["left_at"].isna() | (pool["left_at"] >= pd.Timestamp(as_of))]
    else:
        pool = pool[pool["left_at"].isna()]
    scores = candidate_scores.reindex(columns=criteria)
    joined = pool.merge(scores, left_on="candidate_id", right_index=True, how="left")
    return joined[["person_id", "name", "team", *criteria, *metrics]].reset_index(drop=True)


def rank_managers(profiles: pd.DataFrame, dimensions: list[str], *, method: Method = "min",
                  seller: str = "attainment") -> pd.DataFrame:
    """Breadth and top-seller ranks side by side, best breadth first.

    Columns: person_id, name, team, breadth, breadth_rank, seller_rank, seller (its value), rank_gap
    (seller_rank − breadth_rank: positive when breadth rates someone higher than sales do), weakest,
    weakest_percentile, and one `<dimension>_pct` column per dimension. A dimension missing for a
    person (never scored on it) is left out of their breadth and named in `not_scored`.
    """
    if profiles.empty:
        return pd.DataFrame(columns=["person_id", "name", "team", "breadth", "breadth_rank", "seller_rank", "seller",
                                     "rank_gap", "weakest", "weakest_percentile", "not_scored"])
    values = profiles[dimensions].astype("float64")
    spread = values.std(ddof=1).replace(0.0, np.nan)
    z = (values - values.mean()) / spread
    pct = z.map(_normal_cdf)
    geometric = np.exp(np.log(pct.clip(lower=PERCENTILE_FLOOR)).mean(axis=1))
    breadth = pct.min(axis=1) if method == "min" else geometric
    out = profiles[["person_id", "name", "team"]].copy()
    out["breadth"] = breadth
    out["breadth_rank"] = breadth.rank(ascending=False, method="min").astype("Int64")
    out["seller"] = profiles[seller].astype("float64")
    out["seller_rank"] = out["seller"].rank(ascending=False, method="min").astype("Int64")
    out["rank_gap"] = out["seller_rank"] - out["breadth_rank"]
    out["weakest"] = pct.idxmin(axis=1)
    out["weakest_percentile"] = pct.min(axis=1)
    out["not_scored"] = profiles[dimensions].isna().apply(lambda row: [d for d, gap in row.items() if gap], axis=1)
    for dimension in dimensions:
        out[f"{dimension}_pct"] = pct[dimension]
    return out.sort_values(["breadth_rank", "seller_rank"], kind="stable").reset_index(drop=True)


def _normal_cdf(z: float) -> float:
    return float("nan") if z != z else 0.5 * (1.0 + math.erf(z / math.sqrt(2.0)))


@dataclass(frozen=True)
class CourseProgress:
    person_id: str
    started: date
    completed: int
    expected: int  # modules the schedule allows by `as_of`
    modules: int
    next_module: int | None
    status: CourseStatus

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["started"] = self.started.isoformat()
        return data


def course_progress(course: LeadershipCourse, as_of: date) -> list[CourseProgress]:
    """Each participant's modules done against the schedule on `as_of`."""
    out = []
    for person in course.participants:
        done = len(set(person.completed))
        weeks = max((as_of - person.started).days // 7, 0)
        expected = min(course.modules, weeks // course.weeks_per_module) if as_of >= person.started else 0
        remaining = [m for m in range(1, course.modules + 1) if m not in set(person.completed)]
        status: CourseStatus = ("done" if not remaining else "not started" if as_of < person.started
                                else "behind" if done < expected else "on track")
        out.append(CourseProgress(person.person_id, person.started, done, expected, course.modules,
                                  remaining[0] if remaining else None, status))
    return out
