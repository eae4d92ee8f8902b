"""One warehouse per workspace: an embedded DuckDB file by default, or PostgreSQL.

Reads go through Ibis (`table()`), so the metrics and analyses above never see the engine.
Writes (imports, the demo) go through `transaction()`, one database transaction each, so a
failed import leaves the warehouse exactly as it was.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pandas as pd

from cadence.errors import WarehouseError
from cadence.schema.ddl import quote
from cadence.schema.tables import Table


class _Engine(Protocol):
    dialect: str

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None: ...
    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]: ...
    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None: ...
    def unstage(self, name: str) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def ibis(self) -> Any: ...
    def close(self) -> None: ...


class _DuckDB:
    dialect = "duckdb"

    def __init__(self, path: Path):
        import ibis

        try:
            self._ibis = ibis.duckdb.connect(str(path))
        except Exception as exc:  # duckdb raises IOException on a locked or corrupt file
            raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from None
        self.raw = self._ibis.con
        self.raw.execute("SET enable_progress_bar = false")  # DuckDB's own bar would write into our output

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        self.raw.execute(sql, params) if params else self.raw.execute(sql)

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        return list(self.raw.execute(sql, params).fetchall() if params else self.raw.execute(sql).fetchall())

    def stage(self, name: str, table: Table, frame: pd.DataFrame) -> None:
        self.raw.register(name, frame)

    def unstage(self, name: str) -> None:
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


class _Postgres:
    """Writes through one psycopg connection; reads through Ibis's own connection."""

    dialect = "postgres"

    def __init__(self, url: str):
        try:
            import psycopg
        except ImportError:
            raise WarehouseError(
                "this workspace's warehouse is PostgreSQL", hint="pip install 'cadence[postgres]'"
            ) from None
        try:
            self.raw = psycopg.connect(url, autocommit=True)
        except psycopg.Error as exc:
            raise WarehouseError(f"cannot reach PostgreSQL at {_redact(url)}: {exc}".strip()) from None
        self._url = url
        self._ibis_con: Any = None

    def execute(self, sql: str, params: tuple[Any, ...] | None = None) -> None:
        self.raw.execute(sql.replace("?", "%s"), params) if params else self.raw.execute(sql)

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        cursor = self.raw.execute(sql.replace("?", "%s"), params) if params else self.raw.execute(sql)
        return list(cursor.fetchall())

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


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://…@{rest.split('@', 1)[1]}"
    return url


class Warehouse:
    """The workspace's database. Ibis tables out; transactional, idempotent writes in."""

    def __init__(self, engine: _Engine, location: str):
        self._engine = engine
        self.location = location
        self._in_transaction = False

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
        self._engine.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | None = None) -> list[tuple[Any, ...]]:
        return self._engine.query(sql, params)

    def table_names(self) -> set[str]:
        rows = self.query(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {r[0] for r in rows}

    def column_names(self, table: str) -> list[str]:
        rows = self.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
            "AND table_name = ? ORDER BY ordinal_position",
            (table,),
        )
        return [r[0] for r in rows]

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT count(*) FROM {quote(table)}")[0][0])

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Warehouse]:
        """All writes inside happen together or not at all."""
        if self._in_transaction:
            yield self
            return
        self._engine.begin()
        self._in_transaction = True
        try:
            yield self
        except BaseException:
            self._engine.rollback()
            raise
        else:
            self._engine.commit()
        finally:
            self._in_transaction = False

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

    def delete_where(self, table: str, column: str, value: Any) -> None:
        self.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} = ?", (value,))

    def delete_in(self, table: str, column: str, values: list[Any]) -> None:
        """Delete rows whose `column` is one of `values` (used to replace derived rows whole)."""
        for start in range(0, len(values), 1000):
            chunk = values[start:start + 1000]
            marks = ", ".join("?" for _ in chunk)
            self.execute(f"DELETE FROM {quote(table)} WHERE {quote(column)} IN ({marks})", tuple(chunk))

    def read_frame(self, sql: str) -> pd.DataFrame:
        """Run SQL and return a DataFrame (for checks and tests; metrics use Ibis)."""
        if self.dialect == "duckdb":
            return self._engine.raw.execute(sql).df()  # type: ignore[attr-defined, no-any-return]
        cursor = self._engine.raw.execute(sql)  # type: ignore[attr-defined]
        columns = [d.name for d in cursor.description or []]
        return pd.DataFrame(cursor.fetchall(), columns=columns)

    def close(self) -> None:
        self._engine.close()


def connect(warehouse: str, root: Path) -> Warehouse:
    """Open the warehouse named in cadence.yml: a DuckDB path (relative to the workspace) or a URL."""
    if warehouse.startswith(("postgresql://", "postgres://")):
        return Warehouse(_Postgres(warehouse), _redact(warehouse))
    if "://" in warehouse and not warehouse.startswith("duckdb://"):
        scheme = warehouse.split("://", 1)[0]
        raise WarehouseError(
            f"warehouse scheme {scheme!r} is not supported yet",
            hint="use a DuckDB file path or postgresql://user@host/db",
        )
    path = Path(warehouse.removeprefix("duckdb://"))
    path = path if path.is_absolute() else root / path
    return Warehouse(_DuckDB(path), str(path))
