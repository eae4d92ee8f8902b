"""The demo company's time line: three fiscal years starting in February, counted in days.

Every generator works on day numbers (0 = the first day of fiscal 2024, 2023-02-01) held in
numpy arrays, fractional where a time of day matters, and turns them into timestamps only at the
end. Fiscal years and quarters are named after the fiscal year in which they end, as Cadence's
metrics name them: 2023-02-01 … 2024-01-31 is FY2024, and 2023-02-01 begins 2024-Q1.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

FISCAL_START_MONTH = 2
FIRST_FISCAL_YEAR = 2024
FISCAL_YEARS = (2024, 2025, 2026)
START = date(2023, 2, 1)
END = date(2026, 2, 1)  # exclusive: the demo's data stops the day before
DAYS = (END - START).days
BASE = np.datetime64(START.isoformat(), "us")
STAGGERED_FROM_YEAR = 2026  # executive goals fall due on staggered dates from this fiscal year on
LAST_WEEKS_DAYS = 14  # "the last two weeks of the quarter"


def day_of(when: date) -> int:
    """The day number of a calendar date."""
    return (when - START).days


def date_of(day: int) -> date:
    return START + timedelta(days=int(day))


def _month_starts() -> np.ndarray:
    starts, year, month = [], START.year, START.month
    while date(year, month, 1) <= END:
        starts.append(day_of(date(year, month, 1)))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return np.array(starts)


MONTH_STARTS = _month_starts()  # day numbers of every month start, END's included
QUARTER_STARTS = MONTH_STARTS[::3]  # 13 values: twelve fiscal quarters and END
YEAR_STARTS = MONTH_STARTS[::12]  # 4 values


def timestamps(days: np.ndarray) -> np.ndarray:
    """Fractional day numbers as datetime64[us] timestamps (to the second)."""
    seconds = np.round(np.asarray(days, dtype="float64") * 86_400).astype("int64")
    return BASE + seconds.astype("timedelta64[s]").astype("timedelta64[us]")


def dates(days: np.ndarray) -> np.ndarray:
    """Day numbers (fractions dropped) as datetime64 dates at midnight."""
    return BASE + np.floor(np.asarray(days, dtype="float64")).astype("int64").astype("timedelta64[D]")


def quarter_index(days: np.ndarray) -> np.ndarray:
    """0 … 11: the fiscal quarter each day falls in (−1 before the window, 12 after)."""
    return np.searchsorted(QUARTER_STARTS, np.floor(days), side="right") - 1


def month_index(days: np.ndarray) -> np.ndarray:
    return np.searchsorted(MONTH_STARTS, np.floor(days), side="right") - 1


def fiscal_year(days: np.ndarray) -> np.ndarray:
    """The fiscal year (2024 …) each day falls in."""
    return FIRST_FISCAL_YEAR + np.floor_divide(quarter_index(days), 4)


def quarter_label(index: int) -> str:
    """'2024-Q1' for quarter 0."""
    return f"{FIRST_FISCAL_YEAR + index // 4}-Q{index % 4 + 1}"


def in_last_weeks(days: np.ndarray) -> np.ndarray:
    """True for days in the last two weeks (14 days) of their fiscal quarter."""
    q = quarter_index(days)
    inside = (q >= 0) & (q < len(QUARTER_STARTS) - 1)
    ends = QUARTER_STARTS[np.clip(q + 1, 0, len(QUARTER_STARTS) - 1)]
    return inside & (np.floor(days) >= ends - LAST_WEEKS_DAYS)


def weekday(days: np.ndarray) -> np.ndarray:
    """0 = Monday … 6 = Sunday."""
    return (np.floor(days).astype("int64") + START.weekday()) % 7


def working_days(first: int = 0, last: int = DAYS) -> np.ndarray:
    """Day numbers of the Mondays to Fridays in [first, last)."""
    days = np.arange(first, last)
    return days[weekday(days) < 5]


def to_weekday(days: np.ndarray) -> np.ndarray:
    """Move Saturdays back to Friday and Sundays on to Monday, keeping the time of day."""
    days = np.asarray(days, dtype="float64")
    wd = weekday(days)
    return days - (wd == 5) + (wd == 6)


def mondays() -> np.ndarray:
    """Day numbers of every Monday in the window: the weeks `usage` is reported for."""
    first = (7 - START.weekday()) % 7
    return np.arange(first, DAYS, 7)
