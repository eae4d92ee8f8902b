"""Two numpy idioms the generators share, typed once."""

from __future__ import annotations

import numpy as np


def where_or_none(mask: np.ndarray, values: np.ndarray | object) -> np.ndarray:
    """An object array holding `values` where `mask` is true and None elsewhere."""
    out = np.full(len(mask), None, dtype=object)
    chosen = np.broadcast_to(np.asarray(values, dtype=object), (len(mask),))
    out[mask] = chosen[mask]
    return out


def weighted_pick(weights: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Per row of `weights` (rows × options), the index of one option drawn in proportion to its weight."""
    cumulative = np.cumsum(weights, axis=1)
    draw = rng.random(len(weights))[:, None] * cumulative[:, -1:]
    return np.minimum((draw > cumulative).sum(axis=1), weights.shape[1] - 1)
