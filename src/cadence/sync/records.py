"""API records as the text tables the export importers read: one mapping for a file and for the API.

A Salesforce record and a Data Loader row use the same field names, and a HubSpot record's properties are
the internal names the importer's mapping also knows; so a sync turns each page of records into a frame of
text columns (what `read_table` gives for a file) and hands it to the same object readers, validation,
quarantine and reconciliation as `cadence ingest`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from cadence.ingest.batch import LINE, CanonicalFrame, ImportBatch, SourceFile

__all__ = ["Fetched", "Removal", "as_text", "flatten", "frame_of", "source_path"]


def as_text(value: Any) -> str:
    """A JSON value as an export would write it: '' for null, 'true'/'false', numbers as written."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if value != 0 else "0"
    return str(value)


def flatten(record: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """A record's fields as text, nested objects as `Parent.Field` (Salesforce's `UserRole.Name`, as Data Loader
    writes it), lists of objects as their names (else ids) joined by ';'. Salesforce's `attributes` are left out."""
    out: dict[str, str] = {}
    for key, value in record.items():
        if key == "attributes":
            continue
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            parts = [item.get("name") or item.get("id") if isinstance(item, dict) else item for item in value]
            out[name] = ";".join(as_text(p) for p in parts if p is not None)
        else:
            out[name] = as_text(value)
    return out


def source_path(source: str, name: str, run_id: str) -> str:
    """The 'file' a sync's records of one object come from, as quarantine and the import log name it."""
    return f"{source}://{name}#{run_id}"


def frame_of(records: list[dict[str, str]], columns: list[str]) -> pd.DataFrame:
    """Records as text columns plus `_line` (the record's position, counted like a file's lines: 2, 3, …)."""
    names = list(dict.fromkeys([*columns, *(k for r in records for k in r)]))
    frame = pd.DataFrame([[r.get(c, "") for c in names] for r in records], columns=names, dtype="object")
    frame[LINE] = range(2, len(frame) + 2)
    return frame


@dataclass
class Fetched:
    """One object read from a CRM: live records (flattened), the ids it says were deleted, the newest
    modification time seen (the next incremental sync's start) and fields the mapping does not know."""

    name: str
    records: list[dict[str, str]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    cursor: str | None = None
    unknown: set[str] = field(default_factory=set)
    columns: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Removal:
    """Rows to remove: those of `table` whose `column` is one of `ids` (`counted`: they count as deleted)."""

    table: str
    column: str
    ids: tuple[str, ...]
    counted: bool = True


@dataclass
class SyncBatch:
    """What a connector hands over: the import batch, what to remove, and what a full sync read of each table."""

    batch: ImportBatch
    removals: list[Removal] = field(default_factory=list)
    whole: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (table, key) -> ids: a full read

    def add_object(self, path: str, frame: pd.DataFrame, outputs: list[tuple[Any, ...]]) -> None:
        """The frames an object reader made of `frame` (its first is the primary one: one row per record)."""
        self.batch.files.append(SourceFile.of(path, frame))
        for i, (table, rows, *rest) in enumerate(outputs):
            if table == "stages":
                continue  # a sync declares the stages from the CRM's own list (see each connector)
            replace_on = rest[0] if rest else None
            self.batch.add(CanonicalFrame(table, rows, path, primary=i == 0, replace_on=replace_on))
