"""Pipeline coverage for the current quarter: open pipeline due ÷ bookings still needed."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from cadence.report.model import Figure, ScorecardContext, Section
from cadence.report.sections.kpis import range_value

if TYPE_CHECKING:
    from cadence.workspace import Workspace

HEALTHY_COVERAGE = 3.0


class PipelineSection:
    key = "pipeline"
    title = "Pipeline"
    order = 20

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        calendar = ws.calendar
        start = calendar.start_of(context.as_of - timedelta(days=1), "quarter")
        end = calendar.next_start(start, "quarter")
        label = calendar.label(start, "quarter")
        bookings = range_value(ws, "bookings", start, context.as_of) or 0.0
        open_due = range_value(ws, "open_pipeline", start, end) or 0.0
        created = range_value(ws, "pipeline_created", start, context.as_of)
        targets = ws.bookings_targets()
        target = targets.get(label, targets.get("*quarter"))
        section = Section(self.key, self.title)
        section.figures += [
            Figure("Bookings this quarter", bookings, "currency", metric="bookings", period=label, target=target),
            Figure("Open pipeline due this quarter", open_due, "currency", metric="open_pipeline", period=label),
            Figure("Pipeline created this quarter", created, "currency", metric="pipeline_created", period=label),
        ]
        if target is not None:
            remaining = max(target - bookings, 0.0)
            coverage = open_due / remaining if remaining else None
            status = None if coverage is None else ("on_track" if coverage >= HEALTHY_COVERAGE
                                                    else "at_risk" if coverage >= 1.0 else "off_track")
            section.figures.append(Figure("Pipeline coverage", coverage, "multiple", metric="pipeline_coverage",
                                          period=label, target=HEALTHY_COVERAGE, status=status,
                                          note=f"{open_due:,.0f} open ÷ {remaining:,.0f} still needed"))
            section.notes.append(f"Coverage of {HEALTHY_COVERAGE:g}× the remaining target is healthy; below 1× "
                                 "the quarter cannot be made from the pipeline that exists.")
        else:
            section.notes.append("No bookings target in cadence.yml: pipeline coverage needs one "
                                 "(a team KPI on `bookings` with a target).")
        return section
