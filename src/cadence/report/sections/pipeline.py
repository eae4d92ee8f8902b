"""Pipeline coverage this quarter, per bookings KPI: open pipeline due ÷ bookings still needed."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from cadence.report.model import Figure, ScorecardContext, Section
from cadence.report.sections.kpis import range_value, target_in_currency

if TYPE_CHECKING:
    from cadence.workspace import Workspace

HEALTHY_COVERAGE = 3.0
RULE = (f"Coverage = open pipeline due this quarter ÷ (quarter's bookings target − bookings so far). "
        f"On track at {HEALTHY_COVERAGE:g}× or more, at risk from 1× to {HEALTHY_COVERAGE:g}×, off track below 1× "
        "(the quarter cannot be made from the pipeline that exists).")


def _coverage_figure(ws: Workspace, label: str, start: date, end: date, as_of: date, target: float,
                     where: str | None, team: str | None) -> Figure:
    bookings = range_value(ws, "bookings", start, as_of, where) or 0.0
    open_due = range_value(ws, "open_pipeline", start, end, where) or 0.0
    remaining = max(target - bookings, 0.0)
    coverage = open_due / remaining if remaining else None
    status = None if coverage is None else ("on_track" if coverage >= HEALTHY_COVERAGE
                                            else "at_risk" if coverage >= 1.0 else "off_track")
    note = (f"{open_due:,.0f} {ws.currency} open ÷ {remaining:,.0f} {ws.currency} still needed" if remaining
            else "target already reached")
    return Figure("Pipeline coverage", coverage, "multiple", metric="pipeline_coverage", team=team, period=label,
                  target=HEALTHY_COVERAGE, status=status, note=note + (f"; where {where}" if where else ""))


class PipelineSection:
    key = "pipeline"
    title = "Pipeline"
    order = 25

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        calendar = ws.calendar
        start = calendar.start_of(context.as_of - timedelta(days=1), "quarter")
        end = calendar.next_start(start, "quarter")
        label = calendar.label(start, "quarter")
        section = Section(self.key, self.title, notes=[RULE])
        section.figures += [
            Figure("Bookings this quarter", range_value(ws, "bookings", start, context.as_of), "currency",
                   metric="bookings", period=label),
            Figure("Open pipeline due this quarter", range_value(ws, "open_pipeline", start, end), "currency",
                   metric="open_pipeline", period=label),
            Figure("Pipeline created this quarter", range_value(ws, "pipeline_created", start, context.as_of),
                   "currency", metric="pipeline_created", period=label),
        ]
        quarterly = [(team.name, kpi) for team in ws.config.teams for kpi in team.kpis
                     if kpi.metric == "bookings" and kpi.period == "quarter"]
        for team, kpi in quarterly:
            target = target_in_currency(ws, kpi.target_for(label), "currency", start)  # bookings: money
            if target is not None:
                section.figures.append(_coverage_figure(ws, label, start, end, context.as_of, target, kpi.where, team))
        if not any(f.metric == "pipeline_coverage" for f in section.figures):
            section.notes.append("No quarterly bookings target in cadence.yml: pipeline coverage needs one "
                                 "(a team KPI on `bookings` with `period: quarter` and a target).")
        return section
