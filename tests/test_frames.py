"""The fast id lookup analyses filter with answers exactly what pandas' own isin answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cadence.analysis.frames import isin

IDS = ["006A", "006B", None, "006Ç", "", "006A"]
WANTED = ["006B", "006Ç", None, "006Z", ""]


@pytest.mark.parametrize("left", ["str", "object"])
@pytest.mark.parametrize("right", ["str", "object"])
def test_isin_matches_a_hand_worked_membership(left: str, right: str) -> None:
    column = pd.Series(IDS, dtype=left)
    values = pd.Series(WANTED, dtype=right)
    expected = [False, True, False, True, True, False]  # a missing id matches nothing, an empty one matches ""
    assert isin(column, values).tolist() == expected


def test_isin_on_large_arrow_columns_equals_python_sets() -> None:
    rng = np.random.default_rng(3)
    column = pd.Series([f"006{n:08d}" for n in rng.integers(0, 50_000, 200_000)], dtype="str")
    values = pd.Series([f"006{n:08d}" for n in rng.integers(0, 50_000, 20_000)], dtype="str")
    wanted = set(values)
    assert isin(column, values).tolist() == [v in wanted for v in column]
