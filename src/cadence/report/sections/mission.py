"""The mission metric: the one number every team's KPI should move."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

import numpy as np

from cadence.analysis.targets import check_target
from cadence.report.charts import trend_spec
from cadence.report.model import Chart, Figure, ScorecardContext, Section
from cadence.report.sections.kpis import (
    ADDITIVE_UNITS,
    money_title,
    range_value,
    relative_change,
    target_in_currency,
)

if TYPE_CHECKING:
    from cadence.workspace import Workspace

TREND = 12


class MissionSection:
    key = "mission"
    title = "Mission metric"
    order = 0

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        mission = ws.config.mission
        if mission is None:
            return None
        definition = ws.registry.get(mission.metric)
        calendar = ws.calendar
        start = calendar.start_of(context.as_of - timedelta(days=1), mission.grain)
        end = calendar.next_start(start, mission.grain)
        label = calendar.label(start, mission.grain)
        value = range_value(ws, mission.metric, start, context.as_of)
        elapsed = (context.as_of - start).days / max((end - start).days, 1)
        target = target_in_currency(ws, mission.target, definition.unit, start)
        check = check_target(value, target, elapsed_share=elapsed,
                             additive=definition.unit in ADDITIVE_UNITS, higher_is_better=definition.direction == "up")
        trend = ws.metric(mission.metric, grain=mission.grain, end=end).tail(TREND)
        points = [{"period": str(p), "value": None if np.isnan(v) else float(v)}
                  for p, v in zip(trend["period"], trend["value"], strict=True)]
        title = money_title(ws, definition.label, definition.unit)
        chart = Chart("mission", title, trend_spec(points, title=f"{title} by {mission.grain}",
                                                   unit=definition.unit, target=target))
        previous = calendar.start_of(start - timedelta(days=1), mission.grain)
        before = range_value(ws, mission.metric, previous, previous + (context.as_of - start))
        this_week = range_value(ws, mission.metric, context.week_start, context.as_of)
        last_week = range_value(ws, mission.metric, context.week_start - timedelta(days=7), context.week_start)
        figure = Figure(definition.label, value, definition.unit, metric=mission.metric, period=label,
                        target=target, expected=check.expected,
                        status=check.status if mission.target is not None else None, chart="mission",
                        change_wow=relative_change(this_week, last_week), change_period=relative_change(value, before),
                        note=f"{label} to date")
        return Section(self.key, self.title, figures=[figure], charts=[chart])
