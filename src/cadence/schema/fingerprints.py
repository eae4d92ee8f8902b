"""Two 64-bit fingerprints of each row's key, so a large file's keys can be remembered without its rows.

Text is fingerprinted straight from Arrow's bytes, eight at a time, never as Python strings: a key's
fingerprint starts from its length, and each 8-byte word of it is folded in by a bijection of 64-bit
words (the finalisers of splitmix64 and of MurmurHash3, one per fingerprint), so two different keys of one
length never share a fingerprint, and two of different lengths share both with a chance of about 2⁻¹²⁸.
Times and numbers are hashed by pandas. A missing text key counts as the text "\\x00", as it always has.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_HASH_KEYS = ("cadence-ledger-1", "cadence-ledger-2")  # pandas' hash keys, one per fingerprint
_SEEDS = (0x243F6A8885A308D3, 0x13198A2E03707344)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_FINALISERS = (  # (shift, multiplier, shift, multiplier, shift) of two well-tried 64-bit bijections
    (30, 0xBF58476D1CE4E5B9, 27, 0x94D049BB133111EB, 31),  # splitmix64
    (33, 0xFF51AFD7ED558CCD, 33, 0xC4CEB9FE1A85EC53, 33),  # MurmurHash3's fmix64
)
_ALL_BYTES = np.uint64(0xFFFFFFFFFFFFFFFF)
_COLUMNS_STEP = np.uint64(1_000_003)
_TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
_FEW_WORDS = 8  # keys of at most 64 bytes (nearly all) are hashed without sorting them by length


def fingerprints(keys: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit fingerprints (uint64) of each row of `keys`, over all its columns."""
    prepared = [_prepared(keys[name]) for name in keys.columns]
    first, second = (_combined(prepared, which) for which in (0, 1))
    return first, second


def exact_for_duplicates(keys: pd.DataFrame) -> bool:
    """Whether rows pandas calls duplicates (`DataFrame.duplicated`) always share their fingerprints: true of
    text and times (missing equals missing), not promised of floats (0.0 and -0.0)."""
    return all(isinstance(keys[name].dtype, pd.StringDtype) or pd.api.types.is_datetime64_any_dtype(keys[name])
               for name in keys.columns)


def _prepared(values: pd.Series) -> pa.Array | np.ndarray:
    """Text as Arrow (missing as "\\x00"); times as integers; anything else as pandas hashes it."""
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.astype("datetime64[us]").to_numpy().view(np.int64)
    if pd.api.types.is_bool_dtype(values) or pd.api.types.is_integer_dtype(values):
        return values.astype("Int64").fillna(np.iinfo(np.int64).min).to_numpy(dtype=np.int64)
    if pd.api.types.is_float_dtype(values):
        return values.to_numpy(dtype=np.float64, na_value=np.nan)
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype("object").where(values.notna(), "\x00").map(str).astype(_TEXT)
    text = pa.array(values.array)
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    return pc.fill_null(text, "\x00") if text.null_count else text


def _combined(columns: list[pa.Array | np.ndarray], which: int) -> np.ndarray:
    """One 64-bit hash a row of the key columns (fingerprint `which`)."""
    hash_key = _HASH_KEYS[which]
    combined = np.zeros(len(columns[0]) if columns else 0, dtype=np.uint64)
    for values in columns:
        hashed = _text_hash(values, which) if isinstance(values, pa.Array) \
            else pd.util.hash_array(values, hash_key=hash_key, categorize=False)
        combined = combined * _COLUMNS_STEP ^ hashed
    return pd.util.hash_array(combined, hash_key=hash_key) if len(columns) > 1 else combined


def _text_hash(text: pa.Array, which: int) -> np.ndarray:
    """Fingerprint `which` of each cell of `text` (no missing cells), from its bytes."""
    large = pa.types.is_large_string(text.type)
    _, offsets_buffer, data_buffer = text.buffers()
    if offsets_buffer is None or not len(text):
        return np.zeros(len(text), dtype=np.uint64)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if large else np.int32)[
        text.offset:text.offset + len(text) + 1].astype(np.int64)
    data = np.frombuffer(data_buffer, dtype=np.uint8)[offsets[0]:offsets[-1]] \
        if data_buffer is not None else np.empty(0, dtype=np.uint8)
    starts, lengths = offsets[:-1] - offsets[0], np.diff(offsets)
    padded = np.concatenate([data, np.zeros(8, dtype=np.uint8)])
    # the 8 bytes from any position, read as one little-endian word (an unaligned view: no copy)
    words = np.ndarray(shape=(len(padded) - 7,), dtype="<u8", buffer=padded, strides=(1,))
    finish = _FINALISERS[which]
    hashes = _finalise(np.uint64(_SEEDS[which]) ^ (lengths.astype(np.uint64) * _GOLDEN), finish)
    longest = int(lengths.max())
    same_length = bool((lengths == longest).all())
    by_length = np.argsort(-lengths, kind="stable") if not same_length and longest > _FEW_WORDS * 8 else None
    for at in range(0, longest, 8):
        # the cells longer than `at` bytes: every cell when all have one length; for long cells, a prefix of the
        # cells sorted longest first (work in proportion to their bytes); else found afresh each time
        rows: np.ndarray | slice = slice(None) if same_length \
            else by_length[:int(np.count_nonzero(lengths > at))] if by_length is not None \
            else np.flatnonzero(lengths > at)
        left = lengths[rows] - at
        word = words[starts[rows] + at]
        short = left < 8
        if short.any():  # the last, partial word of a cell: only its own bytes
            kept = np.where(short, (np.uint64(1) << (np.minimum(left, 8).astype(np.uint64) * np.uint64(8)))
                            - np.uint64(1), _ALL_BYTES)
            word = word & kept
        hashes[rows] = _finalise(hashes[rows] ^ word, finish)
    return hashes


def _finalise(x: np.ndarray, finish: tuple[int, int, int, int, int]) -> np.ndarray:
    """A bijection of 64-bit words that spreads every input bit over every output bit."""
    first_shift, first_multiplier, second_shift, second_multiplier, last_shift = finish
    x = x ^ (x >> np.uint64(first_shift))
    x = x * np.uint64(first_multiplier)
    x = x ^ (x >> np.uint64(second_shift))
    x = x * np.uint64(second_multiplier)
    return x ^ (x >> np.uint64(last_shift))
