"""Amounts in several currencies: deals no rate converts, and recurring revenue that is never converted."""

from __future__ import annotations

from datetime import date

from cadence.analysis.quality.findings import Finding, TableSource, plural, rows_finding
from cadence.metrics.money import ADD_RATES_HINT, MISSING, RATE, corporate_currency
from cadence.metrics.relations import deals


def deals_without_rate(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities whose amount is in a currency no exchange rate converts on the deal's day.

    Rule: a deal with an amount converts to the corporate currency at the dated rate of its close
    date (open deals: the latest rate), else its currency's static rate; a deal with neither is
    counted here. Every money figure over such deals is refused until the rates are added.
    """
    rel = deals(tables)
    rows = rel.filter(rel.amount.notnull() & rel[RATE].isnull())
    per_currency = rows.group_by(code=rows[MISSING]).agg(n=rows.count()).order_by("code").to_pandas()
    named = ", ".join(f"{code} ({n:,})" for code, n in zip(per_currency["code"], per_currency["n"], strict=True))
    corporate = corporate_currency(tables)
    return rows_finding(
        rows, "opportunity_id", check="currency_without_rate", severity="error",
        message=lambda n: f"{plural(n, 'opportunity', 'opportunities', verb='has')} an amount in a currency with "
                          f"no exchange rate to {corporate} on its day: {named}. Bookings, pipeline and every other "
                          f"money figure are refused until you {ADD_RATES_HINT.replace('add them', 'add rates')}.",
    )


def subscriptions_in_other_currencies(tables: TableSource, today: date) -> list[Finding]:
    """Subscriptions whose MRR is in another currency than the corporate one.

    Rule: MRR, ARR and the revenue movements add subscriptions up as they are; they are not converted
    between currencies, so a subscription in another currency makes those sums wrong.
    """
    subs = tables.table("subscriptions")
    corporate = corporate_currency(tables)
    rows = subs.filter(subs.currency.notnull() & (subs.currency.upper() != corporate) & (subs.currency != ""))
    return rows_finding(
        rows, "subscription_id", check="subscription_other_currency", severity="warning",
        message=lambda n: f"{plural(n, 'subscription', verb='has')} its MRR in another currency than {corporate}: "
                          "MRR and ARR add them up unconverted. Convert them before importing, or keep one "
                          "currency per workspace.",
    )
