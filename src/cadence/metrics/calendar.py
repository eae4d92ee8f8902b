"""The fiscal calendar: which period a date falls in, and how periods are labelled.

By cadence.yml's rule, fiscal years and quarters start on the first of `fiscal_year_start_month`
and are named after the fiscal year in which they end: with a February start, 2016-02-01 …
2017-01-31 is fiscal 2017 and 2016-02-01 begins 2017-Q1. Months are calendar months (`2017-03`)
and weeks ISO weeks (`2017-W09`).

A company's own calendar (Salesforce's Period/FiscalYearSettings, imported into `fiscal_periods`)
overrides the rule where it has periods: years and quarters are the imported ones, named by the
company (a 4-4-5 year's Q1 may run 2023-01-01 … 2023-04-01), and a custom year's months are its
fiscal months, labelled `2023-M01` … `2023-M12` (a standard year's months are calendar months anyway).
Dates outside the imported periods fall back to the rule, never reaching back into an imported
period: the days between an imported run's end and the rule's next boundary are a period of their
own, or, fewer than half a period, join the rule period that follows (after a 4-4-5 year ending
2023-12-30, 2024-Q1 runs 2023-12-31 … 2024-03-31).
Period starts are computed inside the warehouse (`period_start`, an Ibis CASE over the periods),
labels in Python (`label`), and both agree with `start_of`, `next_start` and `parse`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import Any, Literal

import ibis
import pandas as pd

from cadence.errors import InputError, UnknownNameError

Grain = Literal["day", "week", "month", "quarter", "year"]
GRAINS: tuple[str, ...] = ("day", "week", "month", "quarter", "year")
PERIOD_KINDS: tuple[str, ...] = ("year", "quarter", "month")
_HALF_PERIOD_DAYS = {"month": 15, "quarter": 45, "year": 182}


def check_grain(grain: str) -> Grain:
    if grain not in GRAINS:
        raise UnknownNameError("grain", grain, GRAINS)
    return grain  # type: ignore[return-value]


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class FiscalPeriod:
    """One imported period: `kind` year|quarter|month, first and last day (inclusive), its fiscal year
    as the company names it, and its number in that year (quarter 1–4, month 1–12; 1 for a year)."""

    kind: str
    start: date
    end: date
    fiscal_year: int
    number: int = 1

    @property
    def next_start(self) -> date:
        return self.end + timedelta(days=1)

    @property
    def is_calendar_month(self) -> bool:
        return self.start.day == 1 and self.next_start == _add_months(self.start, 1)

    @property
    def is_standard_year(self) -> bool:
        """A year of twelve calendar months (Salesforce's standard fiscal year), not a custom one."""
        return self.kind == "year" and self.start.day == 1 and self.next_start == _add_months(self.start, 12)


def periods_from_frame(frame: pd.DataFrame) -> tuple[FiscalPeriod, ...]:
    """The rows of the `fiscal_periods` table as periods, in order of kind and start."""
    periods = [
        FiscalPeriod(str(kind), pd.Timestamp(start).date(), pd.Timestamp(end).date(), int(year),
                     1 if number is None or pd.isna(number) else int(number))
        for kind, start, end, year, number in zip(frame["kind"], frame["start_date"], frame["end_date"],
                                                   frame["fiscal_year"], frame["number"], strict=True)
        if kind in PERIOD_KINDS and not pd.isna(start) and not pd.isna(end)
    ]
    return tuple(sorted(periods, key=lambda p: (PERIOD_KINDS.index(p.kind), p.start)))


@dataclass(frozen=True)
class FiscalCalendar:
    start_month: int = 1
    periods: tuple[FiscalPeriod, ...] = ()

    # -- imported periods ------------------------------------------------------------------------
    @cached_property
    def _imported_by_grain(self) -> dict[str, tuple[FiscalPeriod, ...]]:
        """Imported periods that replace the rule, per grain, by start (months only where not calendar months)."""
        out: dict[str, tuple[FiscalPeriod, ...]] = {}
        for grain in PERIOD_KINDS:
            chosen = [p for p in self.periods if p.kind == grain and not (grain == "month" and p.is_calendar_month)]
            out[grain] = tuple(sorted(chosen, key=lambda p: p.start))
        return out

    @cached_property
    def _starts_by_grain(self) -> dict[str, list[date]]:
        return {grain: [p.start for p in periods] for grain, periods in self._imported_by_grain.items()}

    def imported(self, grain: str) -> tuple[FiscalPeriod, ...]:
        return self._imported_by_grain.get(grain, ())

    def _containing(self, day: date, grain: str) -> FiscalPeriod | None:
        periods = self.imported(grain)
        i = bisect.bisect_right(self._starts_by_grain.get(grain, []), day) - 1
        return periods[i] if i >= 0 and periods[i].end >= day else None

    def _named(self, fiscal_year: int, grain: str, number: int) -> FiscalPeriod | None:
        return next((p for p in self.imported(grain) if p.fiscal_year == fiscal_year and p.number == number), None)

    def standard_start_months(self) -> set[int]:
        """The first month of each imported standard year (what cadence.yml's start month should say)."""
        return {p.start.month for p in self.periods if p.is_standard_year}

    # -- cadence.yml's rule ----------------------------------------------------------------------
    def _rule_start(self, day: date, grain: Grain) -> date:
        first = day.replace(day=1)
        if grain == "month":
            return first
        months_in = (day.month - self.start_month) % (3 if grain == "quarter" else 12)
        return _add_months(first, -months_in)

    def _rule_next(self, day: date, grain: Grain) -> date:
        """The first rule boundary after `day`."""
        return _add_months(self._rule_start(day, grain), {"month": 1, "quarter": 3, "year": 12}[grain])

    def _rule_fiscal_year(self, day: date) -> int:
        return day.year + (1 if self.start_month != 1 and day.month >= self.start_month else 0)

    def _rule_label(self, start: date, grain: Grain) -> str:
        if grain == "month":
            return f"{start.year}-{start.month:02d}"
        year = self._rule_fiscal_year(start)
        if grain == "year":
            return str(year)
        return f"{year}-Q{(start.month - self.start_month) % 12 // 3 + 1}"

    def _rule_year_start(self, year: int) -> date:
        return date(year - (1 if self.start_month != 1 else 0), self.start_month, 1)

    def _joins_next(self, stub: date, grain: Grain) -> bool:
        """Whether the days from `stub` (an imported run's end) to the rule's next boundary are too few
        to be a period of their own (under half a period): they then join the rule period that follows."""
        return (self._rule_next(stub, grain) - stub).days < _HALF_PERIOD_DAYS[grain]

    def _joins_next_period(self, start: date, grain: Grain) -> bool:
        """Whether the period starting on `start` is a few days after an imported run joined to the next rule period."""
        return start in self._run_ends(grain) and self._rule_start(start, grain) != start \
            and self._joins_next(start, grain)

    def _run_ends(self, grain: str) -> list[date]:
        """Days right after an imported run of periods (an imported period's end not followed by another)."""
        return self._run_ends_by_grain.get(grain, [])

    @cached_property
    def _run_ends_by_grain(self) -> dict[str, list[date]]:
        return {grain: sorted({p.next_start for p in periods} - {p.start for p in periods})
                for grain, periods in self._imported_by_grain.items()}

    # -- in the warehouse (Ibis) ------------------------------------------------------------------
    def period_start(self, column: Any, grain: Grain) -> Any:
        """An Ibis date expression: the first day of the period `column` falls in."""
        day = column.cast("date")
        if grain == "day":
            return day
        if grain == "week":
            return column.truncate("W").cast("date")
        month_start = column.truncate("M").cast("date")
        if grain == "month":
            rule = month_start
        else:
            months_in = (column.month() - self.start_month + 12) % (3 if grain == "quarter" else 12)
            rule = (month_start - months_in.cast("int32").as_interval("M")).cast("date")
        periods = self.imported(grain)
        if not periods:
            return rule
        fallback = rule
        ends = sorted(self._run_ends(grain), reverse=True)
        if ends:  # after an imported run, the rule's periods start where the run stopped
            fallback = ibis.cases(*((day >= ibis.literal(e), ibis.ifelse(self._in_stub(rule, e, grain),
                                                                         ibis.literal(e), rule)) for e in ends),
                                  else_=rule)
        return ibis.cases(*((day.between(ibis.literal(p.start), ibis.literal(p.end)), ibis.literal(p.start))
                            for p in periods), else_=fallback).cast("date")

    # -- in Python --------------------------------------------------------------------------------
    def start_of(self, day: date, grain: Grain) -> date:
        """The first day of the period `day` falls in.

        Outside the imported periods, cadence.yml's rule; the days between the end of an imported run
        and the rule's next boundary join the rule period that follows (never a period of their own).
        """
        if grain == "day":
            return day
        if grain == "week":
            return day - timedelta(days=day.weekday())
        held = self._containing(day, grain)
        if held is not None:
            return held.start
        rule = self._rule_start(day, grain)
        ends = [e for e in self._run_ends(grain) if e <= day]
        return ends[-1] if ends and self._in_stub(rule, ends[-1], grain) else rule

    def _in_stub(self, rule: Any, end: date, grain: Grain) -> Any:
        """Whether a day whose rule period starts on `rule` (a date, or an Ibis date) and that lies after the
        imported run ending before `end` belongs to the period starting on `end`."""
        boundary = self._rule_next(end - timedelta(days=1), grain)
        if isinstance(rule, date):
            return rule <= boundary if self._joins_next(end, grain) else rule < boundary
        return rule <= ibis.literal(boundary) if self._joins_next(end, grain) else rule < ibis.literal(boundary)

    def next_start(self, start: date, grain: Grain) -> date:
        if grain == "day":
            return start + timedelta(days=1)
        if grain == "week":
            return start + timedelta(days=7)
        held = self._containing(start, grain)
        if held is not None:
            return held.next_start
        first = self.start_of(start, grain)
        following = self._rule_next(first, grain)
        if self._joins_next_period(first, grain):
            following = self._rule_next(following, grain)  # a few days after an imported run, and the next period
        later = [p.start for p in self.imported(grain) if p.start > start]
        return min([following, *later])

    def fiscal_year(self, day: date) -> int:
        year = self._containing(day, "year")
        return year.fiscal_year if year is not None else self._rule_fiscal_year(day)

    def label(self, start: date, grain: Grain) -> str:
        if grain == "day":
            return start.isoformat()
        if grain == "week":
            year, week, _ = start.isocalendar()
            return f"{year}-W{week:02d}"
        held = self._containing(start, grain)
        if held is None:
            first = self.start_of(start, grain)
            joins = self._joins_next_period(first, grain)
            return self._rule_label(self._rule_next(first, grain) if joins else self._rule_start(first, grain), grain)
        if grain == "year":
            return str(held.fiscal_year)
        if grain == "quarter":
            return f"{held.fiscal_year}-Q{held.number}"
        return f"{held.fiscal_year}-M{held.number:02d}"

    def parse(self, label: str, grain: Grain | None = None) -> tuple[date, Grain]:
        """The start date and grain of a period label such as 2017, 2017-Q1, 2017-03, 2017-M03, 2017-W09."""
        start, found = self._parse(label, grain)
        text = label.strip().upper()
        if self.periods and found in PERIOD_KINDS and "-M" not in text and self.label(start, found) != text:
            raise InputError(f"no period {label.strip()} in the company's fiscal calendar",
                             hint=f"the {found} holding {start:%Y-%m-%d} is {self.label(start, found)}")
        return start, found

    def _parse(self, label: str, grain: Grain | None) -> tuple[date, Grain]:
        text = label.strip().upper()
        try:
            if "-W" in text:
                year, week = text.split("-W")
                return date.fromisocalendar(int(year), int(week), 1), "week"
            if "-Q" in text:
                year, quarter = text.split("-Q")
                if not 1 <= int(quarter) <= 4:
                    raise ValueError
                return self._quarter_start(int(year), int(quarter)), "quarter"
            if "-M" in text:
                year, month = text.split("-M")
                if not 1 <= int(month) <= 14:
                    raise ValueError
                return self._fiscal_month_start(int(year), int(month)), "month"
            if len(text) == 4 and text.isdigit():
                named = self._named(int(text), "year", 1)
                return (named.start if named else self._rule_period(self._rule_year_start(int(text)), "year")), "year"
            if len(text) == 7:
                year, month = text.split("-")
                return self._rule_period(date(int(year), int(month), 1), "month"), "month"
            return date.fromisoformat(text.lower()), grain or "day"
        except ValueError:
            raise InputError(f"not a period: {label!r}",
                             hint="use 2017, 2017-Q1, 2017-03, 2017-W09 or a date such as 2017-03-31") from None

    def _quarter_start(self, year: int, quarter: int) -> date:
        named = self._named(year, "quarter", quarter)
        if named is not None:
            return named.start
        return self._rule_period(_add_months(self._rule_year_start(year), (quarter - 1) * 3), "quarter")

    def _rule_period(self, rule_start: date, grain: Grain) -> date:
        """Where the rule's period starting on `rule_start` begins here: after an imported period holding its start."""
        held = self._containing(rule_start, grain)
        return self.start_of(held.next_start if held is not None else rule_start, grain)

    def _fiscal_month_start(self, year: int, month: int) -> date:
        named = self._named(year, "month", month)
        if named is not None:
            return named.start
        if month > 12:
            raise ValueError(f"no fiscal month {month} in {year}")
        return _add_months(self._parse(str(year), "year")[0], month - 1)

    def labels(self, starts: pd.Series, grain: Grain) -> pd.Series:
        return starts.map(lambda d: self.label(pd.Timestamp(d).date(), grain))
