"""What was planted in the demo company, measured on the generated tables: `truths.json`, for tests only.

Every figure here is computed from the canonical tables as they are loaded (plain pandas), never
copied from a generator's parameters, so a test can trust it and an analysis can be checked
against it. No analysis may read this file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cadence.demo.calendar import (
    DAYS,
    END,
    FISCAL_YEARS,
    LAST_WEEKS_DAYS,
    STAGGERED_FROM_YEAR,
    START,
    date_of,
    fiscal_year,
    in_last_weeks,
)
from cadence.demo.hiring import LENIENT_INTERVIEWER
from cadence.demo.people import (
    COMPARABLE_TEAM,
    CRITERIA,
    PERFORMANCE_WEIGHTS,
    SEGMENT_TEAMS,
    TEAMS,
    UNDER_RESOURCED_TEAM,
)
from cadence.demo.skills import STEPS

if TYPE_CHECKING:
    from cadence.demo.build import Company

MISSION_METRIC = "net_new_arr"
MISSION_REGISTRY_METRIC = "net_new_mrr"  # net new ARR = 12 × net new MRR
MISALIGNED_KPI = "weekly_active_paying_users"
KPIS = (  # team, KPI (a metric name of the registry), table, how the monthly series is counted
    ("Enterprise Sales", "bookings", "opportunities",
     "sum(amount) of won new and expansion deals by month of closed_at, enterprise accounts"),
    ("Mid-Market Sales", "bookings", "opportunities",
     "sum(amount) of won new and expansion deals by month of closed_at, mid_market accounts"),
    ("Customer Success", "expansion_mrr", "subscriptions",
     "sum of month-on-month MRR increases of customers already paying (ChartMogul's expansion)"),
    ("Product", MISALIGNED_KPI, "usage", "mean over the month's weeks of sum(active_paying_users) per week"),
)
KPI_WHERE = {  # the filter narrowing a team's KPI, as cadence.yml's `where` spells it
    "Enterprise Sales": "segment = 'enterprise' AND kind IN ('new', 'expansion')",
    "Mid-Market Sales": "segment = 'mid_market' AND kind IN ('new', 'expansion')",
}


def _day(values: pd.Series) -> np.ndarray:
    return np.asarray((pd.to_datetime(values) - pd.Timestamp(START)).dt.total_seconds().to_numpy() / 86_400)


def _last_weeks(day: np.ndarray) -> np.ndarray:
    return np.asarray(in_last_weeks(day))


def _fy(day: np.ndarray) -> np.ndarray:
    return np.asarray(fiscal_year(day))


def measure_truths(company: Company) -> dict[str, Any]:
    tables = company.tables
    truths: dict[str, Any] = {
        "company": "Northwind Analytics", "as_of": date_of(DAYS - 1).isoformat(), "data_start": START.isoformat(),
        "data_end_exclusive": END.isoformat(), "fiscal_year_start_month": 2,
        "fiscal_years": [f"FY{y}" for y in FISCAL_YEARS], "goals_staggered_from": f"FY{STAGGERED_FROM_YEAR}",
        "mission_metric": MISSION_METRIC, "segments": list(SEGMENT_TEAMS),
        "sales_teams": SEGMENT_TEAMS, "teams": [name for name, _, _ in TEAMS],
        "duplicate_accounts": company.extras["duplicates"],
    }
    truths.update(_bunching(tables["opportunities"]))
    truths.update(_quarter_end_aftermath(tables["opportunities"], tables["subscriptions"], tables["accounts"]))
    truths.update(_under_resourcing(company))
    truths.update(_coaching(company))
    truths.update(_hiring(company))
    truths.update(_alignment(tables))
    truths.update(_unblocking(company))
    return truths


def _bunching(opportunities: pd.DataFrame) -> dict[str, Any]:
    won = opportunities[opportunities["is_won"]]
    day = _day(won["closed_at"])
    amount = won["amount"].astype("float64").to_numpy()
    last = _last_weeks(day)
    year = _fy(day)
    share = {f"FY{y}": round(float(amount[(year == y) & last].sum() / amount[year == y].sum()), 4)
             for y in FISCAL_YEARS}
    sales_led = won["kind"].isin(["new", "expansion"]).to_numpy()
    new_share = {f"FY{y}": round(float(amount[(year == y) & last & sales_led].sum()
                                       / amount[(year == y) & sales_led].sum()), 4) for y in FISCAL_YEARS}
    discount = won["discount_pct"].astype("float64").to_numpy()
    gap = float(np.nanmean(discount[last]) - np.nanmean(discount[~last]))
    by_year = {f"FY{y}": round(float(np.nanmean(discount[last & (year == y)]) - np.nanmean(
        discount[~last & (year == y)])), 2) for y in FISCAL_YEARS}
    return {
        "bunching": share, "bunching_new_and_expansion": new_share,
        "bunching_definition": f"closed-won amount with closed_at in the last {LAST_WEEKS_DAYS} days of its fiscal "
                               "quarter ÷ all closed-won amount, per fiscal year (all kinds)",
        "quarter_end_discount_gap": round(gap, 2), "quarter_end_discount_gap_by_year": by_year,
    }


def _quarter_end_aftermath(opportunities: pd.DataFrame, subscriptions: pd.DataFrame,
                           accounts: pd.DataFrame) -> dict[str, Any]:
    """First-anniversary churn and contraction of annual customers, by whether their first deal closed in the
    last two weeks of a quarter."""
    won = opportunities[opportunities["is_won"] & (opportunities["kind"] == "new")].copy()
    won["day"] = _day(won["closed_at"])
    won = won[won["day"] + 372 < DAYS]
    subs = subscriptions.assign(start=_day(subscriptions["started_at"]),
                                end=np.where(subscriptions["ended_at"].isna(), np.inf,
                                             _day(subscriptions["ended_at"].fillna(pd.Timestamp(END)))))
    first = subs.dropna(subset=["opportunity_id"]).set_index("opportunity_id")
    won = won[won["opportunity_id"].isin(first.index)]
    segment = won["account_id"].map(accounts.set_index("account_id")["segment"])
    annual = won[segment.isin(["enterprise", "mid_market"])]
    rows = []
    by_account = {a: g for a, g in subs.groupby("account_id")}
    for account, day, deal_id in zip(annual["account_id"], annual["day"].to_numpy(dtype="float64"),
                                     annual["opportunity_id"], strict=True):
        periods = by_account[account]
        mrr_before = _mrr(periods, day + 300)
        mrr_after = _mrr(periods, day + 372)
        if mrr_before <= 0:
            continue
        rows.append((bool(_last_weeks(np.array([day]))[0]), mrr_after <= 0, 0 < mrr_after < mrr_before * 0.97,
                     deal_id))
    frame = pd.DataFrame(rows, columns=["quarter_end", "churned", "contracted", "opportunity_id"])
    out = {}
    for flag, label in ((True, "quarter_end"), (False, "other")):
        part = frame[frame["quarter_end"] == flag]
        out[label] = {"deals": len(part), "churn_rate": round(float(part["churned"].mean()), 4),
                      "contraction_rate": round(float(part["contracted"].mean()), 4)}
    return {"quarter_end_first_year": out}


def _mrr(periods: pd.DataFrame, day: float) -> float:
    active = (periods["start"] <= day) & (periods["end"] > day)
    return float(periods.loc[active, "mrr"].astype("float64").sum())


def _under_resourcing(company: Company) -> dict[str, Any]:
    tables = company.tables
    people, shipments, targets = tables["people"], tables["shipments"], tables["tempo_targets"]
    hired, left = _day(people["hired_at"]), np.where(people["left_at"].isna(), np.inf, _day(people["left_at"].fillna(
        pd.Timestamp(END))) + 1)
    detail: dict[str, Any] = {}
    for team in (UNDER_RESOURCED_TEAM, COMPARABLE_TEAM):
        sdr = (people["team"] == team).to_numpy() & (people["role"] == "sdr").to_numpy()
        headcount = {f"FY{y}": int((sdr & (hired <= d) & (left > d)).sum())
                     for y, d in zip(FISCAL_YEARS, [0, 365, 731], strict=True)}
        headcount["end"] = int((sdr & (hired <= DAYS - 1) & (left > DAYS - 1)).sum())
        rows = shipments[(shipments["team"] == team) & (shipments["deliverable"] == "qualified_demo")]
        day = _day(rows["shipped_at"])
        last_year = day >= 731
        weeks = (DAYS - 731) / 7
        sdr_weeks = _sdr_weeks(people[sdr], 731, DAYS)
        target = int(targets[(targets["team"] == team)].sort_values("valid_from")["count"].iloc[-1])
        detail[team] = {"sdr_headcount": headcount, "weekly_target": target,
                        "weekly_demos_last_year": round(float(last_year.sum() / weeks), 2),
                        "demos_per_sdr_week_last_year": round(float(last_year.sum() / sdr_weeks), 2)}
    return {"under_resourced_team": UNDER_RESOURCED_TEAM, "comparable_team": COMPARABLE_TEAM,
            "under_resourced": {"deliverable": "qualified_demo", "teams": detail, "open_roles": 2,
                                "cause": "two of five SDRs left in April and May 2025 and were not replaced"}}


def _sdr_weeks(people: pd.DataFrame, first: float, last: float) -> float:
    hired = _day(people["hired_at"])
    left = np.where(people["left_at"].isna(), np.inf, _day(people["left_at"].fillna(pd.Timestamp(END))) + 1)
    days = np.clip(np.minimum(left, last) - np.maximum(hired, first), 0, None)
    return float(days.sum() / 7)


def _coaching(company: Company) -> dict[str, Any]:
    funnel = rep_funnels(company.tables)
    gaps = company.skills.gaps()
    measured = {}
    for person, step in gaps.items():
        team = funnel["team"].to_dict()[person]
        peers = funnel[(funnel["team"] == team) & ~funnel.index.isin(list(gaps))]
        measured[person] = {"step": step, "ratio": round(float(funnel[step].to_dict()[person]), 4),
                            "peers_median": round(float(peers[step].median()), 4)}
    performance = company.tables["performance"]
    attainment = (performance.groupby("person_id")["attained"].sum()
                  / performance.groupby("person_id")["quota"].sum()).rename("attainment")
    reps = company.skills.reps.set_index("person_id").join(attainment)
    model = {team: str(group[group["gap"].isna()]["attainment"].idxmax()) for team, group in reps.groupby("team")}
    return {"coaching_gaps": gaps, "coaching_steps": list(STEPS), "coaching_measured": measured,
            "reps_without_gaps": sorted(p for p in reps.index if p not in gaps), "model_reps": model}


def rep_funnels(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Per account executive: calls, connects, demos, proposals, wins and the four step ratios."""
    people = tables["people"].set_index("person_id")
    reps = people[people["role"] == "rep"]
    acts = tables["activities"]
    counts = acts[acts["person_id"].isin(reps.index)].pivot_table(index="person_id", columns="kind",
                                                                  values="activity_id", aggfunc="count")
    opps = tables["opportunities"]
    wins = opps[opps["is_won"] & opps["owner_id"].isin(reps.index)].groupby("owner_id").size()
    frame = counts.reindex(columns=["call", "connect", "demo", "proposal"]).fillna(0)
    frame["win"] = wins.reindex(frame.index).fillna(0)
    frame["team"] = reps["team"].reindex(frame.index)
    frame["call_to_connect"] = frame["connect"] / frame["call"]
    frame["connect_to_demo"] = frame["demo"] / frame["connect"]
    frame["demo_to_proposal"] = frame["proposal"] / frame["demo"]
    frame["proposal_to_win"] = frame["win"] / frame["proposal"]
    return frame


