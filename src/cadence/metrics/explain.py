"""Every figure can explain itself: its definition, the SQL that computed it, the rows behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import ibis
import numpy as np

from cadence.metrics.calendar import Grain
from cadence.metrics.dating import dating_of
from cadence.metrics.money import in_currency
from cadence.metrics.query import MetricQuery, compute_metric, filtered_relation, period_bounds
from cadence.metrics.registry import DerivedMetric, Metric


@dataclass
class Explanation:
    name: str
    label: str
    description: str
    unit: str
    direction: str
    owner: str
    formula: str
    sql: list[str]
    period: str | None
    value: float | None
    row_count: int
    rows: list[dict[str, Any]] = field(default_factory=list)
    inputs: list[str] = field(default_factory=list)
    currency: str | None = None  # the currency of `value` when it is an amount
    dated_by: str | None = None  # how closed deals are dated, for a metric over closed deals

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


_DRILL_COLUMNS = ("opportunity_id", "lead_id", "activity_id", "response_id", "account_id", "name", "owner_name",
                  "rep_name", "segment", "team", "stage", "kind", "amount", "currency", "rate_on",
                  "rate", "amount_value", "mrr", "prev_mrr", "movement",
                  "created_at", "closed_at", "close_date", "closed_on", "occurred_at", "qualified_at", "month", "week",
                  "active_paying_users", "score", "channel")


def explain_metric(tables: Any, name: str, *, period: str | None = None, by: list[str] | None = None,
                   grain: Grain = "quarter", where: str | None = None, limit: int = 20,
                   currency: str | None = None) -> Explanation:
    """Explain `name`; with `period`, the figure for that period and the rows it was computed from.

    The rows of a money figure show each deal's currency, amount as entered, the rate used
    (units of its currency per one unit of the figure's currency, on `rate_on`) and `amount_value`.
    """
    registry, calendar = tables.registry, tables.calendar
    metric = registry.get(name)
    start = end = None
    if period:
        start, end, grain = period_bounds(calendar, period)
    query = MetricQuery(name, tuple(by or ()), grain, start, end, where, currency)
    tables = in_currency(tables, currency)
    result = compute_metric(tables, registry, calendar, query, targets=tables.bookings_targets())
    value = None
    if period and len(result.frame) and not by:
        raw = result.frame["value"].iloc[0]
        value = None if raw is None or np.isnan(raw) else float(raw)
    rows: list[dict[str, Any]] = []
    count = 0
    if isinstance(metric, Metric):
        behind = filtered_relation(tables, metric, calendar, query)
        shown = [c for c in _DRILL_COLUMNS if c in behind.columns] or list(behind.columns)[:10]
        count = int(behind.count().execute())
        frame = behind.select(*shown).limit(limit).to_pandas()
        rows = [{k: (None if v is None or (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
                for r in frame.astype(object).to_dict("records")]
        sql = [str(ibis.to_sql(behind.select(*shown)))] + result.sql
    else:
        sql = result.sql
    inputs = list(metric.inputs) if isinstance(metric, DerivedMetric) else []
    dated_by = dating_of(tables).phrase if _over_closed_deals(registry, metric) else None
    return Explanation(metric.name, metric.label, metric.description, metric.unit, metric.direction, metric.owner,
                       metric.formula, sql, period, value, count, rows, inputs, result.currency, dated_by)


def _over_closed_deals(registry: Any, metric: Metric | DerivedMetric) -> bool:
    """Whether the metric, or one of its inputs, dates closed deals (by `closed_on`)."""
    if isinstance(metric, Metric):
        return metric.time_column == "closed_on"
    return any(_over_closed_deals(registry, registry.get(name)) for name in metric.inputs)
