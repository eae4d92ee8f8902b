"""One sync: read what changed in the CRM since the last successful sync, then load it as one transaction.

The order of events, so an interrupted sync never leaves half a sync behind:

1. a `sync_runs` row says the sync is running (its own small transaction);
2. the CRM is read — every page of every object — before the warehouse is touched;
3. the records go through the export importers' mapping, validation, quarantine and reconciliation
   (`ingest.prepare`), then rows are loaded, deleted records removed and the run marked succeeded with its
   new cursor, all in ONE transaction: a failure anywhere rolls every write back and the cursor stays where
   it was, so the next sync reads the same records again;
4. a failed sync's row says why (never a credential).

Incremental syncs start each object at its cursor (the newest modification time the last successful sync
saw) minus an overlap, and ask for records modified at or after it: a record modified at the very moment of
the cursor, or committed late, is read again rather than missed, and reading it twice changes nothing (rows
are upserted by key, and records are de-duplicated by id). A full sync (`--full`, or the first one) reads
everything, and also removes rows of the synced tables the CRM no longer has at all.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

import pandas as pd

from cadence.errors import CadenceError, InputError
from cadence.ingest.batch import ImportOptions
from cadence.ingest.prepare import PreparedImport, prepare
from cadence.metrics.money import refuse_other_corporate
from cadence.progress import Progress, Silent
from cadence.schema.ddl import quote
from cadence.schema.tables import table_named
from cadence.sync.records import Fetched, Removal, SyncBatch
from cadence.workspace import Workspace

__all__ = ["SOURCES", "Connector", "SyncOutcome", "last_started", "last_success", "run_sync", "sync_log"]

SOURCES = ("salesforce", "hubspot")


class Connector(Protocol):
    """A CRM: reads objects (`fetch`), then maps what it read onto an import batch (`to_batch`)."""

    source: str
    skipped: list[str]  # objects the CRM does not have, or the user may not read (said in the run's message)

    def fetch(self, cursors: dict[str, str], full: bool, progress: Progress) -> list[Fetched]: ...

    def to_batch(self, fetched: list[Fetched], options: ImportOptions, run_id: str, full: bool) -> SyncBatch: ...

    def close(self) -> None: ...


@dataclass
class SyncOutcome:
    """What one sync did, as `cadence sync --format json` prints it."""

    run_id: str
    source: str
    full: bool
    status: str = "running"
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    deleted: int = 0
    cursor: dict[str, str] = field(default_factory=dict)
    objects: list[dict[str, Any]] = field(default_factory=list)
    unknown_fields: dict[str, list[str]] = field(default_factory=dict)
    message: str = ""
    prepared: PreparedImport | None = None
    changed: bool | None = None  # once committed: whether the warehouse's rows changed (False: nothing new)

    def summary(self) -> dict[str, Any]:
        tables = self.prepared.summary()["tables"] if self.prepared else {}
        return {"run_id": self.run_id, "source": self.source, "full": self.full, "status": self.status,
                "read": self.read, "loaded": self.loaded, "quarantined": self.quarantined, "deleted": self.deleted,
                "objects": self.objects, "tables": tables, "cursor": self.cursor,
                "unknown_fields": self.unknown_fields, "message": self.message,
                **({"changed": self.changed} if self.changed is not None else {})}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def last_success(ws: Workspace, source: str) -> dict[str, Any] | None:
    """The newest succeeded sync of `source` (its row as a dict), or None."""
    rows = ws.warehouse.select("sync_runs", ("run_id", "finished_at", "cursor", "full"),
                               where=(("source", "=", source), ("status", "=", "succeeded")),
                               order_by="finished_at DESC", limit=1)
    if not rows:
        return None
    run_id, finished, cursor, full = rows[0]
    return {"run_id": run_id, "finished_at": finished, "cursor": json.loads(cursor or "{}"), "full": full}


def last_started(ws: Workspace, source: str) -> datetime | None:
    """When the newest succeeded sync of `source` started (naive UTC), or None."""
    rows = ws.warehouse.select("sync_runs", ("started_at",), where=(("source", "=", source),
                                                                    ("status", "=", "succeeded")),
                               order_by="started_at DESC", limit=1)
    return rows[0][0] if rows else None


def sync_log(ws: Workspace, source: str | None = None, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """The newest syncs first (of `source`, or of every CRM), the `offset` newest skipped: when, what they read,
    loaded, quarantined and deleted, and why one failed or that it changed no row. What `cadence sync log` and
    the admin's Syncs page (/admin/syncs) show."""
    columns = ("run_id", "source", "started_at", "finished_at", "status", "full", "read", "loaded", "quarantined",
               "deleted", "message")
    rows = ws.warehouse.select("sync_runs", columns, where=(("source", "=", source),),
                               order_by="started_at DESC, run_id DESC", limit=limit, offset=offset)
    found = [dict(zip(columns, row, strict=True)) for row in rows]
    for row in found:
        row["full"] = bool(row["full"])
    return found