def _hiring(company: Company) -> dict[str, Any]:
    tables = company.tables
    scores, candidates, performance = tables["interview_scores"], tables["candidates"], tables["performance"]
    hires = candidates.dropna(subset=["person_id"]).set_index("candidate_id")["person_id"]
    mean_scores = scores[scores["candidate_id"].isin(hires.index)].pivot_table(
        index="candidate_id", columns="criterion", values="score", aggfunc="mean")
    mean_scores.index = mean_scores.index.map(hires.to_dict())
    totals = performance.groupby("person_id")[["attained", "quota"]].sum()
    attainment = (totals["attained"] / totals["quota"]).rename("attainment")
    joined = mean_scores.join(attainment, how="inner")
    correlations = {c: round(float(joined[c].corr(joined["attainment"])), 3) for c in CRITERIA}
    lenient = company.org.ids(LENIENT_INTERVIEWER)
    others = scores[scores["interviewer_id"] != lenient]["score"].mean()
    return {
        "predictive_criterion": max(correlations, key=lambda c: correlations[c]),
        "planted_predictive_criterion": max(PERFORMANCE_WEIGHTS, key=lambda c: PERFORMANCE_WEIGHTS[c]),
        "secondary_criteria": [c for c in PERFORMANCE_WEIGHTS if c != "coachability"],
        "criterion_correlations": correlations, "hires_with_performance": len(joined),
        "performance_measure": "sum(attained) ÷ sum(quota) over the hire's quarters",
        "lenient_interviewer": lenient,
        "lenient_interviewer_excess": round(float(scores[scores["interviewer_id"] == lenient]["score"].mean()
                                                  - others), 2),
    }


