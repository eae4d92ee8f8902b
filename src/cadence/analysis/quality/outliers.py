"""Amounts far outside what a pipeline usually sees: a misplaced decimal, a placeholder, a wrong currency."""

from __future__ import annotations

from datetime import date

import ibis

from cadence.analysis.quality.findings import Finding, TableSource, rows_finding
from cadence.analysis.words import plural

MAD_LIMIT = 5  # how many median absolute deviations (of log10 amounts) count as far away
MIN_FACTOR_LOG10 = 1.0  # and at least ten times above or below the median
MIN_GROUP = 20  # fewer deals than this in a pipeline/kind: too few to say what is usual


def amount_outliers(tables: TableSource, today: date) -> list[Finding]:
    """Opportunities whose amount is far from the usual amount of their pipeline, kind and currency.

    Rule: within each pipeline, kind (new, expansion, renewal) and currency with at least 20 positive
    amounts, take log10 of the amount; a deal is an outlier when its log amount is more than 5
    median absolute deviations from the group's median AND at least ten times above or below the
    median amount. Working on the log scale and with medians keeps one huge deal from hiding
    another. Zero amounts are left to the won-at-zero and missing-amount checks.
    """
    opps = tables.table("opportunities")
    deals = opps.filter(opps.amount > 0).select(
        "opportunity_id", "pipeline", kind=opps.kind.fill_null(""), currency=opps.currency.fill_null(""),
        log_amount=opps.amount.cast("float64").log10(),
    )
    groups = ["pipeline", "kind", "currency"]  # 4,000 COP is not an outlier among dollars
    centre = deals.group_by(groups).aggregate(median=deals.log_amount.median(), deals=deals.opportunity_id.count())
    centre = centre.filter(centre.deals >= MIN_GROUP)
    spread = deals.join(centre, groups)
    spread = spread.mutate(distance=(spread.log_amount - spread["median"]).abs())
    mad = spread.group_by(groups).aggregate(mad=spread.distance.median())
    scored = spread.join(mad, groups)
    limit = ibis.greatest(scored.mad * MAD_LIMIT, ibis.literal(MIN_FACTOR_LOG10))
    rows = scored.filter(scored.distance > limit)
    return rows_finding(
        rows, "opportunity_id", check="amount_outlier", severity="warning",
        order_by=[rows.distance.desc(), rows.opportunity_id],
        message=lambda n: f"{plural(n, 'opportunity', 'opportunities', verb='has')} an amount far from the "
                          "usual for its pipeline, kind and currency (rule: log10 amount more than 5 median absolute "
                          "deviations from the median, and at least 10× above or below the median amount; "
                          f"groups of {MIN_GROUP}+ deals). Check for a misplaced decimal, a placeholder value "
                          "or the wrong currency. Examples: furthest first.",
    )
