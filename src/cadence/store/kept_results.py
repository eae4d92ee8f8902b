"""Results kept in the warehouse between sessions, each under a key naming everything it was computed from.

An analysis that takes seconds (the bookings forecast with its backtest, the roadmap) gives the same answer to
every reader of the same data, the same settings and the same version of Cadence. The caller names a result by a
key that holds all of those, the warehouse's data stamp among them (`Warehouse.data_version`), and stores its body
as text; a later session asking with the same key reads it back instead of computing it. Any write to the data
changes the stamp, and so the key: nothing computed before a write is ever served after it, and nothing has to
remember to invalidate anything.

Kept on DuckDB and PostgreSQL (the engines whose tables Cadence owns), never while a write is under way. The
newest KEEP results of each kind stay; older ones are dropped when a new one is stored.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import UTC, datetime

from cadence.store.warehouse import Warehouse

TABLE = "_cadence_results"
KEEP = 360  # per kind: some thirty scorecards of twelve sections (weeks, currencies, as-of days)
log = logging.getLogger("cadence.store.kept_results")


class KeptResults:
    """The results kept in one warehouse (see the module's docstring)."""

    def __init__(self, warehouse: Warehouse):
        self._warehouse = warehouse
        self._ready = False

    @property
    def kept(self) -> bool:
        """Whether results can be kept now: an engine with a data stamp, no write under way."""
        return self._warehouse.stamps and not self._warehouse.in_transaction

    def get(self, key: str) -> str | None:
        """The body kept under `key`, or None."""
        if not self.kept or TABLE not in self._tables():
            return None
        rows = self._warehouse.query(f"SELECT body FROM {TABLE} WHERE result_key = $1", (key,))
        return str(rows[0][0]) if rows else None

    def put(self, key: str, kind: str, body: str) -> None:
        """Keep `body` under `key`; bookkeeping only, so a failure (a process racing us) is logged, not raised."""
        if not self.kept:
            return
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
        """Drop every kept result (the benchmarks time a first session this way); how many there were."""
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
