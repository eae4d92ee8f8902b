"""Closed-won deals placed in their fiscal quarter: how many days before the quarter's end each one closed.

Every incentive analysis asks the same question of a deal — did it close at the quarter's end? — so
the answer is computed once, here. A deal is dated as the `bookings` metric dates it (closed_at,
else close_date), and its amount is the one `bookings` adds up, so the figures here always add up
to the registry's bookings.

Weeks of a quarter are counted back from its last day, so that week 13 is always its last seven
days and weeks 12–13 its last fourteen: the quarter's first days that do not fill a whole week
(5 to 8 days, as quarters last 89 to 92 days) belong to week 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

import pandas as pd

from cadence.analysis.as_of import resolve_as_of
from cadence.errors import MissingDataError
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.money import require_rates
from cadence.metrics.relations import TableSource, deals

WEEKS_PER_QUARTER = 13
LAST_TWO_WEEKS_DAYS = 14
LAST_WEEK_DAYS = 7


class MetricSource(TableSource, Protocol):
    """A table source that also computes registry metrics (the Workspace)."""

    def metric(self, name: str, *, by: list[str] | tuple[str, ...] = (), grain: Any = "month",
               start: date | None = None, end: date | None = None, where: str | None = None) -> pd.DataFrame: ...


@dataclass(frozen=True)
class QuarterWeek:
    quarter: str
    week: int  # 1 … 13, counted back from the quarter's end
    start: date
    end: date  # exclusive

    @property
    def days(self) -> int:
        return (self.end - self.start).days


def quarter_weeks(calendar: FiscalCalendar, quarter_start: date) -> list[QuarterWeek]:
    """The 13 weeks of the fiscal quarter starting on `quarter_start`, week 13 being its last 7 days."""
    end = calendar.next_start(quarter_start, "quarter")
    label = calendar.label(quarter_start, "quarter")
    weeks = []
    for week in range(1, WEEKS_PER_QUARTER + 1):
        first = end - timedelta(days=LAST_WEEK_DAYS * (WEEKS_PER_QUARTER + 1 - week))
        last = end - timedelta(days=LAST_WEEK_DAYS * (WEEKS_PER_QUARTER - week))
        weeks.append(QuarterWeek(label, week, quarter_start if week == 1 else first, last))
    return weeks


def quarters_between(calendar: FiscalCalendar, first: date, last: date) -> list[date]:
    """Start dates of every fiscal quarter from the one holding `first` to the one holding `last`."""
    start = calendar.start_of(first, "quarter")
    out = []
    while start <= last:
        out.append(start)
        start = calendar.next_start(start, "quarter")
    return out


def won_deals(tables: TableSource, calendar: FiscalCalendar) -> pd.DataFrame:
    """Closed-won deals, one row each, with their quarter, year, week of quarter and days to quarter end.

    Raises MissingDataError when there is no closed-won deal with a close date.
    """
    rel = deals(tables)
    rel = rel.filter(rel.is_won & rel.closed_on.notnull())
    require_rates(rel, tables)  # amounts in one currency, as bookings adds them
    won = rel.select(
        "opportunity_id", "account_id", "kind", "segment", "closed_on", "amount_value",
        discount_pct=rel.discount_pct.cast("float64"),
    ).to_pandas()
    if won.empty:
        raise MissingDataError("bunching and quarter-end effects need closed-won deals with a close date: "
                               "the opportunities table has none", hint="import your CRM's deals")
    frame = won.rename(columns={"amount_value": "amount"}).sort_values("opportunity_id").reset_index(drop=True)
    frame["amount"] = frame["amount"].astype("float64").fillna(0.0)
    frame["day"] = pd.to_datetime(frame["closed_on"]).dt.date
    return with_quarter_position(frame, calendar)


def with_quarter_position(frame: pd.DataFrame, calendar: FiscalCalendar, column: str = "day") -> pd.DataFrame:
    """Add quarter, quarter_start, year, days_to_end, week (1–13), last_two_weeks, last_week for `column`."""
    days = pd.Series(frame[column].unique())
    starts = {d: calendar.start_of(d, "quarter") for d in days}
    out = frame.copy()
    out["quarter_start"] = out[column].map(starts)
    labels = {s: calendar.label(s, "quarter") for s in set(starts.values())}
    years = {s: calendar.label(s, "year") for s in set(starts.values())}
    out["quarter"] = out["quarter_start"].map(labels)
    out["year"] = out["quarter_start"].map(years)
    ends = {s: calendar.next_start(s, "quarter") for s in set(starts.values())}
    out["days_to_end"] = [(ends[s] - d).days for s, d in zip(out["quarter_start"], out[column], strict=True)]
    out["week"] = WEEKS_PER_QUARTER - ((out["days_to_end"] - 1) // LAST_WEEK_DAYS).clip(upper=WEEKS_PER_QUARTER - 1)
    out["last_two_weeks"] = out["days_to_end"] <= LAST_TWO_WEEKS_DAYS
    out["last_week"] = out["days_to_end"] <= LAST_WEEK_DAYS
    return out


def data_through(tables: TableSource, today: date | None = None) -> date:
    """The last day counted: the workspace's one "as of" (`today` when given, else the data's last day), so a
    quarter is complete here exactly when it is for the forecast and the scorecard."""
    return resolve_as_of(tables, today).day
