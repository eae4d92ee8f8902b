"""A file read in chunks finds the same duplicate keys as the file read whole, however its keys are written.

The chunks' keys are remembered as fingerprints read straight from Arrow's bytes, behind a filter that spares
looking up keys never seen; past a bound, in files read a block at a time. The expectation is plain pandas
over the whole file (`DataFrame.duplicated`), whether the keys stay in memory or go to files.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from cadence.schema import key_ledger
from cadence.schema.fingerprints import fingerprints
from cadence.schema.key_ledger import KeyLedger
from cadence.schema.model import Column, Table
from cadence.schema.types import ColumnType
from cadence.schema.validate import LINE, validate_rows

TEXT = pd.StringDtype("pyarrow", na_value=np.nan)
ONE_KEY = Table("events", "keyed by one text column", key=("id",),
                columns=(Column("id", ColumnType.STRING, "key", required=True), Column("n", ColumnType.INTEGER, "")))
TWO_KEYS = Table("weeks", "keyed by text and a date", key=("id", "week"),
                 columns=(Column("id", ColumnType.STRING, "key", required=True),
                          Column("week", ColumnType.DATE, "key", required=True)))


def awkward_key(rng: random.Random) -> str:
    """Keys of every length a fingerprint reads differently: short, exactly 8 or 16 bytes, long, accented."""
    size = rng.choice([1, 3, 7, 8, 9, 15, 16, 17, 40, 64, 65, 130, 600])
    alphabet = rng.choice(["AB", "0123456789", "ÀéΩ文", "ab-_ "])
    return "".join(rng.choice(alphabet) for _ in range(size)).strip() or "x"


IN_MEMORY = {"memory": None, "files": 250}  # keys held in memory: the default, or few (the rest in files)


def problems_by_line(table: Table, frame: pd.DataFrame, cuts: list[int] | None,
                     in_memory: int | None = None) -> list[tuple[int, str, str]]:
    """(line, column, reason) of every problem, the frame validated whole (`cuts` None) or in chunks."""
    if cuts is None:
        found = validate_rows(table, frame).problems
    else:
        ledger = KeyLedger(in_memory=in_memory)
        parts = []
        for start, end in zip([0, *cuts], [*cuts, len(frame)], strict=True):
            parts.append(validate_rows(table, frame.iloc[start:end], seen=ledger).problems)
            assert ledger.in_memory <= (in_memory or key_ledger.IN_MEMORY_AT_MOST)
        ledger.close()
        found = pd.concat(parts, ignore_index=True)
    return sorted(zip(found["line"].astype(int), found["column_name"], found["reason"], strict=True))


def random_cuts(rng: random.Random, rows: int, chunks: int) -> list[int]:
    return sorted(rng.sample(range(1, rows), chunks - 1))


@pytest.mark.parametrize("held", IN_MEMORY)
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_duplicates_found_in_chunks_are_those_pandas_finds_in_the_whole_file(seed: int, held: str) -> None:
    rng = random.Random(seed)
    distinct = [awkward_key(rng) for _ in range(3000)]
    keys = [rng.choice(distinct) if rng.random() < 0.1 else awkward_key(rng) for _ in range(6000)]
    frame = pd.DataFrame({"id": pd.Series(keys, dtype=TEXT), "n": pd.Series(["1"] * len(keys), dtype=TEXT)})
    frame[LINE] = range(2, len(frame) + 2)
    whole = problems_by_line(ONE_KEY, frame, None)
    assert any("duplicate" in reason for _, _, reason in whole)
    assert problems_by_line(ONE_KEY, frame, random_cuts(rng, len(frame), 40), IN_MEMORY[held]) == whole


@pytest.mark.parametrize("held", IN_MEMORY)
def test_a_file_that_repeats_itself_finds_every_repeat(held: str) -> None:
    rng = random.Random(7)
    first_half = list(dict.fromkeys(awkward_key(rng) for _ in range(4000)))
    keys = first_half + rng.sample(first_half, len(first_half))  # every key again, in another order
    frame = pd.DataFrame({"id": pd.Series(keys, dtype=TEXT), "n": pd.Series(["1"] * len(keys), dtype=TEXT)})
    frame[LINE] = range(2, len(frame) + 2)
    whole = problems_by_line(ONE_KEY, frame, None)
    assert len(whole) == len(first_half)
    assert problems_by_line(ONE_KEY, frame, list(range(300, len(frame), 300)), IN_MEMORY[held]) == whole


@pytest.mark.parametrize("held", IN_MEMORY)
def test_two_column_keys_in_chunks_match_the_whole_file(held: str) -> None:
    rng = random.Random(11)
    ids = [awkward_key(rng) for _ in range(300)]
    weeks = [f"2024-{month:02d}-{day:02d}" for month in range(1, 13) for day in (1, 8, 15, 22)]
    rows = [(rng.choice(ids), rng.choice(weeks)) for _ in range(5000)]
    frame = pd.DataFrame({"id": pd.Series([r[0] for r in rows], dtype=TEXT),
                          "week": pd.Series([r[1] for r in rows], dtype=TEXT)})
    frame[LINE] = range(2, len(frame) + 2)
    whole = problems_by_line(TWO_KEYS, frame, None)
    assert len(whole) == len(rows) - len(set(rows))
    assert problems_by_line(TWO_KEYS, frame, random_cuts(rng, len(frame), 25), IN_MEMORY[held]) == whole


def test_keys_past_the_bound_go_to_files_read_a_block_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """A hundred thousand keys, at most 5,000 in memory, files read 4,096 keys at a time, and a filter that may
    not grow past 64 words (so it lets most keys through): every key repeated later (some many chunks later, some
    in the same chunk) names the line it was first on, as a dict says."""
    monkeypatch.setattr(key_ledger, "BLOCK", 4096)
    monkeypatch.setattr(key_ledger, "FILTER_WORDS_AT_MOST", 64)
    rng = np.random.default_rng(3)
    ids = np.char.add("K", rng.integers(0, 80_000, 100_000).astype(str))
    first_line: dict[str, int] = {}
    expected = []
    for line, key in enumerate(ids, start=2):
        expected.append(first_line.get(key))
        first_line.setdefault(key, line)
    ledger = KeyLedger(in_memory=5000)
    found: list[int | None] = []
    written = 0
    for start in range(0, len(ids), 1000):
        keys = pd.DataFrame({"id": pd.Series(ids[start:start + 1000], dtype=TEXT)})
        lines = pd.Series(range(start + 2, start + len(keys) + 2))
        seen = ledger.look_up(keys, lines)
        earlier = seen.earlier.astype("object").where(seen.earlier.notna(), None).tolist()
        # a key twice in one chunk is the caller's to find (validate_rows): the ledger answers for earlier chunks
        for offset, line in enumerate(earlier):
            before = expected[start + offset]
            found.append(line if before is None or before < start + 2 else before)
        assert ledger.in_memory <= 5000 and ledger._filter._words.size <= 64
        written = max(written, len(ledger._written))
    assert found == expected
    assert written >= 10 and len(ledger) == len(first_line)
    ledger.close()


def test_a_key_has_one_fingerprint_whatever_the_keys_beside_it() -> None:
    rng = random.Random(5)
    keys = [awkward_key(rng) for _ in range(2000)] + ["", "a", "ab", "a" * 8, "a" * 16, "é" * 4, "a\x00"]

    def prints(values: list[str]) -> dict[str, tuple[int, int]]:
        first, second = fingerprints(pd.DataFrame({"id": pd.Series(values, dtype=TEXT)}))
        return {v: (int(f), int(s)) for v, f, s in zip(values, first, second, strict=True)}

    together = prints(keys)
    for key in keys:  # alone, beside keys of its own length, beside a long key, as an object column
        assert prints([key])[key] == together[key]
        same_length = [k for k in keys if len(k.encode()) == len(key.encode())]
        assert prints(same_length)[key] == together[key]
        assert prints([key, "z" * 700])[key] == together[key]
    objects = fingerprints(pd.DataFrame({"id": pd.Series(keys, dtype="object")}))
    assert [(int(f), int(s)) for f, s in zip(*objects, strict=True)] == [together[k] for k in keys]
    assert len(set(together.values())) == len(set(keys))  # different keys, different fingerprints


def test_a_duplicate_names_its_first_line_as_a_whole_number_when_another_key_is_missing() -> None:
    """A stage change exported twice is quarantined with the line that came first; a row whose change time is
    missing in the same file must not turn that line number into '2.0'."""
    from cadence.schema.tables import table_named

    history = table_named("opportunity_history")
    frame = pd.DataFrame({"opportunity_id": ["d1", "d1", "d2"], "stage": ["Demo", "Demo", "Demo"],
                          "changed_at": ["2024-01-02 09:00", "2024-01-02 09:00", None], LINE: [2, 3, 4]})
    problems = validate_rows(history, frame).problems
    reasons = dict(zip(problems["line"].astype(int), problems["reason"], strict=False))
    assert reasons[3] == "duplicate opportunity_id/changed_at: first seen on line 2"
    assert "required" in reasons[4]