def _write_run(ws: Workspace, outcome: SyncOutcome, started: datetime, finished: datetime | None,
               note: str = "") -> None:
    """The run's row in `sync_runs`; `note` goes before the outcome's message in the log (not in the summary)."""
    message = "; ".join(part for part in (note, outcome.message) if part)
    row = pd.DataFrame([{
        "run_id": outcome.run_id, "source": outcome.source, "started_at": started, "finished_at": finished,
        "status": outcome.status, "full": outcome.full, "cursor": json.dumps(outcome.cursor, sort_keys=True),
        "read": outcome.read, "loaded": outcome.loaded, "quarantined": outcome.quarantined,
        "deleted": outcome.deleted, "message": message or None}])
    ws.warehouse.upsert(table_named("sync_runs"), row)


def _count_in(ws: Workspace, table: str, column: str, ids: list[str]) -> int:
    total = 0
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        marks = ", ".join(f"${n}" for n in range(1, len(chunk) + 1))
        total += int(ws.warehouse.query(f"SELECT count(*) FROM {quote(table)} WHERE {quote(column)} IN ({marks})",
                                        tuple(chunk))[0][0])
    return total


def _stale(ws: Workspace, table: str, column: str, source: str, seen: set[str]) -> list[str]:
    """Ids of `table` a full sync of `source` did not read: the CRM no longer has them."""
    rows = ws.warehouse.query(f"SELECT {quote(column)} FROM {quote(table)} WHERE source = $1", (source,))
    return sorted({str(r[0]) for r in rows if r[0] is not None} - seen)


def _remove(ws: Workspace, removals: list[Removal]) -> int:
    """Delete the rows of removed records; the number of records' rows that were there."""
    deleted = 0
    for removal in removals:
        ids = sorted(set(removal.ids))
        if not ids:
            continue
        if removal.counted:
            deleted += _count_in(ws, removal.table, removal.column, ids)
        ws.warehouse.delete_in(removal.table, removal.column, ids)
    return deleted


def _supersede_quarantine(ws: Workspace, source: str, run_id: str, work: SyncBatch) -> None:
    """An earlier sync's quarantined record that this sync read again (loaded now, or quarantined again under
    this run) leaves the earlier sync's quarantine: `cadence quarantine` lists each record's latest refusal."""
    read: dict[str, set[str]] = {}
    for item in work.batch.frames:
        key = table_named(item.table).key
        if item.primary and len(key) == 1 and key[0] in item.frame:
            read.setdefault(item.table, set()).update(str(v) for v in item.frame[key[0]].dropna())
    if not read:
        return
    rows = ws.warehouse.query(
        "SELECT import_key, line, target_table, column_name, row_json FROM quarantine "
        "WHERE import_key LIKE $1 AND import_key NOT LIKE $2", (f"{source}:{source}://%", f"%#{run_id}"))
    for import_key, line, target, column, row_json in rows:
        key = table_named(str(target)).key
        try:
            value = json.loads(row_json or "{}").get(key[0]) if len(key) == 1 else None
        except ValueError:
            continue
        if value is not None and str(value) in read.get(str(target), set()):
            ws.warehouse.execute("DELETE FROM quarantine WHERE import_key = $1 AND line = $2 AND target_table = $3 "
                                 "AND column_name = $4", (import_key, line, target, column))


def _full_removals(ws: Workspace, work: SyncBatch, source: str) -> list[Removal]:
    found = []
    for (table, column), seen in work.whole.items():
        stale = _stale(ws, table, column, source, seen)
        if stale:
            found.append(Removal(table, column, tuple(stale)))
            if table == "opportunities":
                found.append(Removal("opportunity_history", "opportunity_id", tuple(stale), counted=False))
    return found


