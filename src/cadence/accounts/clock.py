"""The accounts' clock: naive UTC, as the warehouse keeps every timestamp."""

from __future__ import annotations

from datetime import UTC, datetime


def utc_now() -> datetime:
    """Now, naive UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


def naive_utc(moment: datetime | None) -> datetime:
    """`moment` (or now) as naive UTC: an aware time is converted, a naive one is taken to be UTC already."""
    if moment is None:
        return utc_now()
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo is not None else moment
