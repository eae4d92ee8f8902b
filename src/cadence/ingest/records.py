"""Split CSV text into records, setting aside the lines that are no record of the file.

Most exports are regular: every record on one line, with the header's number of fields. pandas'
C parser reads the file at full speed, and a check in C (counting lines and delimiters, or the csv
module counting fields where values are quoted) confirms it. Otherwise — a record spanning lines
(a quoted newline, as Salesforce's Description fields hold), a line with too many or too few
fields, a quote never closed — the file is read record by record, so every record keeps the
physical line it starts on and every broken line is set aside with its text and what is wrong:

- a line with more or fewer fields than the header is broken (a blank line is an empty record);
- a quote that opens and is not closed where a value ends is broken on the line it opens, and
  reading resumes on the next line, so it never swallows the rest of the file;
- a record spanning lines is whole when it has the header's number of fields and its quotes close
  properly;
- a trailing block of lines holding one value at most (a report's footer: blank lines, a
  confidentiality or copyright note) is kept as records for the importer to judge.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path

import pandas as pd

from cadence.errors import InputError, Location
from cadence.ingest.batch import BrokenLine
from cadence.progress import Progress
from cadence.schema.validate import LINE

CHUNK_ROWS = 50_000
QUOTE = '"'
_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}
UNCLOSED = ("a quote opens on this line and is not closed where its value ends (the lines after it were read "
            "on their own): close the quote, or export the file again")


@dataclass
class Records:
    """The records of a CSV text as text columns plus `_line`, and the lines set aside."""

    frame: pd.DataFrame
    broken: list[BrokenLine] = field(default_factory=list)


def split_records(text: str, delimiter: str, path: Path, progress: Progress) -> Records:
    """`text` (a whole CSV file, header first) as records; see the module's documentation."""
    header = text[: _line_end(text)]
    if not header.strip():
        raise InputError("the first line is blank: the file has no header row", location=Location(str(path), 1),
                         hint="remove the blank lines above the header")
    total = text.count("\n") or None
    progress.start(f"reading {path.name}", total if total and total > CHUNK_ROWS else None)
    try:
        frame = _parse_fast(text, header, delimiter, progress)
    finally:
        progress.finish()
    if frame is not None and _whole(text, delimiter, len(frame), len(frame.columns)):
        frame[LINE] = range(2, len(frame) + 2)
        return Records(frame)
    lines = io.StringIO(text, newline="").readlines()
    if frame is not None and len(frame) == len(lines) - 1 and _regular(text, lines, delimiter):
        frame[LINE] = range(2, len(frame) + 2)  # blank lines and a footer aside, all whole
        return Records(frame)
    progress.start(f"reading {path.name} record by record", len(lines) if len(lines) > CHUNK_ROWS else None)
    try:
        return _RecordReader(lines, delimiter, path, progress).read()
    finally:
        progress.finish()


def _line_end(text: str) -> int:
    ends = [i for i in (text.find("\n"), text.find("\r")) if i >= 0]
    return min(ends) if ends else len(text)


def _physical_lines(text: str) -> int | None:
    """How many lines `text` has, or None when some end with a lone carriage return (old Mac files)."""
    if text.count("\r") != text.count("\r\n"):
        return None
    return text.count("\n") + (0 if text.endswith("\n") else 1)


def _whole(text: str, delimiter: str, records: int, width: int) -> bool:
    """Cheaply, in C: one record per line, each with the header's `width` fields (pandas refused more)."""
    if _physical_lines(text) != records + 1:
        return False
    if QUOTE not in text:  # fields never hold a delimiter: count them all at once
        return text.count(delimiter) == (width - 1) * (records + 1)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        counts = list(map(len, reader))
    except csv.Error:
        return False
    return len(counts) == records + 1 and counts.count(width) == len(counts)


def _regular(text: str, lines: list[str], delimiter: str) -> bool:
    """Every record on one line with the header's number of fields, blank lines and a footer aside."""
    if QUOTE in text:
        try:
            counts = list(map(len, csv.reader(lines, delimiter=delimiter)))
        except csv.Error:
            return False
        if len(counts) != len(lines):  # a record spans lines
            return False
    else:
        counts = [n + 1 for n in map(str.count, lines, repeat(delimiter))]
    width = counts[0]
    odd = [i for i, n in enumerate(counts) if n != width]
    footer = _footer_start(counts)
    return all(i >= footer or not lines[i].strip("\r\n") for i in odd)


def _footer_start(counts: list[int]) -> int:
    """Where the trailing block of lines with one value at most begins (len(counts) when none)."""
    start = len(counts)
    while start > 1 and counts[start - 1] <= 1:
        start -= 1
    return start


