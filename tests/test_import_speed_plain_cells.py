"""A column of plain numbers or times is read whole by Arrow; whatever way a column is read, an import accepts,
refuses and loads exactly what it did when every cell was read on its own.

Each test feeds awkward cells through validation and compares with an expectation written a second way: a
table worked out by hand, or plain pandas reading one cell at a time.
"""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from cadence.schema.model import Column, Table
from cadence.schema.plain_cells import plain_numbers, plain_times, trimmed_text
from cadence.schema.types import ColumnType
from cadence.schema.validate import validate_rows

ARROW = pd.StringDtype("pyarrow", na_value=np.nan)
KINDS = {"money": ColumnType.MONEY, "float": ColumnType.FLOAT, "integer": ColumnType.INTEGER,
         "date": ColumnType.DATE, "timestamp": ColumnType.TIMESTAMP}


def table_of(kind: ColumnType) -> Table:
    return Table("cells", "one column under test", key=("id",),
                 columns=(Column("id", ColumnType.STRING, "row", required=True), Column("value", kind, "cell")))


def validated(kind: ColumnType, cells: list[object], dtype: object = ARROW) -> tuple[list[object], list[int]]:
    """The typed values of the rows loaded, and the 0-based rows refused, of a column of `cells`."""
    frame = pd.DataFrame({"id": pd.Series([f"r{i}" for i in range(len(cells))], dtype=dtype),
                          "value": pd.Series(cells, dtype=dtype)})
    result = validate_rows(table_of(kind), frame)
    refused = sorted(int(line) - 2 for line in result.problems["line"])
    return result.clean["value"].tolist(), refused


def same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))
    if a is pd.NaT or b is pd.NaT or a is pd.NA or b is pd.NA:
        return (pd.isna(a) and pd.isna(b)) is True
    return bool(a == b)


# -- worked by hand ------------------------------------------------------------------------------------------

MONEY_BY_HAND = [  # cell, the amount loaded (None: missing) or "refused"
    ("1234.50", 1234.5), ("$1,234.50", 1234.5), ("  $ 1 234.5 ", 1234.5), ("-12.346", -12.35), ("+7", 7.0),
    ("0.006", 0.01), ("1.", 1.0), (".5", 0.5), ("007", 7.0), ("", None), ("   ", None), ("$", "refused"),
    ("1.2.3", "refused"), ("€5", "refused"), ("1e3", 1000.0), ("abc", "refused"),
    ("999999999999999", 999999999999999.0), ("1000000000000000", "refused"),
    ("99999999999999.99", 99999999999999.99), ("12345678901234.5678", 12345678901234.57),
]
FLOAT_BY_HAND = [
    ("0.1", 0.1), (" 2.5 ", 2.5), ("1 234", "refused"), ("$5", "refused"), ("-3", -3.0), ("1e-2", 0.01),
    ("inf", "refused"), ("", None), ("0.30000000000000004", 0.30000000000000004), ("1,5", "refused"),
]
INTEGER_BY_HAND = [
    ("42", 42), ("42.0", 42), ("42.5", "refused"), ("-7", -7), ("+3", 3), ("1_000", "refused"), ("", None),
    ("12345678901234", 12345678901234), ("1e2", 100),
]
DATE_BY_HAND = [
    ("2024-03-04", "2024-03-04"), ("2024-03-04 10:30:00", "2024-03-04"), ("2024-03-04T23:59:59", "2024-03-04"),
    ("03/04/2024", "2024-03-04"), ("Jan 5, 2024 10:00 AM", "2024-01-05"), ("2023-02-30", "refused"),
    ("2024-02-29", "2024-02-29"), ("2024-03-04T01:00:00+02:00", "2024-03-03"), ("", None), ("soon", "refused"),
]
TIMESTAMP_BY_HAND = [
    ("2024-03-04 10:30:00", "2024-03-04 10:30:00"), ("2024-03-04T10:30:00", "2024-03-04 10:30:00"),
    ("2024-03-04", "2024-03-04 00:00:00"), ("2024-03-04 25:00:00", "refused"), ("2024-13-01", "refused"),
    ("2024-03-04T10:30:00Z", "2024-03-04 10:30:00"), ("2024-03-04 10:30:00-05:00", "2024-03-04 15:30:00"),
    ("2024-03-04 10:30", "2024-03-04 10:30:00"), ("1999-12-31 23:59:59", "1999-12-31 23:59:59"), ("", None),
]


