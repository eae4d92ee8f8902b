"""Team KPIs against their targets: period to date, paced, with week-over-week change and a trend."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cadence.analysis.targets import RULE, check_target
from cadence.config import Kpi
from cadence.metrics.money import MissingRatesError
from cadence.metrics.registry import Metric
from cadence.report.charts import trend_spec
from cadence.report.model import Chart, Figure, ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.workspace import Workspace

ADDITIVE_UNITS = {"currency", "count"}
MONEY_UNITS = {"currency", "per_day"}  # per_day: velocity, money per day
TREND_PERIODS = 8


def range_value(ws: Workspace, metric: str, start: date, end: date, where: str | None = None) -> float | None:
    """The metric over exactly [start, end); for levels measured monthly (MRR), its latest value."""
    from cadence.metrics.query import MetricQuery, filtered_relation, money_ready
    from cadence.metrics.ranges import daily

    definition = ws.registry.get(metric)
    if not isinstance(definition, Metric) or definition.stock:
        grain = "month" if isinstance(definition, Metric) else "quarter"
        frame = ws.metric(metric, grain=grain, start=start, end=end, where=where)  # type: ignore[arg-type]
        values = frame["value"].dropna()
        return float(values.iloc[-1]) if len(values) else None
    flow = ws.remembered(f"daily:{metric}:{ws.currency}:{where or ''}",
                         lambda _: daily(ws, definition, ws.calendar, where))
    if flow is not None:  # one query a day per metric and filter answers every range (metrics/ranges.py)
        return flow.between(start, end)  # type: ignore[no-any-return]
    query = MetricQuery(metric, (), "day", start, end, where)
    table, _ = money_ready(filtered_relation(ws, definition, ws.calendar, query), ws, definition, query)  # refused
    value = table.aggregate(value=definition.measure(table)).to_pandas()["value"].iloc[0]
    return None if value is None or pd.isna(value) else float(value)


def target_in_currency(ws: Workspace, target: float | None, unit: str, period_start: date) -> float | None:
    """A target as cadence.yml gives it (money in the corporate currency) in the scorecard's currency: money
    targets convert at the rate on the period's first day; counts and ratios stay as they are."""
    from cadence.metrics.money import corporate_amount_in_reporting

    return corporate_amount_in_reporting(ws, target, period_start) if unit in MONEY_UNITS else target


def money_title(ws: Workspace, label: str, unit: str) -> str:
    """A label of a money figure with the currency it is shown in: "Bookings (EUR)"."""
    return f"{label} ({ws.currency})" if unit in MONEY_UNITS else label


def relative_change(now: float | None, before: float | None) -> float | None:
    if now is None or before is None or before == 0:
        return None
    return (now - before) / abs(before)


def kpi_figure(ws: Workspace, team: str, kpi: Kpi, context: ScorecardContext, chart_key: str) -> tuple[Figure, Chart]:
    definition = ws.registry.get(kpi.metric)
    calendar = ws.calendar
    as_of = context.as_of
    period_start = calendar.start_of(as_of - timedelta(days=1), kpi.period)
    period_end = calendar.next_start(period_start, kpi.period)
    period_label = calendar.label(period_start, kpi.period)
    additive = definition.unit in ADDITIVE_UNITS and not getattr(definition, "stock", None) \
        and not getattr(definition, "snapshot", False)
    actual = range_value(ws, kpi.metric, period_start, as_of, kpi.where)
    elapsed = (as_of - period_start).days / max((period_end - period_start).days, 1)
    target = target_in_currency(ws, kpi.target_for(period_label), definition.unit, period_start)
    check = check_target(actual, target, elapsed_share=elapsed, additive=additive,
                         higher_is_better=definition.direction == "up")
    previous_start = calendar.start_of(period_start - timedelta(days=1), kpi.period)
    same_point_before = previous_start + (as_of - period_start)
    before = range_value(ws, kpi.metric, previous_start, same_point_before, kpi.where)
    this_week = range_value(ws, kpi.metric, context.week_start, as_of, kpi.where)
    last_week = range_value(ws, kpi.metric, context.week_start - timedelta(days=7), context.week_start, kpi.where)
    trend = ws.metric(kpi.metric, grain=kpi.period, end=period_end, where=kpi.where).tail(TREND_PERIODS)
    points = [{"period": str(p), "value": None if np.isnan(v) else float(v)}
              for p, v in zip(trend["period"], trend["value"], strict=True)]
    label = kpi.label or definition.label
    chart = Chart(chart_key, f"{money_title(ws, label, definition.unit)} by {kpi.period}",
                  trend_spec(points, title=f"{money_title(ws, label, definition.unit)} — {team}",
                             unit=definition.unit, target=target))
    figure = Figure(label, actual, definition.unit, metric=kpi.metric, team=team, period=period_label,
                    target=check.target, expected=check.expected, status=check.status,
                    change_wow=relative_change(this_week, last_week), change_period=relative_change(actual, before),
                    chart=chart_key,
                    note=f"{period_label} to date" + (f", where {kpi.where}" if kpi.where else ""))
    return figure, chart


class KpiSection:
    key = "kpis"
    title = "Team KPIs against target"
    order = 10

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        section = Section(self.key, self.title, notes=[f"Status rule — {RULE}."])
        for team in ws.config.teams:
            for index, kpi in enumerate(team.kpis):
                try:
                    figure, chart = kpi_figure(ws, team.name, kpi, context, f"kpi-{team.name}-{index}")
                except MissingRatesError as refused:  # that KPI is not shown; the others still are
                    section.notes.append(f"{team.name} — {kpi.name}: not shown, {refused.one_line()}")
                    continue
                section.figures.append(figure)
                section.charts.append(chart)
        return section if section.figures or len(section.notes) > 1 else None


def figure_rows(section: Section) -> list[dict[str, Any]]:
    return [{"team": f.team, "kpi": f.label, "period": f.period, "actual": f.value, "target": f.target,
             "status": f.status, "wow": f.change_wow, "vs_last_period": f.change_period} for f in section.figures]