def _parse_fast(text: str, header: str, delimiter: str, progress: Progress) -> pd.DataFrame | None:
    """pandas' C parser over the whole text; None if a line has more fields than the header."""
    chunks = []
    try:
        reader = pd.read_csv(io.BytesIO(text.encode("utf-8")), dtype=str, keep_default_na=False, na_filter=False,
                             sep=delimiter, chunksize=CHUNK_ROWS, skip_blank_lines=False, engine="c",
                             encoding="utf-8")
        for chunk in reader:
            if not isinstance(chunk.index, pd.RangeIndex):  # pandas took a first column for the index
                return None
            chunks.append(chunk)
            progress.advance(len(chunk))
    except pd.errors.ParserError:
        return None
    if not chunks:
        return pd.DataFrame(columns=header_columns(header, delimiter), dtype="object")
    return pd.concat(chunks, ignore_index=True).astype("object")


def header_columns(header: str, delimiter: str) -> list[str]:
    """The column names pandas gives a header (duplicates numbered: `Labels`, `Labels.1`)."""
    return [str(c) for c in pd.read_csv(io.StringIO(header), sep=delimiter, nrows=0, dtype=str).columns]


class _Feed:
    """The file's lines from `pos` on, one at a time, so a reader can be restarted on any line."""

    def __init__(self, lines: list[str], pos: int) -> None:
        self.lines, self.pos = lines, pos

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        if self.pos >= len(self.lines):
            raise StopIteration
        self.pos += 1
        return self.lines[self.pos - 1]


class _RecordReader:
    """Reads records one at a time with the csv module, tracking the physical line each starts on."""

    def __init__(self, lines: list[str], delimiter: str, path: Path, progress: Progress) -> None:
        self.lines, self.delimiter, self.progress = lines, delimiter, progress
        self.feed = _Feed(lines, 0)
        self._skip_header(path)
        self.columns = header_columns("".join(lines[: self.feed.pos]), delimiter)
        self.width = len(self.columns)
        self.rows: list[tuple[int, list[str]]] = []
        self.broken: list[BrokenLine] = []
        self.short: list[tuple[int, list[str]]] = []  # one value or none: a footer if nothing follows

    def _reader(self) -> Iterator[list[str]]:
        return csv.reader(self.feed, delimiter=self.delimiter, strict=True)

    def _skip_header(self, path: Path) -> None:
        try:
            next(self._reader())
        except csv.Error as error:
            raise InputError(f"the header row is not well-formed CSV ({error})", location=Location(str(path), 1),
                             hint="check its quotes") from None

    def read(self) -> Records:
        reader = self._reader()
        while self.feed.pos < len(self.lines):
            start = self.feed.pos
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as error:
                self._quote_error(start, str(error))
                reader = self._restart(start + 1)
                continue
            if self.feed.pos - start > 1 and len(row) != self.width:
                self._set_aside(start, UNCLOSED)
                reader = self._restart(start + 1)
                continue
            self._record(start, row)
            if start // CHUNK_ROWS != self.feed.pos // CHUNK_ROWS:
                self.progress.advance(CHUNK_ROWS)
        return self._records()

    def _restart(self, pos: int) -> Iterator[list[str]]:
        self.feed.pos = pos
        return self._reader()

    def _record(self, start: int, row: list[str]) -> None:
        if len(row) == self.width:
            self._flush_short()
            self.rows.append((start + 1, row))
        elif not row:
            self.rows.append((start + 1, [""] * self.width))
        elif len(row) == 1:
            self.short.append((start + 1, row + [""] * (self.width - 1)))
        else:
            self._flush_short()
            self._set_aside(start, self._count_reason(len(row)))

    def _quote_error(self, start: int, message: str) -> None:
        """A quote the csv module refuses: read a one-line record leniently, as pandas does; else set it aside."""
        if self.feed.pos - start > 1 or "end of data" in message:
            self._set_aside(start, UNCLOSED)
            return
        row = next(csv.reader([self.lines[start]], delimiter=self.delimiter), [])
        if len(row) == self.width:
            self._record(start, row)
        else:
            self._set_aside(start, self._count_reason(len(row), quote=True))

    def _count_reason(self, fields: int, quote: bool = False) -> str:
        said = f"line has {fields} fields, the header has {self.width}"
        if quote:
            return f"{said}: a quote inside a value is not doubled? fix the quotes on this line or export it again"
        if fields > self.width:
            name = _NAMES.get(self.delimiter, repr(self.delimiter))
            return f"{said}: an unquoted {name} in a value? fix the line or re-export with quoting"
        return f"{said}: a value cut short or a line broken in two? fix the line or export it again"

    def _set_aside(self, start: int, reason: str) -> None:
        self.broken.append(BrokenLine(start + 1, self.lines[start].rstrip("\r\n"), reason))

    def _flush_short(self) -> None:
        for line, _ in self.short:
            self.broken.append(BrokenLine(line, self.lines[line - 1].rstrip("\r\n"), self._count_reason(1)))
        self.short.clear()

    def _records(self) -> Records:
        rows = sorted(self.rows + self.short) if self.short else self.rows
        frame = pd.DataFrame([r for _, r in rows], columns=self.columns, dtype="object") if rows \
            else pd.DataFrame(columns=self.columns, dtype="object")
        frame[LINE] = [line for line, _ in rows]
        return Records(frame, sorted(self.broken, key=lambda b: b.line))
