"""The counts behind a rate: "100% (1 of 1)" reads as noise where "100%" reads as a fact.

For a ratio metric that is a share of rows (win rate: won ÷ closed deals; lead conversion: converted ÷
leads), the denominator is the number of rows behind each figure and the numerator is the share times
it. Other ratios (amount-weighted, retention) have no such count and are left alone.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from cadence.metrics.query import PERIOD_START, MetricQuery, MetricResult, filtered_relation
from cadence.metrics.registry import Metric

COUNTED = frozenset({"win_rate", "lead_conversion"})  # ratios that are a share of their rows
TRIALS = "trials"
HITS = "hits"


def rate_counts(tables: Any, result: MetricResult) -> pd.DataFrame | None:
    """Per period (and dimension value): the rows behind the rate and how many of them count; None when
    the metric is not a share of rows."""
    metric, query = result.metric, result.query
    if metric.name not in COUNTED or not isinstance(metric, Metric):
        return None
    plain = MetricQuery(query.metric, query.by, query.grain, query.start, query.end, query.where)
    relation = filtered_relation(tables, metric, tables.calendar, plain)
    keys = [PERIOD_START, *query.by]
    frame = relation.group_by(keys).agg(**{TRIALS: relation.count()}).to_pandas()
    frame[PERIOD_START] = pd.to_datetime(frame[PERIOD_START]).dt.date
    merged = result.frame.merge(frame, on=keys, how="left")
    merged[TRIALS] = merged[TRIALS].fillna(0).astype(int)
    merged[HITS] = (merged["value"].fillna(0) * merged[TRIALS]).round().astype(int)
    return merged
