"""Counts that disagree between sources: marketing's leads per month against the CRM's, and the like."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import ibis

from cadence.analysis.quality.findings import MAX_EXAMPLES, Finding, TableSource, count_rows
from cadence.analysis.words import plural

if TYPE_CHECKING:
    import ibis.expr.types as ir

TOLERANCE = 0.10  # months whose smallest count is more than 10% below the largest disagree


def lead_counts_disagree(tables: TableSource, today: date) -> list[Finding]:
    """Months in which two or more lead sources report lead counts more than 10% apart.

    Rule: leads are counted per month of created_at and per `source` (the import that brought
    them). A source covers the months from its first lead to its last; in every month two or more
    sources cover, the smallest count may be at most 10% below the largest. A month a source
    covers but where it has no leads counts as 0 for it.
    """
    return _monthly_disagreement(tables.table("leads"), "created_at", check="lead_count_mismatch", noun="lead")


def opportunity_counts_disagree(tables: TableSource, today: date) -> list[Finding]:
    """Months in which two or more sources report new-opportunity counts more than 10% apart.

    Same rule as for leads, on opportunities per month of created_at and per source.
    """
    return _monthly_disagreement(tables.table("opportunities"), "created_at", check="opportunity_count_mismatch",
                                 noun="opportunity")


def _monthly_disagreement(table: ir.Table, date_column: str, *, check: str, noun: str) -> list[Finding]:
    counts = _monthly_counts(table, date_column)
    span = counts.group_by("source").aggregate(first_month=counts.month.min(), last_month=counts.month.max())
    if count_rows(span) < 2:
        return []
    months = counts.select("month").distinct()
    grid = span.cross_join(months)
    grid = grid.filter(grid.month >= grid.first_month, grid.month <= grid.last_month).select("source", "month")
    filled = grid.left_join(counts, ["source", "month"]).select(
        "source", "month", n=ibis.coalesce(counts.n, 0))
    per_month = filled.group_by("month").aggregate(sources=filled.source.count(), low=filled.n.min(),
                                                   high=filled.n.max())
    bad = per_month.filter(per_month.sources >= 2, (per_month.high - per_month.low) > per_month.high * TOLERANCE)
    months_apart = count_rows(bad)
    if months_apart == 0:
        return []
    first = bad.order_by(bad.month).limit(MAX_EXAMPLES).select("month")
    detail = filled.join(first, "month").order_by(["month", "source"]).to_pandas()
    examples = [f"{month:%Y-%m} (" + ", ".join(f"{s} {n:,}" for s, n in zip(g["source"], g["n"], strict=True)) + ")"
                for month, g in detail.groupby("month", sort=True)]
    message = (f"{plural(months_apart, 'month', verb='has')} {noun} counts that disagree between sources by more "
               f"than {TOLERANCE:.0%} (rule: {noun} count per month of {date_column} and per source, compared in "
               "months two or more sources cover; the smallest more than 10% below the largest). Find out which "
               "source misses or double-counts before comparing teams' numbers.")
    return [Finding(check, "warning", months_apart, message, examples)]


def _monthly_counts(table: ir.Table, date_column: str) -> ir.Table:
    rows = table.filter(table[date_column].notnull(), table.source.notnull())
    rows = rows.select("source", month=rows[date_column].cast("timestamp").truncate("M"))
    return rows.group_by(["source", "month"]).aggregate(n=rows.source.count())
