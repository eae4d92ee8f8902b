"""Quarter-end bunching ("ketchup"): how much of each quarter's bookings lands in its last days.

Per fiscal quarter: bookings (closed-won amount), the share of them closed in the quarter's last
14 days and in its last 7, and the Gini coefficient of its 13 weekly totals (weeks counted back
from the quarter's end; a week without bookings counts as 0): 0 when every week books the same,
12/13 ≈ 0.92 when one week books everything. Per fiscal year the same shares, amount-weighted over
its quarters, with a bootstrap interval, beside the share that evenly spread bookings would give
(14 days ÷ the days of the quarter ≈ 15%).

Linearity, as RevOps practice reads it: the share of a quarter's bookings closed in its third fiscal month.
An even quarter books about a third of it there; 35–40% is healthy, more is back-loaded, and 60% or more
is a hockey stick (the quarter is made at its end). Per year, the share is amount-weighted over its quarters.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.incentives.data import (
    LAST_TWO_WEEKS_DAYS,
    WEEKS_PER_QUARTER,
    MissingDataError,
    data_through,
    quarters_between,
    won_deals,
)
from cadence.analysis.stats import gini, share_interval
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.relations import TableSource

DEFINITION = ("closed-won amount (as `bookings` counts it) with its close in the last 14 (7) days of its fiscal "
              "quarter ÷ the quarter's closed-won amount; Gini over the quarter's 13 weekly totals, weeks counted "
              "back from its last day, empty weeks included; month 3 = the share closed in the quarter's third "
              "fiscal month (healthy up to 40%, back-loaded above, hockey stick from 60%)")
HEALTHY_MONTH_THREE = 0.40  # RevOps practice: 35–40% of a quarter's bookings in its third month is healthy …
HOCKEY_STICK_MONTH_THREE = 0.60  # … and 60% or more is a hockey stick


def linearity_verdict(share_month_three: float | None) -> str | None:
    """healthy (month 3 holds at most 40% of the quarter's bookings), back-loaded, or hockey stick (60% or more)."""
    if share_month_three is None:
        return None
    if share_month_three >= HOCKEY_STICK_MONTH_THREE:
        return "hockey stick"
    return "back-loaded" if share_month_three > HEALTHY_MONTH_THREE else "healthy"


def third_month_start(calendar: FiscalCalendar, quarter_start: date) -> date:
    """The first day of the fiscal quarter's third month."""
    return calendar.next_start(calendar.next_start(quarter_start, "month"), "month")


@dataclass
class QuarterBunching:
    quarter: str
    year: str
    start: date
    bookings: float
    won_deals: int
    share_last_two_weeks: float | None
    share_last_week: float | None
    gini_weekly: float | None
    complete: bool  # False while the data stops before the quarter's end
    weekly: list[float] = field(repr=False)  # bookings in weeks 1 … 13
    share_month_three: float | None = None  # linearity: the share closed in the quarter's third month

    @property
    def linearity(self) -> str | None:
        return linearity_verdict(self.share_month_three)

    def as_dict(self) -> dict[str, Any]:
        row = asdict(self)
        row["start"] = self.start.isoformat()
        row["linearity"] = self.linearity
        return row


@dataclass
class YearBunching:
    year: str
    quarters: int
    complete: bool
    bookings: float
    share_last_two_weeks: float | None
    share_last_two_weeks_low: float | None
    share_last_two_weeks_high: float | None
    share_last_week: float | None
    gini_weekly: float | None  # mean over the year's quarters
    even_share_last_two_weeks: float  # the share if bookings were spread evenly over the days
    share_month_three: float | None = None  # amount-weighted over the year's quarters

    @property
    def linearity(self) -> str | None:
        return linearity_verdict(self.share_month_three)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "linearity": self.linearity}


@dataclass
class Bunching:
    quarters: list[QuarterBunching]
    years: list[YearBunching]
    definition: str = DEFINITION

    def by_week_of_quarter(self) -> list[dict[str, Any]]:
        """Per fiscal year and week of quarter (1–13): bookings and their share of the year's."""
        rows = []
        for year in self.years:
            mine = [q for q in self.quarters if q.year == year.year]
            for week in range(WEEKS_PER_QUARTER):
                amount = float(sum(q.weekly[week] for q in mine))
                rows.append({"year": year.year, "week": week + 1, "bookings": amount,
                             "share": amount / year.bookings if year.bookings else None})
        return rows


