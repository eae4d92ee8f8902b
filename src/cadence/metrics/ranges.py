"""A flow metric over any date range, from one daily series per metric and filter.

The scorecard asks each KPI for period to date, the same span of the period before, this week and last week,
and each figure used to be one query. A flow whose measure adds up (a sum or a count of rows) over [start, end)
is the sum of its days, so one query per metric and `where` — every day's value, grouped in the engine — answers
all of them: the scorecard sends ten queries instead of 28, and the engine reads each relation once per filter.

Anything else — a ratio, a distinct count, a level (MRR), a metric whose rows lack an exchange rate somewhere in
their history — is asked for range by range, as before (`daily` answers None).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import ibis.expr.operations as ops
import pandas as pd

from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.money import MissingRatesError
from cadence.metrics.query import PERIOD_START, VALUE, MetricQuery, filtered_relation, money_ready
from cadence.metrics.registry import Metric
from cadence.metrics.relations import TableSource


def additive(node: Any) -> bool:
    """Whether an aggregate adds up over disjoint sets of rows: a sum or a count (with or without a filter),
    negated or scaled by a constant."""
    if isinstance(node, ops.Sum | ops.CountStar | ops.Count):
        return True
    if isinstance(node, ops.Negate):
        return additive(node.arg)
    if isinstance(node, ops.Multiply):
        left, right = node.left, node.right
        scaled = (isinstance(left, ops.Literal) and additive(right))
        return scaled or (isinstance(right, ops.Literal) and additive(left))
    return False


def counts_rows(node: Any) -> bool:
    """A count is 0 over no rows; a sum is empty."""
    if isinstance(node, ops.Negate):
        return counts_rows(node.arg)
    if isinstance(node, ops.Multiply):
        return counts_rows(node.right if isinstance(node.left, ops.Literal) else node.left)
    return isinstance(node, ops.CountStar | ops.Count)


@dataclass(frozen=True)
class Daily:
    """A flow metric's value on every day that has rows."""

    values: pd.Series  # index: the day
    count: bool  # a count (0 over no rows), not a sum (empty over no rows)

    def between(self, start: date, end: date) -> float | None:
        """The metric over [start, end)."""
        values = self.values
        inside = values[(values.index >= start) & (values.index < end)].dropna()
        if inside.empty:
            return 0.0 if self.count else None
        if isinstance(inside.iloc[0], Decimal):  # money kept to the cent (MRR): added up exactly
            return float(sum(inside.tolist(), Decimal(0)))
        return float(inside.sum())


def daily(tables: TableSource, metric: Metric, calendar: FiscalCalendar, where: str | None) -> Daily | None:
    """The metric day by day, in one query; None when it cannot be added up by day."""
    if metric.stock:
        return None
    query = MetricQuery(metric.name, (), "day", None, None, where)
    table = filtered_relation(tables, metric, calendar, query)
    measure = metric.measure(table).op()
    if not additive(measure):
        return None
    try:
        table, _ = money_ready(table, tables, metric, query)
    except MissingRatesError:
        return None  # some rows lack a rate: a range without them may still be answered, range by range
    frame = table.group_by(PERIOD_START).agg(**{VALUE: metric.measure(table)}).to_pandas()
    days = pd.to_datetime(frame[PERIOD_START]).dt.date
    return Daily(pd.Series(frame[VALUE].to_numpy(), index=days.to_numpy()).sort_index(), counts_rows(measure))
