"""The SQL every metric compiles to, per engine, kept in tests/sql/<engine>/<metric>.sql.

Built on unbound tables (`ibis.table(schema, name=…)`) with the settings a new workspace starts from
(the cadence.yml `cadence init` writes), so a change to a definition shows up in review as a change of SQL.
`python -m tests.sql_snapshots --update` (run by `make docs`) writes them again.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path
from typing import Any
from unittest.mock import patch

import ibis
import yaml
from ibis.common.exceptions import OperationNotDefinedError

from cadence.config import validate_config
from cadence.config.template import config_template
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.query import MetricQuery, _aggregate, filtered_relation
from cadence.metrics.registry import DerivedMetric, Registry
from cadence.schema import TABLES
from cadence.schema.tables import SYSTEM_TABLES
from cadence.workspace import Workspace

# folder names, each a sqlglot dialect the snapshot is read back in; Spark's is what Cadence's Spark engine runs
# (Ibis's PySpark compiler with its float, division and trim fixed: cadence.store.spark.spark_compiler)
ENGINES = ("duckdb", "postgres", "snowflake", "bigquery", "trino", "databricks", "spark")
FOLDER = Path(__file__).parent / "sql"
IBIS_TYPES = {"string": "string", "integer": "int64", "float": "float64", "money": "decimal(18, 2)",
              "boolean": "boolean", "date": "date", "timestamp": "timestamp"}
SNAPSHOT_DAY = date(2026, 1, 31)  # "today" for figures open to today (MRR): fixed, so the SQL is too
QUERY = dict(grain="month")  # each metric by fiscal month, no cut, no filter: the figure `cadence metric NAME` shows
CANNOT = "-- {engine} cannot run this metric through Ibis:"
MEMTABLE = re.compile(r"ibis_pandas_memtable_[a-z0-9]+")
EXCLUDE = re.compile(r"(EXCLUDE|EXCEPT) \(([^)]*)\)")


class UnboundWarehouse:
    """Every canonical table as an unbound Ibis table: expressions over it compile, and nothing runs."""

    def table(self, name: str) -> Any:
        table = next(t for t in (*TABLES, *SYSTEM_TABLES) if t.name == name)
        return ibis.table({c.name: IBIS_TYPES[c.type.value] for c in table.columns}, name=name)


class UnboundWorkspace(Workspace):
    materialised = None  # type: ignore[assignment]  # no cache tables: the snapshot shows the whole relation


def default_workspace() -> Workspace:
    config = validate_config(yaml.safe_load(config_template(company="Snapshot Co", warehouse=None)))
    ws = UnboundWorkspace(Path("."), config, UnboundWarehouse())  # type: ignore[arg-type]
    ws._calendar = FiscalCalendar(config.fiscal_year_start_month, [])
    ws._today = SNAPSHOT_DAY
    return ws


def metric_sql(ws: Workspace, registry: Registry, name: str, engines: tuple[str, ...] = ENGINES) -> dict[str, str]:
    """The SQL `name` runs on each engine (a derived metric: each input's, in order, under a comment naming it);
    the expression is built once and compiled per engine."""
    metric = registry.get(name)
    if isinstance(metric, DerivedMetric):
        parts = {part: metric_sql(ws, registry, part, engines) for part in metric.inputs}
        return {engine: "\n".join(f"-- {part}\n{sql[engine]}" for part, sql in parts.items()) for engine in engines}
    table = filtered_relation(ws, metric, ws.calendar, MetricQuery(name, **QUERY))  # type: ignore[arg-type]
    expr = _aggregate(metric, table, MetricQuery(name, **QUERY))
    found = {}
    for engine in engines:
        try:
            found[engine] = compile_sql(expr, engine).strip() + ";\n"
        except OperationNotDefinedError as exc:  # Ibis has no way to write it there: the snapshot says so
            found[engine] = f"{CANNOT.format(engine=engine)} {exc}\n"
    return found


def compile_sql(expr: Any, engine: str) -> str:
    """`expr` as the SQL `engine` is sent; no driver is needed, only the compiler and sqlglot's dialect."""
    if engine != "spark":
        return str(ibis.to_sql(expr, dialect=engine))
    from cadence.store.spark import spark_compiler

    compiler = spark_compiler()
    return str(compiler.to_sqlglot(expr.unbind()).sql(dialect=compiler.dialect, pretty=True))


def snapshots() -> dict[Path, str]:
    """tests/sql/<engine>/<metric>.sql → its text, for every built-in metric and engine.

    MRR's month grid is read from the data's span (an in-memory table of months); on unbound tables there is
    no data, so the grid is the snapshot's one month and the in-memory table's random name is written as one.
    """
    ws = default_workspace()
    registry = ws.registry
    with patch("cadence.metrics.revenue._span", lambda subs, today: (SNAPSHOT_DAY, SNAPSHOT_DAY)):
        found = {FOLDER / engine / f"{name}.sql": sql
                 for name in registry.names() for engine, sql in metric_sql(ws, registry, name).items()}
    return {path: steady(text) for path, text in found.items()}


def steady(sql: str) -> str:
    """The same SQL on every run: the in-memory table's random name as one, and the columns of DuckDB's and
    Snowflake's `EXCLUDE (…)` and BigQuery's and Spark's `EXCEPT (…)` (Ibis lists them in set order, which changes
    from run to run) sorted."""
    sql = MEMTABLE.sub("ibis_pandas_memtable", sql)
    return EXCLUDE.sub(lambda m: f"{m.group(1)} (" + ", ".join(sorted(m.group(2).split(", "))) + ")", sql)


def update() -> None:
    for engine in ENGINES:
        for old in (FOLDER / engine).glob("*.sql"):
            old.unlink()
    for path, text in snapshots().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode("utf-8"))  # byte for byte: TRIM's whitespace list holds a carriage return


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit("usage: python -m tests.sql_snapshots --update")
    update()
