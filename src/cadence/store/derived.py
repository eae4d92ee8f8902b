"""Tables derived from the canonical ones, kept in the warehouse per version of the data they were built from.

The revenue grid (one row per customer and month) and the deals relation (each deal dated, converted and joined
to its account and owner) are what most figures read. Building them takes seconds on a large company, and every
figure, page and delivery over the same data would build them again. So they are built once, as ordinary tables
in the warehouse, and every later session reads them until the rows they were built from change.

A derived table is named by its **key**: the SQL that builds it (an in-memory table in it named by its content,
so the same calendar gives the same key) and a **fingerprint** of every table it reads — the engine's row count
and an XOR and a sum of a hash of every row. Any change to those rows, made by an import, a sync or any other tool
writing to the warehouse, changes a fingerprint and so the key, and the next session builds a new table; a change
to the definition (another reporting currency, another as-of day, a new version of Cadence) changes the SQL and so
the key too. Nothing has to remember to invalidate anything.

Kept on the engines whose tables Cadence owns: on DuckDB and PostgreSQL as tables of the warehouse; on Spark as
Parquet folders beside its catalog (`_derived/`), written whole and renamed into place, where a table's
fingerprint is what the catalog says it is made of (its segments, which every committed write names anew) instead
of a pass over its rows. On a company's own warehouse and while a write is under way, `table_for` answers None
and the caller builds per session. The last KEEP tables per relation stay (two reporting currencies, the data
before the latest import); older ones are dropped when a new one is built.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from datetime import UTC, datetime
from typing import Any, Protocol

import ibis
import ibis.expr.operations as ops
import pandas as pd

from cadence.store.warehouse import Warehouse

PREFIX = "_cadence_derived_"
CATALOG = "_cadence_derived"
KEEP = 3
ENGINES = ("duckdb", "postgres")
EXCLUDED = re.compile(r"EXCLUDE \(([^()]*)\)")  # DuckDB's list of columns a query leaves out


def memtable_names(expr: Any) -> dict[str, str]:
    """Each in-memory table's generated name in `expr`, and a name made from its content instead."""
    names = {}
    for node in expr.op().find(ops.InMemoryTable):
        frame = node.data.to_frame()
        digest = hashlib.sha256(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        digest.update(",".join(map(str, frame.columns)).encode())
        names[node.name] = f"memtable_{digest.hexdigest()[:16]}"
    return names


def stable_sql(sql: str) -> str:
    """`sql` as every process compiles it: DuckDB's `EXCLUDE (…)` lists the dropped columns in the order of a
    Python set, which changes from one process to the next, so each list is sorted (the query means the same)."""
    return EXCLUDED.sub(lambda m: "EXCLUDE (" + ", ".join(sorted(m.group(1).split(", "))) + ")", sql)


def base_tables(expr: Any) -> list[str]:
    """The warehouse tables `expr` reads."""
    return sorted({node.name for node in expr.op().find(ops.DatabaseTable)})


class DerivedTables:
    """The derived tables of one warehouse (see the module's docstring)."""

    def __init__(self, warehouse: Warehouse):
        self._warehouse = warehouse
        self._fingerprints: dict[str, str] = {}
        self._chosen: InWarehouse | AsFiles | None = None

    @property
    def _store(self) -> InWarehouse | AsFiles | None:
        """Where this warehouse keeps them: Parquet folders on Spark, its own tables on DuckDB and PostgreSQL,
        nowhere on a company's own warehouse (chosen on first use: asking the engine's name connects to it)."""
        if self._chosen is None:
            files: FileKeeper | None = self._warehouse.derived_files
            if files is not None:
                self._chosen = AsFiles(self._warehouse, files)
            elif self._warehouse.ibis.name in ENGINES:
                self._chosen = InWarehouse(self._warehouse)
        return self._chosen

    @property
    def kept(self) -> bool:
        """Whether this warehouse keeps derived tables between sessions."""
        return self._store is not None

    def forget(self) -> None:
        """After a write: the tables' fingerprints are measured again."""
        self._fingerprints.clear()

    def fingerprint(self, name: str) -> str:
        if name not in self._fingerprints:
            self._fingerprints[name] = self._warehouse.fingerprint(name)  # Spark: read from its catalog, no job
        return self._fingerprints[name]

    def key(self, expr: Any) -> str:
        """What the table built from `expr` is named by: its SQL and the fingerprint of each table it reads."""
        sql = stable_sql(str(ibis.to_sql(expr, dialect=self._warehouse.ibis.name)))
        for generated, stable in memtable_names(expr).items():
            sql = sql.replace(generated, stable)
        digest = hashlib.sha256(sql.encode())
        for name in base_tables(expr):
            digest.update(f"\n{name}={self.fingerprint(name)}".encode())
        return digest.hexdigest()[:24]

    def table_for(self, relation: str, expr: Any) -> Any | None:
        """The stored table holding `expr`, built now if this version of the data has none; None when this
        warehouse keeps none (the caller builds its own copy for the session)."""
        store = self._store
        if store is None or self._warehouse.in_transaction:  # a table built now could be rolled back with it
            return None
        name = f"{PREFIX}{re.sub('[^a-z0-9_]', '_', relation.lower())}_{self.key(expr)}"
        store.build_once(relation, name, expr)
        return store.read(name)

    def drop_all(self) -> int:
        """Drop every kept table, as if no session had built one since the last import (the benchmarks time the
        first session after an import this way); how many were dropped."""
        store = self._store
        dropped = 0 if store is None else store.drop_all()
        self.forget()
        return dropped


class FileKeeper(Protocol):
    """What an engine keeping derived tables as files beside its catalog offers (`SparkEngine`)."""

    def derived_names(self) -> list[str]: ...
    def keep_derived(self, name: str, expr: Any) -> None: ...
    def show_derived(self, name: str) -> None: ...
    def drop_derived(self, name: str) -> None: ...


class InWarehouse:
    """Derived tables as tables of the warehouse, listed in CATALOG (DuckDB, PostgreSQL)."""

    def __init__(self, warehouse: Warehouse):
        self._warehouse = warehouse

    def build_once(self, relation: str, name: str, expr: Any) -> None:
        existing = self._warehouse.table_names()
        if name in existing:
            return
        try:
            self._warehouse.ibis.create_table(name, expr, overwrite=True)
        except Exception:
            if name not in self._warehouse.table_names():
                raise
            # another process built the same version at the same moment: its table is this one
        with contextlib.suppress(Exception):  # bookkeeping: a process racing us may have noted it first
            self._catalogue(relation, name, existing)

    def read(self, name: str) -> Any:
        return self._warehouse.ibis.table(name)

    def _catalogue(self, relation: str, name: str, existing: set[str]) -> None:
        """Note `name` as built now, and drop all but the newest KEEP of `relation`'s tables."""
        wh = self._warehouse
        if CATALOG not in existing:
            wh.execute(f"CREATE TABLE IF NOT EXISTS {CATALOG} (table_name VARCHAR PRIMARY KEY, relation VARCHAR, "
                       "built_at TIMESTAMP)")
        wh.execute(f"DELETE FROM {CATALOG} WHERE table_name = $1", (name,))
        wh.execute(f"INSERT INTO {CATALOG} VALUES ($1, $2, $3)",
                   (name, relation, datetime.now(UTC).replace(tzinfo=None)))
        rows = wh.query(f"SELECT table_name FROM {CATALOG} WHERE relation = $1 ORDER BY built_at DESC", (relation,))
        for (old,) in rows[KEEP:]:
            wh.execute(f'DROP TABLE IF EXISTS "{old}"')
            wh.execute(f"DELETE FROM {CATALOG} WHERE table_name = $1", (old,))

    def drop_all(self) -> int:
        names = sorted(n for n in self._warehouse.table_names() if n.startswith(PREFIX))
        for name in names:
            self._warehouse.execute(f'DROP TABLE IF EXISTS "{name}"')
        if CATALOG in self._warehouse.table_names():
            self._warehouse.execute(f"DELETE FROM {CATALOG}")
        return len(names)


class AsFiles:
    """Derived tables as Parquet folders beside Spark's catalog, each shown to the session as a view."""

    def __init__(self, warehouse: Warehouse, files: FileKeeper):
        self._warehouse = warehouse
        self._files = files

    def build_once(self, relation: str, name: str, expr: Any) -> None:
        if name in self._files.derived_names():
            return
        self._files.keep_derived(name, expr)
        stem = name.rsplit("_", 1)[0]  # the relation's name, without the key
        older = [n for n in self._files.derived_names() if n.rsplit("_", 1)[0] == stem and n != name]
        for old in older[:max(0, len(older) - (KEEP - 1))]:
            self._files.drop_derived(old)

    def read(self, name: str) -> Any:
        self._files.show_derived(name)
        return self._warehouse.ibis.table(name)

    def drop_all(self) -> int:
        names = self._files.derived_names()
        for name in names:
            self._files.drop_derived(name)
        return len(names)
