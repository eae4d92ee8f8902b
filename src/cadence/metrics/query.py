"""Compute a metric: by period (fiscal calendar) and dimensions, with filters, on any engine.

Grouping and aggregation run in the warehouse; only the result (one row per period and
dimension value) comes back. Derived metrics are then combined from their inputs' results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.errors import CadenceError
from cadence.metrics.calendar import FiscalCalendar, Grain, check_grain
from cadence.metrics.catalog import rates_complete, relation
from cadence.metrics.money import (
    AMOUNT_VALUE,
    CURRENCY,
    MissingRatesError,
    corporate_currency,
    in_currency,
    refuse_mixed_amounts,
    reporting_currency,
    require_rates,
    uses_column,
)
from cadence.metrics.registry import AnyMetric, DerivedMetric, Metric, Registry
from cadence.metrics.relations import TableSource
from cadence.metrics.revenue import require_mrr_rates
from cadence.metrics.where import parse_where

PERIOD = "period"
PERIOD_START = "period_start"
VALUE = "value"
ROW_NOUNS = {"deals": ("deal", "deals"), "leads": ("lead", "leads"), "activities": ("activity", "activities"),
             "usage": ("usage row", "usage rows"), "nps": ("NPS response", "NPS responses"),
             "mrr_months": ("customer month", "customer months")}


@dataclass(frozen=True)
class MetricQuery:
    metric: str
    by: tuple[str, ...] = ()
    grain: Grain = "month"
    start: date | None = None
    end: date | None = None  # exclusive
    where: str | None = None
    currency: str | None = None  # report money in this currency (default: the corporate currency)


@dataclass
class MetricResult:
    metric: AnyMetric
    query: MetricQuery
    frame: pd.DataFrame  # period, period_start, <by…>, value
    expressions: list[Any] = field(default_factory=list)  # the Ibis expressions that ran
    currency: str | None = None  # the currency of the values, when they are amounts (None: not money, or per row)
    # (relation, time column) -> rows the metric would count but cannot date, so every period leaves them out
    undated: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def undated_count(self) -> int:
        return sum(self.undated.values())

    def undated_notes(self) -> list[str]:
        """"12 leads have no created_at and are left out", one line per relation and time column."""
        notes = []
        for (rel, column), count in self.undated.items():
            if count:
                one, many = ROW_NOUNS.get(rel, ("row", "rows"))
                verb = "has" if count == 1 else "have"
                notes.append(f"{count:,} {one if count == 1 else many} {verb} no {column} and "
                             f"{'is' if count == 1 else 'are'} left out")
        return notes

    @property
    def sql(self) -> list[str]:
        """The SQL each expression compiled to (compiled on demand: only `explain` needs the text)."""
        return [str(ibis.to_sql(expr)) for expr in self.expressions]

    def rows(self) -> list[dict[str, Any]]:
        columns = [PERIOD, *self.query.by, VALUE]
        out = []
        for raw in self.frame[columns].to_dict("records"):
            record = {str(k): v for k, v in raw.items()}
            value = record[VALUE]
            record[VALUE] = None if value is None or (isinstance(value, float) and np.isnan(value)) else float(value)
            out.append(record)
        return out

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric.name, "unit": self.metric.unit, "grain": self.query.grain,
                "by": list(self.query.by), "currency": self.currency, "undated": self.undated_count,
                "rows": self.rows()}


class DimensionError(CadenceError, ValueError):
    """A metric was asked to be cut by something it cannot be cut by."""


def filtered_relation(tables: TableSource, metric: Metric, calendar: FiscalCalendar, query: MetricQuery) -> Any:
    """The rows behind the metric for this query (the drill-down), before aggregation."""
    table = relation(metric.relation, tables)
    if metric.where is not None:
        table = table.filter(metric.where(table))
    time = table[metric.time_column]
    table = table.filter(time.notnull())
    if query.start is not None:
        table = table.filter(time >= ibis.timestamp(pd.Timestamp(query.start)))
    if query.end is not None:
        table = table.filter(time < ibis.timestamp(pd.Timestamp(query.end)))
    if query.where:
        table = table.filter(parse_where(query.where, table))
    return table.mutate(**{PERIOD_START: calendar.period_start(table[metric.time_column], query.grain)})


def count_undated(tables: TableSource, metric: Metric, query: MetricQuery) -> int:
    """Rows the metric would count (its own filter and the query's `where`) whose time column is empty:
    no period can hold them, so every figure leaves them out — and says so."""
    table = relation(metric.relation, tables)
    if metric.where is not None:
        table = table.filter(metric.where(table))
    if query.where:
        table = table.filter(parse_where(query.where, table))
    return int(table.filter(table[metric.time_column].isnull()).count().execute())


def _aggregate(metric: Metric, table: Any, query: MetricQuery) -> Any:
    keys = [PERIOD_START, *query.by]
    if metric.stock:
        monthly = table.group_by([*keys, "month"]).agg(**{VALUE: metric.measure(table)})
        period = ibis.window(group_by=PERIOD_START)
        pick = monthly.month.max() if metric.stock == "last" else monthly.month.min()
        # window first, filter after: filtering on a window directly miscompiles on PostgreSQL (ibis 12)
        picked = monthly.mutate(_pick=pick.over(period))
        return picked.filter(picked.month == picked._pick).select(*keys, VALUE)
    if metric.relation == "usage" and query.grain not in ("day", "week"):
        weekly = table.group_by([*keys, "week"]).agg(**{VALUE: metric.measure(table)})
        return weekly.group_by(keys).agg(**{VALUE: weekly[VALUE].cast("float64").mean()})
    return table.group_by(keys).agg(**{VALUE: metric.measure(table)})


def _check_dimensions(registry: Registry, metric: AnyMetric, by: tuple[str, ...]) -> None:
    allowed = registry.dimensions_of(metric)
    for dim in by:
        if dim not in allowed:
            raise DimensionError(f"{metric.name} cannot be cut by {dim!r}",
                                 hint=f"it can be cut by: {', '.join(allowed) or 'nothing'}")


def _measured_monthly(registry: Registry, metric: AnyMetric) -> bool:
    if isinstance(metric, Metric):
        return metric.relation == "mrr_months"
    return any(_measured_monthly(registry, registry.get(name)) for name in metric.inputs)


def compute_metric(tables: TableSource, registry: Registry, calendar: FiscalCalendar, query: MetricQuery,
                   *, targets: dict[str, float] | None = None) -> MetricResult:
    """One metric's values per period (and dimension values) for `query`."""
    metric = registry.get(query.metric)
    check_grain(query.grain)
    if query.grain in ("day", "week") and _measured_monthly(registry, metric):
        raise DimensionError(f"{metric.name} is measured monthly", hint="use --grain month, quarter or year")
    _check_dimensions(registry, metric, query.by)
    tables = in_currency(tables, query.currency)
    if isinstance(metric, DerivedMetric):
        return _compute_derived(tables, registry, calendar, metric, query, targets or {})
    table = filtered_relation(tables, metric, calendar, query)
    table, currency = money_ready(table, tables, metric, query)
    expr = _aggregate(metric, table, query)
    frame = expr.to_pandas()
    frame[VALUE] = pd.to_numeric(frame[VALUE], errors="coerce").astype("float64")
    frame = _finish(frame, calendar, query)
    undated = {(metric.relation, metric.time_column): count_undated(tables, metric, query)}
    return MetricResult(metric, query, frame, [expr], currency, undated)


def money_ready(table: Any, tables: TableSource, metric: Metric, query: MetricQuery) -> tuple[Any, str | None]:
    """The rows ready to add up, and the currency of the figure (None when it is not an amount).

    Cut by `currency`, amounts stay as they were entered (each row labelled by its currency); otherwise
    a figure needing a missing exchange rate is refused, and an amount not converted between
    currencies (e.g. MRR) cannot be asked for in another currency.
    """
    money = uses_column(metric.measure(table), table, {AMOUNT_VALUE}) or AMOUNT_VALUE in (query.where or "")
    if money and CURRENCY in query.by:
        return table.mutate(**{AMOUNT_VALUE: table.amount.cast("float64")}), None
    if CURRENCY in table.columns and CURRENCY not in query.by and uses_column(metric.measure(table), table, {"amount"}):
        refuse_mixed_amounts(table)  # a company's own metric over amounts as entered
    if money:
        if not rates_complete(metric.relation, tables):  # every row of the relation converts: so does any subset
            require_rates(table, tables)
    elif metric.relation == "mrr_months" and metric.unit != "count":
        require_mrr_rates(table, tables)  # recurring revenue converts per month (metrics/revenue.py)
    elif metric.unit == "currency" and reporting_currency(tables) != corporate_currency(tables):
        raise MissingRatesError(f"{metric.name} is not converted between currencies yet: it is shown in "
                                f"{corporate_currency(tables)} only", hint="leave out --currency")
    if money or metric.unit == "currency":
        return table, reporting_currency(tables)
    return table, None


def _finish(frame: pd.DataFrame, calendar: FiscalCalendar, query: MetricQuery) -> pd.DataFrame:
    frame[PERIOD_START] = pd.to_datetime(frame[PERIOD_START]).dt.date
    frame[PERIOD] = calendar.labels(frame[PERIOD_START], query.grain)
    frame = frame.sort_values([PERIOD_START, *query.by], na_position="last").reset_index(drop=True)
    return frame[[PERIOD, PERIOD_START, *query.by, VALUE]]


def working_days(start: date, end: date) -> int:
    """Mon–Fri days in [start, end)."""
    return int(np.busday_count(start, end))


def _compute_derived(tables: TableSource, registry: Registry, calendar: FiscalCalendar, metric: DerivedMetric,
                     query: MetricQuery, targets: dict[str, float]) -> MetricResult:
    keys = [PERIOD, PERIOD_START, *query.by]
    merged: pd.DataFrame | None = None
    expressions: list[Any] = []
    currency: str | None = None
    undated: dict[tuple[str, str], int] = {}
    for name in metric.inputs:
        part = compute_metric(tables, registry, calendar,
                              MetricQuery(name, query.by, query.grain, query.start, query.end, query.where),
                              targets=targets)
        expressions += part.expressions
        currency = currency or part.currency
        for key, count in part.undated.items():  # inputs over the same rows leave out the same undated ones
            undated[key] = max(undated.get(key, 0), count)
        values = part.frame.rename(columns={VALUE: name})
        merged = values if merged is None else merged.merge(values, on=keys, how="outer")
    assert merged is not None
    merged["_working_days"] = [
        working_days(max(s, query.start) if query.start else s,
                     min(calendar.next_start(s, query.grain), query.end) if query.end
                     else calendar.next_start(s, query.grain))
        for s in merged[PERIOD_START]
    ]
    default = targets.get(f"*{query.grain}", np.nan)
    merged["_bookings_target"] = merged[PERIOD].map(lambda p: targets.get(p, default)).astype("float64")
    merged[VALUE] = metric.combine(merged, None)
    frame = merged.sort_values([PERIOD_START, *query.by]).reset_index(drop=True)
    amount = metric.unit in ("currency", "per_day")  # velocity is money per day; coverage a plain ratio
    return MetricResult(metric, query, frame[[*keys, VALUE]], expressions, currency if amount else None, undated)


def period_bounds(calendar: FiscalCalendar, label: str) -> tuple[date, date, Grain]:
    start, grain = calendar.parse(label)
    return start, calendar.next_start(start, grain), grain


def days_between(start: date, end: date) -> int:
    return (end - start) // timedelta(days=1)
