"""A first look at a company: the headline figures of its warehouse, computed there with Ibis.

`company_overview(ws)` works on any workspace — the demo company, an import from Salesforce —
and reads nothing but the canonical tables and the company's name, currency and fiscal-year
start from the workspace it is given. "Now" is the data's own last day (the latest deal change
or activity), so a historical workspace is summarised as of its end, not as of today.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Protocol

import ibis
import pandas as pd

from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.money import missing_rates
from cadence.metrics.relations import deals

if TYPE_CHECKING:
    import ibis.expr.types as ir

    from cadence.config import CompanyConfig


class OverviewSource(Protocol):
    """What the overview needs: the canonical tables and the company's configuration (a Workspace)."""

    config: CompanyConfig

    def table(self, name: str) -> ir.Table: ...


@dataclass(frozen=True)
class Overview:
    """Headline figures of one workspace, as of the last day its data covers."""

    company: str
    currency: str
    fiscal_year_start_month: int
    as_of: date | None
    accounts: int
    accounts_by_segment: dict[str, int] = field(default_factory=dict)
    people: int = 0
    people_by_team: dict[str, int] = field(default_factory=dict)
    opportunities: dict[str, int] = field(default_factory=dict)  # open, won, lost
    bookings_by_fiscal_year: dict[str, float] = field(default_factory=dict)
    win_rate: float | None = None
    median_sales_cycle_days: float | None = None
    average_deal_size: float | None = None
    open_pipeline: float | None = 0.0
    mrr: float = 0.0
    arr: float = 0.0
    customers: int = 0
    leads: int = 0
    activities: int = 0
    money_note: str | None = None  # why deal amounts are left out (an exchange rate is missing)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["as_of"] = self.as_of.isoformat() if self.as_of else None
        return data


def company_overview(ws: OverviewSource) -> Overview:
    """Accounts, people, deals, bookings per fiscal year, win rate, sales cycle, MRR, customers, activity."""
    config = ws.config
    as_of = data_end(ws)
    opportunities = ws.table("opportunities")
    amounts, money_note = _in_one_currency(ws)
    return Overview(
        company=config.company, currency=config.currency, fiscal_year_start_month=config.fiscal_year_start_month,
        as_of=as_of,
        accounts=_count(ws.table("accounts")),
        accounts_by_segment=_counts_by(ws.table("accounts"), "segment"),
        people=_count(_current_people(ws.table("people"), as_of)),
        people_by_team=_counts_by(_current_people(ws.table("people"), as_of), "team"),
        opportunities=_deal_counts(opportunities),
        bookings_by_fiscal_year=bookings_by_fiscal_year(amounts, _calendar(ws))
        if amounts is not None else {},
        win_rate=_win_rate(opportunities),
        median_sales_cycle_days=_median_cycle(opportunities),
        average_deal_size=None if amounts is None else _scalar(amounts.filter(amounts.is_won).amount.mean()),
        open_pipeline=None if amounts is None else _scalar(amounts.filter(~amounts.is_closed).amount.sum()) or 0.0,
        **_recurring_revenue(ws.table("subscriptions"), as_of),
        leads=_count(ws.table("leads")),
        activities=_count(ws.table("activities")),
        money_note=money_note,
    )


def _calendar(ws: OverviewSource) -> FiscalCalendar:
    """The workspace's fiscal calendar (its imported periods included), else cadence.yml's start month."""
    calendar = getattr(ws, "calendar", None)
    return calendar if isinstance(calendar, FiscalCalendar) else FiscalCalendar(ws.config.fiscal_year_start_month)


def _in_one_currency(ws: OverviewSource) -> tuple[ir.Table | None, str | None]:
    """Deals with `amount` in the corporate currency; None and why when an exchange rate is missing."""
    rel = deals(ws)
    missing = missing_rates(rel, ws)
    if missing is not None:
        return None, f"amounts left out: {missing.message}"
    return rel.mutate(amount=rel.amount_value), None


