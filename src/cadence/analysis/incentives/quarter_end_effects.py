"""Are quarter-end deals worse deals? Discount, later churn and contraction, and time to first value.

A *quarter-end deal* closed in the last 14 days of its fiscal quarter; every other won deal is the
comparison. Each measure is reported as a difference (quarter-end minus the rest) with a 95%
bootstrap interval, not as two averages. Quarter-end deals are rarely a random sample of deals —
quarter-end pushes happen where sales leads the deal, and sales-led customers churn, adopt and
discount differently from self-serve ones — so the headline difference is taken *within segment* (accounts.segment) and
averaged with the quarter-end deals' weights; the plain difference is shown beside it. Where the two
disagree in sign, the mix of segments is doing the talking, not the quarter end.

The rules, stated once:
- **discount**: discount_pct of every closed-won deal that has one.
- **churn and contraction**: each won new-business deal (every won deal when the CRM does not say
  which are new) is linked to its account's MRR, month by month (`metrics.revenue.mrr_months`, the
  registry's reading of subscriptions). The baseline is the account's MRR at the end of the month
  after the close month; deals whose account pays nothing then are not linked. The next 12 month
  ends — which hold the first anniversary of an annual contract — are the window, and only deals
  whose whole window the data covers count. *Churned*: MRR is 0 at some month end of the window.
  *Contracted*: not churned, and MRR fell at least once (a contraction movement) in the window.
- **time to first value**: for those new-business deals whose account appears in `usage`, the
  weeks from the week of the close to the first week with active_paying_users > 0 (0: that same
  week); deals closed less than 26 weeks before the last week of usage data are left out, and
  so are deals with no active week since (counted as not yet active).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

import ibis
import pandas as pd

from cadence.analysis.incentives.data import MissingDataError
from cadence.analysis.stats import difference_interval
from cadence.metrics.relations import TableSource
from cadence.metrics.revenue import mrr_months

WINDOW_MONTHS = 12
USAGE_FOLLOW_UP_WEEKS = 26
NEW_BUSINESS = "new"
METHOD = ("quarter-end deals closed in the last 14 days of their fiscal quarter; difference = quarter-end minus the "
          "rest, taken within each account segment and weighted by quarter-end deals (the plain difference beside "
          "it); 95% percentile bootstrap intervals, resampling deals within group and segment, seeded")
RULES = {
    "discount_pct": "discount_pct of every closed-won deal that has one",
    "churned": "won new-business deals whose account pays in the month after the close: the account's MRR "
               "(mrr_months) is 0 at one of the next 12 month ends; deals whose 12 months the data does not "
               "cover yet are left out",
    "contracted": "the same deals, not churned, whose account's MRR falls (still > 0) at least once in those "
                  "12 months",
    "weeks_to_first_value": "won new-business deals on accounts in usage: weeks from the close week to the first "
                            "week with active_paying_users > 0; deals closed less than 26 weeks before the last "
                            "usage week, or never active since, are left out",
}


@dataclass
class GroupMean:
    deals: int
    mean: float | None


@dataclass
class Effect:
    """One measure of quarter-end deals against the rest, with the difference and its uncertainty."""

    measure: str
    label: str
    unit: str
    rule: str
    quarter_end: GroupMean
    other: GroupMean
    difference: float | None  # within segment, weighted by quarter-end deals
    low: float | None
    high: float | None
    unadjusted_difference: float | None
    unadjusted_low: float | None
    unadjusted_high: float | None
    by_segment: list[dict[str, Any]] = field(default_factory=list)
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "excludes_zero": self.excludes_zero}


def _group(values: pd.Series) -> GroupMean:
    values = values.dropna()
    return GroupMean(len(values), float(values.mean()) if len(values) else None)


def compare(frame: pd.DataFrame, measure: str, label: str, unit: str, *, seed: int,
            left_out: dict[str, int] | None = None) -> Effect:
    """Quarter-end rows of `frame` (column last_two_weeks) against the rest on column `measure`.

    Rows are put in opportunity_id order first, so the seeded bootstrap gives the same interval
    whatever order the warehouse returned them in.
    """
    frame = frame.sort_values("opportunity_id", kind="stable").reset_index(drop=True)
    values = frame[measure].astype("float64")
    flag = frame["last_two_weeks"].astype(bool)
    segment = frame["segment"] if frame["segment"].notna().any() else None
    adjusted = difference_interval(values, flag, segment, seed=seed)
    plain = difference_interval(values, flag, seed=seed)
    by_segment = []
    if segment is not None:
        for name, part in frame.assign(_v=values).groupby(frame["segment"].fillna("(none)"), sort=True):
            qe, rest = _group(part.loc[part["last_two_weeks"], "_v"]), _group(part.loc[~part["last_two_weeks"], "_v"])
            by_segment.append({"segment": name, "quarter_end_deals": qe.deals, "quarter_end_mean": qe.mean,
                               "other_deals": rest.deals, "other_mean": rest.mean})
    return Effect(
        measure, label, unit, RULES[measure], _group(values[flag]), _group(values[~flag]),
        adjusted.estimate if adjusted else None, adjusted.low if adjusted else None,
        adjusted.high if adjusted else None, plain.estimate if plain else None, plain.low if plain else None,
        plain.high if plain else None, by_segment, left_out or {},
    )


def discount_effect(won: pd.DataFrame, *, seed: int) -> Effect:
    """Discount of quarter-end deals against the rest, in percentage points."""
    with_discount = won.dropna(subset=["discount_pct"])
    if with_discount.empty:
        raise MissingDataError("the discount comparison needs closed-won deals with discount_pct: none has one")
    return compare(with_discount, "discount_pct", "Discount", "percentage points", seed=seed,
                   left_out={"without_discount": len(won) - len(with_discount)})


def new_business(won: pd.DataFrame) -> pd.DataFrame:
    """Won new-business deals with an account (every won deal with an account when kinds are not recorded)."""
    linked = won.dropna(subset=["account_id"])
    if linked["kind"].notna().any():
        linked = linked[linked["kind"] == NEW_BUSINESS]
    return linked


def account_months(tables: TableSource, through: date) -> pd.DataFrame:
    """Each customer's MRR and movement per month up to `through` (the registry's `mrr_months`)."""
    if tables.table("subscriptions").count().execute() == 0:
        raise MissingDataError("churn and contraction after quarter-end deals need subscriptions: the "
                               "subscriptions table is empty", hint="import billing or subscription periods")
    rows = mrr_months(tables, today=through).select("account_id", "month", "mrr", "movement").to_pandas()
    rows["mrr"] = rows["mrr"].astype("float64")
    rows["month"] = pd.to_datetime(rows["month"]).astype("datetime64[ns]")
    return rows


def retention_outcomes(deals: pd.DataFrame, months: pd.DataFrame, through: date) -> pd.DataFrame:
    """Per deal: baseline MRR, whether its window is covered, churned and contracted (see the module rules)."""
    close_month = pd.to_datetime(deals["day"]).dt.to_period("M")
    grid = pd.DataFrame({"opportunity_id": deals["opportunity_id"].to_numpy(),
                         "account_id": deals["account_id"].to_numpy(), "close_month": close_month.to_numpy()})
    grid = grid.merge(pd.DataFrame({"k": range(1, WINDOW_MONTHS + 2)}), how="cross")
    grid["month"] = (grid["close_month"] + grid["k"]).dt.to_timestamp().astype("datetime64[ns]")
    grid = grid.merge(months, on=["account_id", "month"], how="left")
    grid["mrr"] = grid["mrr"].fillna(0.0)
    month_end = grid["month"] + pd.offsets.MonthEnd(0)
    grid["covered"] = month_end <= pd.Timestamp(through)
    grid["zero"] = grid["mrr"] <= 0
    grid["fell"] = grid["movement"] == "contraction"
    window = grid[grid["k"] > 1]
    per_deal = window.groupby("opportunity_id").agg(covered=("covered", "all"), churned=("zero", "any"),
                                                    fell=("fell", "any"))
    per_deal["baseline"] = grid[grid["k"] == 1].set_index("opportunity_id")["mrr"]
    per_deal["contracted"] = per_deal["fell"] & ~per_deal["churned"]
    return per_deal.drop(columns="fell")


def retention_effects(won: pd.DataFrame, months: pd.DataFrame, through: date, *, seed: int) -> list[Effect]:
    """Churn and contraction in the year after quarter-end new-business deals against the rest."""
    deals = new_business(won)
    outcomes = retention_outcomes(deals, months, through)
    joined = deals.join(outcomes, on="opportunity_id")
    paying = joined["baseline"] > 0
    usable = joined[paying & joined["covered"]]
    left_out = {"not_paying_after_close": int((~paying).sum()),
                "window_not_yet_covered": int((paying & ~joined["covered"]).sum())}
    if usable.empty:
        raise MissingDataError("churn and contraction need won new-business deals whose account pays in the "
                               f"month after the close and {WINDOW_MONTHS + 1} months of subscriptions after it: "
                               "none found")
    return [compare(usable, "churned", "Churned within a year", "share of deals", seed=seed, left_out=left_out),
            compare(usable, "contracted", "Contracted within a year", "share of deals", seed=seed,
                    left_out=left_out)]


def first_value_weeks(deals: pd.DataFrame, tables: TableSource) -> tuple[pd.DataFrame, dict[str, int]]:
    """Deals whose account appears in usage, with weeks from the close week to the first active week."""
    usage = tables.table("usage")
    last_week = usage.week.max().execute()
    if last_week is None or pd.isna(last_week):
        raise MissingDataError("time to first value needs product usage: the usage table is empty",
                               hint="import weekly active paying users per account")
    close = pd.to_datetime(deals["day"]).astype("datetime64[ns]")
    deals = deals.assign(close_week=close - pd.to_timedelta(close.dt.day_of_week, unit="D"))
    horizon = pd.Timestamp(last_week) - pd.Timedelta(weeks=USAGE_FOLLOW_UP_WEEKS)
    accounts = ibis.memtable(pd.DataFrame({"account_id": deals["account_id"].dropna().astype("object").unique()}))
    tracked = accounts.semi_join(usage.select("account_id").distinct(), "account_id").to_pandas()["account_id"]
    in_usage = deals[deals["account_id"].isin(set(tracked))]
    followed = in_usage[in_usage["close_week"] <= horizon].sort_values("close_week")
    matched = followed.assign(first_week=_first_active_weeks(usage, followed)).reset_index(drop=True)
    matched["weeks_to_first_value"] = (matched["first_week"] - matched["close_week"]).dt.days / 7
    left_out = {"account_not_in_usage": len(deals) - len(in_usage),
                "closed_too_recently": len(in_usage) - len(followed),
                "not_yet_active": int(matched["weeks_to_first_value"].isna().sum())}
    return matched.dropna(subset=["weeks_to_first_value"]), left_out


def _first_active_weeks(usage: Any, deals: pd.DataFrame) -> pd.Series:
    """For each deal, its account's first week with active paying users on or after the close week (NaT when
    none yet): the engine joins usage with the deals and returns one week per deal, not the usage rows."""
    if deals.empty:
        return pd.Series(pd.NaT, index=deals.index, dtype="datetime64[ns]")
    keys = pd.DataFrame({"row": range(len(deals)), "account_id": deals["account_id"].astype("object").to_numpy(),
                         "close_week": deals["close_week"].astype("datetime64[us]").to_numpy()})
    asked = ibis.memtable(keys)
    active = usage.filter(usage.active_paying_users > 0).select(u_account="account_id", u_week="week")
    hits = asked.join(active, (asked.account_id == active.u_account)
                      & (active.u_week.cast("timestamp") >= asked.close_week))
    first = hits.group_by("row").aggregate(first_week=hits.u_week.min()).to_pandas()
    weeks = pd.Series(pd.to_datetime(first["first_week"]).astype("datetime64[ns]").to_numpy(),
                      index=first["row"].astype("int64").to_numpy())
    return pd.Series(weeks.reindex(range(len(deals))).to_numpy(dtype="datetime64[ns]"), index=deals.index)


def time_to_value_effect(won: pd.DataFrame, tables: TableSource, *, seed: int) -> Effect:
    """Weeks to first active paying users after quarter-end new-business deals against the rest."""
    measured, left_out = first_value_weeks(new_business(won), tables)
    if measured.empty:
        raise MissingDataError("time to first value needs won new-business deals on accounts with usage, "
                               f"followed for {USAGE_FOLLOW_UP_WEEKS} weeks: none found")
    return compare(measured, "weeks_to_first_value", "Weeks to first value", "weeks", seed=seed, left_out=left_out)
