"""Amounts in several currencies: deals and subscriptions no exchange rate converts."""

from __future__ import annotations

from datetime import date

from cadence.analysis.quality.findings import Finding, TableSource, rows_finding
from cadence.analysis.words import plural
from cadence.metrics.catalog import relation
from cadence.metrics.money import ADD_RATES_HINT, MISSING, RATE, corporate_currency
from cadence.metrics.relations import deals
from cadence.metrics.revenue import unconverted_subscriptions


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


def subscriptions_without_rate(tables: TableSource, today: date) -> list[Finding]:
    """Subscriptions whose MRR is in a currency no exchange rate converts in a month they are billed.

    Rule: MRR converts to the corporate currency at the rate in force on each month's first day (else
    the currency's static rate); a subscription in a currency with no rate in one of its months is
    counted here, and MRR, ARR and the revenue movements over those months are refused until the
    rates are added. A subscription in another currency with its rates is fine: nothing to report.
    """
    rows = unconverted_subscriptions(relation("mrr_months", tables), tables)
    per_currency = rows.group_by(code=rows[MISSING]).agg(n=rows.subscription_id.nunique()).order_by("code")
    frame = per_currency.to_pandas()
    named = ", ".join(f"{code} ({n:,})" for code, n in zip(frame["code"], frame["n"], strict=True))
    corporate = corporate_currency(tables)
    return rows_finding(
        rows.select("subscription_id").distinct(), "subscription_id", check="subscription_without_rate",
        severity="error",
        message=lambda n: f"{plural(n, 'subscription', verb='has')} its MRR in a currency with no exchange rate "
                          f"to {corporate} in a month it is billed: {named}. MRR, ARR and revenue movements are "
                          f"refused until you {ADD_RATES_HINT.replace('add them', 'add rates')}.",
    )
