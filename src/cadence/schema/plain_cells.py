"""Reading a whole column of text cells at once, in Arrow, when every cell of it is written the plain way.

Nearly every export writes its amounts as `1234.50` or `$1,234.50` and its times as `2024-03-04` or
`2024-03-04 10:00:00`, with no spaces around its values. For such a column, Arrow's own parsers read all its
cells in one pass, without making a Python string of each, which is what lets an import of ten million rows
validate in seconds.

A column qualifies only when every one of its given cells is plain; the moment one is written any other way
(a date like 03/04/2024 or Jan 5, 2024, a time zone, an exponent, a euro sign, more digits than a double
holds exactly, a date that does not exist), `plain_numbers` and `plain_times` answer None and validation
reads the column cell by cell, as it always has. So what an import accepts, refuses and loads is the same
whichever way a column was read: the plain forms are exactly those both ways read alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

if TYPE_CHECKING:
    ArrowText = pd.StringDtype[Literal["pyarrow"]]  # a text column held by Arrow (missing as <NA> or NaN)
MOST_DIGITS = 15  # a decimal of at most 15 digits is read to the same double by every correct reader
_MONEY_MARKS = "[$, ]"  # what a money cell may carry besides its number: currency sign, thousands, spaces
_PLAIN_TIME = r"^[12][0-9]{3}-[0-9]{2}-[0-9]{2}([ T][0-9]{2}:[0-9]{2}:[0-9]{2})?$"
_DATE_DIGITS = (0, 1, 2, 3, 5, 6, 8, 9)
_TIME_DIGITS = (11, 12, 14, 15, 17, 18)


def _byte_set(chars: bytes) -> np.ndarray:
    table = np.zeros(256, dtype=bool)
    table[np.frombuffer(chars, dtype=np.uint8)] = True
    return table


_NUMBER_BYTES = _byte_set(b"0123456789.+-")
_MONEY_MARK_BYTES = _byte_set(b"$, ")
_NEVER_TRIMMED = _byte_set(bytes(range(0x21, 0x7F)))  # printable ASCII: no trimming starts or ends at one


def trimmed_text(values: pd.Series, dtype: ArrowText) -> pa.Array:
    """A text column's cells as Arrow text (through `dtype` unless held by Arrow already), trimmed of white space
    as `Series.str.strip()` trims it (Arrow's `utf8_trim_whitespace`) and empty cells missing; the cells
    themselves when none needs either."""
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        values = values.astype(dtype)
    text = pa.array(values.array)
    if isinstance(text, pa.ChunkedArray):  # a column put together from pieces (pd.concat)
        text = text.combine_chunks()
    if not _never_trimmed(text):
        text = pc.utf8_trim_whitespace(text)
    offsets, _ = _buffers(text)
    empty = np.diff(offsets) == 0
    if text.null_count:
        empty &= text.is_valid().to_numpy(zero_copy_only=False)
    if empty.any():
        text = pc.if_else(pa.array(empty), pa.scalar(None, text.type), text)
    return text


def as_series(text: pa.Array, dtype: ArrowText, index: pd.Index) -> pd.Series:
    """Arrow text as a pandas text column of `dtype`, without a copy."""
    cells = pd.arrays.ArrowStringArray(text, dtype=dtype)  # type: ignore[call-arg]  # pandas 3 takes it; stubs lag
    return pd.Series(cells, index=index, copy=False)


def plain_numbers(text: pa.Array, money: bool) -> np.ndarray | None:
    """Every cell as a double (NaN where missing) when every given cell is a plain decimal — digits, at most
    one point, a sign in front, at most 15 characters, and for money `$`, `,` and spaces anywhere — else None.

    `text`: the column's trimmed cells, empty ones missing (`trimmed_text`)."""
    if money and _any_byte(text, _MONEY_MARK_BYTES):
        text = pc.replace_substring_regex(text, _MONEY_MARKS, "")
    if not _only_bytes(text, _NUMBER_BYTES) or _longest(text) > MOST_DIGITS:
        return None
    try:
        numbers = pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # '1.2.3', '+-1', '$' alone…: read cell by cell, which says why each is not a number
    if (np.signbit(numbers) & (numbers == 0)).any():
        return None  # '-0': pandas reads it as 0 or -0 depending on the other cells; left to pandas
    return numbers


def plain_times(text: pa.Array) -> np.ndarray | None:
    """Every cell as datetime64[us] (NaT where missing) when every given cell is `YYYY-MM-DD`, perhaps with
    ` hh:mm:ss` or `Thh:mm:ss` after it, in the years 1000–2999, and is a real date and time; else None.

    `text`: the column's trimmed cells, empty ones missing (`trimmed_text`)."""
    if not _all_plain_times(text):
        return None
    try:
        stamps = pc.cast(text, pa.timestamp("us"))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None  # 2023-02-30, 25:00:00…: read cell by cell, which refuses each with its reason
    return stamps.to_numpy(zero_copy_only=False)


def _all_plain_times(text: pa.Array) -> bool:
    """Every given cell laid out as `_PLAIN_TIME` says: checked byte by byte over a grid of the cells when they
    all have one width, else by the regular expression."""
    given = pc.drop_null(text) if text.null_count else text
    offsets, data = _buffers(given)
    widths = np.diff(offsets)
    if not len(widths):
        return True
    width = int(widths[0])
    if width not in (10, 19) or (widths != width).any():
        return bool(pc.all(pc.match_substring_regex(given, _PLAIN_TIME)).as_py())
    grid = data[offsets[0]:offsets[-1]].reshape(-1, width)
    positions = _DATE_DIGITS + (_TIME_DIGITS if width == 19 else ())
    laid_out = bool((grid[:, list(positions)] - np.uint8(48) < 10).all()) and \
        bool(((grid[:, 0] == ord("1")) | (grid[:, 0] == ord("2"))).all()) and \
        bool((grid[:, 4] == ord("-")).all()) and bool((grid[:, 7] == ord("-")).all())
    if laid_out and width == 19:
        laid_out = bool(((grid[:, 10] == ord(" ")) | (grid[:, 10] == ord("T"))).all()) and \
            bool((grid[:, 13] == ord(":")).all()) and bool((grid[:, 16] == ord(":")).all())
    return laid_out


def _buffers(text: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """The offsets of `text`'s cells and its whole data buffer (cell i is data[offsets[i]:offsets[i + 1]])."""
    large = pa.types.is_large_string(text.type)
    if not (large or pa.types.is_string(text.type)):
        raise TypeError(f"not text: {text.type}")
    _, offsets_buffer, data_buffer = text.buffers()
    if offsets_buffer is None:  # an empty array
        return np.zeros(1, dtype=np.int64), np.empty(0, dtype=np.uint8)
    offsets = np.frombuffer(offsets_buffer, dtype=np.int64 if large else np.int32)[
        text.offset:text.offset + len(text) + 1]
    data = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.empty(0, dtype=np.uint8)
    return offsets, data


def _spanned(text: pa.Array) -> np.ndarray:
    """The bytes from the first cell's start to the last cell's end: every given cell's bytes lie within."""
    offsets, data = _buffers(text)
    return data[offsets[0]:offsets[-1]]


def _only_bytes(text: pa.Array, allowed: np.ndarray) -> bool:
    return bool(allowed[_spanned(text)].all())


def _any_byte(text: pa.Array, wanted: np.ndarray) -> bool:
    return bool(wanted[_spanned(text)].any())


def _longest(text: pa.Array) -> int:
    offsets, _ = _buffers(text)
    return int(np.diff(offsets).max()) if len(offsets) > 1 else 0


def _never_trimmed(text: pa.Array) -> bool:
    """Whether every cell begins and ends with a printable ASCII character other than a space (or is empty)."""
    offsets, data = _buffers(text)
    starts, ends = offsets[:-1], offsets[1:]
    filled = ends > starts
    if not filled.any():
        return True
    return bool(_NEVER_TRIMMED[data[starts[filled]]].all()) and bool(_NEVER_TRIMMED[data[ends[filled] - 1]].all())
