"""The keys a file's earlier chunks held, so a key seen again in a later chunk is a duplicate, as in one frame.

A file read in chunks keeps, per key, a 96-bit fingerprint (two 64-bit fingerprints of the typed key values,
`fingerprints.py`, keeping 32 bits of the second) and the line it was first seen on: 16 bytes a row, not the
rows themselves. Two different keys share a fingerprint with a chance of about n² / 2⁹⁷ (under 10⁻¹⁵ for ten
million rows). The fingerprints are kept in sorted runs, one per chunk, and a filter of a few bits per key
(`_Filter`) says which of a new chunk's keys may have been seen: only those are looked for in the runs, so a
chunk of new keys costs about its own size, never the file's. When many keys of a chunk may have been seen
(a file that repeats itself), the smaller runs are merged, so looking for them stays quick.

Memory holds at most 64 MB of it, whatever the file's size: `IN_MEMORY_AT_MOST` keys in runs (32 MB), and
the filter, which stops growing at `FILTER_WORDS_AT_MOST` words (32 MB: 16 bits a key up to 16 million keys,
fewer after, so more new keys get through it: 1 in 84 at 20 million, 1 in 18 at 40 million). Past that many
keys the runs are merged into one and written to a file of their own (unnamed, in the workspace's folder, gone
when the import ends or its process dies), and new runs start in memory; the filter goes on covering every
key. The keys the filter lets through and the runs in memory do not hold are looked for in the files a block
at a time, read with `pread` (so the pages read stay the system's cache and never become the process's
memory, as pages of a mapped file would): the keys and each file are both in order, so a block is compared
only with the keys its range holds.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from cadence.schema.fingerprints import exact_for_duplicates, fingerprints

_LINE_BITS = np.uint64(32)
_LINE_MASK = np.uint64(0xFFFFFFFF)
MERGED_AT_MOST = 1 << 21  # runs grow by merging up to about two million keys (32 MB): searched, never re-sorted
BUSY = 16  # a chunk is busy when more than 1 in BUSY of its keys may have been seen: then runs are merged
IN_MEMORY_AT_MOST = 1 << 21  # keys kept in memory (32 MB of runs); past it, the runs are written to a file
FILTER_WORDS_AT_MOST = 1 << 22  # the filter's largest size (32 MB)
BLOCK = 1 << 20  # keys of a written run read at a time (8 MB)


@dataclass(frozen=True)
class Seen:
    """What the ledger knew of a chunk's keys: the line an earlier chunk held each on (<NA> when new), and
    whether two rows of the chunk itself may share a key (False: certainly none does)."""

    earlier: pd.Series
    repeats: bool


class KeyLedger:
    """Sorted runs of (fingerprint, second fingerprint << 32 | first line), and a filter over them."""

    def __init__(self, folder: Path | None = None, *, in_memory: int | None = None) -> None:
        """`folder`: where runs past `in_memory` keys (None: `IN_MEMORY_AT_MOST`) are written (None: the
        system's temporary folder)."""
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._filter = _Filter()
        self._busy = False  # whether the last chunk looked for many of its keys in the runs
        self._folder = folder
        self._in_memory = IN_MEMORY_AT_MOST if in_memory is None else in_memory
        self._written: list[_WrittenRun] = []

    def __len__(self) -> int:
        return sum(len(first) for first, _ in self._runs) + sum(run.size for run in self._written)

    @property
    def in_memory(self) -> int:
        """How many of the keys are held in memory (the rest are in written runs)."""
        return sum(len(first) for first, _ in self._runs)

    def close(self) -> None:
        """Let go of the written runs' files (also done when the ledger is dropped)."""
        for run in self._written:
            run.close()
        self._written = []

    def earlier_lines(self, keys: pd.DataFrame, lines: pd.Series) -> pd.Series:
        """For each row of `keys`, the line an earlier chunk held its key on (<NA> when new); then remember
        the new keys, each with the first of `lines` it is on."""
        return self.look_up(keys, lines).earlier

    def look_up(self, keys: pd.DataFrame, lines: pd.Series) -> Seen:
        """`earlier_lines`, and whether the chunk's own rows may repeat a key (see `Seen`)."""
        first, second = fingerprints(keys)
        second >>= _LINE_BITS
        order = np.argsort(first, kind="stable")  # searched in order, the runs are read front to back
        first, second = first[order], second[order]
        same_first = first[1:] == first[:-1]
        found = self._find(first, second)
        repeated = np.zeros(len(first), dtype=bool)
        repeated[1:] = same_first & (second[1:] == second[:-1])  # stable: the first stays
        new = (found < 0) & ~repeated
        self._add(first[new], (second[new] << _LINE_BITS) | lines.to_numpy(dtype=np.uint64)[order][new])
        earlier = np.empty_like(found)
        earlier[order] = found
        repeats = bool(same_first.any()) or not exact_for_duplicates(keys)
        return Seen(pd.Series(earlier, index=keys.index).astype("Int64").where(earlier >= 0), repeats)

    def _find(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """The first line each (sorted) fingerprint was seen on, -1 where it was not."""
        found = np.full(len(first), -1, dtype=np.int64)
        held = self._runs or self._written
        maybe = np.flatnonzero(self._filter.may_hold(first)) if held else np.empty(0, dtype=np.int64)
        self._busy = len(maybe) * BUSY > len(first)
        if not len(maybe):
            return found
        wanted, rest = first[maybe], second[maybe]
        lines = np.full(len(maybe), -1, dtype=np.int64)
        for run_first, run_rest in self._runs:
            at = np.minimum(np.searchsorted(run_first, wanted), len(run_first) - 1)
            hit = (run_first[at] == wanted) & ((run_rest[at] >> _LINE_BITS) == rest) & (lines < 0)
            lines[hit] = (run_rest[at[hit]] & _LINE_MASK).astype(np.int64)
        if self._written:
            missing = np.flatnonzero(lines < 0)
            lines[missing] = self._find_written(wanted[missing], rest[missing])
        found[maybe] = lines
        return found

    def _find_written(self, first: np.ndarray, second: np.ndarray) -> np.ndarray:
        """`_find` in the written runs: each read a block at a time, against the (sorted) keys in its range."""
        lines = np.full(len(first), -1, dtype=np.int64)
        for run in self._written:
            for start in range(0, run.size, BLOCK):
                block = run.firsts(start, min(BLOCK, run.size - start))
                low = int(np.searchsorted(first, block[0], side="left"))
                high = int(np.searchsorted(first, block[-1], side="right"))
                if low == high:
                    continue
                wanted = first[low:high]
                at = np.minimum(np.searchsorted(block, wanted), len(block) - 1)
                same = np.flatnonzero((block[at] == wanted) & (lines[low:high] < 0))
                if not len(same):
                    continue
                rest = run.rests(start + at[same])
                hit = (rest >> _LINE_BITS) == second[low:high][same]
                lines[low + same[hit]] = (rest[hit] & _LINE_MASK).astype(np.int64)
        return lines

    def _add(self, first: np.ndarray, rest: np.ndarray) -> None:
        if not len(first):
            return
        self._runs.append((first, rest))
        self._filter.add(first, self._every_first)
        if self._busy:  # many keys looked for: fewer, larger runs to look in
            small = 0
            while small < len(self._runs) and len(self._runs[-1 - small][0]) < MERGED_AT_MOST:
                small += 1
            if small > 1:
                merged = self._runs[-small:]
                del self._runs[-small:]
                self._runs.append(_merge(merged))
        if self.in_memory > self._in_memory:
            self._written.append(_WrittenRun(*_merge(self._runs), folder=self._folder))
            self._runs = []

    def _every_first(self) -> Iterator[np.ndarray]:
        """Every key's first fingerprint, in sorted pieces: the runs in memory, then the written runs' blocks."""
        for run_first, _ in self._runs:
            yield run_first
        for run in self._written:
            for start in range(0, run.size, BLOCK):
                yield run.firsts(start, min(BLOCK, run.size - start))


def _merge(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted runs as one (a stable sort of runs already in order merges them: no comparison sort)."""
    first = np.concatenate([run[0] for run in runs])
    order = np.argsort(first, kind="stable")
    return first[order], np.concatenate([run[1] for run in runs])[order]


class _WrittenRun:
    """A sorted run in an unnamed file: every first fingerprint, then every (second << 32 | line)."""

    def __init__(self, first: np.ndarray, rest: np.ndarray, *, folder: Path | None):
        self.size = len(first)
        self._folder = folder or Path(tempfile.gettempdir())
        self._file: IO[bytes] = tempfile.TemporaryFile(prefix="cadence-keys-", dir=folder)  # noqa: SIM115 (kept open)
        first.astype("<u8", copy=False).tofile(self._file)
        rest.astype("<u8", copy=False).tofile(self._file)
        self._file.flush()

    def firsts(self, start: int, count: int) -> np.ndarray:
        return np.frombuffer(self._read(8 * start, 8 * count), dtype="<u8")

    def rests(self, positions: np.ndarray) -> np.ndarray:
        """The (second << 32 | line) at each of `positions` (few: only where a first fingerprint matched)."""
        if len(positions) * 64 > self.size:  # many: one read of the range they span
            low, high = int(positions.min()), int(positions.max()) + 1
            span = np.frombuffer(self._read(8 * (self.size + low), 8 * (high - low)), dtype="<u8")
            return span[positions - low]
        return np.array([np.frombuffer(self._read(8 * (self.size + int(at)), 8), dtype="<u8")[0]
                         for at in positions], dtype=np.uint64)

    def _read(self, offset: int, size: int) -> bytes:
        parts = []
        while size > 0:
            part = os.pread(self._file.fileno(), size, offset)
            if not part:
                raise OSError(f"a file of the import's keys in {self._folder} ended early: is the disk full?")
            parts.append(part)
            offset, size = offset + len(part), size - len(part)
        return parts[0] if len(parts) == 1 else b"".join(parts)

    def close(self) -> None:
        self._file.close()


class _Filter:
    """A blocked Bloom filter of first fingerprints: each key sets 3 bits of one 64-bit word, the word chosen
    by its top bits. A key whose bits are not all set was never added; one whose bits are may have been (about
    1 in 100 new keys, at the filter's fullest: 16 bits a key, after which it doubles, up to
    `FILTER_WORDS_AT_MOST` words)."""

    def __init__(self) -> None:
        self._words = np.zeros(min(1 << 10, FILTER_WORDS_AT_MOST), dtype=np.uint64)
        self._count = 0

    def may_hold(self, first: np.ndarray) -> np.ndarray:
        word, bits = self._place(first)
        return (self._words[word] & bits) == bits

    def add(self, first: np.ndarray, every: Callable[[], Iterator[np.ndarray]]) -> None:
        """Add `first` (already among `every()`: all keys, in sorted pieces), doubling the filter over all of
        them when it is full and may grow."""
        self._count += len(first)
        if self._count * 16 > len(self._words) * 64 and len(self._words) < FILTER_WORDS_AT_MOST:
            size = len(self._words)
            while self._count * 32 > size * 64 and size < FILTER_WORDS_AT_MOST:
                size *= 2
            self._words = np.zeros(size, dtype=np.uint64)
            for piece in every():
                self._set(piece)
        else:
            self._set(first)

    def _set(self, first: np.ndarray) -> None:
        """Set the bits of `first` (sorted, so each word's keys are together: one OR a word)."""
        word, bits = self._place(first)
        if not len(word):
            return
        starts = np.flatnonzero(np.r_[True, word[1:] != word[:-1]])
        self._words[word[starts]] |= np.bitwise_or.reduceat(bits, starts)

    def _place(self, first: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        shift = np.uint64(64 - (len(self._words).bit_length() - 1))
        word = (first >> shift).astype(np.intp)
        one = np.uint64(1)
        bits = (one << (first & np.uint64(63))) | (one << ((first >> np.uint64(6)) & np.uint64(63))) \
            | (one << ((first >> np.uint64(12)) & np.uint64(63)))
        return word, bits
