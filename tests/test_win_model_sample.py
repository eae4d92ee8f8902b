"""A large CRM's win model is fitted on a seeded sample that keeps the share of won points."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.analysis.forecast.win_model import MAX_TRAINING_ROWS, _sample


def training(rows: int, won_share: float) -> pd.DataFrame:
    rng = np.random.default_rng(11)
    return pd.DataFrame({"opportunity_id": [f"006{i:07d}" for i in range(rows)],
                         "won": rng.random(rows) < won_share, "age_days": rng.integers(0, 400, rows)})


def test_a_small_training_set_is_used_whole() -> None:
    frame = training(MAX_TRAINING_ROWS, 0.3)
    assert _sample(frame) is frame


def test_a_large_training_set_is_sampled_to_the_cap_keeping_the_won_share() -> None:
    frame = training(MAX_TRAINING_ROWS * 4 + 17, 0.23)
    sample = _sample(frame)
    assert abs(len(sample) - MAX_TRAINING_ROWS) <= 2  # each outcome's share rounds on its own
    assert abs(sample["won"].mean() - frame["won"].mean()) < 1 / MAX_TRAINING_ROWS * 2
    assert sample.index.is_monotonic_increasing and sample.index.isin(frame.index).all()
    pd.testing.assert_frame_equal(sample, _sample(frame))  # seeded: the same forecast every run
