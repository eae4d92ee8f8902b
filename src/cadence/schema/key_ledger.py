"""The keys a file's earlier chunks held, so a key seen again in a later chunk is a duplicate, as in one frame.

A file read in chunks keeps, per key, a 96-bit fingerprint (a 64-bit and a 32-bit hash of the typed key
values, each with its own hash key) and the line it was first seen on: 16 bytes a row, not the rows
themselves. Two different keys share a fingerprint with a chance of about n² / 2⁹⁷ (under 10⁻¹⁵ for ten
million rows). The fingerprints are kept in sorted runs, merged two equal-sized runs at a time, so adding a
chunk costs about its own size (times the logarithm of the file's), never the whole file's.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

_KEYS = ("cadence-ledger-1", "cadence-ledger-2")
_LINE_BITS = np.uint64(32)


class KeyLedger:
    """Sorted runs of (fingerprint, second fingerprint << 32 | first line)."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(first) for first, _ in self._runs)

    def earlier_lines(self, keys: pd.DataFrame, lines: pd.Series) -> pd.Series:
        """For each row of `keys`, the line an earlier chunk held its key on (<NA> when new); then remember
        the new keys, each with the first of `lines` it is on."""
        first = pd.util.hash_pandas_object(keys, index=False, categorize=False, hash_key=_KEYS[0]).to_numpy()
        second = pd.util.hash_pandas_object(keys, index=False, categorize=False, hash_key=_KEYS[1]).to_numpy() \
            >> _LINE_BITS
        order = np.argsort(first, kind="stable")  # searched in order, the runs are read front to back
        first, second = first[order], second[order]
        found = np.full(len(first), -1, dtype=np.int64)
        for run_first, run_rest in self._runs:
            at = np.minimum(np.searchsorted(run_first, first), len(run_first) - 1)
            hit = (run_first[at] == first) & ((run_rest[at] >> _LINE_BITS) == second) & (found < 0)
            found[hit] = (run_rest[at[hit]] & np.uint64(0xFFFFFFFF)).astype(np.int64)
        repeated = np.zeros(len(first), dtype=bool)
        repeated[1:] = (first[1:] == first[:-1]) & (second[1:] == second[:-1])  # stable: the first stays
        new = (found < 0) & ~repeated
        self._add(first[new], (second[new] << _LINE_BITS) | lines.to_numpy(dtype=np.uint64)[order][new])
        earlier = np.empty_like(found)
        earlier[order] = found
        return pd.Series(earlier, index=keys.index).astype("Int64").where(earlier >= 0)

    def _add(self, first: np.ndarray, rest: np.ndarray) -> None:
        if not len(first):
            return
        self._runs.append((first, rest))
        while len(self._runs) > 1 and len(self._runs[-1][0]) >= len(self._runs[-2][0]):
            (a_first, a_rest), (b_first, b_rest) = self._runs.pop(-2), self._runs.pop()
            merged = np.concatenate([a_first, b_first])
            order = np.argsort(merged, kind="stable")
            self._runs.append((merged[order], np.concatenate([a_rest, b_rest])[order]))
