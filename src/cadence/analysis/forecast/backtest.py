"""Replay every past quarter: what each method forecast at its start, day 30 and day 60, against what closed.

A quarter is replayed when it is complete (it ended by the last day of data) and an earlier quarter had
won deals to learn from. The actual is the quarter's bookings as the metrics layer defines them (the
`bookings` metric), computed once for all quarters. Error is |forecast − actual| ÷ actual; a method with
an interval is judged on whether the actual fell inside its P10–P90.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.forecast.quarter import Forecaster
from cadence.analysis.forecast.result import METHODS
from cadence.analysis.forecast.win_model import MIN_WINS, WIN_MODEL_GUIDE
from cadence.metrics.catalog import build_registry
from cadence.metrics.query import MetricQuery, compute_metric
from cadence.metrics.relations import TableSource
from cadence.progress import Progress, Silent

CHECKPOINTS = {"start": 0, "day30": 30, "day60": 60}
MIN_QUARTERS_TO_RANK = 3  # replayed quarters before a "best method" is named: a median of at least three
MISSING_REASONS = {
    "historical": "no quarter before the replayed ones had won deals to learn conversion rates from",
    "win_model": f"too few won deals before each replayed quarter to fit the model (it needs at least {MIN_WINS} won "
                 f"examples; {WIN_MODEL_GUIDE})",
}


@dataclass
class BacktestRow:
    method: str
    quarter: str
    checkpoint: str
    forecast: float
    p10: float | None
    p90: float | None
    actual: float
    abs_pct_error: float | None

    @property
    def inside(self) -> bool | None:
        """Whether the actual fell inside P10–P90 (None for a method without an interval)."""
        if self.p10 is None or self.p90 is None:
            return None
        return self.p10 <= self.actual <= self.p90

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "inside": self.inside}


@dataclass
class MethodScore:
    """One method at one checkpoint over every replayed quarter."""

    method: str
    checkpoint: str
    quarters: int
    median_ape: float | None
    mean_ape: float | None
    coverage: float | None  # share of quarters whose actual fell inside P10–P90
    inside: int = 0  # quarters whose actual fell inside P10–P90 …
    with_interval: int = 0  # … of the quarters with an interval (coverage = inside ÷ with_interval)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def actual_bookings(tables: TableSource, forecaster: Forecaster) -> dict[str, float]:
    """Bookings per fiscal quarter label, from the `bookings` metric."""
    query = MetricQuery("bookings", grain="quarter")
    frame = compute_metric(tables, build_registry(), forecaster.calendar, query).frame
    return {str(p): float(v) for p, v in zip(frame["period"], frame["value"], strict=True) if not pd.isna(v)}


def replayable_quarters(forecaster: Forecaster, actuals: dict[str, float], end: date | None = None) -> list[date]:
    """Starts of complete quarters (ended by `end`, default the data's end) after the first with bookings."""
    calendar = forecaster.calendar
    last = min(end, forecaster.data.end) if end else forecaster.data.end
    start = calendar.start_of(forecaster.data.first_day, "quarter")
    starts, seen_bookings = [], False
    while calendar.next_start(start, "quarter") <= last:
        if seen_bookings:
            starts.append(start)
        seen_bookings = seen_bookings or actuals.get(calendar.label(start, "quarter"), 0.0) > 0
        start = calendar.next_start(start, "quarter")
    return starts


def run_backtest(tables: TableSource, forecaster: Forecaster, *, checkpoints: tuple[str, ...] = tuple(CHECKPOINTS),
                 quarters: list[date] | None = None, end: date | None = None,
                 progress: Progress | None = None, actuals: dict[str, float] | None = None) -> list[BacktestRow]:
    """Every method at every checkpoint of every replayable quarter (or of `quarters`); `actuals` when the caller
    has read them already (`actual_bookings`)."""
    progress = progress or Silent()
    actuals = actual_bookings(tables, forecaster) if actuals is None else actuals
    starts = quarters if quarters is not None else replayable_quarters(forecaster, actuals, end)
    rows = []
    forecaster.prepare([(start + timedelta(days=CHECKPOINTS[c]), start) for start in starts for c in checkpoints])
    progress.start("Replaying past quarters", len(starts))
    for start in starts:
        label = forecaster.calendar.label(start, "quarter")
        actual = actuals.get(label, 0.0)
        for checkpoint in checkpoints:
            result = forecaster.forecast(start + timedelta(days=CHECKPOINTS[checkpoint]), start)
            for m in result.methods:
                error = abs(m.forecast - actual) / actual if actual > 0 else None
                rows.append(BacktestRow(m.method, label, checkpoint, m.forecast, m.p10, m.p90, actual, error))
        progress.advance()
    progress.finish()
    return rows


def score(rows: list[BacktestRow]) -> list[MethodScore]:
    """Median and mean absolute percentage error and P10–P90 coverage, per method and checkpoint."""
    scores = []
    keys = list(dict.fromkeys((r.method, r.checkpoint) for r in rows))
    for method, checkpoint in keys:
        mine = [r for r in rows if r.method == method and r.checkpoint == checkpoint]
        errors = [r.abs_pct_error for r in mine if r.abs_pct_error is not None]
        inside = [r.inside for r in mine if r.inside is not None]
        scores.append(MethodScore(method, checkpoint, len(mine),
                                  float(np.median(errors)) if errors else None,
                                  float(np.mean(errors)) if errors else None,
                                  float(np.mean(inside)) if inside else None, sum(inside), len(inside)))
    return scores


def too_few_to_rank(scores: list[MethodScore], checkpoint: str = "day30") -> str | None:
    """Why the backtest names no best method, when it has too few quarters to; None when it can rank."""
    quarters = max((s.quarters for s in scores if s.checkpoint == checkpoint), default=0)
    if quarters >= MIN_QUARTERS_TO_RANK:
        return None
    replayed = "no quarter" if quarters == 0 else "one quarter" if quarters == 1 else f"{quarters} quarters"
    return (f"{replayed} replayed: too few to rank the methods — one quarter's error is as much luck as skill, "
            f"and a P10–P90 is judged on how often it holds the actual; ranking needs at least "
            f"{MIN_QUARTERS_TO_RANK} complete quarters after the first with bookings")


def missing_methods(scores: list[MethodScore]) -> dict[str, str]:
    """Each forecast method the backtest never produced, with why."""
    present = {s.method for s in scores}
    return {m: MISSING_REASONS[m] for m in METHODS if m not in present and m in MISSING_REASONS}


def best_against_baseline(scores: list[MethodScore], checkpoint: str = "day30",
                          baseline: str = "stage_weighted") -> dict[str, Any] | None:
    """The method with the lowest median error at `checkpoint`, beside the baseline's (the README's headline)."""
    if too_few_to_rank(scores, checkpoint):
        return None
    at = [s for s in scores if s.checkpoint == checkpoint and s.median_ape is not None]
    base = next((s for s in at if s.method == baseline), None)
    others = [s for s in at if s.method != baseline]
    if base is None or not others:
        return None
    best = min(others, key=lambda s: s.median_ape or 0.0)
    ratio = best.median_ape / base.median_ape if base.median_ape else None  # type: ignore[operator]
    return {"checkpoint": checkpoint, "best_method": best.method, "best_median_ape": best.median_ape,
            "best_coverage": best.coverage, "baseline": baseline, "baseline_median_ape": base.median_ape,
            "ratio_to_baseline": ratio, "quarters": best.quarters}
