"""The rows behind one figure: click a number on the scorecard and see the deals (leads, activities…) it counts.

`drill_rows(ws, "bookings", "2026-Q1", by={"team": "Mid-Market"})` runs the metric's own relation through
the metric's own filter, the period and the dimension values — the same `filtered_relation` the figure
was computed from — so the rows add up to the figure. A derived metric (pipeline coverage = open pipeline
÷ bookings still needed) shows the rows of its inputs' relation, each marked with the inputs that count it
(`counts_in_open_pipeline`, `counts_in_bookings`).

Metric names, periods, dimension names and values are looked up or compared as data (Ibis literals),
and `where` goes through the `--where` parser, so nothing a user types is ever pasted into SQL. Given a
scoped workspace (`cadence.access.scoped`), the rows are only those in scope, with no code here.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.errors import InputError
from cadence.metrics.catalog import relation
from cadence.metrics.explain import _DRILL_COLUMNS
from cadence.metrics.query import (
    PERIOD_START,
    DimensionError,
    MetricQuery,
    filtered_relation,
    money_ready,
    period_bounds,
)
from cadence.metrics.registry import AnyMetric, DerivedMetric, Metric, Registry
from cadence.metrics.where import parse_where

# Each relation's one-column row id: how a derived metric's inputs are matched to the rows they count.
ROW_IDS = {"deals": "opportunity_id", "leads": "lead_id", "activities": "activity_id", "nps": "response_id"}
COUNTS_IN = "counts_in_"


@dataclass
class DrillResult:
    """The rows behind `metric` in `period` (at most `limit` of them; `total` counts them all)."""

    metric: str
    period: str
    relation: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    by: dict[str, str | None] = field(default_factory=dict)
    where: str | None = None
    inputs: list[str] = field(default_factory=list)  # a derived metric's inputs, each a counts_in_ column

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "period": self.period, "relation": self.relation, "by": dict(self.by),
                "where": self.where, "inputs": list(self.inputs), "columns": list(self.columns),
                "total": self.total, "truncated": self.truncated, "rows": [dict(r) for r in self.rows]}


def drill_rows(ws: Any, metric_name: str, period: str, *, by: dict[str, str | None] | None = None,
               where: str | None = None, limit: int | None = 5000) -> DrillResult:
    """The rows behind `metric_name`'s figure for `period` (e.g. 2026-Q1, 2026-03, 2026-W10), cut to the
    dimension values in `by` and filtered by `where` (the `--where` language)."""
    registry: Registry = ws.registry
    metric = registry.get(metric_name)
    start, end, grain = period_bounds(ws.calendar, period)
    picked = dict(by or {})
    _check_dimensions(registry, metric, picked)
    query = MetricQuery(metric.name, tuple(picked), grain, start, end, where)
    inputs: list[str] = []
    if isinstance(metric, Metric):
        table = _metric_rows(ws, metric, query)
        rel, order = metric.relation, metric.time_column
    else:
        rel, inputs = _derived_relation(registry, metric)
        table = _derived_rows(ws, registry, inputs, rel, query)
        order = ROW_IDS[rel]
    table = _pick(table, picked)
    columns = _columns(table, ROW_IDS.get(rel), inputs)
    total = int(table.count().execute())
    ordered = table.select(*columns).order_by([ibis.desc(order), *[c for c in columns[:1] if c != order]])
    frame = (ordered.limit(limit) if limit is not None else ordered).to_pandas()
    days = {name for name, kind in table.schema().items() if kind.is_date()}
    rows = [{str(k): _plain(v, day=k in days) for k, v in record.items()}
            for record in frame.astype(object).to_dict("records")]
    return DrillResult(metric.name, period, rel, columns, rows, total, picked, where, inputs)


def _metric_rows(ws: Any, metric: Metric, query: MetricQuery) -> Any:
    """The metric's relation through its filter, the period and `where`, amounts as the figure adds them;
    for a metric read in one month of the period (MRR: its last), that month's rows only."""
    table = filtered_relation(ws, metric, ws.calendar, query)
    table, _ = money_ready(table, ws, metric, query)
    if metric.stock:
        pick = table.month.max() if metric.stock == "last" else table.month.min()
        table = table.filter(table.month == pick)
    return table.drop(PERIOD_START)


def _derived_relation(registry: Registry, metric: DerivedMetric) -> tuple[str, list[str]]:
    """The one relation a derived metric's inputs are computed over, and those inputs (derived ones unfolded)."""
    inputs = _base_inputs(registry, metric)
    relations = {m.relation for m in inputs}
    rel = next(iter(relations))
    if len(relations) > 1 or rel not in ROW_IDS:
        raise InputError(f"{metric.name} is computed from {', '.join(m.name for m in inputs)}, over "
                         f"{' and '.join(sorted(relations))}: its rows cannot be shown as one list",
                         hint="show the rows of each input instead")
    return rel, [m.name for m in inputs]


def _base_inputs(registry: Registry, metric: AnyMetric) -> list[Metric]:
    if isinstance(metric, Metric):
        return [metric]
    found: dict[str, Metric] = {}
    for name in metric.inputs:
        for base in _base_inputs(registry, registry.get(name)):
            found.setdefault(base.name, base)
    return list(found.values())


def _derived_rows(ws: Any, registry: Registry, inputs: list[str], rel: str, query: MetricQuery) -> Any:
    """Every row of `rel` some input counts in the period, with one `counts_in_<input>` flag per input."""
    row_id = ROW_IDS[rel]
    table = relation(rel, ws)
    if query.where:
        table = table.filter(parse_where(query.where, table))
    flags = {}
    for name in inputs:
        part = registry.get(name)
        assert isinstance(part, Metric)
        counted = filtered_relation(ws, part, ws.calendar, MetricQuery(name, query.by, query.grain, query.start,
                                                                       query.end, query.where))
        flags[f"{COUNTS_IN}{name}"] = table[row_id].isin(counted[row_id])
    table = table.mutate(**flags)
    counts_any = ibis.literal(False)
    for flag in flags:
        counts_any = counts_any | table[flag]
    return table.filter(counts_any)


def _check_dimensions(registry: Registry, metric: AnyMetric, by: dict[str, str | None]) -> None:
    allowed = registry.dimensions_of(metric)
    for dim in by:
        if dim not in allowed:
            raise DimensionError(f"{metric.name} cannot be cut by {dim!r}",
                                 hint=f"it can be cut by: {', '.join(allowed) or 'nothing'}")


def _pick(table: Any, by: dict[str, str | None]) -> Any:
    """Rows whose dimension values are those in `by` (None: the rows with no value, as a figure's blank cut)."""
    for dim, value in by.items():
        column = table[dim]
        table = table.filter(column.isnull() if value is None else column.cast("string") == ibis.literal(str(value)))
    return table


def _columns(table: Any, row_id: str | None, inputs: list[str]) -> list[str]:
    """The row's id, the useful columns (names, owner, team, stage, amounts, dates), the flags, then the rest."""
    present = list(table.columns)
    useful = [c for c in (row_id, *_DRILL_COLUMNS) if c in present]
    useful = list(dict.fromkeys(useful))
    flags = [f"{COUNTS_IN}{name}" for name in inputs]
    return [*useful, *flags, *[c for c in present if c not in useful and c not in flags]]


def _plain(value: Any, *, day: bool = False) -> Any:
    """A value JSON can hold: dates and times as ISO text (a `day` column's as a date), numbers as int/float,
    blanks as None."""
    if value is None or value is pd.NaT:
        return None
    if day and isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, pd.Timestamp | datetime | date):
        return value.isoformat()
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
