"""Tempo: what good looks like for each team, what each team shipped, and the weekly gap reviews.

Product ships two launches a month and a big one each quarter (two months held up by a platform
migration); the podcast ships four episodes a month; marketing two webinars and a case study;
each SDR team its qualified demos every week. SDR EMEA's misses from May 2025 are reviewed as a
resourcing gap: two SDRs left and their roles are still open.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.arrays import where_or_none
from cadence.demo.calendar import DAYS, MONTH_STARTS, date_of, dates, timestamps, to_weekday, weekday
from cadence.demo.people import COMPARABLE_TEAM, UNDER_RESOURCED_TEAM, Org
from cadence.demo.product import BLOCKED_MONTHS, Roadmap

# team, deliverable, count, period, size, valid from
TARGETS: tuple[tuple[str, str, int, str, str | None, str], ...] = (
    ("Product", "launch", 2, "month", None, "2023-02-01"),
    ("Product", "launch", 1, "quarter", "big", "2023-02-01"),
    ("Podcast", "episode", 4, "month", None, "2023-02-01"),
    ("Marketing", "webinar", 2, "month", None, "2023-02-01"),
    ("Marketing", "case_study", 1, "month", None, "2023-02-01"),
    ("SDR Americas", "qualified_demo", 35, "week", None, "2023-02-01"),
    ("SDR Americas", "qualified_demo", 40, "week", None, "2024-02-01"),
    ("SDR EMEA", "qualified_demo", 30, "week", None, "2023-02-01"),
    ("SDR EMEA", "qualified_demo", 32, "week", None, "2024-02-01"),
)
SHORT_PODCAST_MONTH = "2024-12"  # a guest cancelled: three episodes
PODCAST_TOPICS = (
    "Forecasting without the hockey stick", "What a RevOps leader does all week", "Pricing for expansion",
    "Hiring for coachability", "The end of the quarter-end rush", "Product and sales on one number",
    "Data quality is a team sport", "Running the weekly cadence", "Onboarding that sticks", "Churn autopsies",
    "Pipeline coverage, honestly", "The first sales hire", "Self-serve meets sales", "Board decks that help",
)


def build_targets() -> pd.DataFrame:
    return pd.DataFrame([{"team": t, "deliverable": d, "count": c, "period": p, "size": s,
                          "valid_from": pd.Timestamp(v)} for t, d, c, p, s, v in TARGETS])


def build_shipments(org: Org, roadmap: Roadmap, sdr_demos: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Every shipment: launches, episodes, webinars, case studies, SDRs' qualified demos, unplanned fixes."""
    parts = [_launches(org, roadmap, rng), _episodes(org, rng), _marketing(org, rng), _qualified_demos(sdr_demos),
             _fixes(org, rng)]
    frame = pd.concat(parts, ignore_index=True).sort_values("day", kind="stable").reset_index(drop=True)
    frame["shipment_id"] = [f"SH{i + 1:06d}" for i in range(len(frame))]
    frame["shipped_at"] = timestamps(frame["day"].to_numpy())
    return frame.drop(columns=["day"])


def _launches(org: Org, roadmap: Roadmap, rng: np.random.Generator) -> pd.DataFrame:
    launches = roadmap.launches
    pms = org.members("Product")["person_id"].to_numpy()
    return pd.DataFrame({
        "team": "Product", "deliverable": "launch", "title": launches["title"].to_numpy(),
        "owner_id": pms[np.arange(len(launches)) % len(pms)],
        "day": launches["ship_day"].to_numpy() + rng.uniform(0.55, 0.7, len(launches)),
        "size": where_or_none(launches["big"].to_numpy(dtype=bool), "big"),
        "link": [f"https://northwind-analytics.com/changelog/{_slug(t)}" for t in launches["title"]],
        "unplanned": False,
    })


def _monthly(count_for: dict[int, int], rng: np.random.Generator) -> np.ndarray:
    """Days for `count_for[month]` items per month, on working days spread through the month."""
    days = []
    for month in range(len(MONTH_STARTS) - 1):
        first, last = MONTH_STARTS[month], MONTH_STARTS[month + 1]
        count = count_for.get(month, 0)
        slots = first + (np.arange(count) + rng.uniform(0.2, 0.8, count)) * (last - first) / max(count, 1)
        days.append(np.clip(to_weekday(np.floor(slots)), first, last - 1))
    return np.concatenate(days)


