"""Close dates that tell a different story from the deal: moved, impossible, or suspiciously quick.

Days are read in the company's time zone (cadence.yml `timezone`): a deal won at 02:30 UTC on
1 April was won on 31 March in Mexico City. Quarters are the workspace's fiscal quarters.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pandas as pd

from cadence.analysis.quality.findings import MAX_EXAMPLES, Finding, TableSource
from cadence.analysis.words import plural
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.dating import dating_of, local_time


def _calendar(tables: TableSource) -> FiscalCalendar:
    calendar = getattr(tables, "calendar", None)
    return calendar if isinstance(calendar, FiscalCalendar) else FiscalCalendar()


def _day(value: Any) -> date | None:
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


def quarters_apart(calendar: FiscalCalendar, first: date, second: date) -> int:
    """How many fiscal quarters `second` lies after (positive) or before (negative) `first`."""
    low, high = sorted((calendar.start_of(first, "quarter"), calendar.start_of(second, "quarter")))
    steps = 0
    while low < high:
        low, steps = calendar.next_start(low, "quarter"), steps + 1
    return steps if second >= first else -steps


def _moved(count: int) -> str:
    return "in the same quarter" if count == 0 else \
        f"{abs(count)} quarter{'s' if abs(count) > 1 else ''} {'later' if count > 0 else 'earlier'}"


def close_date_differs(tables: TableSource, today: date) -> list[Finding]:
    """Closed deals whose close date is not the day they really closed.

    Rule: closed, with closed_at and close_date, and the day of closed_at in the company's time zone
    differs from close_date (by any number of days). Figures dated by close date count such a deal in
    the close date's period; dated by closed_at, in the other. Counted by how many quarters apart.
    """
    dating = dating_of(tables)
    opps = tables.table("opportunities")
    closed_day = local_time(opps.closed_at, dating.timezone).cast("date")
    rows = opps.filter(opps.is_closed, opps.closed_at.notnull(), opps.close_date.notnull(),
                       closed_day != opps.close_date.cast("date"))
    frame = rows.select("opportunity_id", close=rows.close_date.cast("date"),
                        closed=local_time(rows.closed_at, dating.timezone).cast("date")).to_pandas()
    if frame.empty:
        return []
    calendar = _calendar(tables)
    frame["close"], frame["closed"] = frame["close"].map(_day), frame["closed"].map(_day)
    frame["quarters"] = [quarters_apart(calendar, c, d) for c, d in zip(frame["close"], frame["closed"], strict=True)]
    frame["days"] = [(d - c).days for c, d in zip(frame["close"], frame["closed"], strict=True)]
    frame = frame.assign(_q=frame["quarters"].abs(), _d=frame["days"].abs()) \
        .sort_values(["_q", "_d", "opportunity_id"], ascending=[False, False, True])
    moved = Counter(abs(q) for q in frame["quarters"] if q)
    parts = [f"{n:,} by {q} quarter{'s' if q > 1 else ''}" for q, n in sorted(moved.items())]
    same = int((frame["quarters"] == 0).sum())
    parts += [f"{same:,} within the same quarter"] if same else []
    examples = [f"{r.opportunity_id}: close date {r.close:%Y-%m-%d}, closed {r.closed:%Y-%m-%d} ({_moved(r.quarters)})"
                for r in frame.head(MAX_EXAMPLES).itertuples()]
    count = len(frame)
    message = (f"{plural(count, 'closed deal', verb='has')} a close date other than the day of closing in "
               f"{dating.timezone} (rule: day of closed_at ≠ close_date): {'; '.join(parts)}. Figures are "
               f"{dating.phrase} (cadence.yml deal_dating: {dating.rule}); correct the close dates in the CRM if "
               "they are wrong.")
    return [Finding("close_date_differs", "warning" if moved else "info", count, message, examples)]


def closed_before_created(tables: TableSource, today: date) -> list[Finding]:
    """Closed deals whose close date is earlier than the day they were created.

    Rule: closed and close_date before the day of created_at in the company's time zone. Usually
    records back-filled or migrated from another CRM: bookings count them by close date, but how long
    they took is unknown, so sales cycle leaves them out.
    """
    zone = dating_of(tables).timezone
    opps = tables.table("opportunities")
    created_day = local_time(opps.created_at, zone).cast("date")
    rows = opps.filter(opps.is_closed, opps.close_date.notnull(), opps.close_date.cast("date") < created_day)
    frame = rows.select("opportunity_id", close=rows.close_date.cast("date"),
                        created=local_time(rows.created_at, zone).cast("date")).to_pandas()
    if frame.empty:
        return []
    frame = frame.sort_values(["close", "opportunity_id"])
    examples = [f"{r.opportunity_id}: created {_day(r.created):%Y-%m-%d}, close date {_day(r.close):%Y-%m-%d}"
                for r in frame.head(MAX_EXAMPLES).itertuples()]
    count = len(frame)
    message = (f"{plural(count, 'closed deal', verb='was')} closed before being created (rule: close_date "
               f"earlier than the day of created_at in {zone}); usually back-filled or migrated records: bookings "
               "count them by close date, sales cycle leaves them out.")
    return [Finding("closed_before_created", "warning", count, message, examples)]


def won_on_creation_day(tables: TableSource, today: date) -> list[Finding]:
    """Won deals created and won on the same day.

    Rule: won, and the day it is dated by (the workspace's dating rule) is the day of created_at,
    both in the company's time zone. Often deals entered after the fact: they shorten the sales cycle
    and lift the win rate without saying anything about how selling went.
    """
    dating = dating_of(tables)
    opps = tables.table("opportunities")
    created_day = local_time(opps.created_at, dating.timezone).cast("date")
    dated_day = dating.closed_on(opps).cast("date")
    rows = opps.filter(opps.is_won, dated_day.notnull(), dated_day == created_day)
    frame = rows.select("opportunity_id", day=dating.closed_on(rows).cast("date")).to_pandas()
    if frame.empty:
        return []
    frame = frame.sort_values(["day", "opportunity_id"])
    examples = [f"{r.opportunity_id}: created and won {_day(r.day):%Y-%m-%d}"
                for r in frame.head(MAX_EXAMPLES).itertuples()]
    count = len(frame)
    message = (f"{plural(count, 'won deal', verb='was')} created and won on the same day (rule: won, and the "
               f"day it is {dating.phrase} is the day it was created, in {dating.timezone}); often entered after "
               "the fact: they shorten the sales cycle and lift the win rate.")
    return [Finding("won_on_creation_day", "info", count, message, examples)]
