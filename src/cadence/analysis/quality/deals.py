"""Opportunity hygiene: stale close dates, missing owners and amounts, orphans, impossible dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from cadence.analysis.quality.findings import Finding, TableSource, count_rows, rows_finding
from cadence.analysis.words import plural

if TYPE_CHECKING:
    import ibis.expr.types as ir


def open_past_close_date(tables: TableSource, today: date) -> list[Finding]:
    """Open opportunities whose expected close date is before today.

    Rule: not closed (won or lost) and close_date < today. Such deals inflate the pipeline and the
    stage-weighted forecast: the rep should move the date or close the deal. Stalest first.
    """
    opps = tables.table("opportunities")
    rows = opps.filter(~opps.is_closed, opps.close_date.notnull(), opps.close_date < today)
    return rows_finding(
        rows, "opportunity_id", check="open_past_close_date", severity="warning",
        order_by=[rows.close_date, rows.opportunity_id],
        message=lambda n: f"{plural(n, 'open opportunity', 'open opportunities', verb='has')} a close date "
                          f"before {today:%Y-%m-%d} (rule: not closed and close_date < today); move the date "
                          "or close the deal, or the pipeline and forecast count it as still coming in.",
    )


def opportunity_missing_owner(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities with no owner_id: nobody's pipeline, so no rep or team metric counts them."""
    opps = tables.table("opportunities")
    rows = opps.filter(opps.owner_id.isnull())
    return rows_finding(
        rows, "opportunity_id", check="opportunity_missing_owner", severity="warning",
        message=lambda n: f"{plural(n, 'opportunity', 'opportunities', verb='has')} no owner (rule: owner_id "
                          "empty); rep and team figures leave them out.",
    )


def account_missing_owner(tables: TableSource, today: date) -> list[Finding]:
    """Accounts with no owner_id (information: many sources do not carry account owners)."""
    accounts = tables.table("accounts")
    rows = accounts.filter(accounts.owner_id.isnull())
    return rows_finding(
        rows, "account_id", check="account_missing_owner", severity="info",
        message=lambda n: f"{plural(n, 'account', verb='has')} no owner (rule: owner_id empty).",
    )


def opportunity_missing_amount(tables: TableSource, today: date) -> list[Finding]:
    """Open or won opportunities with no amount: they add nothing to pipeline, bookings or forecast.

    Lost deals without an amount are common and harmless, so they are not counted.
    """
    opps = tables.table("opportunities")
    rows = opps.filter(opps.amount.isnull(), ~opps.is_closed | opps.is_won)
    return rows_finding(
        rows, "opportunity_id", check="opportunity_missing_amount", severity="warning",
        message=lambda n: f"{plural(n, 'open or won opportunity', 'open or won opportunities', verb='has')} "
                          "no amount (rule: amount empty and the deal is open or won); pipeline, bookings and "
                          "the forecast count them as zero.",
    )


def won_zero_amount(tables: TableSource, today: date) -> list[Finding]:
    """Won opportunities booked at exactly 0: a win that adds no revenue is usually a missing amount."""
    opps = tables.table("opportunities")
    rows = opps.filter(opps.is_won, opps.amount == 0)
    return rows_finding(
        rows, "opportunity_id", check="won_zero_amount", severity="warning",
        message=lambda n: f"{plural(n, 'won opportunity', 'won opportunities', verb='has')} an amount of 0 "
                          "(rule: won and amount = 0); they count in win rate but not in bookings.",
    )


def orphan_opportunities(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities whose account_id names no account: segment, region and industry views lose them.

    An empty account_id is allowed (early deals); only ids that point nowhere count.
    """
    opps, accounts = tables.table("opportunities"), tables.table("accounts")
    rows = opps.filter(opps.account_id.notnull(), ~opps.account_id.isin(accounts.account_id))
    hint = "" if count_rows(accounts) else " The accounts table is empty: import the accounts (companies) too."
    return rows_finding(
        rows, "opportunity_id", check="orphan_opportunity", severity="error",
        message=lambda n: f"{plural(n, 'opportunity', 'opportunities', verb='points')} to an account that "
                          "is not in accounts (rule: account_id given but not found); views by segment, region "
                          f"or industry leave them out.{hint}",
    )


def unknown_owners(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities and activities whose owner (person_id for activities) is not in people.

    Only checked when people holds anyone: with no people imported there is nothing to match against.
    Rep funnels, coaching and quota attainment silently drop these rows.
    """
    people = tables.table("people")
    if count_rows(people) == 0:
        return []
    return (_unknown_owner(tables, people.person_id, "opportunities", "opportunity_id", "owner_id", "opportunity")
            + _unknown_owner(tables, people.person_id, "activities", "activity_id", "person_id", "activity"))


def _unknown_owner(tables: TableSource, person_ids: ir.Column, table_name: str, id_column: str, owner_column: str,
                   singular: str) -> list[Finding]:
    table = tables.table(table_name)
    owner = table[owner_column]
    rows = table.filter(owner.notnull(), ~owner.isin(person_ids))
    return rows_finding(
        rows, id_column, check=f"{singular}_unknown_owner", severity="error",
        message=lambda n: f"{plural(n, singular, table_name, verb='has')} an owner who is not in people "
                          f"(rule: {table_name}.{owner_column} not found in people.person_id); per-rep "
                          "figures leave them out.",
    )


def future_closes(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities closed after today: a close in the future is a typo or a date meant as expected close.

    Rule: closed_at later than the end of today. (closed_at before created_at never gets this far:
    imports quarantine it.)
    """
    opps = tables.table("opportunities")
    end_of_today = datetime.combine(today + timedelta(days=1), time())
    rows = opps.filter(opps.closed_at.notnull(), opps.closed_at >= end_of_today)
    return rows_finding(
        rows, "opportunity_id", check="future_close", severity="error",
        message=lambda n: f"{plural(n, 'opportunity', 'opportunities', verb='was')} closed after "
                          f"{today:%Y-%m-%d} (rule: closed_at later than today); bookings land in a period "
                          "that has not happened yet.",
    )


def closed_without_date(tables: TableSource, today: date) -> list[Finding]:
    """Closed opportunities with neither closed_at nor close_date: no period can count them."""
    opps = tables.table("opportunities")
    rows = opps.filter(opps.is_closed, opps.closed_at.isnull(), opps.close_date.isnull())
    return rows_finding(
        rows, "opportunity_id", check="closed_without_date", severity="warning",
        message=lambda n: f"{plural(n, 'closed opportunity', 'closed opportunities', verb='has')} neither "
                          "closed_at nor close_date (rule: closed, both dates empty); win rate, bookings and "
                          "cycle time cannot place them in any period.",
    )
