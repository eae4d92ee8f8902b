"""When a cron line is due (delivery schedules, CRM syncs): read on its time zone's wall clock, each slot one
UTC instant.

The cron line is evaluated on local wall-clock times ("8:00 every Monday in Mexico City"), and each wall-clock
time is turned into one UTC instant, so:

- 8:00 local stays 8:00 local across a daylight-saving change (the UTC instant moves by an hour);
- a slot in the hour skipped in spring happens once, an hour later on the clock (2:30 → 3:30);
- a slot in the hour repeated in autumn happens once, at its first occurrence.

A run asks for the latest slot at or before now, not older than a look-back (two days by default): a scheduler
that was down for a night still sends this morning's message, but never last month's.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from croniter import croniter


class Schedule(Protocol):
    """Anything with a five-field cron line and the IANA time zone it is read in (a delivery schedule, a sync)."""

    @property
    def cron(self) -> str: ...

    @property
    def timezone(self) -> str: ...


__all__ = ["DEFAULT_LOOKBACK", "Schedule", "due_slots", "latest_slot", "slots_between", "to_utc"]

DEFAULT_LOOKBACK = timedelta(days=2)
_MARGIN = timedelta(hours=3)  # wider than any daylight-saving shift, so no slot near now is missed


def to_utc(wall: datetime, zone: ZoneInfo) -> datetime:
    """A wall-clock time (naive) in `zone` as an aware UTC instant: a repeated time is its first occurrence; a
    skipped time is read with the offset in force before the change (2:30 in a skipped hour is 3:30)."""
    return wall.replace(tzinfo=zone, fold=0).astimezone(UTC)


def _aware(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def _walls_before(schedule: Schedule, start: datetime) -> Iterator[datetime]:
    """Wall-clock slots going back from `start` (naive, in the schedule's zone), newest first."""
    moments = croniter(schedule.cron, start)
    while True:
        yield moments.get_prev(datetime)


def latest_slot(schedule: Schedule, now: datetime | None = None) -> datetime:
    """The schedule's latest slot at or before `now` (UTC, aware), however old."""
    moment = _aware(now)
    zone = ZoneInfo(schedule.timezone)
    start = (moment.astimezone(zone).replace(tzinfo=None) + _MARGIN).replace(second=0, microsecond=0)
    start += timedelta(minutes=1)  # croniter's get_prev is strictly before its start
    seen: set[datetime] = set()
    for wall in _walls_before(schedule, start):
        slot = to_utc(wall, zone)
        if slot <= moment and slot not in seen:
            return slot
        seen.add(slot)
    raise AssertionError("unreachable: croniter yields forever")  # pragma: no cover


def due_slots(schedule: Schedule, now: datetime | None = None, *,
              lookback: timedelta = DEFAULT_LOOKBACK) -> list[datetime]:
    """The slots a run at `now` should send: the latest at or before now, when it is not older than `lookback`
    (an empty list otherwise). UTC, aware, to the second."""
    moment = _aware(now)
    slot = latest_slot(schedule, moment)
    return [slot] if moment - slot <= lookback else []


def slots_between(schedule: Schedule, start: datetime, end: datetime) -> list[datetime]:
    """Every slot in [start, end] (UTC, aware), oldest first, each instant once."""
    first, last = _aware(start), _aware(end)
    found: list[datetime] = []
    zone = ZoneInfo(schedule.timezone)
    begin = (last.astimezone(zone).replace(tzinfo=None) + _MARGIN).replace(second=0, microsecond=0)
    for wall in _walls_before(schedule, begin + timedelta(minutes=1)):
        slot = to_utc(wall, zone)
        if slot < first - _MARGIN:
            break
        if first <= slot <= last and slot not in found:
            found.append(slot)
    return sorted(found)
