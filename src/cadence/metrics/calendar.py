"""The fiscal calendar: which period a date falls in, and how periods are labelled.

Fiscal years and quarters are named after the fiscal year in which they end: with a February
start, 2016-02-01 … 2017-01-31 is fiscal 2017 and 2016-02-01 begins 2017-Q1. Months are calendar
months (`2017-03`) and weeks ISO weeks (`2017-W09`). Period starts are computed inside the
warehouse (`period_start`), labels in Python (`period_label`), so grouping stays in the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from cadence.errors import InputError, UnknownNameError

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")


def check_grain(grain: str) -> Grain:
    if grain not in GRAINS:
        raise UnknownNameError("grain", grain, GRAINS)
    return grain  # type: ignore[return-value]


@dataclass(frozen=True)
class FiscalCalendar:
    start_month: int = 1

    # -- in the warehouse (Ibis) ------------------------------------------------------------
    def period_start(self, column: Any, grain: Grain) -> Any:
        """An Ibis date expression: the first day of the period `column` falls in."""
        day = column.cast("date")
        if grain == "day":
            return day
        if grain == "week":
            return column.truncate("W").cast("date")
        month_start = column.truncate("M").cast("date")
        if grain == "month":
            return month_start
        months_in = (column.month() - self.start_month + 12) % (3 if grain == "quarter" else 12)
        return (month_start - months_in.cast("int32").as_interval("M")).cast("date")

    # -- in Python ----------------------------------------------------------------------------
    def start_of(self, day: date, grain: Grain) -> date:
        if grain == "day":
            return day
        if grain == "week":
            return day - timedelta(days=day.weekday())
        first = day.replace(day=1)
        if grain == "month":
            return first
        months_in = (day.month - self.start_month) % (3 if grain == "quarter" else 12)
        month_index = first.year * 12 + first.month - 1 - months_in
        return date(month_index // 12, month_index % 12 + 1, 1)

    def next_start(self, start: date, grain: Grain) -> date:
        if grain == "day":
            return start + timedelta(days=1)
        if grain == "week":
            return start + timedelta(days=7)
        months = {"month": 1, "quarter": 3, "year": 12}[grain]
        index = start.year * 12 + start.month - 1 + months
        return date(index // 12, index % 12 + 1, 1)

    def fiscal_year(self, day: date) -> int:
        return day.year + (1 if self.start_month != 1 and day.month >= self.start_month else 0)

    def label(self, start: date, grain: Grain) -> str:
        if grain == "day":
            return start.isoformat()
        if grain == "week":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        if grain == "month":
            return f"{start.year}-{start.month:02d}"
        year = self.fiscal_year(start)
        if grain == "year":
            return str(year)
        quarter = (start.month - self.start_month) % 12 // 3 + 1
        return f"{year}-Q{quarter}"

    def parse(self, label: str, grain: Grain | None = None) -> tuple[date, Grain]:
        """The start date and grain of a period label such as 2017, 2017-Q1, 2017-03, 2017-W09."""
        text = label.strip().upper()
        try:
            if "-W" in text:
                year, week = text.split("-W")
                return date.fromisocalendar(int(year), int(week), 1), "week"
            if "-Q" in text:
                year, quarter = text.split("-Q")
                first_month_index = (int(year) - (1 if self.start_month != 1 else 0)) * 12 + self.start_month - 1
                index = first_month_index + (int(quarter) - 1) * 3
                if not 1 <= int(quarter) <= 4:
                    raise ValueError
                return date(index // 12, index % 12 + 1, 1), "quarter"
            if len(text) == 4 and text.isdigit():
                index = (int(text) - (1 if self.start_month != 1 else 0)) * 12 + self.start_month - 1
                return date(index // 12, index % 12 + 1, 1), "year"
            if len(text) == 7:
                year, month = text.split("-")
                return date(int(year), int(month), 1), "month"
            return date.fromisoformat(text.lower()), grain or "day"
        except ValueError:
            raise InputError(f"not a period: {label!r}",
                             hint="use 2017, 2017-Q1, 2017-03, 2017-W09 or a date such as 2017-03-31") from None

    def labels(self, starts: pd.Series, grain: Grain) -> pd.Series:
        return starts.map(lambda d: self.label(pd.Timestamp(d).date(), grain))