def _share(amount: pd.Series, mask: pd.Series) -> float | None:
    total = float(amount.sum())
    return float(amount[mask].sum()) / total if total > 0 else None


def measure_quarter(won: pd.DataFrame, calendar: FiscalCalendar, start: date, through: date | None) -> QuarterBunching:
    """Bunching of the fiscal quarter starting on `start`; `won` holds that quarter's won deals only."""
    weekly = won.groupby("week")["amount"].sum().reindex(range(1, WEEKS_PER_QUARTER + 1), fill_value=0.0)
    end = calendar.next_start(start, "quarter")
    return QuarterBunching(
        quarter=calendar.label(start, "quarter"), year=calendar.label(start, "year"), start=start,
        bookings=float(won["amount"].sum()), won_deals=len(won),
        share_last_two_weeks=_share(won["amount"], won["last_two_weeks"]),
        share_last_week=_share(won["amount"], won["last_week"]),
        gini_weekly=gini(weekly.to_numpy()), complete=through is None or end <= through + timedelta(days=1),
        weekly=[float(v) for v in weekly],
        share_month_three=_share(won["amount"], won["day"] >= third_month_start(calendar, start)),
    )


def measure_year(won: pd.DataFrame, quarters: list[QuarterBunching], calendar: FiscalCalendar,
                 *, seed: int) -> YearBunching:
    """A fiscal year's bunching from its won deals and its quarters' figures."""
    amount = won["amount"].to_numpy(dtype="float64")
    interval = share_interval(amount * won["last_two_weeks"].to_numpy(), amount, seed=seed)
    ginis = [q.gini_weekly for q in quarters if q.gini_weekly is not None]
    days = sum((calendar.next_start(q.start, "quarter") - q.start).days for q in quarters)
    return YearBunching(
        year=quarters[0].year, quarters=len(quarters), complete=all(q.complete for q in quarters),
        bookings=float(amount.sum()),
        share_last_two_weeks=interval.estimate if interval else None,
        share_last_two_weeks_low=interval.low if interval else None,
        share_last_two_weeks_high=interval.high if interval else None,
        share_last_week=_share(won["amount"], won["last_week"]),
        gini_weekly=float(np.mean(ginis)) if ginis else None,
        even_share_last_two_weeks=LAST_TWO_WEEKS_DAYS * len(quarters) / days,
        share_month_three=_share(won["amount"], won["day"] >= won["quarter_start"].map(
            {start: third_month_start(calendar, start) for start in won["quarter_start"].unique()})),
    )


def measure_bunching(won: pd.DataFrame, calendar: FiscalCalendar, *, through: date | None = None,
                     seed: int = 0) -> Bunching:
    """Bunching per fiscal quarter and per fiscal year, from `data.won_deals` rows.

    Every quarter from the first won deal's to the last one's is listed, one without bookings too.
    `through` is the data's last day: quarters ending after it are marked incomplete.
    """
    starts = quarters_between(calendar, min(won["day"]), max(won["day"]))
    by_quarter = {s: g for s, g in won.groupby("quarter_start")}
    empty = won.iloc[0:0]
    quarters = [measure_quarter(by_quarter.get(s, empty), calendar, s, through) for s in starts]
    years = []
    for year in dict.fromkeys(q.year for q in quarters):
        mine = [q for q in quarters if q.year == year]
        years.append(measure_year(won[won["year"] == year], mine, calendar, seed=seed))
    return Bunching(quarters, years)


def bookings_bunching(tables: TableSource, calendar: FiscalCalendar, *, before: date | None = None,
                      seed: int = 0, today: date | None = None) -> Bunching:
    """Bunching of the closed-won deals in `tables`, counting only closes before `before` when given; quarters
    are complete up to the workspace's "as of" (`today` when given)."""
    won = won_deals(tables, calendar)
    through: date | None = data_through(tables, today)
    if before is not None:
        won = won[won["day"] < before]
        if won.empty:
            raise MissingDataError(f"bunching needs closed-won deals closed before {before.isoformat()}: none")
        last = before - timedelta(days=1)
        through = min(through, last) if through else last
    return measure_bunching(won, calendar, through=through, seed=seed)
