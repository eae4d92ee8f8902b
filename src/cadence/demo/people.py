"""Northwind's people: who works in which team, who manages whom, when they joined and left.

The roster is written out by hand (it is the company's story: SDR EMEA loses two of its five
SDRs early in fiscal 2026 and the roles stay open); names come from the seed. Every person also
carries hidden traits — their true level on the ten interview criteria — from which their
on-the-job performance follows, mostly through coachability.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, day_of
from cadence.demo.names import person_names

CRITERIA = (
    "curiosity", "work_ethic", "coachability", "intelligence", "prior_success",
    "communication", "competitiveness", "empathy", "adaptability", "passion",
)
# How performance follows the traits: mostly coachability, a little work ethic and intelligence.
PERFORMANCE_WEIGHTS = {"coachability": 0.85, "work_ethic": 0.30, "intelligence": 0.25}
PERFORMANCE_NOISE = 0.25

EMAIL_DOMAIN = "northwind-analytics.com"
QUOTA_ROLES = ("rep", "sdr")  # roles that carry a quota and have quarterly performance

# (key, team, role, title, manager key, hired, left)
Roster = tuple[str, str, str, str, str | None, str, str | None]
ROSTER: tuple[Roster, ...] = (
    ("ceo", "Executive", "executive", "Chief Executive Officer", None, "2019-03-04", None),
    ("cfo", "Executive", "executive", "Chief Financial Officer", "ceo", "2020-06-01", None),
    ("cro", "Executive", "executive", "Chief Revenue Officer", "ceo", "2020-09-14", None),
    ("cmo", "Executive", "executive", "Chief Marketing Officer", "ceo", "2021-01-11", None),
    ("cpo", "Executive", "executive", "Chief Product Officer", "ceo", "2020-04-06", None),
    ("vpcs", "Executive", "executive", "VP Customer Success", "ceo", "2021-06-01", None),
    ("ent_mgr", "Enterprise Sales", "manager", "Enterprise Sales Director", "cro", "2020-11-02", None),
    ("ent1", "Enterprise Sales", "rep", "Enterprise Account Executive", "ent_mgr", "2021-02-01", None),
    ("ent2", "Enterprise Sales", "rep", "Enterprise Account Executive", "ent_mgr", "2021-05-03", None),
    ("ent3", "Enterprise Sales", "rep", "Enterprise Account Executive", "ent_mgr", "2021-09-13", None),
    ("ent4", "Enterprise Sales", "rep", "Enterprise Account Executive", "ent_mgr", "2022-03-07", None),
    ("ent5", "Enterprise Sales", "rep", "Enterprise Account Executive", "ent_mgr", "2022-06-06", "2024-06-28"),
    ("ent6", "Enterprise Sales", "rep", "Enterprise Account Executive", "ent_mgr", "2024-08-05", None),
    ("mm_mgr", "Mid-Market Sales", "manager", "Mid-Market Sales Manager", "cro", "2021-01-04", None),
    ("mm1", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2021-03-01", None),
    ("mm2", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2021-06-14", None),
    ("mm3", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2021-10-04", None),
    ("mm4", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2022-01-10", None),
    ("mm5", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2022-04-04", None),
    ("mm6", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2022-08-01", "2023-09-15"),
    ("mm7", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2022-10-03", None),
    ("mm8", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2023-11-06", None),
    ("mm9", "Mid-Market Sales", "rep", "Account Executive", "mm_mgr", "2024-03-04", None),
    ("gr_mgr", "Growth Sales", "manager", "Growth Sales Manager", "cro", "2021-08-02", None),
    ("gr1", "Growth Sales", "rep", "Growth Account Executive", "gr_mgr", "2021-09-01", None),
    ("gr2", "Growth Sales", "rep", "Growth Account Executive", "gr_mgr", "2022-02-07", None),
    ("gr3", "Growth Sales", "rep", "Growth Account Executive", "gr_mgr", "2022-05-02", None),
    ("gr4", "Growth Sales", "rep", "Growth Account Executive", "gr_mgr", "2022-09-06", None),
    ("gr5", "Growth Sales", "rep", "Growth Account Executive", "gr_mgr", "2022-11-07", None),
    ("gr6", "Growth Sales", "rep", "Growth Account Executive", "gr_mgr", "2024-05-06", None),
    ("sa_mgr", "SDR Americas", "manager", "SDR Manager, Americas", "cro", "2021-04-05", None),
    ("sa1", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2021-10-04", None),
    ("sa2", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2022-02-14", None),
    ("sa3", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2022-06-13", None),
    ("sa4", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2022-09-12", None),
    ("sa5", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2022-12-05", "2024-10-31"),
    ("sa6", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2024-02-05", None),
    ("sa7", "SDR Americas", "sdr", "Sales Development Representative", "sa_mgr", "2024-11-18", None),
    ("se_mgr", "SDR EMEA", "manager", "SDR Manager, EMEA", "cro", "2021-05-10", None),
    ("se1", "SDR EMEA", "sdr", "Sales Development Representative", "se_mgr", "2021-11-01", None),
    ("se2", "SDR EMEA", "sdr", "Sales Development Representative", "se_mgr", "2022-03-07", None),
    ("se3", "SDR EMEA", "sdr", "Sales Development Representative", "se_mgr", "2022-07-11", None),
    ("se4", "SDR EMEA", "sdr", "Sales Development Representative", "se_mgr", "2022-10-10", None),
    ("se5", "SDR EMEA", "sdr", "Sales Development Representative", "se_mgr", "2023-01-09", None),
    ("cs_mgr", "Customer Success", "manager", "Customer Success Manager Lead", "vpcs", "2021-07-05", None),
    ("cs1", "Customer Success", "csm", "Customer Success Manager", "cs_mgr", "2021-09-06", None),
    ("cs2", "Customer Success", "csm", "Customer Success Manager", "cs_mgr", "2022-04-04", None),
    ("cs3", "Customer Success", "csm", "Customer Success Manager", "cs_mgr", "2023-03-06", None),
    ("pm1", "Product", "product", "Senior Product Manager", "cpo", "2020-09-01", None),
    ("pm2", "Product", "product", "Product Manager", "cpo", "2021-11-01", None),
    ("pm3", "Product", "product", "Product Manager", "cpo", "2022-08-15", None),
    ("eng_mgr", "Engineering", "manager", "Engineering Manager", "cpo", "2020-05-04", None),
    ("eng1", "Engineering", "engineer", "Software Engineer", "eng_mgr", "2020-07-06", None),
    ("eng2", "Engineering", "engineer", "Software Engineer", "eng_mgr", "2020-10-05", None),
    ("eng3", "Engineering", "engineer", "Software Engineer", "eng_mgr", "2021-03-01", None),
    ("eng4", "Engineering", "engineer", "Software Engineer", "eng_mgr", "2021-09-06", None),
    ("eng5", "Engineering", "engineer", "Software Engineer", "eng_mgr", "2022-05-02", None),
    ("mk_mgr", "Marketing", "manager", "Marketing Manager", "cmo", "2021-02-15", None),
    ("mk1", "Marketing", "marketing", "Demand Generation Manager", "mk_mgr", "2021-06-07", None),
    ("mk2", "Marketing", "marketing", "Content Marketing Manager", "mk_mgr", "2022-01-17", None),
    ("mk3", "Marketing", "marketing", "Events Manager", "mk_mgr", "2022-09-05", None),
    ("pod_mgr", "Podcast", "manager", "Head of Podcast", "cmo", "2021-10-04", None),
    ("pod1", "Podcast", "marketing", "Podcast Producer", "pod_mgr", "2022-03-14", None),
    ("pod2", "Podcast", "marketing", "Audio Editor", "pod_mgr", "2022-11-14", None),
)
# SDR EMEA's two departures early in fiscal 2026: which two of se1…se5 leave is decided by the
# seed (see `_choose_emea_leavers`) so that those who stay are as good, on average, as SDR Americas.
EMEA_LEAVE_DATES = ("2025-04-11", "2025-05-23")
UNDER_RESOURCED_TEAM = "SDR EMEA"
COMPARABLE_TEAM = "SDR Americas"

TEAMS = (
    ("Executive", "executive", None),
    ("Enterprise Sales", "sales", "long-cycle"),
    ("Mid-Market Sales", "sales", None),
    ("Growth Sales", "sales", "short-cycle"),
    ("SDR Americas", "sales", None),
    ("SDR EMEA", "sales", None),
    ("Customer Success", "success", None),
    ("Product", "product", None),
    ("Engineering", "product", None),
    ("Marketing", "marketing", None),
    ("Podcast", "marketing", None),
)
SEGMENT_TEAMS = {"enterprise": "Enterprise Sales", "mid_market": "Mid-Market Sales", "no_touch": "Growth Sales"}
REGION_SDR_TEAMS = {"North America": "SDR Americas", "Latin America": "SDR Americas",
                    "EMEA": "SDR EMEA", "APAC": "SDR EMEA"}


@dataclass
class Org:
    """Everyone, with the hidden traits the other generators use."""

    people: pd.DataFrame  # canonical columns plus key, title, hire_day, leave_day, perf
    traits: np.ndarray  # people × CRITERIA, standard normal

    def ids(self, key: str) -> str:
        return str(self.people.loc[self.people["key"] == key, "person_id"].iloc[0])

    def members(self, team: str, role: str | None = None) -> pd.DataFrame:
        rows = self.people[self.people["team"] == team]
        return rows if role is None else rows[rows["role"] == role]

    def active(self, days: np.ndarray, rows: pd.DataFrame) -> np.ndarray:
        """days × rows: True where the person works on that day."""
        hired, left = rows["hire_day"].to_numpy(), rows["leave_day"].to_numpy()
        return (days[:, None] >= hired[None, :]) & (days[:, None] < left[None, :])

    def ramp(self, days: np.ndarray, rows: pd.DataFrame, ramp_days: int) -> np.ndarray:
        """days × rows: 0 before hire and after leaving, rising from 0.2 to 1 over the first `ramp_days`."""
        tenure = days[:, None] - rows["hire_day"].to_numpy()[None, :]
        level = np.clip(0.2 + 0.8 * tenure / ramp_days, 0.2, 1.0)
        return np.where(self.active(days, rows), level, 0.0)


def build_org(rng: np.random.Generator) -> Org:
    names = person_names(rng, len(ROSTER))
    traits = _draw_traits(rng, len(ROSTER))
    perf = traits @ _weights() + PERFORMANCE_NOISE * rng.standard_normal(len(ROSTER))
    keys = [r[0] for r in ROSTER]
    person_ids = {key: f"P{i + 1:03d}" for i, key in enumerate(keys)}
    left = {r[0]: r[6] for r in ROSTER}
    left.update(_choose_emea_leavers(keys, perf))
    rows = []
    for (key, team, role, title, manager, hired, _), name in zip(ROSTER, names, strict=True):
        leave = left[key]
        rows.append({
            "person_id": person_ids[key], "name": name, "email": _email(name), "team": team, "role": role,
            "manager_id": person_ids[manager] if manager else None, "region": _office(team),
            "hired_at": pd.Timestamp(hired), "left_at": pd.Timestamp(leave) if leave else pd.NaT,
            "key": key, "title": title, "hire_day": day_of(pd.Timestamp(hired).date()),
            "leave_day": day_of(pd.Timestamp(leave).date()) + 1 if leave else DAYS + 10_000,
        })
    people = pd.DataFrame(rows)
    people["perf"] = perf
    return Org(people, traits)


def _weights() -> np.ndarray:
    return np.array([PERFORMANCE_WEIGHTS.get(c, 0.0) for c in CRITERIA])


def _draw_traits(rng: np.random.Generator, count: int) -> np.ndarray:
    """Standard-normal traits, mildly correlated: people good at one thing tend to be a little good at others."""
    general = rng.standard_normal((count, 1))
    specific = rng.standard_normal((count, len(CRITERIA)))
    return (0.2 * general + specific) / np.sqrt(1 + 0.2**2)


def _choose_emea_leavers(keys: list[str], perf: np.ndarray) -> dict[str, str]:
    """Pick the two SDR EMEA leavers so that the three who stay match SDR Americas' average performance."""
    emea = [k for k in keys if k.startswith("se") and k != "se_mgr"]
    americas = [i for i, k in enumerate(keys) if k.startswith("sa") and k != "sa_mgr"]
    target = float(perf[americas].mean())
    pairs = [(a, b) for i, a in enumerate(emea) for b in emea[i + 1:]]
    stay_mean = {pair: float(np.mean([perf[keys.index(k)] for k in emea if k not in pair])) for pair in pairs}
    best = min(pairs, key=lambda pair: (abs(stay_mean[pair] - target), pair))
    return dict(zip(best, EMEA_LEAVE_DATES, strict=True))


def _email(name: str) -> str:
    first, last = name.lower().replace("'", "").split(" ", 1)
    return f"{first}.{last.replace(' ', '')}@{EMAIL_DOMAIN}"


def _office(team: str) -> str:
    return "EMEA" if team == "SDR EMEA" else "North America"
