"""The one quarantine policy for hand entries: checked like an import row, refused in one line, written once.

A file's bad row is quarantined for later because nobody is there to fix it; the person typing an entry is
right there, so a bad entry is refused instead — one line naming the field and what to do — and nothing is
written (no row, no quarantine, no import log). A good entry is an import of its own: one `ImportBatch` through
`prepare` and `Workspace.load`, logged in `imports` under its format, keyed so that entering it again updates
the same row instead of adding one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.errors import InputError
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import PreparedImport, prepare
from cadence.schema.ddl import quote
from cadence.schema.tables import table_named
from cadence.schema.validate import LINE

if TYPE_CHECKING:
    from cadence.workspace import Workspace

ENTRIES_FOLDER = "entries"  # the path an entry is logged under in `imports`: entries/FORMAT/KEY


class EntryRefused(InputError):
    """A hand entry the canonical schema refuses: nothing was written."""

    def __init__(self, what: str, column: str | None, value: Any, reason: str):
        self.column = column
        field = f"{column} " if column else ""
        shown = f"{value!r}: " if value is not None and not _missing(value) else ""
        fix = f"correct {column} and enter it again" if column else "correct it and enter it again"
        super().__init__(f"{what} refused — {field}{shown}{reason}", hint=f"{fix}; nothing was written")


@dataclass(frozen=True)
class Entry:
    """One row typed in for the canonical `table`, logged as an import of `format`, identified by `key`."""

    what: str  # how a person calls it: "shipment", "request", …
    table: str
    row: dict[str, Any]
    format: str
    key: str
    # rows of `table` the entry supersedes though its key differs, as column → value (None: the column is empty)
    replaces: dict[str, Any] | None = None


@dataclass(frozen=True)
class Written:
    """An entry written: where it went and how it was logged."""

    table: str
    key: str
    summary: dict[str, Any]  # the import's summary, as `cadence ingest --format json` gives it

    def as_dict(self) -> dict[str, Any]:
        return {"table": self.table, "key": self.key, **self.summary}


def entry_key(*parts: object) -> str:
    """A short stable digest of what identifies an entry (the same parts: the same key)."""
    return hashlib.sha1("|".join(str(p) for p in parts).encode()).hexdigest()[:10]


def prepare_entry(ws: Workspace, entry: Entry) -> PreparedImport:
    """The entry checked and prepared like an import; `EntryRefused` when the schema refuses it."""
    path = str(ws.root / ENTRIES_FOLDER / entry.format / entry.key)
    frame = pd.DataFrame([{**entry.row, LINE: 2}])
    batch = ImportBatch(entry.format, files=[SourceFile(path, 1)], frames=[CanonicalFrame(entry.table, frame, path)])
    prepared = prepare(batch, ws.stages())
    if prepared.quarantined:
        problem = prepared.quarantine.iloc[0]
        raise EntryRefused(entry.what, problem["column_name"] or None, problem["value"], str(problem["reason"]))
    return prepared


def write_entry(ws: Workspace, entry: Entry) -> Written:
    """Check `entry` and write it in one transaction with its import log, or refuse it and write nothing."""
    prepared = prepare_entry(ws, entry)
    with ws.warehouse.transaction():
        if entry.replaces:
            _delete_matching(ws, entry.table, entry.replaces)
        ws.load(prepared)
    return Written(entry.table, entry.key, prepared.summary())


def _delete_matching(ws: Workspace, table: str, where: dict[str, Any]) -> None:
    """Delete the rows of canonical `table` whose columns hold `where`'s values (None: the column is empty)."""
    known = set(table_named(table).column_names)
    if not set(where) <= known:
        raise ValueError(f"not columns of {table}: {sorted(set(where) - known)}")
    given = [(c, v) for c, v in where.items() if v is not None]
    tests = [f"{quote(c)} = ${n}" for n, (c, _) in enumerate(given, start=1)]
    tests += [f"{quote(c)} IS NULL" for c, v in where.items() if v is None]
    ws.warehouse.execute(f"DELETE FROM {quote(table)} WHERE {' AND '.join(tests)}", tuple(v for _, v in given))


def _missing(value: Any) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False