def _by_hand(kind: ColumnType, table: list[tuple[str, object]]) -> None:
    cells = [cell for cell, _ in table]
    values, refused = validated(kind, cells)
    assert refused == [i for i, (_, want) in enumerate(table) if want == "refused"]
    loaded = iter(values)
    for cell, want in table:
        if want == "refused":
            continue
        got = next(loaded)
        if want is None:
            assert pd.isna(got), cell
        elif kind in (ColumnType.DATE, ColumnType.TIMESTAMP):
            assert got == pd.Timestamp(str(want)), cell
        else:
            assert got == want, cell


@pytest.mark.parametrize(("kind", "table"), [
    (ColumnType.MONEY, MONEY_BY_HAND), (ColumnType.FLOAT, FLOAT_BY_HAND), (ColumnType.INTEGER, INTEGER_BY_HAND),
    (ColumnType.DATE, DATE_BY_HAND), (ColumnType.TIMESTAMP, TIMESTAMP_BY_HAND)])
def test_awkward_cells_mixed_into_one_column_read_as_worked_out_by_hand(kind: ColumnType,
                                                                        table: list[tuple[str, object]]) -> None:
    _by_hand(kind, table)


@pytest.mark.parametrize(("kind", "table"), [
    (ColumnType.MONEY, MONEY_BY_HAND), (ColumnType.FLOAT, FLOAT_BY_HAND), (ColumnType.INTEGER, INTEGER_BY_HAND),
    (ColumnType.DATE, DATE_BY_HAND), (ColumnType.TIMESTAMP, TIMESTAMP_BY_HAND)])
def test_each_awkward_cell_alone_reads_as_worked_out_by_hand(kind: ColumnType,
                                                             table: list[tuple[str, object]]) -> None:
    for row in table:  # one cell per column: a plain one is read by Arrow, any other cell by cell
        _by_hand(kind, [row])


def test_plain_columns_are_the_ones_arrow_reads() -> None:
    def text(cells: list[str | None]) -> pa.Array:
        return trimmed_text(pd.Series(cells, dtype=ARROW), ARROW)

    assert plain_numbers(text(["1234.50", None, " 7 ", "-0.25"]), money=False) is not None
    assert plain_numbers(text(["$1,234.50", "12"]), money=True) is not None
    for awkward in ("1e5", "€5", "-0", "1234567890123456", "inf", "$5"):
        assert plain_numbers(text(["1", awkward]), money=False) is None, awkward
    assert plain_times(text(["2024-03-04", "2024-03-04 10:00:00", None, "2024-03-04T10:00:00"])) is not None
    for awkward in ("03/04/2024", "2023-02-30", "2024-03-04 10:00", "2024-03-04T10:00:00Z", "0999-01-01",
                    "2024-03-04 10:00-01", "2024-3-4"):
        assert plain_times(text(["2024-03-04", awkward])) is None, awkward


# -- compared with plain pandas, one cell at a time ------------------------------------------------------------

def pandas_number(cell: str | None, kind: ColumnType) -> tuple[object, bool]:
    """(value, refused) of one cell, as plain pandas reads it: trimmed, `$ , spaces` dropped from money."""
    text = pd.Series([cell], dtype="object").astype("string").str.strip()
    if pd.isna(text.iloc[0]) or text.iloc[0] == "":
        return np.nan, False
    if kind is ColumnType.MONEY:
        text = text.str.replace(r"[$,\s]", "", regex=True)
    number = float(pd.to_numeric(pd.Series([text.iloc[0], None], dtype="object"), errors="coerce").iloc[0])
    if math.isnan(number) or abs(number) >= 1e15:
        return np.nan, True
    if kind is ColumnType.INTEGER:
        return (np.nan, True) if number != math.floor(number) else (round(number), False)
    return (float(pd.Series([number]).round(2).iloc[0]) if kind is ColumnType.MONEY else number), False


def pandas_time(cell: str | None, kind: ColumnType) -> tuple[object, bool]:
    text = pd.Series([cell], dtype="object").astype("string").str.strip()
    if pd.isna(text.iloc[0]) or text.iloc[0] == "":
        return pd.NaT, False
    value = text.iloc[0]
    parsed = pd.to_datetime(value, format="ISO8601", utc=True, errors="coerce")
    if pd.isna(parsed):
        parsed = pd.to_datetime(value, format="mixed", utc=True, errors="coerce")
    if pd.isna(parsed):
        return pd.NaT, True
    naive = parsed.tz_convert("UTC").tz_localize(None)
    return (naive.normalize() if kind is ColumnType.DATE else naive), False


