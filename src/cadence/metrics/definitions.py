"""The built-in metrics and their standard definitions.

Money is converted to the reporting currency (the corporate one, or `--currency`) at the rate
`money.py` picks per deal before it is added; cut by `currency`, amounts are summed as entered.

Conventions: money is in the workspace currency; a deal is *won* when its stage is a won stage,
*closed* when won or lost; a closed deal is dated by the workspace's rule (`dating.py`): the CRM's
close date by default, or closed_at in the company's time zone; every such definition names the rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cadence.metrics.dating import DealDating
from cadence.metrics.registry import AnyMetric, DerivedMetric, Metric

DEAL_DIMS = ("segment", "industry", "region", "team", "owner_name", "owner_id", "kind", "pipeline",
             "product", "lead_source", "currency")  # cut by currency, amounts stay as entered
LEAD_DIMS = ("channel", "campaign", "segment", "region", "status")
ACTIVITY_DIMS = ("kind", "team", "rep_name", "person_id", "role")
ACCOUNT_DIMS = ("segment", "region")


def _safe_ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    denominator = denominator.astype("float64")
    return (numerator.astype("float64") / denominator.where(denominator != 0)).astype("float64")


def _velocity(frame: pd.DataFrame, context: Any) -> pd.Series:
    """opportunities × win rate × average deal size ÷ sales cycle (per day)."""
    return _safe_ratio(frame["closed_deals"] * frame["win_rate"] * frame["average_deal_size"],
                       frame["sales_cycle"])


def _per_rep_day(frame: pd.DataFrame, context: Any) -> pd.Series:
    """activities ÷ reps who logged any ÷ working days (Mon–Fri) in the period."""
    return _safe_ratio(frame["activities"], frame["active_reps"] * frame["_working_days"])


def _coverage(frame: pd.DataFrame, context: Any) -> pd.Series:
    """open pipeline due in the period ÷ the bookings still needed to reach the period's target."""
    remaining = (frame["_bookings_target"] - frame["bookings"].fillna(0)).clip(lower=0)
    return _safe_ratio(frame["open_pipeline"], remaining.replace(0, np.nan))


def _nps(t: Any) -> Any:
    promoters = (t.score >= 9).ifelse(1, 0).sum()
    detractors = (t.score <= 6).ifelse(1, 0).sum()
    return (promoters - detractors).cast("float64") * 100.0 / t.count().cast("float64")


