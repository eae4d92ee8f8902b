"""Deals in the making: how far each one gets, how long it takes, what it is worth.

A deal is held as numbers until the very end: when it was created, its `span` (days from
creation to a won close), the fractions of that span at which it entered Discovery, Demo,
Proposal and Negotiation, the fraction at which it closed (1 for a won deal, earlier for a lost
one), the last open stage it reached, and whether it was won. Moving a won deal's close date
(quarter-end pressure, a feature that unblocks it) only changes its span, so its stage dates
stay in order by construction.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

OPEN_STAGES = ("Prospecting", "Discovery", "Demo", "Proposal", "Negotiation")
WON_STAGE, LOST_STAGE = "Closed Won", "Closed Lost"
STAGE_PROBABILITIES = (0.05, 0.10, 0.25, 0.50, 0.75)
DEMO, PROPOSAL, NEGOTIATION = 2, 3, 4
FRACTION_COLUMNS = ("f1", "f2", "f3", "f4")

# Transition probabilities Prospecting→Discovery→Demo→Proposal→Negotiation→Won, per segment and kind.
TRANSITIONS = {
    ("enterprise", "new"): (0.80, 0.72, 0.62, 0.75, 0.68),
    ("mid_market", "new"): (0.80, 0.74, 0.64, 0.78, 0.72),
    ("no_touch", "new"): (0.84, 0.80, 0.70, 0.80, 0.76),
    ("enterprise", "expansion"): (0.95, 0.88, 0.80, 0.85, 0.82),
    ("mid_market", "expansion"): (0.95, 0.88, 0.80, 0.85, 0.82),
    ("no_touch", "expansion"): (0.95, 0.90, 0.82, 0.86, 0.84),
}
# Median days from creation to a won close, and the spread (sigma of its log).
CYCLE_DAYS = {
    ("enterprise", "new"): 105, ("mid_market", "new"): 48, ("no_touch", "new"): 16,
    ("enterprise", "expansion"): 45, ("mid_market", "expansion"): 30, ("no_touch", "expansion"): 12,
}
CYCLE_SIGMA = 0.45
# Median annual contract value and spread of new deals; expansions are a share of it.
DEAL_SIZE = {"enterprise": 36_000, "mid_market": 9_000, "no_touch": 1_400}
DEAL_SIGMA = {"enterprise": 0.50, "mid_market": 0.45, "no_touch": 0.40}
EXPANSION_SHARE = 0.35
ROUNDING = {"enterprise": -2, "mid_market": -2, "no_touch": -1}
BASE_DISCOUNT = {"enterprise": (12.0, 4.0), "mid_market": (9.0, 3.5), "no_touch": (2.0, 2.0)}
LOSS_REASONS = {
    0: ("No response", "Not a fit", "No budget"),
    1: ("Not a fit", "No decision", "Timing"),
    2: ("No decision", "Competitor", "Timing"),
    3: ("Price", "Competitor", "No decision"),
    4: ("Price", "Competitor", "Legal / procurement"),
}


def sample_path(transitions: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(reached, won) from per-deal transition probabilities (deals × 5)."""
    passed = rng.random(transitions.shape) < transitions
    run = np.cumprod(passed, axis=1)
    reached = np.minimum(run[:, :4].sum(axis=1), 4)
    won = run[:, 4].astype(bool)
    return reached, won


def sample_timing(spans: np.ndarray, reached: np.ndarray, won: np.ndarray,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Stage-entry fractions (deals × 4) and the close fraction of each deal's span."""
    gaps = rng.dirichlet(np.array([2.0, 3.0, 3.0, 3.0, 2.0]) * 4, size=len(spans))
    fractions = np.cumsum(gaps, axis=1)[:, :4]
    bounds = np.column_stack([np.zeros(len(spans)), fractions, np.ones(len(spans))])
    rows = np.arange(len(spans))
    low, high = bounds[rows, reached], bounds[rows, reached + 1]
    close = np.where(won, 1.0, low + (high - low) * rng.uniform(0.4, 1.0, len(spans)))
    return fractions, close


def new_deals(frame: pd.DataFrame, *, kind: str, rng: np.random.Generator,
              transition_factor: np.ndarray | None = None, size_factor: np.ndarray | None = None) -> pd.DataFrame:
    """Add outcome, timing, list amount and discount to `frame` (segment, created; one row per deal)."""
    segment = frame["segment"].to_numpy()
    n = len(frame)
    transitions = np.array([TRANSITIONS[(s, kind)] for s in segment])
    if transition_factor is not None:
        transitions = np.clip(transitions * transition_factor, 0, 0.98)
    reached, won = sample_path(transitions, rng)
    medians = np.array([CYCLE_DAYS[(s, kind)] for s in segment], dtype="float64")
    spans = medians * np.exp(CYCLE_SIGMA * rng.standard_normal(n))
    fractions, close = sample_timing(spans, reached, won, rng)
    size = np.array([DEAL_SIZE[s] for s in segment]) * np.exp(
        np.array([DEAL_SIGMA[s] for s in segment]) * rng.standard_normal(n))
    if kind == "expansion":
        size *= EXPANSION_SHARE
    if size_factor is not None:
        size *= size_factor
    mean = np.array([BASE_DISCOUNT[s][0] for s in segment]) * (0.6 if kind == "expansion" else 1.0)
    spread = np.array([BASE_DISCOUNT[s][1] for s in segment])
    out = frame.copy()
    out["kind"] = kind
    out["span"] = spans
    out[list(FRACTION_COLUMNS)] = fractions
    out["close_frac"] = close
    out["reached"] = reached
    out["won"] = won
    out["list_amount"] = _round_amounts(size, segment)
    out["discount"] = np.clip(np.round(rng.normal(mean, spread), 1), 0, 45)
    out["pushed"] = False
    out["unblocked"] = False
    out["loss_reason"] = _loss_reasons(reached, won, rng)
    return out


def close_day(deals: pd.DataFrame) -> np.ndarray:
    return (deals["created"] + deals["close_frac"] * deals["span"]).to_numpy()


def set_won_close(deals: pd.DataFrame, mask: np.ndarray, close: np.ndarray) -> None:
    """Make the deals under `mask` won on `close` (same length as mask.sum()), keeping their stage order."""
    index = deals.index[mask]
    deals.loc[index, "span"] = np.maximum(close - deals.loc[index, "created"].to_numpy(), 0.5)
    deals.loc[index, "close_frac"] = 1.0
    deals.loc[index, "won"] = True
    deals.loc[index, "reached"] = NEGOTIATION
    deals.loc[index, "loss_reason"] = None


def _round_amounts(values: np.ndarray, segment: np.ndarray) -> np.ndarray:
    digits = np.array([ROUNDING[s] for s in segment])
    scale = 10.0 ** (-digits)
    return np.maximum(np.round(values / scale) * scale, scale)


def _loss_reasons(reached: np.ndarray, won: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = np.empty(len(reached), dtype=object)
    pick = rng.integers(0, 3, len(reached))
    for stage, reasons in LOSS_REASONS.items():
        need = (reached == stage) & ~won
        out[need] = np.array(reasons, dtype=object)[pick[need]]
    return out
