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

A large file is read a block of lines at a time (`readers.read_table_chunks`): a block that is not the
file's last (`last=False`) has no footer, and the lines of one value at most it ends with are handed back
(`Records.carry`) to be read again at the start of the next block, so each is judged as the whole file would.
"""

from __future__ import annotations

import csv
import gc
import io
from dataclasses import dataclass, field
from itertools import islice, repeat
from pathlib import Path
from typing import Any

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
    carry: int | None = None  # with `last=False`: the 0-based line from which the text was left unread


def split_records(text: str, delimiter: str, path: Path, progress: Progress, *, last: bool = True) -> Records:
    """`text` (a whole CSV file, header first) as records; see the module's documentation.

    `last` False: `text` is the header and a block of lines with more to come (no footer; see `carry`)."""
    return _split(text, delimiter, path, progress, last)


def _split(text: str, delimiter: str, path: Path, progress: Progress, last: bool) -> Records:
    header = text[: _line_end(text)]
    if not header.strip():
        raise InputError("the first line is blank: the file has no header row", location=Location(str(path), 1),
                         hint="remove the blank lines above the header")
    physical = _physical_lines(text)
    if physical and _one_record_per_line(text, header, delimiter, physical, last):
        progress.start(f"reading {path.name}", physical if physical > CHUNK_ROWS else None)
        try:
            frame = _parse_fast(text, header, delimiter, progress)
        finally:
            progress.finish()
        if frame is not None and len(frame) == physical - 1:  # pandas refused no line, read no other
            frame[LINE] = range(2, physical + 1)
            return Records(frame)
    lines = io.StringIO(text, newline="").readlines()
    progress.start(f"reading {path.name} record by record", len(lines) if len(lines) > CHUNK_ROWS else None)
    try:
        return _RecordReader(lines, delimiter, path, progress, last).read()
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


def _one_record_per_line(text: str, header: str, delimiter: str, physical: int, last: bool = True) -> bool:
    """Every record on one line with no fewer fields than the header, blank lines and a footer aside
    (a footer only when `last`: the text ends the file).

    Counted in C. A line with more fields than the header is left for pandas to refuse.
    """
    if QUOTE in text:
        try:
            counts = list(map(len, csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)))
        except csv.Error:
            return False
        if len(counts) != physical:  # a record spans lines
            return False
        blank = [n == 0 for n in counts]
    else:  # no value holds a delimiter: with no line longer than the header, equal totals mean equal lines
        width = header.count(delimiter) + 1
        if text.count(delimiter) == (width - 1) * physical:
            return True
        lines = io.StringIO(text, newline="").readlines()
        counts = [n + 1 for n in map(str.count, lines, repeat(delimiter))]
        blank = [not line.strip("\r\n") for line in lines]
    width = counts[0]
    if counts.count(width) == len(counts):
        return True
    footer = _footer_start(counts) if last else len(counts)
    return all(n == width or blank[i] or i >= footer for i, n in enumerate(counts))


def _footer_start(counts: list[int]) -> int:
    """Where the trailing block of lines with one value at most begins (len(counts) when none)."""
    start = len(counts)
    while start > 1 and counts[start - 1] <= 1:
        start -= 1
    return start


def _parse_fast(text: str, header: str, delimiter: str, progress: Progress) -> pd.DataFrame | None:
    """Arrow's parser over the whole text, else pandas' C parser; None if a line has more fields than the header."""
    frame = _parse_with_arrow(text, header, delimiter)
    if frame is not None:
        progress.advance(len(frame))
        return frame
    return _parse_with_pandas(text, header, delimiter, progress)


def _parse_with_arrow(text: str, header: str, delimiter: str) -> pd.DataFrame | None:
    """pyarrow's parser (on several threads, letting go of the interpreter) over a text of plain records, every
    line with the header's fields; None at anything else (a line short of fields), which pandas reads as it
    always has. Its columns are Arrow-backed text (`str`), never missing: an empty value is ''."""
    import pyarrow as pa
    import pyarrow.csv as arrow_csv

    columns = header_columns(header, delimiter)
    if len(columns) < 2 or len(set(columns)) != len(columns):
        return None
    try:
        table = arrow_csv.read_csv(
            io.BytesIO(text.encode("utf-8")),
            read_options=arrow_csv.ReadOptions(column_names=columns, skip_rows=1),
            parse_options=arrow_csv.ParseOptions(delimiter=delimiter, ignore_empty_lines=False),
            convert_options=arrow_csv.ConvertOptions(column_types=dict.fromkeys(columns, pa.string()),
                                                     strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return table.to_pandas()  # text columns held by Arrow; `read_table` hands out Python strings


def _parse_with_pandas(text: str, header: str, delimiter: str, progress: Progress) -> pd.DataFrame | None:
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


class _RecordReader:
    """Reads records one at a time with the csv module, tracking the physical line each starts on.

    A reader started on line index `base` has consumed `base + reader.line_num` lines at any moment,
    so it can be restarted on any line (after an unclosed quote) without a Python-level line feed.
    """

    def __init__(self, lines: list[str], delimiter: str, path: Path, progress: Progress, last: bool = True) -> None:
        self.lines, self.delimiter, self.progress, self.last = lines, delimiter, progress, last
        self.base = 0
        self.reader = self._reader(0)
        self._skip_header(path)
        self.columns = header_columns("".join(lines[: self.pos]), delimiter)
        self.width = len(self.columns)
        self.rows: list[list[str]] = []
        self.starts: list[int] = []
        self.broken: list[BrokenLine] = []
        self.short: list[tuple[int, list[str]]] = []  # one value at most, padded: a footer if nothing follows

    @property
    def pos(self) -> int:
        """Index of the next line the reader will take."""
        return self.base + self.reader.line_num

    def _reader(self, pos: int) -> Any:
        self.base = pos
        return csv.reader(islice(self.lines, pos, None), delimiter=self.delimiter, strict=True)

    def _skip_header(self, path: Path) -> None:
        try:
            next(self.reader)
        except csv.Error as error:
            raise InputError(f"the header row is not well-formed CSV ({error})", location=Location(str(path), 1),
                             hint="check its quotes") from None

    def read(self) -> Records:
        collecting = gc.isenabled()
        gc.disable()  # a million small lists: the collector would rescan them all, again and again
        try:
            self._read_all()
        finally:
            if collecting:
                gc.enable()
        return self._records()

    def _read_all(self) -> None:
        total, width, rows, starts = len(self.lines), self.width, self.rows, self.starts
        while (start := self.pos) < total:
            try:
                row = next(self.reader)
            except StopIteration:
                break
            except csv.Error as error:
                self._quote_error(start, str(error))
                self.reader = self._reader(start + 1)
                continue
            if len(row) == width and not self.short:  # the common case, kept short
                rows.append(row)
                starts.append(start + 1)
                if not len(rows) % CHUNK_ROWS:
                    self.progress.advance(CHUNK_ROWS)
            elif self.pos - start > 1 and len(row) != width:
                self._set_aside(start, UNCLOSED)
                self.reader = self._reader(start + 1)
            else:
                self._record(start, row)

    def _record(self, start: int, row: list[str]) -> None:
        if len(row) == self.width:
            self._flush_short()
            self.rows.append(row)
            self.starts.append(start + 1)
        elif not row and not self.short:
            self.rows.append([""] * self.width)
            self.starts.append(start + 1)
        elif len(row) <= 1:
            self.short.append((start + 1, row + [""] * (self.width - len(row))))
        else:
            self._flush_short()
            self._set_aside(start, self._count_reason(len(row)))

    def _quote_error(self, start: int, message: str) -> None:
        """A quote the csv module refuses: read a one-line record leniently, as pandas does; else set it aside."""
        if self.pos - start > 1 or "end of data" in message:
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
        """Lines of one value are broken when a record follows them; blank ones are empty records."""
        for line, row in self.short:
            if any(row):
                self.broken.append(BrokenLine(line, self.lines[line - 1].rstrip("\r\n"), self._count_reason(1)))
            else:
                self.rows.append(row)
                self.starts.append(line)
        self.short.clear()

    def _records(self) -> Records:
        carry = None
        if self.short and not self.last and self.short[-1][0] == len(self.lines) \
                and [line for line, _ in self.short] == list(range(self.short[0][0], len(self.lines) + 1)):
            carry = self.short[0][0] - 1  # the next block decides: records if a footer, else broken lines
            self.short.clear()
        for line, row in self.short:  # a footer: records for the importer to judge
            self.rows.append(row)
            self.starts.append(line)
        frame = pd.DataFrame(self.rows, columns=self.columns, dtype="object") if self.rows \
            else pd.DataFrame(columns=self.columns, dtype="object")
        frame[LINE] = self.starts
        return Records(frame, sorted(self.broken, key=lambda b: b.line), carry)
