"""One "as of" for every command: the data's last day, unless the user names a day with `--today`.

A workspace is usually an export: its last day is days or years behind the calendar. Counting "deals
past their close date" against today's date, while the forecast and the scorecard look at the data's
last day, gives two truths about one company. Every analysis that needs "now" takes it from
`resolve_as_of`, and every command prints `AsOf.header()` so a reader sees which day the figures are for.

`day` is the last day counted ("today"); `next_day` is the first day not counted, which is what the
forecast, coaching and roadmap call their `as_of` (knowledge up to the start of that day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Protocol

import pandas as pd

# (table, column): the events whose latest date is the data's last day
EVENTS = (("opportunities", "created_at"), ("opportunities", "closed_at"), ("opportunity_history", "changed_at"),
          ("activities", "occurred_at"), ("leads", "created_at"))


class TableSource(Protocol):
    def table(self, name: str) -> Any: ...


@dataclass(frozen=True)
class AsOf:
    """The day figures are computed for, and where that day came from."""

    day: date
    source: str  # "data" (the data's last day), "calendar" (no dated data: today's date), "clock" (today's date by
    # design: what is judged lives outside the data, e.g. a course kept in cadence.yml) or the option that gave it

    @property
    def next_day(self) -> date:
        """The first day not counted: "known before the start of this day"."""
        return self.day + timedelta(days=1)

    def header(self) -> str:
        reasons = {"data": "the data's last day", "calendar": "today's date: no dated data yet",
                   "clock": "today's date", "record": "the end of the hiring record"}
        reason = reasons.get(self.source, f"given with {self.source}")
        return f"as of {self.day.isoformat()} ({reason})"

    def as_dict(self) -> dict[str, str]:
        return {"as_of": self.day.isoformat(), "as_of_source": self.source}


def data_last_day(tables: TableSource, *, not_after: date | None = None) -> date | None:
    """The latest day any deal, stage change, activity or lead is dated, ignoring dates after `not_after`
    (a close typed in the future is a typo `cadence check` reports, not the end of the data)."""
    latest: list[date] = []
    for table_name, column in EVENTS:
        try:
            table = tables.table(table_name)
        except Exception:  # a table an older or smaller workspace does not have
            continue
        values = table[column]
        if not_after is not None:
            table = table.filter(values < pd.Timestamp(not_after + timedelta(days=1)))
            values = table[column]
        value = values.max().execute()
        if value is not None and not pd.isna(value):
            latest.append(_as_date(value))
    return max(latest) if latest else None


def resolve_as_of(tables: TableSource, today: date | None = None) -> AsOf:
    """`today` when given; else the data's last day (never after today's date); else today's date."""
    if today is not None:
        return AsOf(today, "--today")
    calendar_today = date.today()
    last = data_last_day(tables, not_after=calendar_today)
    return AsOf(last, "data") if last is not None else AsOf(calendar_today, "calendar")


def _as_date(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return pd.Timestamp(value).date()
