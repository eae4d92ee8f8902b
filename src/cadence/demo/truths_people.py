"""Truths about people, measured on the warehouse's tables: the under-resourced team's headcount and output,
the planted reps' funnel ratios against their peers', model reps, and what interview scores predict.

The plan names whom to measure (the team, the reps, the interviewer); every figure is computed here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, FISCAL_YEARS, YEAR_STARTS
from cadence.demo.monthly import day_numbers

if TYPE_CHECKING:
    from cadence.workspace import Workspace

STEP_KINDS = {"call_to_connect": ("call", "connect"), "connect_to_demo": ("connect", "demo"),
              "demo_to_proposal": ("demo", "proposal"), "proposal_to_win": ("proposal", "win")}


def measure_under_resourcing(tables: dict[str, pd.DataFrame], plan: dict[str, Any]) -> dict[str, Any]:
    """SDR headcount, weekly target and qualified demos of the plan's under-resourced and comparable teams."""
    people, shipments, targets = tables["people"], tables["shipments"], tables["tempo_targets"]
    hired, left = day_numbers(people["hired_at"]), _leaving(people["left_at"])
    last_year = float(YEAR_STARTS[-2])
    detail: dict[str, Any] = {}
    for team in (plan["under_resourced_team"], plan["comparable_team"]):
        sdr = ((people["team"] == team) & (people["role"] == "sdr")).to_numpy()
        headcount = {f"FY{y}": int((sdr & (hired <= d) & (left > d)).sum())
                     for y, d in zip(FISCAL_YEARS, YEAR_STARTS, strict=False)}
        headcount["end"] = int((sdr & (hired <= DAYS - 1) & (left > DAYS - 1)).sum())
        rows = shipments[(shipments["team"] == team) & (shipments["deliverable"] == "qualified_demo")]
        demos = int((day_numbers(rows["shipped_at"]) >= last_year).sum())
        sdr_weeks = float(np.clip(np.minimum(left[sdr], DAYS) - np.maximum(hired[sdr], last_year), 0, None).sum() / 7)
        target = int(targets[targets["team"] == team].sort_values("valid_from")["count"].iloc[-1])
        detail[team] = {"sdr_headcount": headcount, "weekly_target": target,
                        "weekly_demos_last_year": round(demos / ((DAYS - last_year) / 7), 2),
                        "demos_per_sdr_week_last_year": round(demos / sdr_weeks, 2)}
    return {"under_resourced": {"deliverable": "qualified_demo", "teams": detail,
                                "method": "SDRs employed on each fiscal year's first day and the data's last; "
                                          "qualified_demo shipments in the last fiscal year per week and per "
                                          "SDR-week; the latest tempo target"}}


def _leaving(values: pd.Series) -> np.ndarray:
    """The first day a person no longer works (the day after left_at), +inf while employed."""
    return np.where(values.isna(), np.inf, day_numbers(values.fillna(pd.Timestamp("2000-01-01"))) + 1)


def rep_funnels(ws: Workspace, people: pd.DataFrame, opportunities: pd.DataFrame) -> pd.DataFrame:
    """Per account executive: calls, connects, demos, proposals, wins and the four step ratios."""
    acts = ws.table("activities")
    counts = acts.group_by(["person_id", "kind"]).aggregate(n=acts.count()).to_pandas()
    reps = people[people["role"] == "rep"].set_index("person_id")
    frame = counts[counts["person_id"].isin(reps.index)].pivot(index="person_id", columns="kind", values="n")
    frame = frame.reindex(columns=["call", "connect", "demo", "proposal"]).fillna(0)
    wins = opportunities[opportunities["is_won"]].groupby("owner_id").size()
    frame["win"] = wins.reindex(frame.index).fillna(0)
    frame["team"] = reps["team"].reindex(frame.index)
    for step, (before, after) in STEP_KINDS.items():
        frame[step] = frame[after] / frame[before]
    return frame


def measure_coaching(ws: Workspace, tables: dict[str, pd.DataFrame], plan: dict[str, Any]) -> dict[str, Any]:
    """Each planted rep's ratio at their step against their teammates' median; each team's best rep without a gap."""
    funnel = rep_funnels(ws, tables["people"], tables["opportunities"])
    gaps: dict[str, str] = plan["coaching_gaps"]
    measured = {}
    for person, step in gaps.items():
        peers = funnel[(funnel["team"] == funnel.at[person, "team"]) & ~funnel.index.isin(list(gaps))]
        measured[person] = {"step": step, "ratio": round(float(funnel[step].to_dict()[person]), 4),
                            "peers_median": round(float(peers[step].median()), 4)}
    attainment = _attainment(tables["performance"])
    reps = tables["people"][tables["people"]["role"] == "rep"].set_index("person_id")
    reps = reps[~reps.index.isin(list(gaps))].join(attainment)
    model = {team: str(group["attainment"].idxmax()) for team, group in reps.groupby("team")}
    return {"coaching_measured": measured, "model_reps": model,
            "coaching_method": "activity counts per rep and kind, wins by owner; peers are the rep's team "
                               "without the planted reps; a model rep has the best sum(attained) ÷ sum(quota) "
                               "of their team's reps without a planted gap"}


def _attainment(performance: pd.DataFrame) -> pd.Series:
    totals = performance.groupby("person_id")[["attained", "quota"]].sum()
    return (totals["attained"] / totals["quota"]).rename("attainment")


def measure_hiring(tables: dict[str, pd.DataFrame], plan: dict[str, Any]) -> dict[str, Any]:
    """Each criterion's correlation with hires' attainment, and how far the plan's interviewer scores above others."""
    scores, candidates = tables["interview_scores"], tables["candidates"]
    hires = candidates.dropna(subset=["person_id"]).set_index("candidate_id")["person_id"]
    mean_scores = scores[scores["candidate_id"].isin(hires.index)].pivot_table(
        index="candidate_id", columns="criterion", values="score", aggfunc="mean")
    mean_scores.index = mean_scores.index.map(hires.to_dict())
    joined = mean_scores.join(_attainment(tables["performance"]), how="inner")
    correlations = {c: round(float(joined[c].corr(joined["attainment"])), 3) for c in mean_scores.columns}
    by_interviewer = scores.groupby("interviewer_id")["score"].mean()
    lenient = plan["lenient_interviewer"]
    others = scores.loc[scores["interviewer_id"] != lenient, "score"].mean()
    return {
        "predictive_criterion": max(correlations, key=lambda c: correlations[c]),
        "criterion_correlations": correlations, "hires_with_performance": len(joined),
        "performance_measure": "sum(attained) ÷ sum(quota) over the hire's quarters",
        "most_lenient_interviewer": str(by_interviewer.idxmax()),
        "lenient_interviewer_excess": round(float(by_interviewer[lenient] - others), 2),
    }
