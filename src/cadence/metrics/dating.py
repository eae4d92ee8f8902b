"""How a closed deal is dated, and which day a stored (UTC) timestamp falls on in the company's time zone.

By default a closed deal is dated by the CRM's close date (`deal_dating: close_date`), as Salesforce,
HubSpot and Clari reports date it, so Cadence's figures reconcile with the CRM's own. With
`deal_dating: closed_at` it is dated by when it really closed, read in the company's `timezone`:
a deal won at 2023-04-01T02:30:00Z was won on 2023-03-31 in America/Mexico_City. A deal lacking the
chosen date falls back to the other one. Timestamps are stored as naive UTC; `local_time` turns one
into the company's wall-clock time inside the warehouse (`timezone(zone, timezone('UTC', ts))`, which
DuckDB and PostgreSQL both read the same way). A close date is a date: it is never shifted.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import ibis
import ibis.expr.datatypes as dt

Rule = Literal["close_date", "closed_at"]
UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/GMT", "GMT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal"})


@ibis.udf.scalar.builtin(name="timezone")
def _as_zoned(zone: str, moment: dt.Timestamp()) -> dt.Timestamp(timezone="UTC"):  # type: ignore[valid-type,empty-body]
    """The engine's timezone(zone, timestamp): a naive timestamp read as wall-clock time in `zone`."""


@ibis.udf.scalar.builtin(name="timezone")
def _wall_clock(zone: str, moment: dt.Timestamp(timezone="UTC")) -> dt.Timestamp():  # type: ignore[valid-type,empty-body]
    """The engine's timezone(zone, timestamptz): that instant as naive wall-clock time in `zone`."""


def local_time(column: Any, zone: str) -> Any:
    """A naive UTC timestamp column as naive wall-clock time in `zone` (unchanged for UTC)."""
    if zone in UTC_NAMES:
        return column
    return _wall_clock(zone, _as_zoned("UTC", column.cast("timestamp")))


@dataclass(frozen=True)
class DealDating:
    """The workspace's rule for dating closed deals: `rule` and the time zone timestamps are read in."""

    rule: Rule = "close_date"
    timezone: str = "UTC"

    @property
    def phrase(self) -> str:
        """The rule in words, as every definition of a metric over closed deals names it."""
        if self.rule == "close_date":
            return "dated by the CRM's close date"
        return f"dated by closed_at in {self.timezone}"

    def closed_on(self, opportunities: Any) -> Any:
        """The timestamp a deal is dated by (midnight of the close date, or the local moment it closed)."""
        close_day = opportunities.close_date.cast("timestamp")
        moment = local_time(opportunities.closed_at, self.timezone)
        first, second = (close_day, moment) if self.rule == "close_date" else (moment, close_day)
        return ibis.coalesce(first, second)


def dating_of(tables: Any) -> DealDating:
    """The dating rule of `tables` (a Workspace: its cadence.yml); the default for any other table source."""
    config = getattr(tables, "config", None)
    rule = getattr(config, "deal_dating", None)
    if rule not in ("close_date", "closed_at"):
        return DealDating()
    return DealDating(rule, str(getattr(config, "timezone", "UTC") or "UTC"))
