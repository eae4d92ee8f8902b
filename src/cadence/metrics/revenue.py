"""SaaS revenue: MRR per customer per month, and its movements (ChartMogul's definitions).

A subscription period counts towards a month's MRR when it is active on the month's last day
(`started_at ≤ month end < ended_at`; `ended_at` is the first day no longer billed). Comparing
each customer's MRR with the month before gives exactly one movement:
  new          0 → >0, never paid before          reactivation  0 → >0, paid before
  expansion    rises from >0                      contraction   falls, still >0
  churned      >0 → 0
Net revenue retention over twelve months: MRR now of the customers who paid twelve months ago,
÷ their MRR then; gross revenue retention caps each customer at what they paid then.
Cut by plan, a customer's month counts on the plan they pay most for (periods at MRR 0, such as
trials, never decide it), and the month they stop paying on the plan they left.

Currencies (docs/currencies.md). A subscription's MRR is in its `currency` (empty: the corporate
one) and converts to the reporting currency at the dated rate in force on the **first day of the
month** (`money.rates_on`, the rule deals follow; else the currency's static rate). A month's MRR
is each subscription at that month's rate. Every comparison of a customer's months — the change,
the movement, MRR twelve months earlier — converts both months at the **later month's rate**, so
a subscription at a constant MXN MRR never expands or contracts because the peso moved. What the
rate change does to last month's MRR is the currency effect (`fx_change`), kept apart:
  MRR(start) + new + expansion + reactivation − contraction − churned + currency effect = MRR(end),
and in one currency the currency effect is zero. MRR is added up as a decimal (cents), so every
figure is exact to the cent; a converted subscription month is rounded to the cent first. A month
whose rate is missing names the currency in `rate_missing` and its MRR figures are refused
(`require_mrr_rates`); customer counts need no rate.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pandas as pd

from cadence.metrics.money import MISSING, RATE, corporate_currency, missing_rates, rates_on, reporting_currency
from cadence.metrics.registry import AnyMetric, DerivedMetric, Metric
from cadence.metrics.relations import TableSource

REVENUE_DIMS = ("segment", "region", "industry", "plan")
# MRR stays a decimal in the warehouse: sums of cents are exact, so the movements reconcile to the
# cent on every engine, whatever order it adds in (float sums drift in the last bits, run to run)
MONEY = "decimal(38, 2)"
RATE_RULE = ("each subscription at the rate on the month's first day; a customer's change between months "
             "at the later month's rate, so exchange-rate moves are no movement")


GRID_LOOKBACK_MONTHS = 13  # a year-ago lag needs twelve months behind a customer's first; one more for safety


def _months(first: date, last: date) -> pd.DataFrame:
    starts = pd.date_range(pd.Timestamp(first).to_period("M").to_timestamp(),
                           pd.Timestamp(last).to_period("M").to_timestamp(), freq="MS")
    ends = starts + pd.offsets.MonthEnd(0)
    return pd.DataFrame({"month": starts.date, "month_end": ends.date})


def _span(subs: Any, today: date | None) -> tuple[date, date]:
    """The first and last month the grid covers: from the first subscription to the last end, or to `today`
    while a subscription is open (no `today`: to the last day a subscription starts or ends)."""
    bounds = subs.aggregate(first=subs.started_at.min(), last=subs.ended_at.max(), last_start=subs.started_at.max(),
                            open_ended=subs.ended_at.isnull().sum()).to_pandas().iloc[0]
    if pd.isna(bounds["first"]):
        day = today or date(1970, 1, 1)  # no subscriptions: a one-month grid, and no customer to fill it
        return day, day
    first = pd.Timestamp(bounds["first"]).date()
    last_end = max(pd.Timestamp(v).date() for v in (bounds["last"], bounds["last_start"]) if not pd.isna(v))
    return first, max(last_end, today or last_end) if int(bounds["open_ended"] or 0) else last_end


def today_of(tables: TableSource) -> date | None:
    """The day a source counts up to, when it says (a workspace gives the data's last day); None otherwise."""
    day = getattr(tables, "today", None)
    return day if isinstance(day, date) else None


def subscriptions_in_currency(tables: TableSource) -> Any:
    """`subscriptions` with `currency` filled: trimmed, upper case, empty meaning the corporate currency."""
    subs = tables.table("subscriptions")
    code = subs.currency.cast("string").strip().upper().nullif("")
    return subs.mutate(currency=code.fill_null(corporate_currency(tables)))


def mrr_months(tables: TableSource, *, today: date | None = None) -> Any:
    """One row per customer per month from their first paid month to `today` (else the source's own day, see
    `today_of`), with MRR and movements. No clock is read: "today" is the workspace's one as-of."""
    subs = subscriptions_in_currency(tables)
    first, last = _span(subs, today or today_of(tables))
    # one row per customer, currency and month, every month: lags then step exactly one month
    grid = _grid(subs, _months(first, last))
    rates = rates_on(grid.select("currency", "month").distinct(), tables, currency="currency", day="month")
    rates = rates.select(r_currency="currency", r_month="month", r_rate=RATE, r_missing=MISSING)
    # an open period ends after any month; no OR in the join, so engines keep the hash join on the account
    active = subs.select(s_account="account_id", s_currency="currency", s_start="started_at",
                         s_end=ibis.coalesce(subs.ended_at, ibis.date(9999, 12, 31)),
                         s_mrr=subs.mrr.cast(MONEY), s_plan="plan")
    joined = grid.left_join(
        active,
        (grid.account_id == active.s_account) & (grid.currency == active.s_currency)
        & (active.s_start <= grid.month_end) & (active.s_end > grid.month_end),
    )
    joined = joined.left_join(rates, (joined.currency == rates.r_currency) & (joined.month == rates.r_month))
    per_month = _per_month(_per_currency(joined))
    main = _main_plan(joined)
    per_month = per_month.left_join(main, [per_month.account_id == main.p_account, per_month.month == main.p_month])
    ordered = ibis.window(group_by="account_id", order_by="month")
    with_prev = per_month.mutate(plan=ibis.coalesce(per_month.paid_plan, per_month.paid_plan.lag().over(ordered)))
    with_prev = with_prev.drop("p_account", "p_month", "paid_plan")
    history = ibis.cumulative_window(group_by="account_id", order_by="month")
    t = with_prev.mutate(paid_before=with_prev.was_paying.max().over(history))
    movement = (
        ibis.cases(
            ((t.was_paying == 0) & (t.paying == 1) & (t.paid_before == 0), "new"),
            ((t.was_paying == 0) & (t.paying == 1), "reactivation"),
            ((t.was_paying == 1) & (t.paying == 0), "churned"),
            ((t.was_paying == 1) & (t.mrr > t.prev_mrr), "expansion"),
            ((t.was_paying == 1) & (t.mrr < t.prev_mrr), "contraction"),
            else_="none",
        )
    )
    t = t.mutate(movement=movement, change=t.mrr - t.prev_mrr, month_ts=t.month.cast("timestamp"))
    started = t.filter((t.paying == 1) | (t.was_paying == 1) | (t.paid_before == 1))  # from the first paid month on
    acc = tables.table("accounts").select(account_key="account_id", segment="segment", region="region",
                                          industry="industry")
    return started.left_join(acc, started.account_id == acc.account_key).drop("account_key")


def _grid(subs: Any, months: pd.DataFrame) -> Any:
    """Every customer and currency, every month from 13 months before their first subscription starts to the
    end of the span (the first month of the span for a customer whose starts are unknown).

    Earlier months hold nothing, and a customer's first twelve months only look back to their own first
    month's year-ago (`lag(12)`), so leaving the earlier months out changes no row; on a company with years
    of history it halves the rows every window below passes over."""
    calendar = ibis.memtable(months.assign(idx=range(len(months))))
    firsts = subs.group_by(["account_id", "currency"]).aggregate(first_day=subs.started_at.min().cast("date"))
    placed = firsts.left_join(calendar, (calendar.month <= firsts.first_day) & (calendar.month_end >= firsts.first_day))
    placed = placed.select("account_id", "currency", from_idx=placed.idx.fill_null(0) - GRID_LOOKBACK_MONTHS)
    placed, later = placed.view(), calendar.view()  # views: Ibis joins a projection of a join only as a view
    grid = placed.join(later, later.idx >= placed.from_idx)
    return grid.select("account_id", "currency", "month", "month_end")


def _per_currency(joined: Any) -> Any:
    """Each customer's MRR per currency and month as entered (`local`), and converted: this month's, the
    month before's and twelve months before's at this month's rate, and the month before's at its own."""
    local = joined.group_by(["account_id", "currency", "month"]).agg(
        local=joined.s_mrr.sum().fill_null(0).cast(MONEY), rate=joined.r_rate.max(), missing=joined.r_missing.max())
    by_currency = ibis.window(group_by=["account_id", "currency"], order_by="month")
    lagged = local.mutate(prev_local=local.local.lag().over(by_currency).fill_null(0).cast(MONEY),
                          ago_local=local.local.lag(12).over(by_currency))

    def value(amount: Any) -> Any:  # at this month's rate, to the cent; empty when the rate is missing
        return ibis.cases((amount == 0, ibis.literal(0).cast(MONEY)), (lagged.rate == 1, amount),
                          else_=(amount.cast("float64") / lagged.rate).cast(MONEY))

    needed = (lagged.local != 0) | (lagged.prev_local != 0) | (lagged.ago_local.fill_null(0) != 0)
    valued = lagged.mutate(mrr_c=value(lagged.local), prev_c=value(lagged.prev_local), ago_c=value(lagged.ago_local),
                           short=ibis.cases((lagged.rate.isnull() & needed, lagged.missing), else_=ibis.null("string")))
    return valued.mutate(prev_own=valued.mrr_c.lag().over(by_currency).fill_null(0))


def _per_month(valued: Any) -> Any:
    """One row per customer and month: MRR, the month before's at this month's rate (`prev_mrr`) and at its
    own (`fx_change` is the difference), MRR twelve months earlier at this month's rate, whether they pay."""
    per_month = valued.group_by(["account_id", "month"]).agg(
        mrr=valued.mrr_c.sum().cast(MONEY), prev_mrr=valued.prev_c.sum().cast(MONEY),
        prev_own=valued.prev_own.sum().cast(MONEY), mrr_12_ago=valued.ago_c.sum().cast(MONEY),
        paying=(valued.local > 0).ifelse(1, 0).max(), was_paying=(valued.prev_local > 0).ifelse(1, 0).max(),
        rate_missing=valued.short.max())
    return per_month.mutate(fx_change=(per_month.prev_mrr - per_month.prev_own).cast(MONEY)).drop("prev_own")


def _main_plan(joined: Any) -> Any:
    """Each customer's plan in each month they pay: the plan with the most MRR (ties: the last by name).

    Trials and other periods at MRR 0 never decide the plan. In the month a customer stops
    paying, `mrr_months` keeps the plan of the month before, so churned MRR lands on the plan left.
    """
    paid = joined.filter(joined.s_mrr > 0)
    local = paid.group_by(["account_id", "month", "s_plan", "currency"]).agg(
        amount=paid.s_mrr.sum(), rate=paid.r_rate.max())
    value = ibis.cases((local.rate.isnull() | (local.rate == 1), local.amount),
                       else_=(local.amount.cast("float64") / local.rate).cast(MONEY))  # plans compared converted
    local = local.mutate(value=value)
    per_plan = local.group_by(["account_id", "month", "s_plan"]).agg(plan_mrr=local.value.sum())
    top = ibis.window(group_by=["account_id", "month"],
                      order_by=[ibis.desc(per_plan.plan_mrr), ibis.desc(per_plan.s_plan.fill_null(""))])
    ranked = per_plan.mutate(_rank=ibis.row_number().over(top))
    # window first, filter after (see metrics/query.py)
    return ranked.filter(ranked._rank == 0).select(p_account="account_id", p_month="month", paid_plan="s_plan")


def unconverted_subscriptions(rows: Any, tables: TableSource) -> Any:
    """The subscriptions behind `rows` of `mrr_months` that lack a rate: one row per subscription and missing
    currency (`rate_missing`: its own, or the reporting currency's when --currency has no rate)."""
    short = rows.filter(rows.rate_missing.notnull()).select(f_account="account_id", f_code="rate_missing").distinct()
    subs = subscriptions_in_currency(tables)
    hit = subs.join(short, subs.account_id == short.f_account)
    hit = hit.filter((hit.currency == hit.f_code) | (hit.f_code == reporting_currency(tables)))
    return hit.select("subscription_id", "mrr", **{RATE: ibis.null("float64"), MISSING: hit.f_code}).distinct()


def require_mrr_rates(rows: Any, tables: TableSource) -> None:
    """Refuse (MissingRatesError) MRR figures over `rows` of `mrr_months` when a month lacks a rate: one line
    naming the currencies and how many subscriptions (of the customers in those months) need them."""
    error = missing_rates(unconverted_subscriptions(rows, tables), tables, amount="mrr", what="subscriptions")
    if error is not None:
        raise error


def _movement(name: str) -> Any:
    return lambda t: t.movement == name


def revenue_metrics() -> list[AnyMetric]:
    def m(name: str, label: str, description: str, measure: Any, formula: str, *, unit: Any = "currency",
          direction: Any = "up", where: Any = None, stock: str | None = None) -> Metric:
        if unit != "count":  # every money figure says how it converts currencies
            formula = f"{formula}; {RATE_RULE}"
        return Metric(name, label, description, unit, direction, "Success", "mrr_months", "month_ts",
                      REVENUE_DIMS, measure, formula, where=where, stock=stock)

    return [
        m("mrr", "MRR", "Monthly recurring revenue at the end of the period, each subscription converted at "
          "the rate on its month's first day.", lambda t: t.mrr.sum(),
          "sum(mrr of subscriptions active on the period's last day)", stock="last"),
        m("arr", "ARR", "Annual recurring revenue: 12 × MRR at the end of the period.",
          lambda t: t.mrr.sum() * 12, "12 × MRR", stock="last"),
        m("customers", "Customers", "Paying customers (MRR > 0) at the end of the period.",
          lambda t: t.paying.sum(), "count(customers with MRR > 0)", unit="count", stock="last"),
        m("customers_at_start", "Customers at start", "Paying customers at the start of the period.",
          lambda t: t.was_paying.sum(), "count(customers with MRR > 0 the month before)",
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
        m("net_new_mrr", "Net new MRR", "New + expansion + reactivation − contraction − churned: what "
          "customers changed, at constant exchange rates.",
          lambda t: t.change.sum(), "MRR(end) − MRR(start) − currency effect"),
        m("currency_effect_mrr", "Currency effect on MRR", "What exchange-rate changes did to MRR: the month "
          "before's MRR at this month's rates less at its own; zero in one currency.",
          lambda t: t.fx_change.sum(), "Σ MRR(m−1) at m's rates − MRR(m−1) at m−1's rates"),
        m("churned_customers", "Churned customers", "Customers who stopped paying.", lambda t: t.count(),
          "count(customers going >0 → 0)", unit="count", direction="down", where=_movement("churned")),
        m("net_revenue_retention", "Net revenue retention (12 months)", "MRR now of the customers who paid "
          "twelve months earlier ÷ their MRR then, both at the later month's rates.",
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
