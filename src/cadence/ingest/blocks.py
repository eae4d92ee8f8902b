"""A large UTF-8 CSV file as blocks of whole lines, read as they are needed, so an import's memory is flat.

Each block is the header line followed by the next stretch of lines, cut after a line end where every quote
opened since the last cut has closed (an even number of `"`), so no record spans two blocks. `records.py`
splits each block as it splits a whole file; the block's `offset` turns its line numbers into the file's.

Only UTF-8 text (with or without a byte-order mark) is read in blocks, and only once the whole file is known
to be valid UTF-8: any other encoding (UTF-16, cp1252), a file no larger than one block, or a header that is
not one plain line is read whole, by the rules of `decoding.py` and `records.py`, as before.
"""

from __future__ import annotations

import codecs
import functools
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from cadence.ingest.decoding import SAMPLE, UTF8, UTF8_BOM, canonical_name, decode

_VERIFY_BYTES = 1 << 24


@dataclass(frozen=True)
class Block:
    """The header line and a stretch of lines; `offset` + a line number in `text` = the line in the file."""

    text: str
    offset: int
    last: bool


class TextBlocks:
    """The blocks of one file. `carry(block, index)` hands the block's lines from `index` on (0-based, the
    header being 0) back, to be read again at the start of the next block."""

    def __init__(self, path: Path, header: str, start: int, encoding: str, sample: str, block_bytes: int):
        self.path, self.encoding, self.sample, self.header = path, encoding, sample, header
        self._start, self._block_bytes = start, block_bytes
        self._pending = b""
        self._line = 2  # the file's line number of the first line in `_pending`

    @property
    def blocks(self) -> Iterator[Block]:
        with self.path.open("rb") as handle:
            handle.seek(self._start)
            yield from self._blocks(handle)

    def carry(self, block: Block, index: int) -> None:
        lines = io.StringIO(block.text, newline="").readlines()[index:]
        self._pending = "".join(lines).encode("utf-8") + self._pending
        self._line -= len(lines)

    def _blocks(self, handle: BinaryIO) -> Iterator[Block]:
        want = self._block_bytes
        while True:
            data = handle.read(want)
            buffer = self._pending + data
            if len(data) < want:  # the end of the file
                yield Block(self.header + buffer.decode("utf-8"), self._line - 2, last=True)
                return
            cut = buffer.rfind(b"\n") + 1
            if cut == 0 or (buffer.find(b'"', 0, cut) >= 0 and buffer.count(b'"', 0, cut) % 2):
                self._pending, want = buffer, want * 2  # a quote still open: read on
                continue
            self._pending, want = buffer[cut:], self._block_bytes
            lines = buffer[:cut]
            block = Block(self.header + lines.decode("utf-8"), self._line - 2, last=False)
            self._line += _line_ends(lines)
            yield block


def _line_ends(lines: bytes) -> int:
    """How many lines end in `lines` (at a \\n, a \\r\\n or a lone \\r), counted in the bytes: in UTF-8 neither
    byte is ever part of another character. A file with no \\r (nearly every one) is counted in one pass."""
    newlines = lines.count(b"\n")
    if b"\r" not in lines:
        return newlines
    return newlines + lines.count(b"\r") - lines.count(b"\r\n")


def text_blocks(path: Path, encoding: str | None, rows: int) -> TextBlocks | None:
    """`path` as blocks of about `rows` lines, or None when it is to be read whole (see the module's documentation)."""
    size = path.stat().st_size
    with path.open("rb") as handle:
        head = handle.read(SAMPLE)
    codec = _utf8_codec(head, encoding)
    end = head.find(b"\n") + 1
    if codec is None or end == 0 or head.rfind(b"\n") + 1 == end:
        return None  # not UTF-8, or fewer than two lines in the sample
    header_bytes = head[:end]
    if b"\r" in header_bytes[:-2] or header_bytes.count(b'"') % 2:
        return None  # a header on more than one line, or old Mac line ends
    sample_end = head.rfind(b"\n") + 1
    lines_in_sample = head.count(b"\n", end, sample_end)
    block_bytes = max(1, rows * (sample_end - end) // max(lines_in_sample, 1))
    stat = path.stat()
    if size <= end + block_bytes or not _is_utf8(path.resolve(), stat.st_size, stat.st_mtime_ns):
        return None
    decoded = decode(head[:sample_end], path, codec)  # refuses a binary file or one full of control characters
    header = header_bytes.decode(codec)
    name = UTF8_BOM if codec == "utf-8-sig" else UTF8
    return TextBlocks(path, header, end, name, decoded.text, block_bytes)


def _utf8_codec(head: bytes, encoding: str | None) -> str | None:
    """'utf-8' or 'utf-8-sig' when the file is to be read as UTF-8, else None."""
    if encoding is not None:
        try:
            name = canonical_name(encoding)
        except LookupError:
            return None  # `decode` says why, when the file is read whole
        if name not in (UTF8, UTF8_BOM):
            return None
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or b"\x00" in head[:4096]:
        return None
    return "utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"


@functools.lru_cache(maxsize=64)
def _is_utf8(path: Path, size: int, modified: int) -> bool:
    """Whether the whole file decodes as UTF-8 (read in pieces, never whole); asked once per file and version
    (its header is read before its records)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while piece := handle.read(_VERIFY_BYTES):
                decoder.decode(piece)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True
