"""What an importer hands over: canonical rows per table, still as read, with their source lines.

Every importer (generic CSV, Salesforce, HubSpot, Maven, …) only maps a source format onto
canonical column names. Validation, quarantine and reconciliation are shared (`prepare.py`),
so every format loses nothing in the same way.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol, runtime_checkable

import pandas as pd

from cadence.config import Stage
from cadence.progress import Progress, Silent
from cadence.schema.validate import LINE, PROBLEM, PROBLEM_COLUMN

__all__ = ["LINE", "PROBLEM", "PROBLEM_COLUMN", "BrokenLine", "CanonicalFrame", "ChunkedImport", "ImportBatch",
           "ImportOptions", "ReadFacts", "SourceFile"]


CHUNK_ROWS_ENV = "CADENCE_IMPORT_CHUNK_ROWS"
DEFAULT_CHUNK_ROWS = 200_000
READ_FACTS = "cadence.read"  # key of `ReadFacts` in the `attrs` of a frame `read_table` returns
BINARY = "binary"  # the encoding of a file that is not text (Excel, Parquet)


@dataclass(frozen=True)
class BrokenLine:
    """A physical line that is no record of its file (too many or too few fields, an unclosed quote)."""

    line: int
    raw: str
    reason: str


@dataclass(frozen=True)
class ReadFacts:
    """What reading a file learnt besides its records: its encoding and the lines set aside."""

    encoding: str | None
    broken: tuple[BrokenLine, ...] = ()

    def __deepcopy__(self, memo: dict[int, object]) -> ReadFacts:
        return self  # immutable: pandas copies a frame's attrs on every operation


@dataclass
class SourceFile:
    """One file read: its path, its records (`rows`, starting on `lines`), broken lines and encoding.

    `lines` None means the records are on lines 2 … rows + 1 (one line each, after the header).
    """

    path: str
    rows: int
    lines: frozenset[int] | None = None
    broken: tuple[BrokenLine, ...] = ()
    encoding: str | None = None

    @classmethod
    def of(cls, path: str, frame: pd.DataFrame) -> SourceFile:
        """The file `frame` (as `read_table` returned it, perhaps filtered) was read from."""
        facts = frame.attrs.get(READ_FACTS)
        lines = frozenset(frame[LINE].astype(int)) if LINE in frame else None
        if not isinstance(facts, ReadFacts):
            return cls(path, len(frame), lines)
        return cls(path, len(frame), lines, facts.broken, facts.encoding)

    @property
    def read(self) -> int:
        """Records read: those handed to the importer and the broken lines."""
        return self.rows + len(self.broken)

    def record_lines(self) -> set[int]:
        """The first line of every record handed to the importer."""
        return set(self.lines) if self.lines is not None else set(range(2, self.rows + 2))


@dataclass
class CanonicalFrame:
    """Rows for one canonical table, from one file.

    `primary` frames hold exactly one row per record of `file`: reconciliation counts them.
    Derived frames (history built from a deal's stage-date columns, a manager built from a
    team file) are validated and quarantined the same way but do not count as records read.
    `replace_on` names a column whose groups are replaced whole on re-import (e.g. all of an
    opportunity's derived history), instead of being upserted row by row.
    """

    table: str
    frame: pd.DataFrame
    file: str
    primary: bool = True
    replace_on: str | None = None


@dataclass
class ImportBatch:
    """What an importer read. `skipped` lists (file, reason) for files of a folder it did not import."""

    format: str
    files: list[SourceFile] = field(default_factory=list)
    frames: list[CanonicalFrame] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def add(self, frame: CanonicalFrame) -> None:
        self.frames.append(frame)


@dataclass
class ChunkedImport:
    """An import read a chunk at a time: each batch of `chunks` is one stretch of one file (`files` are the
    files whose records it counts, in order). The batches are read only as they are asked for."""

    format: str
    files: list[str]
    chunks: Iterator[ImportBatch]
    skipped: list[tuple[str, str]] = field(default_factory=list)


def chunk_rows() -> int:
    """Rows per chunk of a large file: $CADENCE_IMPORT_CHUNK_ROWS, else 200,000."""
    value = os.environ.get(CHUNK_ROWS_ENV, "")
    return max(1, int(value)) if value.strip().isdigit() else DEFAULT_CHUNK_ROWS


@dataclass
class ImportOptions:
    """How to read: `encoding` None detects it per file; `full` declares each export the whole table;
    `chunk_rows` None reads large files in chunks of `chunk_rows()`."""

    mapping: Path | None = None
    encoding: str | None = None
    currency: str = "USD"
    progress: Progress = field(default_factory=Silent)
    full: bool = False
    timezone: str = "UTC"
    pipelines: dict[str, list[Stage]] = field(default_factory=dict)  # cadence.yml's: used over inference
    chunk_rows: int | None = None


class Importer(Protocol):
    """A source format. `read` maps files under `path` to canonical frames; it never writes."""

    name: str
    description: str

    def read(self, path: Path, options: ImportOptions) -> ImportBatch: ...


@runtime_checkable
class ChunkedImporter(Importer, Protocol):
    """A format whose files can be read a chunk at a time, so an import's memory does not grow with them."""

    def read_chunks(self, path: Path, options: ImportOptions) -> ChunkedImport: ...


def problem(frame: pd.DataFrame, mask: pd.Series, column: str, reason: str) -> None:
    """Mark rows an importer itself refuses (e.g. a stage time it cannot parse), keeping the first reason."""
    if PROBLEM not in frame:
        frame[PROBLEM] = pd.Series(None, index=frame.index, dtype="object")
        frame[PROBLEM_COLUMN] = pd.Series(None, index=frame.index, dtype="object")
    mask = mask.fillna(False).astype(bool) & frame[PROBLEM].isna()
    frame.loc[mask, PROBLEM] = reason
    frame.loc[mask, PROBLEM_COLUMN] = column
