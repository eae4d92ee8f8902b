"""Results kept in the warehouse between sessions, each under a key naming everything it was computed from.

An analysis that takes seconds (the bookings forecast with its backtest, the roadmap) gives the same answer to
every reader of the same data, the same settings and the same version of Cadence. The caller names a result by a
key that holds all of those, the warehouse's data stamp among them (`Warehouse.data_version`), and stores its body
as text; a later session asking with the same key reads it back instead of computing it. Any write to the data
changes the stamp, and so the key: nothing computed before a write is ever served after it, and nothing has to
remember to invalidate anything.

Kept on the engines whose tables Cadence owns, never while a write is under way: on DuckDB and PostgreSQL in the
table `_cadence_results`; on Spark, where every statement is a job of a second or more, as one file per result
in the folder beside its catalog (`_kept/`), written whole and renamed into place. The newest KEEP results of each
kind stay; older ones are dropped when a new one is stored.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from cadence.store.warehouse import Warehouse

TABLE = "_cadence_results"
KEEP = 360  # per kind: some thirty scorecards of twelve sections (weeks, currencies, as-of days)
log = logging.getLogger("cadence.store.kept_results")


class KeptResults:
    """The results kept in one warehouse (see the module's docstring): in its table, or on Spark in its files."""

    def __init__(self, warehouse: Warehouse):
        self._warehouse = warehouse
        folder = warehouse.kept_folder
        self._store: KeptTable | KeptFiles = KeptTable(warehouse) if folder is None else KeptFiles(folder)

    @property
    def kept(self) -> bool:
        """Whether results can be kept now: an engine that knows its data version, no write under way."""
        return self._warehouse.versioned and not self._warehouse.in_transaction

    def get(self, key: str) -> str | None:
        """The body kept under `key`, or None."""
        return self._store.get(key) if self.kept else None

    def put(self, key: str, kind: str, body: str) -> None:
        """Keep `body` under `key`; bookkeeping only, so a failure (a process racing us) is logged, not raised."""
        if self.kept:
            self._store.put(key, kind, body)

    def forget(self) -> int:
        """Drop every kept result (the benchmarks time a first session this way); how many there were."""
        return self._store.forget()


class KeptTable:
    """Results kept as rows of `_cadence_results` (DuckDB, PostgreSQL), created on the first one kept."""

    def __init__(self, warehouse: Warehouse):
        self._warehouse = warehouse
        self._ready = False

    def get(self, key: str) -> str | None:
        if TABLE not in self._tables():
            return None
        rows = self._warehouse.query(f"SELECT body FROM {TABLE} WHERE result_key = $1", (key,))
        return str(rows[0][0]) if rows else None

    def put(self, key: str, kind: str, body: str) -> None:
        wh = self._warehouse
        try:
            if TABLE not in self._tables():
                wh.execute(f"CREATE TABLE IF NOT EXISTS {TABLE} (result_key VARCHAR PRIMARY KEY, kind VARCHAR, "
                           "built_at TIMESTAMP, body VARCHAR)")
                self._ready = True
            wh.execute(f"DELETE FROM {TABLE} WHERE result_key = $1", (key,))
            wh.execute(f"INSERT INTO {TABLE} VALUES ($1, $2, $3, $4)",
                       (key, kind, datetime.now(UTC).replace(tzinfo=None), body))
            rows = wh.query(f"SELECT result_key FROM {TABLE} WHERE kind = $1 ORDER BY built_at DESC", (kind,))
            for (old,) in rows[KEEP:]:
                wh.execute(f"DELETE FROM {TABLE} WHERE result_key = $1", (old,))
        except Exception as error:
            log.info("%s not kept (%s: %s)", kind, type(error).__name__, error)

    def forget(self) -> int:
        if TABLE not in self._warehouse.table_names():
            return 0
        count = self._warehouse.count(TABLE)
        with contextlib.suppress(Exception):
            self._warehouse.execute(f"DELETE FROM {TABLE}")
        return count

    def _tables(self) -> set[str]:
        if self._ready:
            return {TABLE}
        names = self._warehouse.table_names()
        self._ready = TABLE in names
        return names


class KeptFiles:
    """Results kept as files, one per key, under a folder per kind (Spark's `_kept/`). A file is written to a
    temporary name and renamed over its key's name in one step, so a reader in another process sees the whole
    body or none; a failure is logged, not raised, as for the table."""

    def __init__(self, folder: Path):
        self._folder = folder

    def get(self, key: str) -> str | None:
        found = next((p for p in self._folder.glob(f"*/{_file_name(key)}") if p.is_file()), None)
        if found is None:
            return None
        try:
            return found.read_text(encoding="utf-8")
        except OSError:  # dropped by another process since
            return None

    def put(self, key: str, kind: str, body: str) -> None:
        path = self._folder / _slug(kind) / _file_name(key)
        temporary: str | None = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".writing-", suffix=".txt")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                out.write(body)
            os.replace(temporary, path)
            temporary = None
            older = sorted((p for p in path.parent.glob("*.txt") if not p.name.startswith(".")),
                           key=lambda p: p.stat().st_mtime, reverse=True)[KEEP:]
            for old in older:
                old.unlink(missing_ok=True)
        except OSError as error:
            log.info("%s not kept (%s: %s)", kind, type(error).__name__, error)
        finally:
            if temporary is not None:  # written only in part: nothing of it is left behind
                Path(temporary).unlink(missing_ok=True)

    def forget(self) -> int:
        files = [p for p in self._folder.glob("*/*.txt") if not p.name.startswith(".")]
        for path in files:
            path.unlink(missing_ok=True)
        return len(files)


def _file_name(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest() + ".txt"


def _slug(kind: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", kind.lower()).strip("-") or "results"
