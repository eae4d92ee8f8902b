"""One warehouse per workspace: an embedded DuckDB file by default, PostgreSQL, or any backend Ibis connects to.

Reads go through Ibis (`table()`), so the metrics and analyses above never see the engine.
Writes (imports, the demo) go through `transaction()`, one database transaction each, so a
failed import leaves the warehouse exactly as it was. Statements take `$1`, `$2`, … parameters.

Every write that changes the company's data (an import, a sync, a hand entry, a statement run here) changes the
warehouse's **data stamp** when it commits (`data_version`): what results kept between sessions are named by
(`store/kept_results.py`), so nothing computed before a write is served after it. A transaction that leaves every
table it wrote as it found it (the same export imported again, a sync that found nothing new) keeps the stamp, so
what was computed for those rows is still served.
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from cadence.errors import WarehouseError
from cadence.schema.ddl import quote
from cadence.schema.tables import SYSTEM_TABLES, TABLES, Table
from cadence.store.engines import DuckDBEngine, Engine, IbisEngine, PostgresEngine, redact

SAFE_OPERATORS = frozenset({"=", ">=", "<=", ">", "<", "<>"})
IMPORT_MEMORY = 128 * 10**6  # bytes of DuckDB's buffers while a large import runs (`bounded_memory`): no slower
# than 512 MB
META = "cadence_meta"  # schema version, and the data stamp under STAMP_KEY
STAMP_KEY = "data_written"
WRITE = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+"?([A-Za-z_][A-Za-z0-9_]*)', re.IGNORECASE)
# Tables no figure or analysis reads (who signs in, their sessions, the audit log, what was sent, the weekly
# snapshots and their comments, the logs of imports and syncs): writing them leaves the data stamp as it is, so
# signing in, taking the week's snapshot or importing rows already there does not make every kept result stale.
# `tests/test_kept_sections.py` checks that no metric, analysis or report module names one.
UNSTAMPED = frozenset({"users", "sessions", "audit_log", "deliveries", "snapshots", "comments", "imports",
                       "sync_runs", META})
DATA_TABLES = frozenset(t.name for t in TABLES + SYSTEM_TABLES) - UNSTAMPED  # what `data_version` counts


class Warehouse:
    """The workspace's database. Ibis tables out; transactional, idempotent writes in."""

    def __init__(self, engine: Engine, location: str):
        self._engine = engine
        self.location = location
        self._in_transaction = False
        self._wrote_data = False  # a write in the open transaction: the stamp changes as it commits
        self._found: dict[str, tuple[Any, ...]] = {}  # each table the open transaction writes, as it was before
        self.last_changed: bool | None = None  # whether the last transaction changed the company's data (`_changed`)
        self._has_meta = False

    @property
    def dialect(self) -> str:
        return self._engine.dialect

    @property
    def ibis(self) -> Any:
        """The Ibis backend, for expressions that span tables."""
        return self._engine.ibis()

    def table(self, name: str) -> Any:
        """An Ibis table expression over `name`."""
        return self._engine.ibis().table(name)

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        written = WRITE.match(sql)
        table = written.group(1) if written else None
        if table is not None and (table.startswith("_") or table.lower() in UNSTAMPED):
            table = None
        if table is not None and self._in_transaction and table not in self._found and self._hashes_rows:
            self._found[table] = self._row_hashes(table)  # before its first write: did the transaction change it?
        self._engine.execute(sql, params)
        if table is not None:
            if self._in_transaction:
                self._wrote_data = True
            else:
                self._stamp()

    @property
    def _stamped(self) -> bool:
        """Whether Cadence writes a data stamp here (DuckDB, PostgreSQL); Spark's catalog versions itself."""
        return isinstance(self._engine, (DuckDBEngine, PostgresEngine))

    @property
    def _hashes_rows(self) -> bool:
        """Whether the engine hashes a table's rows: DuckDB and PostgreSQL in SQL, Spark with a job of its own."""
        return self._stamped or hasattr(self._engine, "row_hashes")

    def fingerprint(self, table: str) -> str:
        """What `table` holds, as one value any committed change to its rows changes: on Spark what its catalog
        says it is made of (no Spark job); on DuckDB and PostgreSQL its rows hashed by the engine (`_row_hashes`).
        What the derived tables are named by (`store/derived.py`)."""
        version = self.table_version(table)
        return version if version is not None else ":".join(str(v) for v in self._row_hashes(table))

    def _row_hashes(self, table: str) -> tuple[Any, ...]:
        """`table`'s row count, and an XOR and a sum of a hash of each whole row (order of rows does not matter;
        any changed cell changes the hash): one pass in the engine, 0.2 s for 6.5 million activities in DuckDB.
        Asked on the warehouse's own connection, so inside a transaction it sees what the transaction wrote."""
        spark_hashes = getattr(self._engine, "row_hashes", None)
        if spark_hashes is not None:
            return tuple(spark_hashes([table])[table])
        if not self._stamped:
            raise WarehouseError(f"{self.location} does not hash its tables' rows: only DuckDB, PostgreSQL and "
                                 "Spark do")
        if isinstance(self._engine, DuckDBEngine):
            sql = f"SELECT count(*), bit_xor(hash(t)), sum(hash(t)::HUGEINT) FROM {quote(table)} AS t"
        else:  # PostgreSQL: a row as text, hashed
            sql = (f"SELECT count(*), bit_xor(h), sum(h::numeric) FROM "
                   f"(SELECT hashtextextended(t::text, 0) AS h FROM {quote(table)} AS t) AS r")
        return tuple(self._engine.query(sql, None)[0])

    def _changed(self) -> bool:
        """Whether the open transaction left some table it wrote other than it found it: row counts first (an
        import of new rows changes one, and nothing is hashed), then each table's rows hashed again. Where Cadence
        keeps no stamp (a company's own warehouse) nothing is hashed: any write counts as a change. On Spark, whose
        data version is what its catalog names, each table whose rows are as found keeps its committed segments
        (`SparkEngine.keep_committed`), so a table left as it was keeps its version even beside one that changed."""
        if not self._found:
            return self._wrote_data
        unchanged_of = getattr(self._engine, "unchanged", None)  # Spark (`SparkEngine.unchanged`)
        if unchanged_of is not None:
            unchanged = unchanged_of(self._found)
            self._engine.keep_committed(unchanged)  # type: ignore[attr-defined]
            return len(unchanged) < len(self._found)
        for table, found in self._found.items():
            if int(self._engine.query(f"SELECT count(*) FROM {quote(table)}", None)[0][0]) != int(found[0]):
                return True
        return any(self._row_hashes(table) != found for table, found in self._found.items())

    @property
    def versioned(self) -> bool:
        """Whether this warehouse knows its data version: the engines whose tables Cadence owns (DuckDB and
        PostgreSQL through a stamp; Spark through its catalog), not a company's own warehouse."""
        return isinstance(self._engine, (DuckDBEngine, PostgresEngine)) or self.kept_folder is not None

    @property
    def kept_folder(self) -> Path | None:
        """On Spark, the folder results kept per version of the data are written to (`store/kept_results.py`);
        None where they are kept in a table of the warehouse."""
        folder = getattr(self._engine, "kept_folder", None)
        return folder if isinstance(folder, Path) else None

    def table_version(self, name: str) -> str | None:
        """What the engine's catalog says table `name` is made of (Spark: its columns and segments, which every
        committed write changes); None on an engine whose rows must be read to tell."""
        version = getattr(self._engine, "data_version", None)
        return None if version is None else str(version(frozenset({name})))

    @property
    def derived_files(self) -> Any | None:
        """On Spark, the engine that keeps derived tables as Parquet folders beside its catalog; None elsewhere."""
        return self._engine if hasattr(self._engine, "keep_derived") else None

    def _stamp(self) -> None:
        """A new data stamp (a random value: any write makes one no earlier stamp equals). Spark needs none:
        its catalog names new segments on every write (`SparkEngine.data_version`)."""
        if not self._stamped:
            return
        if not self._has_meta:
            self._has_meta = META in self.table_names()
            if not self._has_meta:  # no Cadence schema yet: nothing can have been kept
                return
        self._engine.execute(f"DELETE FROM {META} WHERE key = $1", (STAMP_KEY,))
        self._engine.execute(f"INSERT INTO {META} (key, value) VALUES ($1, $2)", (STAMP_KEY, uuid.uuid4().hex))

    def data_version(self) -> str | None:
        """Changes with every write to the company's data: the stamp Cadence's own writes change and, on DuckDB,
        how many rows each table holds, so rows another tool adds to or deletes from the file are seen too. On
        PostgreSQL only the stamp: a tool writing there around Cadence is not seen (`cadence scorecard --fresh`).
        On Spark, the segments its catalog lists for the data tables. None on a company's own warehouse."""
        if not self.versioned:
            return None
        engine_version = getattr(self._engine, "data_version", None)
        if engine_version is not None:
            return str(engine_version(DATA_TABLES))
        stamp = self.query(f"SELECT value FROM {META} WHERE key = $1 ORDER BY value", (STAMP_KEY,))
        names = sorted(self.table_names() & DATA_TABLES)  # not the engine's temporary tables, nor kept results
        if isinstance(self._engine, PostgresEngine):  # counting rows there reads every row; its statistics lag
            counts = []
        else:
            counts = self.query(" UNION ALL ".join(f"SELECT '{n}', count(*) FROM {quote(n)}" for n in names)
                                + " ORDER BY 1") if names else []
        return "|".join([",".join(str(v) for (v,) in stamp), *(",".join(map(str, row)) for row in counts)])

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        return self._engine.query(sql, params)

    def select(self, table: str, columns: list[str] | tuple[str, ...], *,
               where: tuple[tuple[str, str, Any], ...] = (), order_by: str = "", limit: int | None = None,
               offset: int = 0) -> list[tuple[Any, ...]]:
        """`SELECT columns FROM table`, kept to the rows matching every `(column, operator, value)` of `where`
        whose value is not None (values bound as parameters, never pasted in), ordered, at most `limit`, the
        first `offset` of them skipped."""
        params: list[Any] = []
        conditions = []
        for column, operator, value in where:
            if value is None:
                continue
            if operator not in SAFE_OPERATORS:
                raise ValueError(f"operator {operator!r} is not one a filter may use")
            params.append(value)
            conditions.append(f"{quote(column)} {operator} ${len(params)}")
        sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)}"
        sql += f" WHERE {' AND '.join(conditions)}" if conditions else ""
        sql += f" ORDER BY {order_by}" if order_by else ""
        sql += f" LIMIT {int(limit)}" if limit is not None else ""
        sql += f" OFFSET {int(offset)}" if offset else ""
        return self.query(sql, tuple(params) or None)

    def table_names(self) -> set[str]:
        if hasattr(self._engine, "table_names"):  # an engine without information_schema (Spark) keeps its own
            return self._engine.table_names()  # type: ignore[no-any-return]
        rows = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {r[0] for r in rows}

    def column_names(self, table: str) -> list[str]:
        if hasattr(self._engine, "column_names"):
            return self._engine.column_names(table)  # type: ignore[no-any-return]
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = $1 ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in rows]

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {quote(table)}")[0][0])

    @property
    def in_transaction(self) -> bool:
        """Whether a `transaction()` is open: what is written now may still be rolled back."""
        return self._in_transaction

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All writes inside happen together or not at all."""
        if self._in_transaction:
            yield self
            return
        self._engine.begin()
        self._in_transaction = True
        self._wrote_data = False
        self._found = {}
        self.last_changed = None
        try:
            yield self
            changed = self._wrote_data and self._changed()
            if changed:  # the new stamp commits with the rows, or neither does
                self._stamp()
        except BaseException:
            self._engine.rollback()
            raise
        else:
            self._engine.commit()
            self.last_changed = changed
        finally:
            self._in_transaction = False
            self._wrote_data = False
            self._found = {}

    @contextlib.contextmanager
    def bounded_memory(self) -> Iterator[None]:
        """While a large import runs, DuckDB keeps at most IMPORT_MEMORY of its buffers in memory and writes the
        rest to its file, so committing ten million rows takes no more memory than committing one million (the
        blocks of the rows written so far stay cached up to the limit: about 15 bytes a row until they reach
        it). Other engines are left as they are."""
        if not isinstance(self._engine, DuckDBEngine):
            yield
            return
        during = IMPORT_MEMORY
        if self._engine.memory_limit is not None:
            during = min(during, self._engine.memory_limit)  # $CADENCE_DUCKDB_MEMORY asked for less
        self._engine.limit_memory(during)
        try:
            yield
        finally:
            self._engine.limit_memory(None)

    def upsert(self, table: Table, frame: pd.DataFrame) -> int:
        """Insert `frame`'s rows, replacing rows with the same key: re-running an import never duplicates."""
        if frame.empty:
            return 0
        stage = f"_cadence_stage_{table.name}"
        frame = frame[table.column_names]
        self._engine.stage(stage, table, frame)
        try:
            # NOT DISTINCT: an empty key part matches an empty key part, so a re-import never duplicates
            match = " AND ".join(f"s.{quote(k)} IS NOT DISTINCT FROM t.{quote(k)}" for k in table.key)
            columns = ", ".join(quote(c) for c in table.column_names)
            self.execute(
                f"DELETE FROM {quote(table.name)} AS t WHERE EXISTS "
                f"(SELECT 1 FROM {quote(stage)} AS s WHERE {match})"
            )
            self.execute(f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(stage)}")
        finally:
            self._engine.unstage(stage)
        return len(frame)

    def append(self, table: Table, frame: pd.DataFrame) -> int:
        """Insert `frame`'s rows as they are (a copy into an emptied table: no key to match)."""
        if frame.empty:
            return 0
        stage = f"_cadence_stage_{table.name}"
        self._engine.stage(stage, table, frame[table.column_names])
        try:
            columns = ", ".join(quote(c) for c in table.column_names)
            self.execute(f"INSERT INTO {quote(table.name)} ({columns}) SELECT {columns} FROM {quote(stage)}")
        finally:
            self._engine.unstage(stage)
        return len(frame)

    def delete_where(self, table: str, column: str, value: Any) -> None:
        self.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} = $1", (value,))

    def delete_in(self, table: str, column: str, values: list[Any]) -> None:
        """Delete rows whose `column` is one of `values` (used to replace derived rows whole)."""
        for start in range(0, len(values), 1000):
            chunk = values[start:start + 1000]
            marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
            self.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} IN ({marks})", tuple(chunk))

    def read_frame(self, sql: str) -> pd.DataFrame:
        """Run SQL and return a DataFrame (for checks and tests; metrics use Ibis)."""
        return self._engine.read_frame(sql)

    def close(self) -> None:
        self._engine.close()


def connect(warehouse: str, root: Path) -> Warehouse:
    """Open the warehouse named in cadence.yml: a DuckDB path (relative to the workspace), a PostgreSQL URL,
    `spark://local`, `spark://HOST:PORT` or `sc://HOST:PORT`, or any other Ibis backend URL
    (`snowflake://…`, `bigquery://…`, `trino://…`, `databricks://…`)."""
    scheme = warehouse.split("://", 1)[0] if "://" in warehouse else "duckdb"
    if scheme in ("postgresql", "postgres"):
        return Warehouse(PostgresEngine(warehouse), redact(warehouse))
    if scheme in ("spark", "sc"):
        from cadence.store.spark import SparkEngine, shown

        engine = SparkEngine(warehouse, root)
        return Warehouse(engine, f"{shown(warehouse)} ({engine.data})")
    if scheme != "duckdb":
        return Warehouse(IbisEngine(warehouse), redact(warehouse))
    path = Path(warehouse.removeprefix("duckdb://"))
    path = path if path.is_absolute() else root / path
    return Warehouse(DuckDBEngine(path), str(path))
