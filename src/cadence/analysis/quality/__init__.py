"""Data quality: duplicates, stale and missing fields, outliers, sources that disagree, quarantine.

`check_data_quality(ws, today=...)` runs every check and returns its findings, errors first. The checks
over rows take the tables; the fiscal-calendar check takes the calendar and cadence.yml's start month,
which the entry point hands it (a source without a `calendar` skips that check).
Each check is a small function with its rule in its docstring and in its message, computed as
Ibis expressions so it runs on the embedded DuckDB and on PostgreSQL alike; only the fuzzy
name matching pulls two columns into memory.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from cadence.analysis.quality.close_dates import close_date_differs, closed_before_created, won_on_creation_day
from cadence.analysis.quality.currency import deals_without_rate, subscriptions_without_rate
from cadence.analysis.quality.deals import (
    account_missing_owner,
    closed_without_date,
    future_closes,
    open_past_close_date,
    opportunity_missing_amount,
    opportunity_missing_owner,
    orphan_opportunities,
    unknown_owners,
    won_zero_amount,
)
from cadence.analysis.quality.duplicates import duplicate_domains, duplicate_names
from cadence.analysis.quality.findings import Finding, Severity, TableSource, sort_findings
from cadence.analysis.quality.fiscal_calendar import fiscal_start_disagrees
from cadence.analysis.quality.history import stage_regressions
from cadence.analysis.quality.outliers import amount_outliers
from cadence.analysis.quality.quarantine import quarantined_rows
from cadence.analysis.quality.sources import lead_counts_disagree, opportunity_counts_disagree
from cadence.analysis.quality.stages import open_in_closed_stage
from cadence.metrics.calendar import FiscalCalendar

__all__ = ["CHECKS", "CalendarSource", "Finding", "Severity", "TableSource", "check_data_quality"]

Check = Callable[[TableSource, date], list[Finding]]

CHECKS: tuple[Check, ...] = (
    duplicate_domains,
    duplicate_names,
    open_past_close_date,
    opportunity_missing_owner,
    account_missing_owner,
    opportunity_missing_amount,
    won_zero_amount,
    orphan_opportunities,
    unknown_owners,
    stage_regressions,
    open_in_closed_stage,
    amount_outliers,
    deals_without_rate,
    subscriptions_without_rate,
    lead_counts_disagree,
    opportunity_counts_disagree,
    future_closes,
    closed_without_date,
    close_date_differs,
    closed_before_created,
    won_on_creation_day,
    quarantined_rows,
)


class CalendarSource(Protocol):
    """A table source with its fiscal calendar (the Workspace: cadence.yml's rule and the imported periods)."""

    @property
    def calendar(self) -> FiscalCalendar: ...


def check_data_quality(tables: TableSource, *, today: date, calendar: FiscalCalendar | None = None) -> list[Finding]:
    """Every data-quality finding in `tables` as of `today`: errors first, then the largest counts.

    `calendar` is the fiscal calendar to check against cadence.yml (default: the source's own `calendar`,
    as `CalendarSource` declares it; none for a plain table source). Its `start_month` is cadence.yml's
    `fiscal_year_start_month`, handed to the check as the month configured.
    """
    findings: list[Finding] = []
    for check in CHECKS:
        findings += check(tables, today)
    if calendar is None:
        declared = getattr(tables, "calendar", None)  # CalendarSource.calendar, when the source declares it
        calendar = declared if isinstance(declared, FiscalCalendar) else None
    if calendar is not None:
        findings += fiscal_start_disagrees(calendar, calendar.start_month)
    return sort_findings(findings)
