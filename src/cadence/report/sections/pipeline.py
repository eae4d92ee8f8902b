"""Pipeline coverage this quarter, per bookings KPI (open pipeline due ÷ bookings still needed), and what moved in
the quarter's open pipeline during the week under review (the waterfall, one step, with its largest deals)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from cadence.analysis.waterfall import MOVEMENTS, Waterfall, week_waterfall
from cadence.errors import MissingDataError
from cadence.metrics.money import MissingRatesError
from cadence.report.model import Chart, Figure, ScorecardContext, Section
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

WATERFALL_CHART = "pipeline-waterfall"
DRILL_PER_MOVEMENT = 5  # the largest deals of each movement; every one: `cadence pipeline waterfall --drill`
MOVED = {"created": "Created", "pulled_in": "Pulled in", "increased": "Increased", "decreased": "Decreased",
         "pushed_out": "Pushed out", "won": "Won", "lost": "Lost"}


def week_moves(ws: Workspace, context: ScorecardContext) -> Waterfall:
    """The quarter's open pipeline from the start of the week under review to its end (one step)."""
    return week_waterfall(ws, ws.calendar, context.week_start, context.as_of - timedelta(days=1))


def waterfall_part(result: Waterfall, currency: str) -> tuple[list[Figure], list[dict[str, object]], Chart]:
    """The week's waterfall as figures (start, each movement, end, with their deals), its largest deals, its chart."""
    from cadence.report.waterfall_chart import waterfall_spec

    step = result.rows[0]
    span = f"{step.first:%b %d} – {step.last:%b %d}"

    def figure(label: str, bar: str) -> Figure:
        return Figure(label, float(step.amount(bar)), "currency", period=result.period,
                      note=f"{step.counts[bar]:,} deal{'' if step.counts[bar] == 1 else 's'}")

    figures = [figure("Open pipeline closing this quarter, as the week began", "start"),  # labels stay the same
               *[figure(f"{MOVED[m]} this week", m) for m in MOVEMENTS],  # week after week: what-changed matches them
               figure("Open pipeline closing this quarter, as the week ended", "end")]
    rows: list[dict[str, object]] = []
    for movement in MOVEMENTS:
        deals = sorted(result.drill(movement), key=lambda d: -(d["amount"] or 0))[:DRILL_PER_MOVEMENT]
        rows += [{"movement": MOVED[movement], "deal": d["name"] or d["opportunity_id"], "owner": d["owner_name"],
                  "amount": d["amount"], "before": _state(d, "before"), "after": _state(d, "after")} for d in deals]
    chart = Chart(WATERFALL_CHART, f"What moved, {span}",
                  waterfall_spec(step, title=f"Pipeline closing in {result.period}: {span}", currency=currency))
    return figures, rows, chart


def _state(deal: dict[str, object], side: str) -> str:
    stage, amount, close = deal[f"{side}_stage"], deal[f"{side}_amount"], deal[f"{side}_close_date"]
    if stage is None:
        return "–"
    return f"{stage}, {amount:,.2f}, closing {close or '–'}" if isinstance(amount, float) else f"{stage}"


def coverage_section(ws: Workspace, context: ScorecardContext, *, key: str = "pipeline",
                     title: str = "Pipeline") -> Section:
    """Bookings, open pipeline and pipeline created this quarter, and coverage per quarterly bookings KPI."""
    calendar = ws.calendar
    start = calendar.start_of(context.as_of - timedelta(days=1), "quarter")
    end = calendar.next_start(start, "quarter")
    label = calendar.label(start, "quarter")
    section = Section(key, title, notes=[RULE])
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


class PipelineSection:
    key = "pipeline"
    title = "Pipeline"
    order = 25

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        section = coverage_section(ws, context, key=self.key, title=self.title)
        if context.week_start < context.as_of:  # a week of no days moves nothing
            self._add_waterfall(ws, context, section)
        return section

    def _add_waterfall(self, ws: Workspace, context: ScorecardContext, section: Section) -> None:
        try:
            result = week_moves(ws, context)
        except (MissingDataError, MissingRatesError) as exc:
            section.notes.append(f"What moved this week: {exc.one_line()}")
            return
        figures, rows, chart = waterfall_part(result, ws.currency)
        section.figures += figures
        section.rows = rows
        section.charts.append(chart)
        section.notes.append(f"What moved: {result.method}. The {DRILL_PER_MOVEMENT} largest deals of each "
                             f"movement are listed; every one: `cadence pipeline waterfall --period {result.period} "
                             f"--drill MOVEMENT`.")
