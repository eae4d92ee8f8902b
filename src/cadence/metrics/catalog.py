"""Where the metric catalogue is assembled: relations by name, built-ins, and the company's own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from cadence.errors import UnknownNameError
from cadence.metrics import relations
from cadence.metrics.dating import DealDating
from cadence.metrics.definitions import builtin_metrics
from cadence.metrics.money import RATE, reporting_currency
from cadence.metrics.registry import AnyMetric, Registry
from cadence.metrics.relations import TableSource
from cadence.metrics.revenue import mrr_months, revenue_metrics

RELATIONS: dict[str, Callable[[TableSource], Any]] = {
    "deals": relations.deals,
    "leads": relations.leads,
    "activities": relations.activities,
    "usage": relations.usage,
    "nps": relations.nps,
    "mrr_months": mrr_months,
}


# Relations worth computing once per session: the month-by-customer revenue grid is the costliest
# query Cadence runs, and a scorecard asks it a dozen questions.
MATERIALISED = {"mrr_months", "deals"}


def relation(name: str, tables: TableSource) -> Any:
    """The Ibis relation `name` over `tables` (materialised once when `tables` offers a cache)."""
    if name not in RELATIONS:
        raise UnknownNameError("relation", name, list(RELATIONS))
    cache = getattr(tables, "materialised", None)
    if name in MATERIALISED and cache is not None:  # one copy per currency its money is reported in
        return cache(f"{name}_{reporting_currency(tables).lower()}", lambda _: RELATIONS[name](tables))
    return RELATIONS[name](tables)


def rates_complete(name: str, tables: TableSource) -> bool:
    """Whether every amount of relation `name` converts to the reporting currency — asked once per cached
    relation, so a figure over its rows need not ask again (False when `tables` keeps no cache: ask)."""
    remember = getattr(tables, "remembered", None)
    if name not in MATERIALISED or remember is None:
        return False

    def missing(_: Any) -> int:
        rows = relation(name, tables)
        if RATE not in rows.columns or "amount" not in rows.columns:
            return 1
        return int(rows.filter(rows.amount.notnull() & rows[RATE].isnull()).count().execute())

    return bool(remember(f"{name}_missing_rates_{reporting_currency(tables).lower()}", missing) == 0)


def build_registry(extra: list[AnyMetric] | None = None, dating: DealDating | None = None) -> Registry:
    """Every built-in metric (naming `dating`, the workspace's rule for dating closed deals), then `extra`
    (the company's own, from cadence.yml)."""
    return Registry([*builtin_metrics(dating), *revenue_metrics(), *(extra or [])])
