"""The metric registry: every metric Cadence shows is declared here, once.

A `Metric` names its relation (what it is computed over), the time column that dates it, the
dimensions it may be cut by, an optional row filter and its aggregate, all as Ibis expressions,
so one definition runs on DuckDB, PostgreSQL or any Ibis engine. A `DerivedMetric` combines other
metrics' results period by period (sales velocity, pipeline coverage, activities per rep per day).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import pandas as pd

from cadence.errors import UnknownNameError

Direction = Literal["up", "down"]
Unit = Literal["currency", "count", "ratio", "days", "score", "per_day", "percent"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    description: str
    unit: Unit
    direction: Direction
    owner: str
    relation: str
    time_column: str
    dimensions: tuple[str, ...]
    measure: Callable[[Any], Any]  # Ibis table -> scalar aggregate
    formula: str  # the definition in words and symbols, for docs and `cadence explain`
    where: Callable[[Any], Any] | None = None  # Ibis table -> boolean column
    snapshot: bool = False  # measured now, dated by when it is due (open pipeline)
    stock: str | None = None  # "last"/"first": the value in the period's last/first month, not a sum over it
    custom: bool = False


@dataclass(frozen=True)
class DerivedMetric:
    """A metric computed from other metrics' values in the same period and dimensions."""

    name: str
    label: str
    description: str
    unit: Unit
    direction: Direction
    owner: str
    inputs: tuple[str, ...]
    combine: Callable[[pd.DataFrame, Any], pd.Series]  # frame with one column per input, context -> values
    formula: str
    dimensions: tuple[str, ...] = field(default=())
    custom: bool = False


AnyMetric = Metric | DerivedMetric


class Registry:
    """Metrics by name; built-ins first, then the company's own from cadence.yml."""

    def __init__(self, metrics: list[AnyMetric]):
        self._metrics: dict[str, AnyMetric] = {}
        for metric in metrics:
            self.add(metric)

    def add(self, metric: AnyMetric) -> None:
        if metric.name in self._metrics:
            raise ValueError(f"metric {metric.name!r} is declared twice")
        self._metrics[metric.name] = metric

    def get(self, name: str) -> AnyMetric:
        try:
            return self._metrics[name]
        except KeyError:
            raise UnknownNameError("metric", name, list(self._metrics)) from None

    def __iter__(self) -> Any:
        return iter(self._metrics.values())

    def __contains__(self, name: object) -> bool:
        return name in self._metrics

    def names(self) -> list[str]:
        return list(self._metrics)

    def dimensions_of(self, metric: AnyMetric) -> tuple[str, ...]:
        if isinstance(metric, Metric):
            return metric.dimensions
        sets = [set(self.dimensions_of(self.get(i))) for i in metric.inputs]
        common = set.intersection(*sets) if sets else set()
        return tuple(d for d in self.dimensions_of(self.get(metric.inputs[0])) if d in common)
