"""SaaS revenue: MRR per customer per month, and its movements (ChartMogul's definitions).

A subscription period counts towards a month's MRR when it is active on the month's last day
(`started_at ≤ month end < ended_at`; `ended_at` is the first day no longer billed). Comparing
each customer's MRR with the month before gives exactly one movement:
  new          0 → >0, never paid before          reactivation  0 → >0, paid before
  expansion    rises from >0                      contraction   falls, still >0
  churned      >0 → 0
so MRR(start) + new + expansion + reactivation − contraction − churned = MRR(end), every month.
Net revenue retention over twelve months: MRR now of the customers who paid twelve months ago,
÷ their MRR then; gross revenue retention caps each customer at what they paid then.
Cut by plan, a customer's month counts on the plan they pay most for (periods at MRR 0, such as
trials, never decide it), and the month they stop paying on the plan they left. MRR is added up
as a decimal, so every figure is exact to the cent.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pandas as pd

from cadence.metrics.registry import AnyMetric, DerivedMetric, Metric
from cadence.metrics.relations import TableSource

REVENUE_DIMS = ("segment", "region", "industry", "plan")
# MRR stays a decimal in the warehouse: sums of cents are exact, so the movements reconcile to the
# cent on every engine, whatever order it adds in (float sums drift in the last bits, run to run)
MONEY = "decimal(38, 2)"


def _months(first: date, last: date) -> pd.DataFrame:
    starts = pd.date_range(pd.Timestamp(first).to_period("M").to_timestamp(),
                           pd.Timestamp(last).to_period("M").to_timestamp(), freq="MS")
    ends = starts + pd.offsets.MonthEnd(0)
    return pd.DataFrame({"month": starts.date, "month_end": ends.date})


def mrr_months(tables: TableSource, *, today: date | None = None) -> Any:
    """One row per customer per month from their first paid month to now, with MRR and movements."""
    subs = tables.table("subscriptions")
    bounds = subs.aggregate(first=subs.started_at.min(), last=subs.ended_at.max(),
                            open_ended=subs.ended_at.isnull().sum()).to_pandas().iloc[0]
    if pd.isna(bounds["first"]):
        first = last = today or date.today()
    else:
        first = pd.Timestamp(bounds["first"]).date()
        last_end = pd.Timestamp(bounds["last"]).date() if not pd.isna(bounds["last"]) else first
        last = max(last_end, today or date.today()) if int(bounds["open_ended"] or 0) else last_end
    months = ibis.memtable(_months(first, last))
    customers = subs.select("account_id").distinct()
    grid = customers.cross_join(months)
    # an open period ends after any month; no OR in the join, so engines keep the hash join on the account
    active = subs.select(s_account="account_id", s_start="started_at",
                         s_end=ibis.coalesce(subs.ended_at, ibis.date(9999, 12, 31)),
                         s_mrr=subs.mrr.cast(MONEY), s_plan="plan")
    joined = grid.left_join(
        active,
        (grid.account_id == active.s_account) & (active.s_start <= grid.month_end)
        & (active.s_end > grid.month_end),
    )
    per_month = joined.group_by(["account_id", "month"]).agg(mrr=joined.s_mrr.sum().fill_null(0).cast(MONEY))
    main = _main_plan(joined)
    per_month = per_month.left_join(main, [per_month.account_id == main.p_account, per_month.month == main.p_month])
    ordered = ibis.window(group_by="account_id", order_by="month")
    with_prev = per_month.mutate(prev_mrr=per_month.mrr.lag().over(ordered).fill_null(0).cast(MONEY),
                                 mrr_12_ago=per_month.mrr.lag(12).over(ordered),
                                 plan=ibis.coalesce(per_month.paid_plan, per_month.paid_plan.lag().over(ordered)))
    with_prev = with_prev.drop("p_account", "p_month", "paid_plan")
    history = ibis.cumulative_window(group_by="account_id", order_by="month")
    flagged = with_prev.mutate(
        paid_before=(with_prev.prev_mrr > 0).ifelse(1, 0).max().over(history),
    )
    t = flagged
    movement = (
        ibis.cases(
            ((t.prev_mrr <= 0) & (t.mrr > 0) & (t.paid_before == 0), "new"),
            ((t.prev_mrr <= 0) & (t.mrr > 0), "reactivation"),
            ((t.prev_mrr > 0) & (t.mrr <= 0), "churned"),
            ((t.prev_mrr > 0) & (t.mrr > t.prev_mrr), "expansion"),
            ((t.prev_mrr > 0) & (t.mrr < t.prev_mrr), "contraction"),
            else_="none",
        )
    )
    t = t.mutate(movement=movement, change=t.mrr - t.prev_mrr, month_ts=t.month.cast("timestamp"))
    started = t.filter((t.mrr > 0) | (t.prev_mrr > 0) | (t.paid_before == 1))  # from the first paid month on
    acc = tables.table("accounts").select(account_key="account_id", segment="segment", region="region",
                                          industry="industry")
    return started.left_join(acc, started.account_id == acc.account_key).drop("account_key")


def _main_plan(joined: Any) -> Any:
    """Each customer's plan in each month they pay: the plan with the most MRR (ties: the last by name).

    Trials and other periods at MRR 0 never decide the plan. In the month a customer stops
    paying, `mrr_months` keeps the plan of the month before, so churned MRR lands on the plan left.
    """
    paid = joined.filter(joined.s_mrr > 0)
    per_plan = paid.group_by(["account_id", "month", "s_plan"]).agg(plan_mrr=paid.s_mrr.sum())
    top = ibis.window(group_by=["account_id", "month"],
                      order_by=[ibis.desc(per_plan.plan_mrr), ibis.desc(per_plan.s_plan.fill_null(""))])
    ranked = per_plan.mutate(_rank=ibis.row_number().over(top))
    # window first, filter after (see metrics/query.py)
    return ranked.filter(ranked._rank == 0).select(p_account="account_id", p_month="month", paid_plan="s_plan")


def _movement(name: str) -> Any:
    return lambda t: t.movement == name


def revenue_metrics() -> list[AnyMetric]:
    def m(name: str, label: str, description: str, measure: Any, formula: str, *, unit: Any = "currency",
          direction: Any = "up", where: Any = None, stock: str | None = None) -> Metric:
        return Metric(name, label, description, unit, direction, "Success", "mrr_months", "month_ts",
                      REVENUE_DIMS, measure, formula, where=where, stock=stock)

    return [
        m("mrr", "MRR", "Monthly recurring revenue at the end of the period.", lambda t: t.mrr.sum(),
          "sum(mrr of subscriptions active on the period's last day)", stock="last"),
        m("arr", "ARR", "Annual recurring revenue: 12 × MRR at the end of the period.",
          lambda t: t.mrr.sum() * 12, "12 × MRR", stock="last"),
        m("customers", "Customers", "Paying customers (MRR > 0) at the end of the period.",
          lambda t: (t.mrr > 0).ifelse(1, 0).sum(), "count(customers with MRR > 0)", unit="count", stock="last"),
        m("customers_at_start", "Customers at start", "Paying customers at the start of the period.",
          lambda t: (t.prev_mrr > 0).ifelse(1, 0).sum(), "count(customers with MRR > 0 the month before)",
          unit="count", stock="first"),
        m("new_mrr", "New MRR", "MRR from customers paying for the first time.", lambda t: t.change.sum(),
          "Σ MRR of customers going 0 → >0 for the first time", where=_movement("new")),
        m("expansion_mrr", "Expansion MRR", "MRR added by paying customers who pay more.",
          lambda t: t.change.sum(), "Σ increase of customers paying more", where=_movement("expansion")),
        m("reactivation_mrr", "Reactivation MRR", "MRR from former customers who pay again.",
          lambda t: t.change.sum(), "Σ MRR of customers going 0 → >0 again", where=_movement("reactivation")),
        m("contraction_mrr", "Contraction MRR", "MRR lost from customers who pay less but still pay.",
          lambda t: -t.change.sum(), "Σ decrease of customers paying less (> 0)", direction="down",
          where=_movement("contraction")),
        m("churned_mrr", "Churned MRR", "MRR lost from customers who stopped paying.", lambda t: -t.change.sum(),
          "Σ previous MRR of customers going >0 → 0", direction="down", where=_movement("churned")),
        m("net_new_mrr", "Net new MRR", "New + expansion + reactivation − contraction − churned.",
          lambda t: t.change.sum(), "MRR(end) − MRR(start)"),
        m("churned_customers", "Churned customers", "Customers who stopped paying.", lambda t: t.count(),
          "count(customers going >0 → 0)", unit="count", direction="down", where=_movement("churned")),
        m("net_revenue_retention", "Net revenue retention (12 months)", "MRR now of the customers who paid "
          "twelve months earlier ÷ their MRR then.",
          lambda t: t.mrr.sum(where=t.mrr_12_ago > 0) / t.mrr_12_ago.sum(where=t.mrr_12_ago > 0),
          "Σ MRR(m) ÷ Σ MRR(m−12) over customers with MRR(m−12) > 0", unit="ratio", stock="last"),
        m("gross_revenue_retention", "Gross revenue retention (12 months)", "Like NRR, but each customer counts "
          "at most what they paid twelve months earlier: expansion cannot hide churn.",
          lambda t: ibis.least(t.mrr, t.mrr_12_ago).sum(where=t.mrr_12_ago > 0)
          / t.mrr_12_ago.sum(where=t.mrr_12_ago > 0),
          "Σ min(MRR(m), MRR(m−12)) ÷ Σ MRR(m−12) over customers with MRR(m−12) > 0", unit="ratio", stock="last"),
        DerivedMetric("logo_churn", "Logo churn", "Share of the customers at the start of the period who stopped "
                      "paying during it.", "ratio", "down", "Success", ("churned_customers", "customers_at_start"),
                      lambda f, _: (f["churned_customers"].fillna(0)
                                    / f["customers_at_start"].where(f["customers_at_start"] > 0)),
                      "churned customers ÷ customers at start"),
    ]
