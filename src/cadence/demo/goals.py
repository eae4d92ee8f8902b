"""Executives' incentivised goals: all due on the quarter's last day in fiscal 2024 and 2025, staggered in 2026.

Each executive has one quarterly goal. While every goal fell due on the same day the whole company
pushed for that day; from fiscal 2026 each executive's quarter ends in a different week.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from cadence.demo.calendar import FISCAL_YEARS, QUARTER_STARTS, STAGGERED_FROM_YEAR, date_of
from cadence.demo.people import Org

# executive → metric, and (months, days) after the fiscal quarter's start at which a staggered goal falls due
GOALS = {
    "ceo": ("net_new_arr", (3, 0)),
    "cfo": ("gross_revenue_retention", (2, 0)),
    "cro": ("bookings", (1, 0)),
    "cmo": ("pipeline_created", (1, 14)),
    "cpo": ("product_influenced_bookings", (0, 14)),
    "vpcs": ("net_revenue_retention", (2, 14)),
}
RETENTION_TARGETS = {"gross_revenue_retention": 0.9, "net_revenue_retention": 1.05}


def build_goals(org: Org, quarterly: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """One goal per executive per quarter; `quarterly` has quarter (0…11) and one column per money metric."""
    rows: list[dict[str, object]] = []
    for q in range(len(QUARTER_STARTS) - 1):
        start = date_of(int(QUARTER_STARTS[q]))
        year = FISCAL_YEARS[q // 4]
        for key, (metric, (months, days)) in GOALS.items():
            if year >= STAGGERED_FROM_YEAR:
                due = _add_months(start, months) + timedelta(days=days) - timedelta(days=1)
            else:
                due = date_of(int(QUARTER_STARTS[q + 1]) - 1)
            period_start = _add_months(due + timedelta(days=1), -3)
            target = RETENTION_TARGETS.get(metric)
            if target is None:
                actual = float(quarterly.loc[quarterly["quarter"] == q, metric].iloc[0])
                target = round(actual * rng.uniform(1.0, 1.15), -3)
            rows.append({"goal_id": f"G{len(rows) + 1:03d}", "owner_id": org.ids(key), "metric": metric,
                         "target": target, "period_start": pd.Timestamp(period_start), "due_date": pd.Timestamp(due)})
    return pd.DataFrame(rows)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, min(day.day, 28) if day.day > 28 else day.day)
