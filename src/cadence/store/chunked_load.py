"""Load an import read in chunks: each chunk validated and written as it comes, all inside one transaction.

Memory holds one chunk at a time (and at most 64 MB of the keys seen, `KeyLedger`), whatever the files' size.
Nothing about an import changes: it is all or nothing (an error in any chunk, a chunk that does not reconcile,
rolls every chunk back), idempotent (rows replace rows with the same key; a file's quarantine replaces its
last one), and reconciled (per file: read = loaded + quarantined, summed over its chunks).

A table that was empty when the import began and that only one file loads takes its rows by plain INSERT:
no row of it can match an earlier one (a key repeated across chunks is quarantined as a duplicate), so the
DELETE that makes a re-import replace rows has nothing to find.

Three stages overlap, each on its own thread: the next chunk is read (decoded, parsed, mapped) while this one
is validated and the one before is written. The parser and the warehouse let go of the interpreter while
they work, so on two cores the reading and the writing mostly hide behind the validation. Chunks are written
one at a time, in order; when anything fails, the write under way finishes before the transaction rolls back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, TypeVar

import pandas as pd

from cadence.ingest.batch import ChunkedImport
from cadence.ingest.prepare import QUARANTINE_COLUMNS, FileOutcome, PreparedImport, Preparer, TableCounts, import_key
from cadence.schema.tables import table_named
from cadence.store.warehouse import Warehouse

T = TypeVar("T")
_END = object()


class _Writer:
    """Writes each chunk's rows, choosing per table between INSERT (a fresh table) and replace-by-key."""

    def __init__(self, warehouse: Warehouse):
        self.warehouse = warehouse
        self.loaded_from: dict[str, str] = {}  # table → the one file that loaded it so far
        self.fresh: set[str] = set()  # tables empty before the import, loaded by one file so far

    def write(self, file: str, prepared: PreparedImport) -> None:
        for table_name, frame, replace_on in prepared.upserts:
            table = table_named(table_name)
            if table_name not in self.loaded_from:
                self.loaded_from[table_name] = file
                if self.warehouse.count(table_name) == 0:
                    self.fresh.add(table_name)
            elif self.loaded_from[table_name] != file:
                self.fresh.discard(table_name)
            if replace_on and table_name not in self.fresh:
                self.warehouse.delete_in(table_name, replace_on, frame[replace_on].dropna().unique().tolist())
            if table_name in self.fresh:
                self.warehouse.append(table, frame)
            else:
                self.warehouse.upsert(table, frame)
        if len(prepared.quarantine):
            self.warehouse.upsert(table_named("quarantine"), prepared.quarantine)


def load_in_chunks(warehouse: Warehouse, chunked: ChunkedImport, preparer: Preparer,
                   check: Callable[[PreparedImport], None] = lambda _: None) -> PreparedImport:
    """Prepare and write every chunk of `chunked` in one transaction; `check(chunk)` may refuse one (raising)."""
    outcomes = {path: FileOutcome(path, import_key(chunked.format, path), 0, 0, 0) for path in chunked.files}
    tables: dict[str, TableCounts] = {}
    quarantined: list[pd.DataFrame] = []
    writer = _Writer(warehouse)
    with warehouse.bounded_memory(), warehouse.transaction():
        for outcome in outcomes.values():
            warehouse.delete_where("quarantine", "import_key", outcome.import_key)
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="cadence-write") as writing:
            written: Future[None] | None = None
            for batch in read_ahead(chunked.chunks):
                part = preparer.add(batch)
                check(part)
                if written is not None:
                    written.result()  # the chunk before is in: one chunk written at a time, in order
                written = writing.submit(writer.write, batch.frames[0].file if batch.frames else "", part)
                _add_up(part, outcomes, tables)
                if len(part.quarantine):
                    quarantined.append(part.quarantine)
                del part, batch  # the next chunk is read with this one gone
            if written is not None:
                written.result()
        prepared = PreparedImport(
            chunked.format, list(outcomes.values()), [],
            pd.concat(quarantined, ignore_index=True) if quarantined else pd.DataFrame(columns=QUARANTINE_COLUMNS),
            tables, list(chunked.skipped))
        now = datetime.now(UTC).replace(tzinfo=None)
        warehouse.upsert(table_named("imports"), prepared.imports_frame(now))
    return prepared


def _add_up(part: PreparedImport, outcomes: dict[str, FileOutcome], tables: dict[str, TableCounts]) -> None:
    for chunk in part.files:
        outcome = outcomes[chunk.path]
        outcome.read += chunk.read
        outcome.loaded += chunk.loaded
        outcome.quarantined += chunk.quarantined
        outcome.encoding = outcome.encoding or chunk.encoding
    for name, counts in part.tables.items():
        total = tables.setdefault(name, TableCounts())
        total.loaded += counts.loaded
        total.quarantined += counts.quarantined


def read_ahead(items: Iterator[T]) -> Iterator[T]:
    """`items`, the next one made in a thread while the caller works on the one it has; an error raised making
    one is raised here, in its turn. When the caller stops early, the thread stops after the item it is on."""
    ready: queue.Queue[tuple[Any, BaseException | None]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def hand_over(item: Any, error: BaseException | None = None) -> bool:
        while not stop.is_set():
            try:
                ready.put((item, error), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not hand_over(item):
                    return
            hand_over(_END)
        except BaseException as error:  # handed to the caller, raised there
            hand_over(None, error)

    thread = threading.Thread(target=make, name="cadence-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, error = ready.get()
            if error is not None:
                raise error
            if item is _END:
                return
            yield item
    finally:
        stop.set()
        thread.join()
