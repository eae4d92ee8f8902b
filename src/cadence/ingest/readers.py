"""Reading export files as text tables, with line numbers, clear errors and progress.

Every cell comes back as a string ('' when empty) so nothing is lost to type guessing before
validation; `_line` is the record's line in the file, the header being line 1.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.progress import Progress, Silent
from cadence.schema.validate import LINE

CHUNK_ROWS = 50_000
TABULAR_SUFFIXES = {".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".parquet"}


def read_table(path: Path, *, encoding: str = "utf-8", progress: Progress | None = None,
               required: list[str] | None = None) -> pd.DataFrame:
    """Read a CSV/TSV, Excel or Parquet file into text columns plus `_line`."""
    progress = progress or Silent()
    if not path.exists():
        raise InputError("file not found", location=Location(str(path)))
    suffix = path.suffix.lower()
    if suffix in {".xlsx", ".xlsm"}:
        frame = _read_excel(path)
    elif suffix == ".parquet":
        frame = _read_parquet(path)
    elif suffix in {".csv", ".tsv", ".txt"}:
        frame = _read_csv(path, encoding, progress)
    else:
        raise InputError(
            f"unknown file type {suffix or '(none)'!r}", location=Location(str(path)),
            hint="Cadence reads .csv, .tsv, .xlsx and .parquet exports",
        )
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    frame[LINE] = range(2, len(frame) + 2)
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


def _read_csv(path: Path, encoding: str, progress: Progress) -> pd.DataFrame:
    raw = path.read_bytes()
    try:
        text_sample = raw[:65536].decode(encoding.replace("utf-8", "utf-8-sig"), errors="strict")
        raw.decode(encoding, errors="strict")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InputError(
            f"not {encoding} text (byte 0x{raw[exc.start]:02x} on line {line})",
            location=Location(str(path), line),
            hint="re-export the file as UTF-8, or pass --encoding latin-1 (or the file's encoding)",
        ) from None
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", location=Location(str(path))) from None
    if not text_sample.strip():
        raise InputError("the file is empty", location=Location(str(path)), hint="export it again with its header row")
    delimiter = _sniff_delimiter(text_sample, path.suffix.lower())
    total = raw.count(b"\n")
    progress.start(f"reading {path.name}", total if total > CHUNK_ROWS else None)
    chunks = []
    try:
        reader = pd.read_csv(
            path, dtype=str, keep_default_na=False, na_filter=False, encoding=encoding.replace("utf-8", "utf-8-sig"),
            sep=delimiter, chunksize=CHUNK_ROWS, skip_blank_lines=False, engine="c",
        )
        for chunk in reader:
            chunks.append(chunk)
            progress.advance(len(chunk))
    except pd.errors.ParserError as exc:
        raise InputError(f"not a well-formed CSV file ({exc})".replace("\n", " "), location=Location(str(path)),
                         hint="check the delimiter and quoting of the export") from None
    except pd.errors.EmptyDataError:
        raise InputError("the file has no header row", location=Location(str(path))) from None
    finally:
        progress.finish()
    frame = pd.concat(chunks, ignore_index=True) if chunks else pd.DataFrame()
    return frame.astype("object")


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
