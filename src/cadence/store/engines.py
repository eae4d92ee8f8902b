"""The engines a warehouse can live on, each written to through its own driver.

Statements take PostgreSQL-style numbered parameters (`$1`, `$2`, …): DuckDB binds them natively, psycopg
binds them natively through its `RawCursor` (server-side), and any other Ibis backend gets them bound as
literals by sqlglot in that backend's dialect. Reads always go through Ibis.
"""

from __future__ import annotations

import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from cadence.errors import WarehouseError
from cadence.schema.ddl import quote
from cadence.schema.tables import Table

# the pip extra that brings a backend's driver; other backends come with ibis-framework's own extra
EXTRAS = {"postgres": "cadence[postgres]", "postgresql": "cadence[postgres]"}


class Engine(Protocol):
    dialect: str

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None: ...
    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]: ...
    def read_frame(self, sql: str) -> pd.DataFrame: ...
    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None: ...
    def unstage(self, name: str) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def ibis(self) -> Any: ...
    def close(self) -> None: ...


def install_hint(scheme: str) -> str:
    """The one pip command that brings the driver of a backend."""
    return f"pip install '{EXTRAS.get(scheme, f'ibis-framework[{scheme}]')}'"


def redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


LOCK_WAIT_SECONDS = float(os.environ.get("CADENCE_LOCK_WAIT", "60"))


def waiting_marker(path: Path) -> Path:
    """The file a process waiting for the warehouse leaves beside it: `cadence serve` sees it, lets go of the
    file between requests and answers "an import is running" until the waiter is done."""
    return path.with_name(path.name + ".waiting")


def _open_duckdb(path: Path, wait_seconds: float) -> Any:
    """Open the DuckDB file; while another process (`cadence serve`) holds it, ask it to let go and wait."""
    import ibis

    deadline = time.monotonic() + wait_seconds
    marker = waiting_marker(path)
    try:
        while True:
            try:
                return ibis.duckdb.connect(str(path))
            except Exception as exc:  # duckdb raises IOException on a locked or corrupt file
                if "lock" not in str(exc).lower():
                    raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from exc
                if time.monotonic() >= deadline:
                    raise WarehouseError(
                        f"the warehouse {path} is held by another process", hint="stop `cadence serve` (or the "
                        "other command) and run this again, or move the warehouse to PostgreSQL so both can work "
                        "at once") from exc
                marker.touch()
                time.sleep(0.2)
    finally:
        marker.unlink(missing_ok=True)


MEMORY_ENV = "CADENCE_DUCKDB_MEMORY"
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB|KIB|MIB|GIB|TIB)?\s*$", re.IGNORECASE)
_UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def memory_bytes(size: str) -> int | None:
    """`size` ("2GB", "512 MiB", "300MB") in bytes; None when it is not a size (a number alone is bytes)."""
    match = _SIZE.match(size)
    if not match:
        return None
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "B").upper()])


def duckdb_memory_limit() -> int | None:
    """$CADENCE_DUCKDB_MEMORY in bytes: how much memory DuckDB may hold, its cache of what it has read
    included (unset: DuckDB's own default, 80% of the machine's memory)."""
    given = os.environ.get(MEMORY_ENV, "").strip()
    if not given:
        return None
    size = memory_bytes(given)
    if size is None or size < 16 * 2**20:
        raise WarehouseError(f"{MEMORY_ENV}={given!r} is not a memory size of at least 16MB",
                             hint=f"write it as DuckDB does, for example {MEMORY_ENV}=2GB or {MEMORY_ENV}=512MB")
    return size


class DuckDBEngine:
    dialect = "duckdb"

    def __init__(self, path: Path, *, wait_seconds: float | None = None):
        self.memory_limit = duckdb_memory_limit()  # before opening: a wrong setting leaves nothing open
        self._ibis = _open_duckdb(path, LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds)
        self.raw = self._ibis.con
        self._staged: dict[str, Any] = {}  # name → Arrow table (see `stage`)
        self.raw.execute("SET enable_progress_bar = false")  # DuckDB's own bar would write into our output
        self.limit_memory(self.memory_limit)

    def limit_memory(self, size: int | None) -> None:
        """Let DuckDB hold at most `size` bytes (None: as $CADENCE_DUCKDB_MEMORY says, else DuckDB's default)."""
        size = size if size is not None else self.memory_limit
        self.raw.execute(f"SET memory_limit = '{int(size)}B'" if size is not None else "RESET memory_limit")

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        self._offer(sql)
        self.raw.execute(sql, params) if params else self.raw.execute(sql)

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        self._offer(sql)
        return list(self.raw.execute(sql, params).fetchall() if params else self.raw.execute(sql).fetchall())

    def read_frame(self, sql: str) -> pd.DataFrame:
        return self.raw.execute(sql).df()  # type: ignore[no-any-return]

    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None:
        """`frame` as Arrow, offered to each statement that names it as a stream read once (`_offer`)."""
        import pyarrow as pa

        self._staged[name] = pa.Table.from_pandas(frame, preserve_index=False)

    def _offer(self, sql: str) -> None:
        """Register a fresh stream over each staged table `sql` names. DuckDB keeps whatever was registered
        inside a transaction until it ends; a stream it has read holds no rows, so an import written a chunk
        at a time holds one chunk, not every chunk it wrote."""
        import pyarrow as pa

        for name, rows in self._staged.items():
            if name in sql:
                self.raw.register(name, pa.RecordBatchReader.from_batches(rows.schema, _once(rows.to_batches())))

    def unstage(self, name: str) -> None:
        if self._staged.pop(name, None) is not None:
            self.raw.unregister(name)

    def begin(self) -> None:
        self.raw.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def ibis(self) -> Any:
        return self._ibis

    def close(self) -> None:
        self._ibis.disconnect()