def monthly_kpis(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The mission metric and each team KPI per calendar month, as KPIS describes them."""
    months = pd.period_range(START, date_of(DAYS - 1), freq="M")
    out = pd.DataFrame(index=months)
    out[MISSION_METRIC] = 12 * net_new_mrr(tables["subscriptions"], months)
    opps, leads, people = tables["opportunities"], tables["leads"], tables["people"]
    accounts = tables["accounts"].set_index("account_id")["segment"]
    won = opps[opps["is_won"] & opps["kind"].isin(["new", "expansion"])].assign(
        segment=lambda f: f["account_id"].map(accounts))
    team_of = people.set_index("person_id")["team"]
    for team, kpi, _, _ in KPIS:
        if kpi == "bookings":
            segment = {v: k for k, v in SEGMENT_TEAMS.items()}[team]
            rows = won[won["segment"] == segment]
            series = rows.groupby(rows["closed_at"].dt.to_period("M"))["amount"].sum()
        elif kpi == "qualified_leads":
            rows = leads[leads["qualified_at"].notna() & (leads["owner_id"].map(team_of) == team)]
            series = rows.groupby(rows["qualified_at"].dt.to_period("M")).size()
        elif kpi == "pipeline_created":
            series = opps.groupby(opps["created_at"].dt.to_period("M"))["amount"].sum()
        elif kpi == "expansion_mrr":
            series = pd.Series(expansion_mrr(tables["subscriptions"], months), index=months)
        else:
            usage = tables["usage"]
            weekly = usage.groupby("week")["active_paying_users"].sum()
            series = weekly.groupby(pd.to_datetime(weekly.index).to_period("M")).mean()
        out[f"{team}: {kpi}"] = series.reindex(months).astype("float64").fillna(0).to_numpy()
    return out


def net_new_mrr(subscriptions: pd.DataFrame, months: pd.PeriodIndex) -> np.ndarray:
    """Per month: MRR on the month's last day minus MRR on the day before it began."""
    edges = [float((m.start_time - pd.Timestamp(START)).days) - 0.5 for m in months]
    edges.append(edges[-1] + (months[-1].end_time - months[-1].start_time).days + 1)
    return np.diff(_mrr_matrix(subscriptions, edges).sum(axis=0))


def _mrr_matrix(subscriptions: pd.DataFrame, days: list[float]) -> np.ndarray:
    """accounts × days: each account's MRR on each day."""
    start = _day(subscriptions["started_at"])
    end = np.where(subscriptions["ended_at"].isna(), np.inf, _day(subscriptions["ended_at"].fillna(pd.Timestamp(END))))
    mrr = subscriptions["mrr"].astype("float64").to_numpy()
    codes, _ = pd.factorize(subscriptions["account_id"])
    out = np.zeros((codes.max() + 1, len(days)))
    for j, day in enumerate(days):
        active = (start <= day) & (end > day)
        np.add.at(out[:, j], codes[active], mrr[active])
    return out


def expansion_mrr(subscriptions: pd.DataFrame, months: pd.PeriodIndex) -> np.ndarray:
    """Per month: MRR added by customers who paid at the month's start and pay more at its end."""
    edges = [float((m.start_time - pd.Timestamp(START)).days) - 0.5 for m in months]
    edges.append(edges[-1] + (months[-1].end_time - months[-1].start_time).days + 1)
    matrix = _mrr_matrix(subscriptions, edges)
    before, after = matrix[:, :-1], matrix[:, 1:]
    return np.where((before > 0) & (after > before), after - before, 0).sum(axis=0)


def _alignment(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    monthly = monthly_kpis(tables)
    changes = monthly.diff().iloc[1:]
    mission = changes[MISSION_METRIC]
    alignment = {}
    for column in monthly.columns[1:]:
        best = max((abs(float(mission.corr(changes[column].shift(lag)))), lag) for lag in range(0, 4))
        alignment[column] = {"best_abs_correlation": round(best[0], 3), "lag_months": best[1]}
    return {
        "mission_metric_in_registry": f"{MISSION_REGISTRY_METRIC} × 12",
        "misaligned_kpi": MISALIGNED_KPI,
        "misaligned_kpi_detail": {"team": "Product", "kpi": MISALIGNED_KPI, "table": "usage",
                                  "column": "active_paying_users", "series": KPIS[-1][3],
                                  "why": "company-wide engagement swings with product's half-yearly campaigns, "
                                         "not with revenue"},
        "kpi_tree": {"mission_metric": MISSION_METRIC,
                     "kpis": [{"team": t, "kpi": k, "table": tb, "series": s, "aligned": k != MISALIGNED_KPI,
                               "where": KPI_WHERE.get(t)} for t, k, tb, s in KPIS],
                     "note": "leading indicators (SDRs' qualified leads, marketing's pipeline created, Growth "
                             "Sales' small deals) are left out: month to month they do not move with net new "
                             "ARR here either, so they belong to tempo, not to the KPI tree"},
        "kpi_alignment": {"method": "Pearson correlation of month-over-month changes with the mission metric's, "
                                    "best of lags 0–3 months", "kpis": alignment},
    }


def _unblocking(company: Company) -> dict[str, Any]:
    tables = company.tables
    requests, opps = tables["feature_requests"], tables["opportunities"]
    segment = tables["accounts"].set_index("account_id")["segment"]
    opps = opps.assign(segment=opps["account_id"].map(segment), created=_day(opps["created_at"]),
                       closed=np.where(opps["closed_at"].isna(), np.inf, _day(opps["closed_at"].fillna(
                           pd.Timestamp(END)))))
    roadmap = company.roadmap.features
    unblocking = roadmap.loc[roadmap["unblocks"], "feature_id"].tolist()
    shipped = roadmap[roadmap["ship_day"].notna() & roadmap["theme"].notna()]
    detail = {}
    for feature_id, title, ship in zip(shipped["feature_id"], shipped["title"],
                                       shipped["ship_day"].to_numpy(dtype="float64"), strict=True):
        asked = set(requests.loc[requests["feature_id"] == feature_id, "opportunity_id"].dropna())
        open_then = (opps["kind"] == "new") & opps["segment"].isin(["enterprise", "mid_market"]) & (
            opps["created"] < ship) & (opps["closed"] > ship)
        mine = opps[open_then & opps["opportunity_id"].isin(asked)]
        others = opps[open_then & ~opps["opportunity_id"].isin(asked)]
        detail[feature_id] = {
            "title": title, "shipped": date_of(int(ship)).isoformat(),
            "unblocks": feature_id in unblocking, "requesting_open_deals": len(mine),
            "win_rate": _rate(mine), "comparable_win_rate": _rate(others),
            "won_within_60_days": _rate(mine, ship + 60), "comparable_won_within_60_days": _rate(others, ship + 60),
        }
    return {"unblocking_features": unblocking, "feature_influence": detail}


def _rate(deals: pd.DataFrame, by: float = np.inf) -> float | None:
    if deals.empty:
        return None
    return round(float((deals["is_won"] & (deals["closed"] <= by)).mean()), 4)
