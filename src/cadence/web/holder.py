"""The server's hold on the workspace: opened on the first request, shared by requests, let go when idle.

On the embedded DuckDB only one process may have the file open. So the server does not keep it between
requests: when nothing has used it for `idle_release_seconds`, or as soon as another process (`cadence ingest`
from a terminal) leaves its waiting marker beside the file, the server closes it; requests that come while that
other process works get "an import is running" (503 with Retry-After) and the page reloads after it. On
PostgreSQL both simply work, and the hold is kept.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from cadence.errors import CadenceError
from cadence.review.definitions import note_definition_change
from cadence.store.engines import DuckDBEngine, waiting_marker
from cadence.workspace import Workspace, open_workspace


class WarehouseBusy(CadenceError):
    """Another process is writing the embedded warehouse; try again in a moment."""


class WorkspaceHolder:
    """One open Workspace shared by requests, one request at a time (a DuckDB connection is not shared across
    threads safely), released when idle or when another process asks for the file."""

    def __init__(self, root: Path, *, idle_release_seconds: float = 2.0, workspace: Workspace | None = None):
        self.root = root
        self.idle_release_seconds = idle_release_seconds
        self._lock = threading.Lock()  # not an RLock: FastAPI may end a request in another thread than began it
        self._ws: Workspace | None = workspace
        self._kept = workspace is not None  # a workspace handed in (tests) is the caller's to close
        self._last_used = 0.0
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None
        self.generation = 0  # bumps on every reopen: caches keyed by it never outlive the data they came from

    # -- the request side ---------------------------------------------------------------------------
    @contextlib.contextmanager
    def use(self) -> Iterator[Workspace]:
        with self._lock:
            if self._ws is None:
                if self._someone_waiting():
                    raise WarehouseBusy("an import is running on this workspace", hint="the page reloads in a moment")
                try:
                    self._ws = open_workspace(self.root)
                except CadenceError as error:
                    if "held by another process" in error.message:
                        raise WarehouseBusy("an import is running on this workspace",
                                            hint="the page reloads in a moment") from error
                    raise
                self.generation += 1
                note_definition_change(self._ws, actor="cadence serve")  # an edit to cadence.yml is audited
            try:
                yield self._ws
            finally:
                self._last_used = time.monotonic()

    def close(self) -> None:
        self._stop.set()
        with self._lock:
            self._release()

    # -- letting go -----------------------------------------------------------------------------------
    @property
    def embedded(self) -> bool:
        return self._ws is not None and isinstance(self._ws.warehouse._engine, DuckDBEngine)

    def _duckdb_path(self) -> Path | None:
        ws = self._ws
        if ws is None or not isinstance(ws.warehouse._engine, DuckDBEngine):
            return None
        return Path(ws.warehouse.location)

    def _someone_waiting(self) -> bool:
        from cadence.config import load_config

        try:
            location = load_config(self.root).warehouse
        except CadenceError:
            return False
        if "://" in location and not location.startswith("duckdb://"):
            return False
        path = Path(location.removeprefix("duckdb://"))
        path = path if path.is_absolute() else self.root / path
        return waiting_marker(path).exists()

    def _release(self) -> None:
        if self._ws is not None and not self._kept:
            self._ws.close()
            self._ws = None

    def start_watching(self) -> None:
        """Close the embedded warehouse when idle or asked for (a daemon thread; no-op on other engines)."""
        if self._watcher is None:
            self._watcher = threading.Thread(target=self._watch, name="cadence-warehouse-release", daemon=True)
            self._watcher.start()

    def _watch(self) -> None:
        while not self._stop.wait(0.2):
            path = self._duckdb_path()
            if path is None or self._kept:
                continue
            asked = waiting_marker(path).exists()
            idle = time.monotonic() - self._last_used > self.idle_release_seconds
            if (asked or idle) and self._lock.acquire(blocking=False):
                try:
                    self._release()
                finally:
                    self._lock.release()

