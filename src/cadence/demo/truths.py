"""What the demo's data shows, measured on the warehouse after the build: `truths.json`, for tests only.

Every figure is read back from the loaded warehouse (each table through `Workspace.table`, then plain
pandas) and says how it was measured; none is copied from a generator's parameters. Which rep, team,
interviewer or feature carries a planted effect is the plan's (`plan.py`): the plan names them, the
truths measure what the data shows about them. No analysis may read this file.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cadence.demo.calendar import DAYS, END, FISCAL_YEARS, LAST_WEEKS_DAYS, fiscal_year, in_last_weeks
from cadence.demo.monthly import day_numbers, expansion_mrr, net_new_mrr
from cadence.demo.plan import KPIS, MISSION_METRIC
from cadence.demo.truths_calls import measure_forecast_bias
from cadence.demo.truths_people import measure_coaching, measure_hiring, measure_under_resourcing

if TYPE_CHECKING:
    from cadence.workspace import Workspace

TABLES = ("accounts", "opportunities", "subscriptions", "people", "shipments", "tempo_targets", "performance",
          "interview_scores", "candidates", "usage", "features", "feature_requests", "goals")
ALIGNED_AT = 0.5  # a KPI moves with the mission when its best |correlation| reaches this
ALIGNMENT_LAGS = range(0, 4)


def measure_truths(ws: Workspace, plan: dict[str, Any]) -> dict[str, Any]:
    """Every truth, measured on `ws`'s warehouse; `plan` only names whom to measure."""
    tables = read_tables(ws)
    truths: dict[str, Any] = {"measured_on": "the warehouse after the build: each table read whole, then pandas"}
    truths.update(_company(tables))
    truths.update(_bunching(tables["opportunities"]))
    truths.update(_quarter_end_aftermath(tables))
    truths.update(_goals(tables["goals"]))
    truths.update(measure_under_resourcing(tables, plan))
    truths.update(measure_coaching(ws, tables, plan))
    truths.update(measure_hiring(tables, plan))
    truths.update(_alignment(tables))
    truths.update(_unblocking(tables))
    truths.update(measure_forecast_bias(ws, tables))
    return truths


def read_tables(ws: Workspace) -> dict[str, pd.DataFrame]:
    """The warehouse's tables as pandas, with decimals as floats."""
    return {name: _plain(ws.table(name).to_pandas()) for name in TABLES}


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    for column in frame.columns:
        values = frame[column].dropna()
        if len(values) and isinstance(values.iloc[0], Decimal):
            frame[column] = frame[column].astype("float64")
    return frame


def _days(values: pd.Series) -> np.ndarray:
    """Day numbers, +inf where the date is missing (a period still running, a deal still open)."""
    return np.where(values.isna(), np.inf, day_numbers(values.fillna(pd.Timestamp(END))))


