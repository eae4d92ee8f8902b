"""Reading export files as text tables, with line numbers, clear errors and progress.

Every cell comes back as a string ('' when empty) so nothing is lost to type guessing before
validation; `_line` is the physical line a record starts on, the header being line 1. A CSV's
encoding is detected unless given (`decoding.py`), and lines that are no record of the file
(`records.py`) are set aside: the frame's attrs carry both (`ReadFacts`), and
`SourceFile.of(path, frame)` hands them to reconciliation and quarantine.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import BINARY, READ_FACTS, BrokenLine, ReadFacts
from cadence.ingest.blocks import text_blocks
from cadence.ingest.decoding import SAMPLE, decode
from cadence.ingest.records import header_columns, split_records
from cadence.progress import Progress, Silent
from cadence.schema.validate import LINE

TABULAR_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet"}


def read_table(path: Path, *, encoding: str | None = None, progress: Progress | None = None,
               required: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV, Excel or Parquet file into text columns plus `_line`.

    `encoding` None detects a CSV's. The frame's `attrs[READ_FACTS]` says which encoding was used and
    which lines were set aside as broken; pass the frame to `SourceFile.of` so none is lost.
    """
    progress = progress or Silent()
    if not path.exists():
        raise InputError("file not found", location=Location(str(path)))
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        frame, facts = _read_excel(path), ReadFacts(BINARY)
    elif suffix == ".parquet":
        frame, facts = _read_parquet(path), ReadFacts(BINARY)
    elif suffix in {".csv", ".tsv", ".txt"}:
        frame, facts = _read_csv(path, encoding, progress)
    else:
        raise InputError(
            f"unknown file type {suffix or '(none)'!r}", location=Location(str(path)),
            hint="Cadence reads .csv, .tsv, .xlsx and .parquet exports",
        )
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if LINE not in frame:
        frame[LINE] = range(2, len(frame) + 2)
    frame.attrs[READ_FACTS] = facts
    if required:
        require_columns(frame, required, path)
    return frame


def require_columns(frame: pd.DataFrame, required: list[str], path: Path) -> None:
    missing = [c for c in required if c not in frame.columns]
    if missing:
        present = ", ".join(c for c in frame.columns if c != LINE)[:300]
        raise InputError(
            f"missing required column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))}",
            location=Location(str(path), 1), hint=f"the header has: {present}",
        )


def _sniff_delimiter(sample: str, suffix: str) -> str:
    if suffix == ".tsv":
        return "\t"
    try:
        return csv.Sniffer().sniff(sample.split("\n", 1)[0] + "\n", delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _read_csv(path: Path, encoding: str | None, progress: Progress) -> tuple[pd.DataFrame, ReadFacts]:
    decoded = decode(path.read_bytes(), path, encoding)
    if not decoded.text.strip():
        raise InputError("the file is empty", location=Location(str(path)), hint="export it again with its header row")
    delimiter = _sniff_delimiter(decoded.text[:SAMPLE], path.suffix.lower())
    records = split_records(decoded.text, delimiter, path, progress)
    return records.frame.astype("object"), ReadFacts(decoded.encoding, tuple(records.broken))


def read_table_chunks(path: Path, *, rows: int, encoding: str | None = None,
                      progress: Progress | None = None) -> Iterator[pd.DataFrame]:
    """`read_table(path)` as frames of about `rows` records each, in file order, read as they are needed.

    A UTF-8 CSV larger than one chunk is read a block of lines at a time (`blocks.py`); any other file is read
    whole and handed out in slices. Each frame's `attrs[READ_FACTS]` carries the encoding and the broken lines
    of its own stretch of the file, so `SourceFile.of` reconciles chunk by chunk.
    """
    progress = progress or Silent()
    suffix = path.suffix.lower()
    streamed = text_blocks(path, encoding, rows) if suffix in {".csv", ".tsv", ".txt"} and path.is_file() else None
    if streamed is None:
        yield from _slices(read_table(path, encoding=encoding, progress=progress), rows)
        return
    delimiter = _sniff_delimiter(streamed.sample, suffix)
    columns: list[str] | None = None
    for block in streamed.blocks:
        records = split_records(block.text, delimiter, path, Silent(), last=block.last)
        if records.carry is not None:
            streamed.carry(block, records.carry)
        frame = records.frame
        frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
        columns = columns or list(frame.columns)
        if list(frame.columns) != columns:
            raise InputError("the header changes partway through the file", location=Location(str(path), 1))
        frame[LINE] = frame[LINE].astype("int64") + block.offset
        broken = tuple(BrokenLine(b.line + block.offset, b.raw, b.reason) for b in records.broken)
        frame.attrs[READ_FACTS] = ReadFacts(streamed.encoding, broken)
        progress.advance(len(frame) + len(broken))
        yield frame


def read_header(path: Path, *, encoding: str | None = None) -> pd.DataFrame:
    """No rows, and the columns `read_table(path)` gives (a large UTF-8 CSV's header read alone)."""
    suffix = path.suffix.lower()
    streamed = text_blocks(path, encoding, 1) if suffix in {".csv", ".tsv", ".txt"} and path.is_file() else None
    if streamed is None:
        return read_table(path, encoding=encoding).iloc[:0]
    columns = header_columns(streamed.header.rstrip("\r\n"), _sniff_delimiter(streamed.sample, suffix))
    return pd.DataFrame(columns=[c.strip().lstrip("\ufeff") for c in columns] + [LINE], dtype="object")


def _slices(frame: pd.DataFrame, rows: int) -> Iterator[pd.DataFrame]:
    """`frame` in slices of `rows`; the broken lines go with the first (at least one slice, even when empty)."""
    facts = frame.attrs.get(READ_FACTS)
    for start in range(0, max(len(frame), 1), rows):
        part = frame.iloc[start:start + rows].reset_index(drop=True)
        part.attrs = {READ_FACTS: facts if start == 0 or not isinstance(facts, ReadFacts)
                      else ReadFacts(facts.encoding)}
        yield part


def _read_excel(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_excel(path, dtype=str, keep_default_na=False, na_filter=False, engine="openpyxl")
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputError(f"cannot read as an Excel workbook ({type(exc).__name__}: {exc})",
                         location=Location(str(path)), hint="save it again as .xlsx") from None
    return frame.astype("object")


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow's errors for a broken file vary by version
        raise InputError(f"cannot read as Parquet ({type(exc).__name__})", location=Location(str(path))) from None
    return frame.astype("object").where(frame.notna(), "").map(
        lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v)
    )


def files_in(path: Path, *, suffixes: set[str] | None = None) -> list[Path]:
    """`path` itself, or the tabular files directly inside a folder, sorted by name."""
    suffixes = suffixes or TABULAR_SUFFIXES
    if path.is_dir():
        found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
        if not found:
            raise InputError("no export files in this folder", location=Location(str(path)),
                             hint=f"expected {', '.join(sorted(suffixes))}")
        return found
    if not path.exists():
        raise InputError("no such file or folder", location=Location(str(path)))
    return [path]
