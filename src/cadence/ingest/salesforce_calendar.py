"""The company's fiscal calendar from Salesforce: FiscalYearSettings and Period exports → `fiscal_periods`.

- FiscalYearSettings: one record per fiscal year (Name, StartDate, EndDate, YearType Standard or
  Custom). Each becomes a `year` row. The year is named as the company names it: the number in its
  `Name` (Salesforce names a standard year by its starting or ending year, as the org is set up),
  else the year its EndDate falls in.
- Period: Year, Quarter and Month records become `year`, `quarter` and `month` rows of the fiscal
  year whose settings hold their StartDate (the `FiscalYearSettingsId` decides between overlapping
  ones); their number is `Number`, else their order within the year. A custom 4-4-5 year's months
  are its fiscal months (4, 4 and 5 weeks), not calendar months. Week records are quarantined with
  the reason: Cadence's weeks are ISO weeks, so they are not kept (nothing needs fixing).
  Without a FiscalYearSettings export, a period's year is the Year period holding it, named by the
  year its EndDate falls in.

Dates are read as written (`2023-01-01` or `2023-01-01 00:00:00`): a period boundary is a day,
never shifted by a time zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

import pandas as pd

from cadence.ingest.batch import LINE, problem

KINDS = {"year": "year", "quarter": "quarter", "month": "month"}
_YEAR_IN_NAME = re.compile(r"(\d{4})")
_DAY = re.compile(r"^\s*(\d{4}-\d{2}-\d{2})")


@dataclass(frozen=True)
class FiscalYear:
    """One FiscalYearSettings record: its id, the year's name as a number, first and last day, type."""

    settings_id: str | None
    fiscal_year: int
    start: date
    end: date
    custom: bool


class CalendarContext(Protocol):
    """What the two readers share within one import: the fiscal years read so far."""

    fiscal_years: list[FiscalYear]


def is_fiscal_year_settings(columns: set[str]) -> bool:
    return "YearType" in columns or "IsStandardYear" in columns or \
        {"Name", "StartDate", "EndDate", "PeriodId"} <= columns


def is_period(columns: set[str]) -> bool:
    labels = {"PeriodLabel", "QuarterLabel", "FullyQualifiedLabel", "IsForecastPeriod", "FiscalYearSettingsId"}
    return {"Type", "StartDate", "EndDate"} <= columns and bool(columns & labels) \
        and not is_fiscal_year_settings(columns)


def _cell(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="object")
    values = frame[column].astype("object").map(lambda v: v.strip() if isinstance(v, str) else v)
    return values.where(values.notna() & (values != ""), None).astype("object")


def _days(values: pd.Series) -> pd.Series:
    """Dates as written, time of day (Salesforce writes `00:00:00`) dropped; None where unreadable."""
    def one(value: object) -> date | None:
        if not isinstance(value, str):
            return None
        match = _DAY.match(value)
        try:
            return date.fromisoformat(match.group(1)) if match else pd.Timestamp(value).date()
        except ValueError:
            return None
    return values.map(one).astype("object")


def _year_named(name: object, end: object) -> int | None:
    match = _YEAR_IN_NAME.search(name) if isinstance(name, str) else None
    if match:
        return int(match.group(1))
    return end.year if isinstance(end, date) else None


def read_fiscal_year_settings(source: pd.DataFrame, context: CalendarContext) -> list[tuple[str, pd.DataFrame]]:
    """Each fiscal year as a `year` row; remembered in `context.fiscal_years` for the Period export."""
    start, end = _days(_cell(source, "StartDate")), _days(_cell(source, "EndDate"))
    names, ids = _cell(source, "Name"), _cell(source, "Id")
    custom = _cell(source, "YearType").map(lambda v: isinstance(v, str) and v.lower() == "custom")
    years = pd.Series([_year_named(n, e) for n, e in zip(names, end, strict=True)], index=source.index,
                      dtype="object")
    frame = pd.DataFrame({"kind": "year", "start_date": start, "end_date": end, "fiscal_year": years,
                          "number": 1, "label": years.map(lambda y: str(y) if y is not None else None),
                          LINE: source[LINE]}, index=source.index)
    problem(frame, years.isna() & start.notna() & end.notna(), "Name",
            "no year in the fiscal year's Name: name it with its year (e.g. 2024)")
    for row in zip(ids, years, start, end, custom, strict=True):
        if row[1] is not None and row[2] is not None and row[3] is not None:
            context.fiscal_years.append(FiscalYear(row[0], int(row[1]), row[2], row[3], bool(row[4])))
    return [("fiscal_periods", frame)]


