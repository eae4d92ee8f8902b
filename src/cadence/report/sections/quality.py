"""The top data-quality warnings, so the numbers above are read with their caveats."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from cadence.report.model import ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.workspace import Workspace

TOP = 5


class QualitySection:
    key = "quality"
    title = "Data quality"
    order = 90

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        from cadence.analysis.quality import check_data_quality

        # data quality is about the warehouse as it stands on the scorecard's day, whichever week is reviewed
        findings = check_data_quality(ws, today=context.today.day if context.today else date.today())
        section = Section(self.key, self.title)
        section.rows = [{"severity": f.severity, "check": f.check, "count": f.count, "message": f.message,
                         "examples": ", ".join(f.examples[:3])} for f in findings[:TOP]]
        if len(findings) > TOP:
            section.notes.append(f"{len(findings) - TOP} more findings: run `cadence check`.")
        if not findings:
            section.notes.append("No data-quality findings.")
        return section
