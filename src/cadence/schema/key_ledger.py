"""The keys a file's earlier chunks held, so a key seen again in a later chunk is a duplicate, as in one frame.

A file read in chunks keeps, per key, a 96-bit fingerprint (two 64-bit fingerprints of the typed key values,
`fingerprints.py`, keeping 32 bits of the second) and the line it was first seen on: 16 bytes a row, not the
rows themselves. Two different keys share a fingerprint with a chance of about n² / 2⁹⁷ (under 10⁻¹⁵ for ten
million rows). The fingerprints are kept in sorted runs, one per chunk, and a filter of a few bits per key
(`_Filter`) says which of a new chunk's keys may have been seen: only those are looked for in the runs, so a
chunk of new keys costs about its own size, never the file's. When many keys of a chunk may have been seen
(a file that repeats itself), the smaller runs are merged, so looking for them stays quick.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.schema.fingerprints import exact_for_duplicates, fingerprints

_LINE_BITS = np.uint64(32)
_LINE_MASK = np.uint64(0xFFFFFFFF)
MERGED_AT_MOST = 1 << 21  # runs grow by merging up to about two million keys (32 MB): searched, never re-sorted
BUSY = 16  # a chunk is busy when more than 1 in BUSY of its keys may have been seen: then runs are merged


@dataclass(frozen=True)
class Seen:
    """What the ledger knew of a chunk's keys: the line an earlier chunk held each on (<NA> when new), and
    whether two rows of the chunk itself may share a key (False: certainly none does)."""

    earlier: pd.Series
    repeats: bool


class KeyLedger:
    """Sorted runs of (fingerprint, second fingerprint << 32 | first line), and a filter over them."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []
        self._filter = _Filter()
        self._busy = False  # whether the last chunk looked for many of its keys in the runs

    def __len__(self) -> int:
        return sum(len(first) for first, _ in self._runs)

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
        """The first line each (sorted) fingerprint was seen on in the runs, -1 where it was not."""
        found = np.full(len(first), -1, dtype=np.int64)
        maybe = np.flatnonzero(self._filter.may_hold(first)) if self._runs else np.empty(0, dtype=np.int64)
        self._busy = len(maybe) * BUSY > len(first)
        if not len(maybe):
            return found
        wanted, rest = first[maybe], second[maybe]
        lines = np.full(len(maybe), -1, dtype=np.int64)
        for run_first, run_rest in self._runs:
            at = np.minimum(np.searchsorted(run_first, wanted), len(run_first) - 1)
            hit = (run_first[at] == wanted) & ((run_rest[at] >> _LINE_BITS) == rest) & (lines < 0)
            lines[hit] = (run_rest[at[hit]] & _LINE_MASK).astype(np.int64)
        found[maybe] = lines
        return found

    def _add(self, first: np.ndarray, rest: np.ndarray) -> None:
        if not len(first):
            return
        self._runs.append((first, rest))
        self._filter.add(first, self._runs)
        if self._busy:  # many keys looked for: fewer, larger runs to look in
            small = 0
            while small < len(self._runs) and len(self._runs[-1 - small][0]) < MERGED_AT_MOST:
                small += 1
            if small > 1:
                merged = self._runs[-small:]
                del self._runs[-small:]
                self._runs.append(_merge(merged))


def _merge(runs: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Sorted runs as one (a stable sort of runs already in order merges them: no comparison sort)."""
    first = np.concatenate([run[0] for run in runs])
    order = np.argsort(first, kind="stable")
    return first[order], np.concatenate([run[1] for run in runs])[order]


class _Filter:
    """A blocked Bloom filter of first fingerprints: each key sets 3 bits of one 64-bit word, the word chosen
    by its top bits. A key whose bits are not all set was never added; one whose bits are may have been (about
    1 in 100 new keys, at the filter's fullest: 16 bits a key, after which it doubles)."""

    def __init__(self) -> None:
        self._words = np.zeros(1 << 10, dtype=np.uint64)
        self._count = 0

    def may_hold(self, first: np.ndarray) -> np.ndarray:
        word, bits = self._place(first)
        return (self._words[word] & bits) == bits

    def add(self, first: np.ndarray, runs: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Add `first` (already the last of `runs`), doubling the filter over all `runs` when it is full."""
        self._count += len(first)
        if self._count * 16 > len(self._words) * 64:
            size = len(self._words)
            while self._count * 32 > size * 64:
                size *= 2
            self._words = np.zeros(size, dtype=np.uint64)
            for run_first, _ in runs:
                self._set(run_first)
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