def _month_of(label: str) -> int:
    year, month = (int(x) for x in label.split("-"))
    return int(np.searchsorted(MONTH_STARTS, (pd.Timestamp(year=year, month=month, day=1).date()
                                              - date_of(0)).days))


def _episodes(org: Org, rng: np.random.Generator) -> pd.DataFrame:
    months = len(MONTH_STARTS) - 1
    counts = {m: 4 + int(rng.random() < 0.15) for m in range(months)}
    counts[_month_of(SHORT_PODCAST_MONTH)] = 3
    day = _monthly(counts, rng)
    team = org.members("Podcast")
    owners = _rotate(team, day, rng)
    topics = rng.choice(PODCAST_TOPICS, len(day))
    return pd.DataFrame({"team": "Podcast", "deliverable": "episode",
                         "title": [f"Episode {i + 41}: {t}" for i, t in enumerate(topics)], "owner_id": owners,
                         "day": day + 0.25, "size": None,
                         "link": [f"https://northwind-analytics.com/podcast/{i + 41}" for i in range(len(day))],
                         "unplanned": False})


def _marketing(org: Org, rng: np.random.Generator) -> pd.DataFrame:
    months = len(MONTH_STARTS) - 1
    team = org.members("Marketing")
    parts = []
    for deliverable, per_month, label in (("webinar", 2, "Webinar"), ("case_study", 1, "Case study")):
        day = _monthly({m: per_month for m in range(months)}, rng)
        parts.append(pd.DataFrame({
            "team": "Marketing", "deliverable": deliverable,
            "title": [f"{label}: {date_of(int(d)):%B %Y} #{i % per_month + 1}" for i, d in enumerate(day)],
            "owner_id": _rotate(team, day, rng), "day": day + 0.6, "size": None, "link": None, "unplanned": False}))
    return pd.concat(parts, ignore_index=True)


def _qualified_demos(sdr_demos: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"team": sdr_demos["team"].to_numpy(), "deliverable": "qualified_demo",
                         "title": [f"Qualified demo: {name}" for name in sdr_demos["account_name"]],
                         "owner_id": sdr_demos["sdr_id"].to_numpy(), "day": sdr_demos["created"].to_numpy(),
                         "size": None, "link": [f"lead:{lead}" for lead in sdr_demos["lead_id"]], "unplanned": False})


def _fixes(org: Org, rng: np.random.Generator) -> pd.DataFrame:
    """Engineering's unplanned work: hotfixes, about three a month."""
    days = np.arange(DAYS)
    day = to_weekday(np.repeat(days, rng.poisson(3 * 12 / 365, DAYS)).astype("float64")) + 0.7
    team = org.members("Engineering")
    return pd.DataFrame({"team": "Engineering", "deliverable": "hotfix",
                         "title": [f"Hotfix {i + 1}" for i in range(len(day))], "owner_id": _rotate(team, day, rng),
                         "day": day, "size": None, "link": None, "unplanned": True})


