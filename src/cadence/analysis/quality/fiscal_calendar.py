"""Whether cadence.yml's fiscal year agrees with the fiscal calendar imported from the CRM."""

from __future__ import annotations

from cadence.analysis.quality.findings import Finding
from cadence.metrics.calendar import FiscalCalendar

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def fiscal_start_disagrees(calendar: FiscalCalendar, configured: int) -> list[Finding]:
    """cadence.yml's `fiscal_year_start_month` (`configured`, given by the caller) differs from the start month
    of the imported standard years in `calendar`.

    Rule: an imported standard fiscal year (twelve calendar months, from Salesforce's Period/
    FiscalYearSettings) starts in another month than cadence.yml says. Imported periods are used
    where they exist; cadence.yml's rule dates everything before and after them, so quarters would
    change shape at the edges of the import.
    """
    years = [p for p in calendar.periods if p.is_standard_year and p.start.month != configured]
    if not years:
        return []
    imported = sorted({p.start.month for p in years})
    first = min(years, key=lambda p: p.start)
    names = " and ".join(_MONTHS[m - 1] for m in imported)
    message = (f"cadence.yml says fiscal years start in {_MONTHS[configured - 1]} (fiscal_year_start_month: "
               f"{configured}), but the imported fiscal calendar's standard years start in {names} (e.g. fiscal "
               f"{first.fiscal_year}: {first.start:%Y-%m-%d} … {first.end:%Y-%m-%d}). The imported periods are "
               "used where they exist and cadence.yml's rule outside them: set fiscal_year_start_month: "
               f"{imported[0]} in cadence.yml.")
    examples = [f"fiscal {p.fiscal_year}: {p.start:%Y-%m-%d} … {p.end:%Y-%m-%d}" for p in years[:5]]
    return [Finding("fiscal_start_disagrees", "warning", len(years), message, examples)]
