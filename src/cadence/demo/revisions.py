"""What reps change between stage entries, and the forecast category they put a deal in.

A CRM's history is more than stage moves: reps push a deal's expected close date out (again and again),
pull one in, and revise its amount up or down as they learn the scope. Here about a quarter of the gaps
between two of a deal's recorded changes get one such revision, halfway between them, at the stage the
deal was in. Every history row and every deal carries a forecast category as a rep would set it: Pipeline
early, Best Case in the middle, Commit late, Closed on a won deal and Omitted on a lost one, with the
judgement calls reps make at the edges (some Proposals already Commit, some Negotiations only Best Case).

Drawn from a generator of its own, so adding them leaves every other planted effect where it was.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.deals import LOST_STAGE, OPEN_STAGES, WON_STAGE

REVISED_SHARE = 0.25  # of the gaps of at least MIN_GAP_DAYS between two changes of a deal
MIN_GAP_DAYS = 2.0
KINDS = ("push", "pull_in", "amount")
KIND_SHARES = (0.55, 0.15, 0.30)
# per stage: (category, probability) a rep picks from
STAGE_CATEGORIES: dict[str, tuple[tuple[str, float], ...]] = {
    OPEN_STAGES[0]: (("Pipeline", 1.0),),
    OPEN_STAGES[1]: (("Pipeline", 1.0),),
    OPEN_STAGES[2]: (("Pipeline", 0.6), ("Best Case", 0.4)),
    OPEN_STAGES[3]: (("Best Case", 0.75), ("Commit", 0.25)),
    OPEN_STAGES[4]: (("Commit", 0.85), ("Best Case", 0.15)),
    WON_STAGE: (("Closed", 1.0),),
    LOST_STAGE: (("Omitted", 1.0),),
}


def categorise(history: pd.DataFrame, rng: np.random.Generator) -> pd.Series:
    """A forecast category for each history row, from its stage."""
    draw = rng.random(len(history))
    out = pd.Series(None, index=history.index, dtype="object")
    for stage, choices in STAGE_CATEGORIES.items():
        rows = (history["stage"] == stage).to_numpy()
        edges = np.cumsum([p for _, p in choices])
        picks = np.minimum(np.searchsorted(edges, draw[rows], side="right"), len(choices) - 1)
        out[rows] = np.array([c for c, _ in choices], dtype=object)[picks]
    return out


def revise(history: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """`history` (sorted by deal and time, with forecast_category) with revision rows added between changes."""
    same_deal = history["opportunity_id"].to_numpy()[1:] == history["opportunity_id"].to_numpy()[:-1]
    changed = history["changed_at"].to_numpy()
    gap_days = (changed[1:] - changed[:-1]) / np.timedelta64(1, "D")
    candidate = np.nonzero(same_deal & (gap_days >= MIN_GAP_DAYS))[0]
    chosen = candidate[rng.random(len(candidate)) < REVISED_SHARE]
    base = history.iloc[chosen].reset_index(drop=True)
    gaps = gap_days[chosen]
    at = changed[chosen] + (gaps * rng.uniform(0.3, 0.7, len(chosen)) * 86_400).astype("int64") \
        .astype("timedelta64[s]")
    kind = rng.choice(np.array(KINDS, dtype=object), size=len(chosen), p=KIND_SHARES)
    close = base["close_date"].to_numpy(dtype="datetime64[D]")
    push = rng.integers(14, 46, len(chosen)).astype("timedelta64[D]")
    pull = rng.integers(5, 21, len(chosen)).astype("timedelta64[D]")
    earliest = at.astype("datetime64[D]") + np.timedelta64(1, "D")
    moved = np.where(kind == "push", close + push, np.where(kind == "pull_in", np.maximum(close - pull, earliest),
                                                            close))
    factor = np.where(rng.random(len(chosen)) < 0.5, rng.uniform(0.75, 0.95, len(chosen)),
                      rng.uniform(1.05, 1.25, len(chosen)))
    amount = base["amount"].to_numpy(dtype="float64")
    revised = pd.DataFrame({
        "opportunity_id": base["opportunity_id"].to_numpy(),
        "changed_at": at.astype("datetime64[us]"),
        "stage": base["stage"].to_numpy(),
        "amount": np.where(kind == "amount", np.maximum(np.round(amount * factor, -1), 10.0), amount),
        "close_date": moved.astype("datetime64[us]"),
        "forecast_category": base["forecast_category"].to_numpy(),
    })
    both = pd.concat([history, revised], ignore_index=True)
    return both.sort_values(["opportunity_id", "changed_at"], kind="stable").reset_index(drop=True)


def current_categories(opportunities: pd.DataFrame, history: pd.DataFrame) -> pd.Series:
    """Each deal's category now: its latest history row's."""
    latest = history.drop_duplicates("opportunity_id", keep="last").set_index("opportunity_id")["forecast_category"]
    return opportunities["opportunity_id"].map(latest)
