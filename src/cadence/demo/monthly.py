"""Month-by-month MRR movements of a subscriptions table: net new MRR and expansion MRR.

Shared by the generator (cadence.yml's targets are set from the generated tables) and by `truths.py`
(which measures the KPI tree's alignment on the warehouse's tables). Plain pandas over the canonical
columns `account_id`, `mrr`, `started_at`, `ended_at`; no analysis or metric code.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cadence.demo.calendar import END, START


def day_numbers(values: pd.Series) -> np.ndarray:
    """Days since the demo's first day, as floats."""
    return np.asarray((pd.to_datetime(values) - pd.Timestamp(START)).dt.total_seconds().to_numpy() / 86_400)


def net_new_mrr(subscriptions: pd.DataFrame, months: pd.PeriodIndex) -> np.ndarray:
    """Per month: MRR on the month's last day minus MRR on the day before it began."""
    return np.diff(_mrr_matrix(subscriptions, _edges(months)).sum(axis=0))


def expansion_mrr(subscriptions: pd.DataFrame, months: pd.PeriodIndex) -> np.ndarray:
    """Per month: MRR added by customers who paid at the month's start and pay more at its end."""
    matrix = _mrr_matrix(subscriptions, _edges(months))
    before, after = matrix[:, :-1], matrix[:, 1:]
    return np.where((before > 0) & (after > before), after - before, 0).sum(axis=0)


def _edges(months: pd.PeriodIndex) -> list[float]:
    edges = [float((m.start_time - pd.Timestamp(START)).days) - 0.5 for m in months]
    edges.append(edges[-1] + (months[-1].end_time - months[-1].start_time).days + 1)
    return edges


def _mrr_matrix(subscriptions: pd.DataFrame, days: list[float]) -> np.ndarray:
    """accounts × days: each account's MRR on each day."""
    start = day_numbers(subscriptions["started_at"])
    ended = subscriptions["ended_at"]
    end = np.where(ended.isna(), np.inf, day_numbers(ended.fillna(pd.Timestamp(END))))
    mrr = subscriptions["mrr"].astype("float64").to_numpy()
    codes, _ = pd.factorize(subscriptions["account_id"])
    out = np.zeros((codes.max() + 1, len(days)))
    for j, day in enumerate(days):
        active = (start <= day) & (end > day)
        np.add.at(out[:, j], codes[active], mrr[active])
    return out
