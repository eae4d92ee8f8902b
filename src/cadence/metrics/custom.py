"""The company's own metrics from cadence.yml, turned into registry entries and checked on load.

A custom metric is an aggregate (count, sum, mean, …) of a column of one relation, optionally
filtered with the same predicate language as `--where`. Checking builds the Ibis expression
against the warehouse's real columns (without running it), so a wrong column is reported with
its metric's name and a suggestion, when the workspace opens, not in the middle of a meeting.
"""

from __future__ import annotations

from typing import Any

from cadence.config import CustomMetric
from cadence.errors import CadenceError, ConfigError, Location
from cadence.metrics.catalog import relation
from cadence.metrics.registry import Metric
from cadence.metrics.relations import TableSource
from cadence.metrics.where import parse_where

_DIMENSIONS = ("segment", "industry", "region", "team", "owner_name", "kind", "pipeline", "channel", "campaign",
               "plan", "rep_name", "person_id", "role", "status", "product", "lead_source", "owner_id")


def _measure(spec: CustomMetric) -> Any:
    def measure(t: Any) -> Any:
        if spec.aggregate == "count":
            return t.count() if spec.column is None else t[spec.column].count()
        column = t[spec.column]
        if spec.aggregate == "count_distinct":
            return column.nunique()
        numeric = column.cast("float64")
        return getattr(numeric, spec.aggregate)()

    return measure


def custom_metric(spec: CustomMetric, tables: TableSource) -> Metric:
    """The registry entry for `spec`, after checking it against the warehouse's columns."""
    where_text = spec.where
    table: Any = None
    try:
        table = relation(spec.relation, tables)
        for column in (spec.time_column, spec.column):
            if column is not None:
                table[column]
        if where_text:
            parse_where(where_text, table)
        _measure(spec)(table)
    except CadenceError as exc:
        raise ConfigError(f"metric {spec.name!r}: {exc.one_line()}", location=Location("cadence.yml")) from None
    except Exception as exc:  # Ibis raises several kinds for a bad column
        hint = f"columns of {spec.relation}: {', '.join(table.columns)}" if table is not None else None
        raise ConfigError(f"metric {spec.name!r}: {exc}".splitlines()[0], location=Location("cadence.yml"),
                          hint=hint) from None
    dims = tuple(d for d in _DIMENSIONS if d in table.columns)
    return Metric(
        spec.name, spec.label or spec.name.replace("_", " ").capitalize(), spec.description, spec.unit,
        spec.direction, spec.owner, spec.relation, spec.time_column, dims, _measure(spec),
        f"{spec.aggregate}({spec.column or '*'})" + (f" where {where_text}" if where_text else ""),
        where=(lambda t: parse_where(where_text, t)) if where_text else None, custom=True,
    )
