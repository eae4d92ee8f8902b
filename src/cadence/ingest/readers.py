"""Reading export files as text tables, with line numbers, clear errors and progress.

Every cell comes back as a string ('' when empty) so nothing is lost to type guessing before
validation; `_line` is the physical line a record starts on, the header being line 1. A CSV's
encoding is detected unless given (`decoding.py`), and lines that are no record of the file
(`records.py`) are set aside: the frame's attrs carry both (`ReadFacts`), and
`SourceFile.of(path, frame)` hands them to reconciliation and quarantine.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import BINARY, READ_FACTS, ReadFacts
from cadence.ingest.decoding import SAMPLE, decode
from cadence.ingest.records import split_records
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
    return records.frame, ReadFacts(decoded.encoding, tuple(records.broken))


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