def builtin_metrics(dating: DealDating | None = None) -> list[AnyMetric]:
    """The built-ins; metrics over closed deals name `dating`'s rule (default: the CRM's close date)."""
    dated = (dating or DealDating()).phrase
    return [
        Metric("bookings", "Bookings", f"Closed-won amount, {dated}.", "currency", "up",
               "Sales", "deals", "closed_on", DEAL_DIMS, lambda t: t.amount_value.sum(),
               "sum(amount) over won deals", where=lambda t: t.is_won),
        Metric("won_deals", "Won deals", f"Number of deals won, {dated}.", "count", "up", "Sales", "deals",
               "closed_on", DEAL_DIMS, lambda t: t.count(), "count(won deals)", where=lambda t: t.is_won),
        Metric("closed_deals", "Closed deals", f"Number of deals closed, won or lost, {dated}.", "count", "up",
               "Sales", "deals", "closed_on", DEAL_DIMS, lambda t: t.count(), "count(closed deals)",
               where=lambda t: t.is_closed),
        Metric("pipeline_created", "Pipeline created", "Amount of the opportunities created in the period.",
               "currency", "up", "Marketing", "deals", "created_at", DEAL_DIMS,
               lambda t: t.amount_value.sum(), "sum(amount) over deals created"),
        Metric("opportunities_created", "Opportunities created", "Number of opportunities created.", "count", "up",
               "Marketing", "deals", "created_at", DEAL_DIMS, lambda t: t.count(), "count(deals created)"),
        Metric("open_pipeline", "Open pipeline", "Amount of the deals open now, by the period of their expected "
               "close date.", "currency", "up", "Sales", "deals", "close_date", DEAL_DIMS,
               lambda t: t.amount_value.sum(), "sum(amount) over open deals, dated by close_date",
               where=lambda t: ~t.is_closed, snapshot=True),
        Metric("win_rate", "Win rate", f"Won ÷ closed, by count, {dated}.", "ratio", "up", "Sales", "deals",
               "closed_on", DEAL_DIMS, lambda t: t.is_won.ifelse(1.0, 0.0).mean(), "count(won) ÷ count(closed)",
               where=lambda t: t.is_closed),
        Metric("win_rate_amount", "Win rate (amount)", f"Won amount ÷ closed amount, {dated}.", "ratio", "up",
               "Sales", "deals", "closed_on", DEAL_DIMS,
               lambda t: t.amount_value.sum(where=t.is_won) / t.amount_value.sum(),
               "sum(amount of won) ÷ sum(amount of closed)", where=lambda t: t.is_closed),
        Metric("average_deal_size", "Average deal size", f"Mean amount of won deals, {dated}.", "currency",
               "up", "Sales", "deals", "closed_on", DEAL_DIMS, lambda t: t.amount_value.mean(),
               "mean(amount) over won deals", where=lambda t: t.is_won),
        Metric("sales_cycle", "Sales cycle", f"Median days from creation to close of won deals, {dated}.",
               "days", "down", "Sales", "deals", "closed_on", DEAL_DIMS,
               lambda t: t.cycle_days.cast("float64").median(), "median(closed_at − created_at) over won deals",
               where=lambda t: t.is_won & t.closed_at.notnull()),
        DerivedMetric("sales_velocity", "Sales velocity", "Expected bookings per day the pipeline produces.",
                      "per_day", "up", "Sales", ("closed_deals", "win_rate", "average_deal_size", "sales_cycle"),
                      _velocity, "closed deals × win rate × average deal size ÷ sales cycle (days)"),
        DerivedMetric("pipeline_coverage", "Pipeline coverage", "Open pipeline due in the period ÷ the bookings "
                      "still needed to hit the period's bookings target.", "ratio", "up", "Sales",
                      ("open_pipeline", "bookings"), _coverage,
                      "open pipeline due in period ÷ (bookings target − bookings so far)"),
        Metric("leads", "Leads", "Leads created.", "count", "up", "Marketing", "leads", "created_at", LEAD_DIMS,
               lambda t: t.count(), "count(leads), dated by created_at"),
        Metric("qualified_leads", "Qualified leads", "Leads qualified, dated by qualification.", "count", "up",
               "Marketing", "leads", "qualified_at", LEAD_DIMS, lambda t: t.count(),
               "count(leads with qualified_at), dated by qualified_at", where=lambda t: t.qualified_at.notnull()),
        Metric("lead_conversion", "Lead → opportunity conversion", "Share of the period's new leads that became "
               "an opportunity or a customer.", "ratio", "up", "Marketing", "leads", "created_at", LEAD_DIMS,
               lambda t: t.converted.ifelse(1.0, 0.0).mean(), "count(converted) ÷ count(leads), dated by created_at"),
        Metric("activities", "Activities", "Sales activities logged.", "count", "up", "Sales", "activities",
               "occurred_at", ACTIVITY_DIMS, lambda t: t.count(), "count(activities)"),
        Metric("active_reps", "Active reps", "People who logged at least one activity.", "count", "up", "Sales",
               "activities", "occurred_at", ACTIVITY_DIMS, lambda t: t.person_id.nunique(),
               "count(distinct person_id)"),
        DerivedMetric("activities_per_rep_day", "Activities per rep per day", "Activities per active rep per "
                      "working day.", "per_day", "up", "Sales", ("activities", "active_reps"), _per_rep_day,
                      "activities ÷ active reps ÷ working days (Mon–Fri)"),
        Metric("weekly_active_paying_users", "Weekly active paying users", "Active users on paid seats in a week; "
               "for longer periods the mean of the weekly totals.", "count", "up", "Product", "usage", "week_ts",
               ACCOUNT_DIMS, lambda t: t.active_paying_users.sum(), "sum(active_paying_users) per week"),
        Metric("nps", "NPS", "Net promoter score: % promoters (9–10) − % detractors (0–6).", "score", "up",
               "Success", "nps", "responded_at", ACCOUNT_DIMS, _nps, "100 × (promoters − detractors) ÷ responses"),
    ]