def run_sync(ws: Workspace, source: str, connector: Connector, *, full: bool = False,
             progress: Progress | None = None, now: Callable[[], datetime] = _now) -> SyncOutcome:
    """Sync `source` through `connector` (see the module's docstring): the outcome, or a `CadenceError` after
    recording the failure."""
    if source not in SOURCES:
        raise InputError(f"unknown CRM {source!r}", hint="cadence sync salesforce, or cadence sync hubspot")
    progress = progress or Silent()
    previous = last_success(ws, source)
    cursors: dict[str, str] = {} if full or previous is None else dict(previous["cursor"])
    outcome = SyncOutcome(uuid.uuid4().hex[:12], source, full=full or previous is None, cursor=dict(cursors))
    started = now()
    with ws.warehouse.transaction():
        _write_run(ws, outcome, started, None)
    try:
        work = _read(ws, connector, outcome, cursors, progress)
        finished = _commit(ws, outcome, work, started, now)
        outcome.changed = ws.warehouse.last_changed
    except BaseException as error:
        outcome.status = "failed"
        outcome.message = error.one_line() if isinstance(error, CadenceError) else \
            f"interrupted ({type(error).__name__})"
        outcome.cursor = dict(cursors)
        outcome.loaded = outcome.quarantined = outcome.deleted = 0  # nothing was written
        # a warehouse that cannot record the failure must not hide its cause
        with contextlib.suppress(Exception), ws.warehouse.transaction():
            _write_run(ws, outcome, started, now())
        raise
    finally:
        connector.close()
    if outcome.changed is False:  # known once committed (so after it: the sync succeeded whatever happens here);
        with ws.warehouse.transaction():  # the log row says so too, a log, not data: the version stays
            _write_run(ws, outcome, started, finished, note=NO_ROW_CHANGED)
    if outcome.prepared is not None:  # committed: stages the sync inferred go to cadence.yml, as an import's do
        ws.configure_pipelines(outcome.prepared.configure)
        ws.keep_figures_ready(progress)  # the next scorecard or delivery starts from the new data's tables
    return outcome


def _read(ws: Workspace, connector: Connector, outcome: SyncOutcome, cursors: dict[str, str],
          progress: Progress) -> SyncBatch:
    """Read the CRM and prepare its records as an import (nothing written yet); fill in what was read."""
    fetched = connector.fetch(cursors, outcome.full, progress)
    options = ImportOptions(currency=ws.config.currency, progress=progress, timezone=ws.config.timezone,
                            pipelines=ws.config.pipelines)
    work = connector.to_batch(fetched, options, outcome.run_id, outcome.full)
    prepared = prepare(work.batch, ws.stages())
    refuse_other_corporate(prepared.upserts, ws.config.currency)
    outcome.prepared = prepared
    outcome.read, outcome.loaded, outcome.quarantined = prepared.read, prepared.loaded, prepared.quarantined
    outcome.objects = [{"object": f.name, "read": len(f.records), "deleted": len(f.deleted)} for f in fetched]
    outcome.unknown_fields = {f.name: sorted(f.unknown) for f in fetched if f.unknown}
    outcome.cursor.update({f.name: f.cursor for f in fetched if f.cursor})
    outcome.message = _notes(outcome, connector.skipped)
    return work


def _commit(ws: Workspace, outcome: SyncOutcome, work: SyncBatch, started: datetime,
            now: Callable[[], datetime]) -> datetime:
    """Load, remove what the CRM deleted, and mark the run succeeded with its new cursor: one transaction. The
    time it finished."""
    assert outcome.prepared is not None
    source = outcome.source
    with ws.warehouse.transaction():
        _supersede_quarantine(ws, source, outcome.run_id, work)
        ws.load(outcome.prepared)
        removals = work.removals + (_full_removals(ws, work, source) if outcome.full else [])
        if outcome.full:  # a full sync's quarantine replaces the earlier syncs'
            ws.warehouse.execute("DELETE FROM quarantine WHERE import_key LIKE $1 AND import_key NOT LIKE $2",
                                 (f"{source}:{source}://%", f"%#{outcome.run_id}"))
        outcome.deleted = _remove(ws, removals)
        outcome.status = "succeeded"
        finished = now()
        _write_run(ws, outcome, started, finished)
    return finished


NO_ROW_CHANGED = "no row changed (every record read was already in the warehouse as it is)"


def _notes(outcome: SyncOutcome, skipped: list[str]) -> str:
    """Fields the mapping does not read (ignored) and objects not read, once per sync."""
    notes = []
    if outcome.unknown_fields:
        parts = [f"{name}: {', '.join(fields[:8])}{' …' if len(fields) > 8 else ''}"
                 for name, fields in outcome.unknown_fields.items()]
        notes.append("fields Cadence does not read (ignored): " + "; ".join(parts))
    if skipped:
        where = "org" if outcome.source == "salesforce" else "account"
        notes.append(f"objects not in this {where} or not readable by its user (skipped): " + ", ".join(skipped))
    return "; ".join(notes)