def _once(batches: list[Any]) -> Iterator[Any]:
    """Each batch handed over and let go of."""
    while batches:
        yield batches.pop(0)


class PostgresEngine:
    """Writes through one psycopg connection (server-side `$n` parameters); reads through Ibis's own connection."""

    dialect = "postgres"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError as exc:
            raise WarehouseError("this workspace's warehouse is PostgreSQL", hint=install_hint("postgres")) from exc
        try:
            self.raw = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.RawCursor)
        except psycopg.Error as exc:
            raise WarehouseError(f"cannot reach PostgreSQL at {redact(url)}: {exc}".strip()) from exc
        self._url = url
        self._ibis_con: Any = None

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        self.raw.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        return list(self.raw.execute(sql, params).fetchall())

    def read_frame(self, sql: str) -> pd.DataFrame:
        cursor = self.raw.execute(sql)
        return pd.DataFrame(cursor.fetchall(), columns=[d.name for d in cursor.description or []])

    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None:
        from cadence.schema.ddl import create_table_sql

        ddl = create_table_sql(table, "postgres").replace(
            f"CREATE TABLE IF NOT EXISTS {quote(table.name)}", f"CREATE TEMP TABLE {quote(name)}", 1
        )
        self.raw.execute(ddl)
        columns = ", ".join(quote(c) for c in table.column_names)
        buffer = io.StringIO()
        frame[table.column_names].to_csv(buffer, index=False, header=False, na_rep="\\N",
                                         date_format="%Y-%m-%d %H:%M:%S.%f")
        buffer.seek(0)
        with self.raw.cursor().copy(
            f"COPY {quote(name)} ({columns}) FROM STDIN WITH (FORMAT csv, NULL '\\N')"
        ) as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)

    def unstage(self, name: str) -> None:
        self.raw.execute(f"DROP TABLE IF EXISTS {quote(name)}")

    def begin(self) -> None:
        self.raw.execute("BEGIN")

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def ibis(self) -> Any:
        if self._ibis_con is None:
            import ibis

            self._ibis_con = ibis.connect(self._url)
        return self._ibis_con

    def close(self) -> None:
        if self._ibis_con is not None:
            self._ibis_con.disconnect()
        self.raw.close()


class IbisEngine:
    """Any other backend Ibis connects to by URL (`sqlite://`, `mysql://`, …): everything through Ibis."""

    def __init__(self, url: str):
        import ibis

        scheme = url.split("://", 1)[0]
        try:
            self._ibis = ibis.connect(url)
        except ImportError as exc:
            raise WarehouseError(f"the {scheme} driver is not installed", hint=install_hint(scheme)) from exc
        except Exception as exc:
            raise WarehouseError(f"cannot open the warehouse {redact(url)}: {exc}") from exc
        self.backend_dialect = str(self._ibis.name)
        # statements (the DDL too) are written in DuckDB's SQL and translated by sqlglot into the backend's
        self.dialect = "duckdb"

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        self._run(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        return list(self._run(sql, params).fetchall())

    def read_frame(self, sql: str) -> pd.DataFrame:
        return self._ibis.sql(bind(sql, (), self.backend_dialect)).to_pandas()  # type: ignore[no-any-return]

    def table_names(self) -> set[str]:
        """The tables of the connection's database, as the backend lists them (not every engine has
        information_schema)."""
        return set(self._ibis.list_tables())

    def column_names(self, table: str) -> list[str]:
        return list(self._ibis.get_schema(table).names) if table in self.table_names() else []

    def _run(self, sql: str, params: tuple[Any, ...] | None) -> Any:
        return self._ibis.raw_sql(bind(sql, params or (), self.backend_dialect))

    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None:
        self._ibis.create_table(name, frame, temp=True)

    def unstage(self, name: str) -> None:
        self._ibis.drop_table(name, force=True)

    def begin(self) -> None:
        self._ibis.raw_sql("BEGIN")

    def commit(self) -> None:
        self._ibis.raw_sql("COMMIT")

    def rollback(self) -> None:
        self._ibis.raw_sql("ROLLBACK")

    def ibis(self) -> Any:
        return self._ibis

    def close(self) -> None:
        self._ibis.disconnect()


def bind(sql: str, params: tuple[Any, ...], dialect: str) -> str:
    """`sql` (DuckDB's SQL) with its `$n` parameters bound as literals by sqlglot, written in `dialect`."""
    if not params and dialect == "duckdb":
        return sql
    import sqlglot
    from sqlglot import exp

    def literal(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Placeholder):
            return exp.convert(params[int(node.this) - 1])  # type: ignore[return-value]
        return node

    return sqlglot.parse_one(sql, read="duckdb").transform(literal).sql(dialect)
