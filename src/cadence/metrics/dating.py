"""How a closed deal is dated, and which day a stored (UTC) timestamp falls on in the company's time zone.

By default a closed deal is dated by the CRM's close date (`deal_dating: close_date`), as Salesforce,
HubSpot and Clari reports date it, so Cadence's figures reconcile with the CRM's own. With
`deal_dating: closed_at` it is dated by when it really closed, read in the company's `timezone`:
a deal won at 2023-04-01T02:30:00Z was won on 2023-03-31 in America/Mexico_City. A deal lacking the
chosen date falls back to the other one. Timestamps are stored as naive UTC; `local_time` turns one
into the company's wall-clock time inside the warehouse (`timezone(zone, timezone('UTC', ts))`, which
DuckDB and PostgreSQL both read the same way). A close date is a date: it is never shifted.

A table source says its rule through one explicit attribute, `deal_dating` (the `DatedTables` protocol; the
Workspace builds it from cadence.yml). A plain table source without it — a test's tables, a frame-backed
source — dates deals by the default rule: the CRM's close date, timestamps read in UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Protocol

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

    @classmethod
    def configured(cls, rule: str | None, timezone: str | None) -> DealDating:
        """The rule cadence.yml names (`deal_dating`, `timezone`); the default for a rule it does not know."""
        if rule == "close_date":
            return cls("close_date", str(timezone or "UTC"))
        if rule == "closed_at":
            return cls("closed_at", str(timezone or "UTC"))
        return cls()


class DatedTables(Protocol):
    """A table source that says how its closed deals are dated (the Workspace does, from cadence.yml).

    Optional: `dating_of` gives the default rule to a table source without it. A wrapper that hands on the
    workspace's attributes (e.g. reporting in another currency) hands this one on too.
    """

    @property
    def deal_dating(self) -> DealDating: ...


def dating_of(tables: object) -> DealDating:
    """The dating rule `tables` declares (`deal_dating`); the default for a table source that declares none."""
    declared = getattr(tables, "deal_dating", None)  # DatedTables.deal_dating, when the source declares it
    return declared if isinstance(declared, DealDating) else DealDating()
