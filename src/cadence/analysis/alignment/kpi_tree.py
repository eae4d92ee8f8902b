"""The KPI tree checked against the data: does each team's KPI move the company's mission metric?

Reads the mission and every team's KPIs from cadence.yml, computes each series with the metrics layer
at the mission's grain (a KPI keeps its `where` filter), and hands them to `check.check_alignment`,
which holds the method and the rule.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any, Literal, Protocol

import pandas as pd

from cadence.analysis.alignment.check import KpiAlignment, check_alignment
from cadence.analysis.as_of import resolve_as_of
from cadence.config import CompanyConfig, Kpi
from cadence.errors import ConfigError, InputError
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.registry import AnyMetric, Metric, Registry

AlignmentGrain = Literal["month", "quarter"]
ADDITIVE_UNITS = ("currency", "count")
QUARTER_RHYTHM = 3  # months: a quarter-end push both series share is not, alone, a sign that one moves the other
PER_DAY = "amounts that add up (bookings, leads) are taken per day of their period, so a short February moves nothing"


class KpiSource(Protocol):
    """What the KPI tree reads: cadence.yml, the calendar, the metric catalogue and its series (a workspace)."""

    config: CompanyConfig

    @property
    def calendar(self) -> FiscalCalendar: ...
    @property
    def registry(self) -> Registry: ...
    def table(self, name: str) -> Any: ...
    def metric(self, name: str, *, grain: Any, end: date | None, where: str | None) -> pd.DataFrame: ...


def accumulates(metric: AnyMetric) -> bool:
    """A level that builds up over time (MRR, ARR, customers, active users), as opposed to a flow or a rate."""
    if not isinstance(metric, Metric) or metric.unit not in ADDITIVE_UNITS:
        return False
    return metric.stock is not None or metric.relation == "usage"


def _is_flow(metric: AnyMetric) -> bool:
    """Amounts that add up over a period (bookings, leads): a period without rows is a zero, not a gap."""
    return isinstance(metric, Metric) and metric.unit in ADDITIVE_UNITS and not accumulates(metric) \
        and not metric.snapshot


def _complete(frame: pd.DataFrame, calendar: FiscalCalendar, grain: AlignmentGrain, *, flow: bool) -> pd.DataFrame:
    """Every period from the series' first to its last: a period without rows is a zero (flows) or a gap.

    Flows are taken per day of their period: months (and quarters) differ in length, and two unrelated
    flows would otherwise move together every February.
    """
    if frame.empty:
        return frame[["period", "period_start", "value"]]
    starts = [min(frame["period_start"])]
    while (following := calendar.next_start(starts[-1], grain)) <= max(frame["period_start"]):
        starts.append(following)
    full = pd.DataFrame({"period_start": starts, "period": [calendar.label(s, grain) for s in starts]})
    out = full.merge(frame[["period_start", "value"]], on="period_start", how="left")
    if flow:  # per day of the period, so that a 28-day February does not read as a drop in every flow at once
        days = [(calendar.next_start(s, grain) - s).days for s in starts]
        out["value"] = out["value"].fillna(0.0) / pd.Series(days, dtype="float64")
    return out[["period", "period_start", "value"]]


def _series(ws: KpiSource, name: str, grain: AlignmentGrain, end: date, where: str | None) -> pd.DataFrame:
    frame = ws.metric(name, grain=grain, end=end, where=where)
    return _complete(frame, ws.calendar, grain, flow=_is_flow(ws.registry.get(name)))


def alignment_report(ws: KpiSource, grain: AlignmentGrain | None = None, *,
                     as_of: date | None = None) -> list[KpiAlignment]:
    """How every team KPI in cadence.yml moves with the mission metric, over the complete periods before `as_of`.

    `grain` defaults to the mission's; `as_of` (exclusive) to the day after the last day of data, and the
    period it falls in is left out unless it starts there, so a half-finished period never reads as a drop.
    The day after the last day of data is the workspace's one "as of" (`resolve_as_of`), as in every command.
    """
    mission = ws.config.mission
    if mission is None:
        raise ConfigError("cadence.yml has no mission", hint="add `mission:` with a statement and a metric")
    grain = grain or mission.grain
    if grain not in ("month", "quarter"):
        raise InputError(f"alignment is measured by month or quarter, not {grain!r}", hint="use --grain month")
    end = ws.calendar.start_of(as_of or resolve_as_of(ws).next_day, grain)
    registry = ws.registry
    kpis: dict[str, tuple[str, Kpi]] = {}
    for team in ws.config.teams:
        for kpi in team.kpis:
            key = f"{team.name}: {kpi.name}"
            kpis[key if key not in kpis else f"{key} #{len(kpis)}"] = (team.name, kpi)
    mission_metric = registry.get(mission.metric)
    results = check_alignment(
        _series(ws, mission.metric, grain, end, None),
        {key: _series(ws, kpi.metric, grain, end, kpi.where) for key, (_, kpi) in kpis.items()},
        directions={key: registry.get(kpi.metric).direction for key, (_, kpi) in kpis.items()},
        mission_direction=mission_metric.direction, mission_stock=accumulates(mission_metric),
        stocks=[key for key, (_, kpi) in kpis.items() if accumulates(registry.get(kpi.metric))],
        season=QUARTER_RHYTHM if grain == "month" else None, period_name=grain)
    return [replace(result, kpi=kpi.label or registry.get(kpi.metric).label, team=team, metric=kpi.metric,
                    where=kpi.where, grain=grain)
            for result, (team, kpi) in zip(results, kpis.values(), strict=True)]
