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
MERGED_AT_MOST = 1 << 21  # runs grow by merging up to about two million keys (32 MB): searched, never re-sorted


class KeyLedger:
    """Sorted runs of (fingerprint, second fingerprint << 32 | first line)."""

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(first) for first, _ in self._runs)

    def earlier_lines(self, keys: pd.DataFrame, lines: pd.Series) -> pd.Series:
        """For each row of `keys`, the line an earlier chunk held its key on (<NA> when new); then remember
        the new keys, each with the first of `lines` it is on."""
        columns = [_hashable(keys[name]) for name in keys.columns]
        first, second = (_hash(columns, hash_key) for hash_key in _KEYS)
        second >>= _LINE_BITS
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
        while len(self._runs) > 1 and len(self._runs[-2][0]) <= min(len(self._runs[-1][0]), MERGED_AT_MOST):
            self._runs.append(_merge(self._runs.pop(-2), self._runs.pop()))


def _merge(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Two sorted runs as one, placed by binary search (no sort, no copy of both beyond the result)."""
    size = len(a[0]) + len(b[0])
    at = np.searchsorted(a[0], b[0]) + np.arange(len(b[0]))
    from_a = np.ones(size, dtype=bool)
    from_a[at] = False
    merged = []
    for mine, theirs in zip(a, b, strict=True):
        out = np.empty(size, dtype=mine.dtype)
        out[at] = theirs
        out[from_a] = mine
        merged.append(out)
    return merged[0], merged[1]


def _hashable(values: pd.Series) -> np.ndarray:
    """A key column as an array pandas hashes fast: times as integers, text as strings (missing as NUL)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]").to_numpy().view(np.int64)
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return values.astype("Int64").fillna(np.iinfo(np.int64).min).to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    text = values.astype("object").where(values.notna(), "\x00")
    return (text if isinstance(values.dtype, pd.StringDtype) else text.map(str)).to_numpy(dtype=object)


def _hash(columns: list[np.ndarray], hash_key: str) -> np.ndarray:
    """One 64-bit hash a row of the key columns."""
    combined = np.zeros(len(columns[0]) if columns else 0, dtype=np.uint64)
    for values in columns:
        combined = combined * np.uint64(1_000_003) ^ pd.util.hash_array(values, hash_key=hash_key, categorize=False)
    return pd.util.hash_array(combined, hash_key=hash_key) if len(columns) > 1 else combined