def random_number(rng: random.Random, most_digits: int = 17) -> str | None:
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, most_digits)))
    if rng.random() < 0.6:
        cut = rng.randint(0, len(digits))
        digits = digits[:cut] + "." + digits[cut:]
    return rng.choice([
        digits, digits, digits, "-" + digits, "+" + digits, f"${digits}", f" {digits} ", f"{digits[:2]},{digits[2:]}",
        f"{digits[:1]} {digits[1:]}", None, "", "  ", "1e5", "-0", "0", "nan", "1.2.3", "\u00a0" + digits,
        "\t" + digits + "\n", digits + "%"])


def random_time(rng: random.Random) -> str | None:
    year, month, day = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 31)
    hour, minute, second = rng.randint(0, 24), rng.randint(0, 59), rng.randint(0, 60)
    date = f"{year:04d}-{month:02d}-{day:02d}"
    return rng.choice([
        date, date, f"{date} {hour:02d}:{minute:02d}:{second:02d}", f"{date}T{hour:02d}:{minute:02d}:{second:02d}",
        f"{month:02d}/{day:02d}/{year}", f"{date} {hour:02d}:{minute:02d}", f" {date} ", None, "", "later",
        f"{date}T{hour:02d}:{minute:02d}:{second:02d}Z", f"{date} {hour:02d}:{minute:02d}:{second:02d}+01:00"])


@pytest.mark.parametrize("name", ["money", "float", "integer", "date", "timestamp"])
@pytest.mark.parametrize("awkward_share", [0.0, 0.02, 0.5])
def test_columns_read_as_plain_pandas_reads_each_cell(name: str, awkward_share: float) -> None:
    kind = KINDS[name]
    rng = random.Random(f"{name}-{awkward_share}")
    plain_only = awkward_share == 0.0
    making = random_number if kind in (ColumnType.MONEY, ColumnType.FLOAT, ColumnType.INTEGER) else random_time
    cells: list[str | None] = []
    while len(cells) < 600:
        cell = making(rng) if making is random_time else random_number(rng, 13 if plain_only else 17)
        expect = (pandas_number if making is random_number else pandas_time)(cell, kind)
        awkward = cell is None or cell.strip() != cell or expect[1] or not _plain_looking(cell, making)
        if cell == "-0" or (awkward and (plain_only or rng.random() > awkward_share)):
            continue  # '-0' alone: pandas reads it as 0 or -0 by the other cells, a case of its own below
        cells.append(cell)
    expected = [(pandas_number if making is random_number else pandas_time)(cell, kind) for cell in cells]
    text = trimmed_text(pd.Series(cells, dtype=ARROW), ARROW)
    read_whole = plain_times(text) if making is random_time else plain_numbers(text, kind is ColumnType.MONEY)
    assert (read_whole is not None) == plain_only  # both ways of reading a column are compared
    for dtype in (ARROW, "object"):
        values, refused = validated(kind, cells, dtype)
        assert refused == [i for i, (_, bad) in enumerate(expected) if bad]
        wanted = [value for value, bad in expected if not bad]
        assert len(values) == len(wanted)
        for got, want in zip(values, wanted, strict=True):
            assert same(got, want), (got, want)


def _plain_looking(cell: str, making: object) -> bool:
    if making is random_time:
        return re.fullmatch(r"\d{4}-\d\d-\d\d([ T]\d\d:\d\d:\d\d)?", cell) is not None
    return all(c in "0123456789.+-$, " for c in cell)


def test_minus_zero_reads_as_pandas_reads_the_whole_column() -> None:
    # pandas reads '-0' as 0 in a column of whole numbers with none missing, as -0 otherwise
    whole = pd.to_numeric(pd.Series(["-0", "5"], dtype="object"), errors="coerce").astype("float64")
    with_missing = pd.to_numeric(pd.Series(["-0", None], dtype="object"), errors="coerce").astype("float64")
    for cells, reference in ((["-0", "5"], whole), (["-0", None], with_missing)):
        values, refused = validated(ColumnType.FLOAT, cells)
        assert not refused
        assert same(values[0], float(reference.iloc[0]))