def data_end(ws: OverviewSource) -> date | None:
    """The last day the data covers: the latest deal change, close or activity."""
    candidates = [
        ws.table("opportunity_history").changed_at.max(),
        ws.table("opportunities").closed_at.max(),
        ws.table("opportunities").created_at.max(),
        ws.table("activities").occurred_at.max(),
    ]
    found = [v for v in (c.execute() for c in candidates) if v is not None and v == v]
    if not found:
        return None
    latest = max(_as_datetime(v) for v in found)
    return latest.date()


def bookings_by_fiscal_year(rel: ir.Table, calendar: FiscalCalendar) -> dict[str, float]:
    """Won amount per fiscal year of the workspace's calendar, deals (the `deals` relation) dated as the `bookings`
    metric dates them (`closed_on`); "FY2017" where fiscal years do not start on 1 January."""
    won = rel.filter(rel.is_won, rel.closed_on.notnull())
    per_year = won.group_by(start=calendar.period_start(won.closed_on, "year")).aggregate(
        bookings=won.amount.cast("float64").sum()).order_by("start").to_pandas()
    starts = [pd.Timestamp(s).date() for s in per_year["start"]]
    prefix = "FY" if calendar.start_month != 1 or any((s.month, s.day) != (1, 1) for s in starts) else ""
    return {f"{prefix}{calendar.label(s, 'year')}": round(float(b), 2)
            for s, b in zip(starts, per_year["bookings"], strict=True)}


def _count(table: ir.Table) -> int:
    return int(table.count().execute())


def _scalar(expr: ir.Scalar) -> float | None:
    value = expr.execute()
    return None if value is None or value != value else round(float(value), 2)


def _counts_by(table: ir.Table, column: str) -> dict[str, int]:
    grouped = table.group_by(key=table[column].fill_null("(none)")).aggregate(n=table.count()).order_by(
        ibis.desc("n")).to_pandas()
    return {str(k): int(n) for k, n in zip(grouped["key"], grouped["n"], strict=True)}


def _current_people(people: ir.Table, as_of: date | None) -> ir.Table:
    if as_of is None:
        return people.filter(people.left_at.isnull())
    return people.filter(people.left_at.isnull() | (people.left_at >= as_of))


def _deal_counts(opportunities: ir.Table) -> dict[str, int]:
    counts = opportunities.aggregate(
        open=(~opportunities.is_closed).ifelse(1, 0).sum(),
        won=(opportunities.is_closed & opportunities.is_won).ifelse(1, 0).sum(),
        lost=(opportunities.is_closed & ~opportunities.is_won).ifelse(1, 0).sum(),
    ).to_pandas()
    return {k: int(counts[k].iloc[0] or 0) for k in ("open", "won", "lost")}


def _win_rate(opportunities: ir.Table) -> float | None:
    closed = opportunities.filter(opportunities.is_closed)
    value = closed.is_won.ifelse(1.0, 0.0).mean().execute()
    return None if value is None or value != value else round(float(value), 4)


def _median_cycle(opportunities: ir.Table) -> float | None:
    won = opportunities.filter(opportunities.is_won, opportunities.closed_at.notnull())
    days = (won.closed_at.epoch_seconds() - won.created_at.epoch_seconds()) / 86_400
    return _scalar(days.median())


def _recurring_revenue(subscriptions: ir.Table, as_of: date | None) -> dict[str, Any]:
    if as_of is None:
        return {"mrr": 0.0, "arr": 0.0, "customers": 0}
    day = ibis.literal(as_of)
    active = subscriptions.filter(subscriptions.started_at <= day,
                                  subscriptions.ended_at.isnull() | (subscriptions.ended_at > day))
    totals = active.aggregate(mrr=active.mrr.cast("float64").sum(), customers=active.account_id.nunique()).to_pandas()
    mrr = float(totals["mrr"].iloc[0] or 0.0)
    return {"mrr": round(mrr, 2), "arr": round(mrr * 12, 2), "customers": int(totals["customers"].iloc[0] or 0)}


def _as_datetime(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    return datetime.fromisoformat(str(value))