def _company(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    opportunities = tables["opportunities"]
    first, last = opportunities["created_at"].min(), opportunities["closed_at"].max()
    return {
        "data_window": {"first_deal_created": first.date().isoformat(), "last_deal_closed": last.date().isoformat(),
                        "method": "min(created_at) and max(closed_at) of opportunities"},
        "fiscal_years": [f"FY{y}" for y in sorted(set(fiscal_year(day_numbers(opportunities["closed_at"].dropna()))))],
        "segments": sorted(tables["accounts"]["segment"].unique()),
        "teams": sorted(tables["people"]["team"].unique()),
        "accounts_sharing_a_domain": _shared_domains(tables["accounts"]),
    }


def _shared_domains(accounts: pd.DataFrame) -> list[list[str]]:
    """Groups of account ids whose domains are the same, letter case and a leading "www." aside."""
    rows = accounts.dropna(subset=["domain"])
    domain = rows["domain"].str.lower().str.removeprefix("www.")
    groups = rows.groupby(domain)["account_id"].apply(sorted)
    return sorted(ids for ids in groups if len(ids) > 1)


def _bunching(opportunities: pd.DataFrame) -> dict[str, Any]:
    won = opportunities[opportunities["is_won"]]
    day = day_numbers(won["closed_at"])
    amount = won["amount"].to_numpy(dtype="float64")
    last, year = np.asarray(in_last_weeks(day)), np.asarray(fiscal_year(day))
    sales_led = won["kind"].isin(["new", "expansion"]).to_numpy()

    def share(rows: np.ndarray) -> dict[str, float]:
        return {f"FY{y}": round(float(amount[(year == y) & last & rows].sum() / amount[(year == y) & rows].sum()), 4)
                for y in FISCAL_YEARS}

    discount = won["discount_pct"].to_numpy(dtype="float64")
    gap = float(np.nanmean(discount[last]) - np.nanmean(discount[~last]))
    by_year = {f"FY{y}": round(float(np.nanmean(discount[last & (year == y)]) - np.nanmean(
        discount[~last & (year == y)])), 2) for y in FISCAL_YEARS}
    return {
        "bunching": share(np.ones(len(won), dtype=bool)), "bunching_new_and_expansion": share(sales_led),
        "bunching_definition": f"closed-won amount with closed_at in the last {LAST_WEEKS_DAYS} days of its fiscal "
                               "quarter ÷ all closed-won amount, per fiscal year (all kinds)",
        "quarter_end_discount_gap": round(gap, 2), "quarter_end_discount_gap_by_year": by_year,
    }


def _quarter_end_aftermath(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    """First-anniversary churn and contraction of annual customers, by whether their first deal closed in the
    last two weeks of a quarter."""
    opportunities, subscriptions = tables["opportunities"], tables["subscriptions"]
    won = opportunities[opportunities["is_won"] & (opportunities["kind"] == "new")]
    won = won.assign(day=day_numbers(won["closed_at"]))
    won = won[(won["day"] + 372 < DAYS) & won["opportunity_id"].isin(set(subscriptions["opportunity_id"].dropna()))]
    segment = won["account_id"].map(tables["accounts"].set_index("account_id")["segment"])
    annual = won[segment.isin(["enterprise", "mid_market"])]
    subs = subscriptions.assign(start=day_numbers(subscriptions["started_at"]), end=_days(subscriptions["ended_at"]))
    by_account = dict(iter(subs.groupby("account_id")))
    rows = []
    for account, day in zip(annual["account_id"], annual["day"].to_numpy(dtype="float64"), strict=True):
        before, after = _mrr(by_account[account], day + 300), _mrr(by_account[account], day + 372)
        if before > 0:
            rows.append((bool(in_last_weeks(np.array([day]))[0]), after <= 0, 0 < after < before * 0.97))
    frame = pd.DataFrame(rows, columns=["quarter_end", "churned", "contracted"])
    out = {}
    for flag, label in ((True, "quarter_end"), (False, "other")):
        part = frame[frame["quarter_end"] == flag]
        out[label] = {"deals": len(part), "churn_rate": round(float(part["churned"].mean()), 4),
                      "contraction_rate": round(float(part["contracted"].mean()), 4)}
    return {"quarter_end_first_year": out,
            "quarter_end_first_year_method": "new enterprise and mid-market deals with a subscription: MRR on day "
                                             "372 after the close is 0 (churned) or below 97% of day 300's"}


def _mrr(periods: pd.DataFrame, day: float) -> float:
    active = (periods["start"] <= day) & (periods["end"] > day)
    return float(periods.loc[active, "mrr"].sum())


def _goals(goals: pd.DataFrame) -> dict[str, Any]:
    """The first fiscal year in which a quarter's goals fall due on more than one day."""
    due = pd.to_datetime(goals["due_date"])
    quarter = pd.PeriodIndex(due, freq="Q-JAN")
    days = due.groupby(quarter.astype(str)).nunique()
    staggered = sorted({int(str(q)[:4]) for q, n in days.items() if n > 1})
    return {"goals_staggered_from": f"FY{staggered[0]}" if staggered else None,
            "goals_staggered_method": "fiscal quarters (Q-JAN) whose goals have more than one distinct due_date"}


def monthly_kpis(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The mission metric and each team KPI of the plan's tree per calendar month, as KPIS describes them."""
    months = pd.period_range(tables["opportunities"]["created_at"].min(), END - pd.Timedelta(days=1), freq="M")
    out = pd.DataFrame(index=months)
    out[MISSION_METRIC] = 12 * net_new_mrr(tables["subscriptions"], months)
    opps, segments = tables["opportunities"], tables["accounts"].set_index("account_id")["segment"]
    won = opps[opps["is_won"] & opps["kind"].isin(["new", "expansion"])]
    won = won.assign(segment=won["account_id"].map(segments))
    for team, kpi, _, _ in KPIS:
        if kpi == "bookings":
            rows = won[won["segment"] == ("enterprise" if team.startswith("Enterprise") else "mid_market")]
            series = rows.groupby(rows["closed_at"].dt.to_period("M"))["amount"].sum()
        elif kpi == "expansion_mrr":
            series = pd.Series(expansion_mrr(tables["subscriptions"], months), index=months)
        else:
            weekly = tables["usage"].groupby("week")["active_paying_users"].sum()
            series = weekly.groupby(pd.to_datetime(weekly.index).to_period("M")).mean()
        out[f"{team}: {kpi}"] = series.reindex(months).astype("float64").fillna(0).to_numpy()
    return out


def _alignment(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    changes = monthly_kpis(tables).diff().iloc[1:]
    mission = changes[MISSION_METRIC]
    alignment = {}
    for column in changes.columns[1:]:
        best = max((abs(float(mission.corr(changes[column].shift(lag)))), lag) for lag in ALIGNMENT_LAGS)
        alignment[column] = {"best_abs_correlation": round(best[0], 3), "lag_months": best[1],
                             "moves_with_mission": best[0] >= ALIGNED_AT}
    return {"kpi_alignment": {"method": "Pearson correlation of month-over-month changes with net new ARR's "
                                        "(12 × the change in MRR), best of lags 0–3 months; moves with the mission "
                                        f"at |r| ≥ {ALIGNED_AT}", "kpis": alignment}}


def _unblocking(tables: dict[str, pd.DataFrame]) -> dict[str, Any]:
    requests, opps = tables["feature_requests"], tables["opportunities"]
    segment = opps["account_id"].map(tables["accounts"].set_index("account_id")["segment"])
    opps = opps.assign(created=day_numbers(opps["created_at"]), closed=_days(opps["closed_at"]))
    open_kind = (opps["kind"] == "new") & segment.isin(["enterprise", "mid_market"])
    features = tables["features"]
    shipped = features[features["shipped_at"].notna() & features["theme"].notna()]
    detail = {}
    for feature_id, title, when, ship in zip(shipped["feature_id"], shipped["title"], shipped["shipped_at"],
                                             day_numbers(shipped["shipped_at"]), strict=True):
        asked = set(requests.loc[requests["feature_id"] == feature_id, "opportunity_id"].dropna())
        open_then = open_kind & (opps["created"] < ship) & (opps["closed"] > ship)
        mine, others = opps[open_then & opps["opportunity_id"].isin(asked)], opps[open_then & ~opps[
            "opportunity_id"].isin(asked)]
        detail[feature_id] = {
            "title": title, "shipped": when.date().isoformat(),
            "requesting_open_deals": len(mine), "win_rate": _rate(mine), "comparable_win_rate": _rate(others),
            "won_within_60_days": _rate(mine, ship + 60), "comparable_won_within_60_days": _rate(others, ship + 60),
        }
    return {"feature_influence": detail,
            "feature_influence_method": "new enterprise and mid-market deals open on the ship day: those whose "
                                        "account asked for the feature against the rest"}


def _rate(deals: pd.DataFrame, by: float = np.inf) -> float | None:
    if deals.empty:
        return None
    return round(float((deals["is_won"] & (deals["closed"] <= by)).mean()), 4)