def _fiscal_year_of(start: object, settings_id: object, years: list[FiscalYear]) -> FiscalYear | None:
    if not isinstance(start, date):
        return None
    holding = [y for y in years if y.start <= start <= y.end]
    return next((y for y in holding if y.settings_id == settings_id), holding[0] if holding else None)


def _years_from_periods(kinds: pd.Series, start: pd.Series, end: pd.Series) -> list[FiscalYear]:
    """Without FiscalYearSettings: the export's Year periods, each named by the year it ends in."""
    return [FiscalYear(None, e.year, s, e, False) for k, s, e in zip(kinds, start, end, strict=True)
            if k == "year" and isinstance(s, date) and isinstance(e, date)]


def read_periods(source: pd.DataFrame, context: CalendarContext) -> list[tuple[str, pd.DataFrame]]:
    """Year, Quarter and Month periods as `fiscal_periods` rows of the fiscal year holding them."""
    kind_text = _cell(source, "Type").map(lambda v: v.lower() if isinstance(v, str) else v)
    kinds = kind_text.map(lambda v: KINDS.get(v) if isinstance(v, str) else None).astype("object")
    start, end = _days(_cell(source, "StartDate")), _days(_cell(source, "EndDate"))
    years = context.fiscal_years or _years_from_periods(kinds, start, end)
    held = [_fiscal_year_of(s, i, years) for s, i in zip(start, _cell(source, "FiscalYearSettingsId"), strict=True)]
    fiscal = pd.Series([y.fiscal_year if y else None for y in held], index=source.index, dtype="object")
    number = pd.to_numeric(_cell(source, "Number"), errors="coerce")
    order = pd.DataFrame({"kind": kinds, "year": fiscal, "start": start}).groupby(["kind", "year"])["start"] \
        .rank(method="first")
    number = number.where(number.notna(), order).where(kinds.notna()).astype("object")  # weeks: refused below
    frame = pd.DataFrame({"kind": kinds, "start_date": start, "end_date": end, "fiscal_year": fiscal,
                          "number": number, LINE: source[LINE]}, index=source.index)
    frame["label"] = [_label(k, y, n, s, e) for k, y, n, s, e in
                      zip(kinds, fiscal, number, start, end, strict=True)]
    problem(frame, kind_text == "week", "kind", "a fiscal week: Cadence's weeks are ISO weeks (Monday to Sunday), "
            "so Week periods are not kept; nothing to fix")
    problem(frame, kinds.isna() & kind_text.notna(), "kind", "not a Year, Quarter, Month or Week period")
    problem(frame, fiscal.isna() & kinds.notna() & start.notna(), "start_date",
            "no fiscal year holds this period: export FiscalYearSettings (or the Year periods) with Period")
    return [("fiscal_periods", frame)]


def _label(kind: object, year: object, number: object, start: object, end: object) -> str | None:
    """How Cadence names the period: 2024, 2024-Q1, and 2024-03 (calendar month) or 2024-M03 (fiscal)."""
    if year is None or kind is None or not isinstance(number, int | float) or number != number:
        return None
    if kind == "year":
        return str(year)
    if kind == "quarter":
        return f"{year}-Q{int(number)}"
    if isinstance(start, date) and isinstance(end, date) and start.day == 1 \
            and (end + timedelta(days=1)).day == 1 and (end - start).days < 31:
        return f"{start.year}-{start.month:02d}"
    return f"{year}-M{int(number):02d}"