def _rotate(team: pd.DataFrame, day: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One member of `team` working that day, at random."""
    active = team.loc[team["role"] != "manager"] if (team["role"] != "manager").any() else team
    works = (day[:, None] >= active["hire_day"].to_numpy()) & (day[:, None] < active["leave_day"].to_numpy())
    pick = (rng.random(len(day))[:, None] * works.sum(axis=1, keepdims=True) > np.cumsum(works, axis=1)).sum(axis=1)
    return active["person_id"].to_numpy()[np.minimum(pick, len(active) - 1)]


def _slug(title: str) -> str:
    return "-".join("".join(ch.lower() if ch.isalnum() else " " for ch in title).split())


def weekly_demos(shipments: pd.DataFrame, team: str) -> pd.Series:
    """Qualified demos per week (Monday start) for an SDR team."""
    rows = shipments[(shipments["team"] == team) & (shipments["deliverable"] == "qualified_demo")]
    day = (rows["shipped_at"] - pd.Timestamp(date_of(0))).dt.total_seconds().to_numpy() / 86_400
    monday = np.floor(day) - weekday(np.floor(day))
    return pd.Series(monday).value_counts().sort_index()


def build_gap_reviews(org: Org, shipments: pd.DataFrame, targets: pd.DataFrame,
                      rng: np.random.Generator) -> pd.DataFrame:
    rows = _sdr_reviews(org, shipments, targets) + _product_reviews(org) + _podcast_review(org)
    frame = pd.DataFrame(rows).sort_values("created_at", kind="stable").reset_index(drop=True)
    frame["review_id"] = [f"GR{i + 1:04d}" for i in range(len(frame))]
    return frame


def _sdr_reviews(org: Org, shipments: pd.DataFrame, targets: pd.DataFrame) -> list[dict[str, object]]:
    """Missed weeks of both SDR teams: SDR EMEA's from May 2025 as resourcing, the odd other week as priority."""
    rows: list[dict[str, object]] = []
    for team in (UNDER_RESOURCED_TEAM, COMPARABLE_TEAM):
        weekly = weekly_demos(shipments, team)
        manager = org.members(team, "manager")["person_id"].iat[0]
        mine = targets[(targets["team"] == team)].sort_values("valid_from")
        for monday, actual in zip(weekly.index.to_numpy(dtype="float64"), weekly.to_numpy(), strict=True):
            if monday + 7 > DAYS or monday < 0:
                continue
            when = pd.Timestamp(date_of(int(monday)))
            target = int(mine.loc[mine["valid_from"] <= when, "count"].iloc[-1])
            if actual >= target:
                continue
            resourcing = team == UNDER_RESOURCED_TEAM and monday >= _month_day("2025-04")
            if not resourcing and rng_free_skip(monday):
                continue
            year, week, _ = when.isocalendar()
            created = float(monday + 7.4)
            rows.append({
                "team": team, "period": f"{year}-W{week:02d}", "metric": "qualified_demo", "target": float(target),
                "actual": float(actual), "cause": "resources" if resourcing else "priority",
                "action": ("Backfill the two open SDR roles; borrow an Americas SDR for EMEA mornings"
                           if resourcing else "Protect prospecting blocks after the team offsite"),
                "owner_id": manager if not resourcing else org.ids("cro"),
                "due": pd.Timestamp(date_of(int(created + 14))), "created_at": timestamps(np.array([created]))[0],
                "status": "done" if created + 14 < DAYS - 7 else "open",
            })
    return rows


def rng_free_skip(monday: float) -> bool:
    """Other teams review every other missed week (deterministic: even weeks only)."""
    return int(monday // 7) % 2 == 1


def _month_day(label: str) -> int:
    return int(MONTH_STARTS[_month_of(label)])


def _product_reviews(org: Org) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for label in BLOCKED_MONTHS:
        end = MONTH_STARTS[_month_of(label) + 1]
        rows.append({"team": "Product", "period": label, "metric": "launch", "target": 2.0, "actual": 1.0,
                     "cause": "blocker", "action": "Finish the platform migration; ship the held launch next month",
                     "owner_id": org.ids("cpo"), "due": pd.Timestamp(date_of(int(end + 30))),
                     "created_at": timestamps(np.array([end + 2.4]))[0], "status": "done"})
    return rows


def _podcast_review(org: Org) -> list[dict[str, object]]:
    end = MONTH_STARTS[_month_of(SHORT_PODCAST_MONTH) + 1]
    return [{"team": "Podcast", "period": SHORT_PODCAST_MONTH, "metric": "episode", "target": 4.0, "actual": 3.0,
             "cause": "scope", "action": "Keep two recorded episodes in reserve", "owner_id": org.ids("pod_mgr"),
             "due": pd.Timestamp(date_of(int(end + 30))), "created_at": timestamps(np.array([end + 2.4]))[0],
             "status": "done"}]


__all__ = ["build_gap_reviews", "build_shipments", "build_targets", "dates"]
