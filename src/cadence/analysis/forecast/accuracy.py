"""Whose forecast to believe: each forecaster's calls on past quarters scored against what their team closed,
beside the model's and the stage-weighted forecast's for the same team at the same moments.

For every complete quarter someone called, at its start, day 30 and day 60, the call that counts is the
forecaster's latest commit made at or before that day. The actual is what their scope won in the quarter
(a manager: every deal owned by them or anyone whose chain of managers leads to them; a rep: their own), in
the reporting currency. Accuracy is HubSpot's: max(0, 1 − |actual − forecast| ÷ actual). The model and the
stage-weighted forecast are the company's replay at the same checkpoint, summed over the same scope's deals
(`scoped.py`), computed once per checkpoint for everyone.

A bias is named only when the data is sure of it: the relative errors (call − actual) ÷ actual of each
quarter are averaged (a quarter's three checkpoints share one outcome, so they are one observation, not
three), and a 95% t-interval on the mean of those quarterly errors must exclude zero — below zero is
"under" (sandbagging), above is "over" (over-calling). With fewer than three quarters no bias is named.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.forecast.calls import latest_call, read_calls
from cadence.analysis.forecast.hierarchy import Hierarchy, build_hierarchy
from cadence.analysis.forecast.quarter import Forecaster
from cadence.analysis.forecast.scoped import CompanyReplay, replay_company
from cadence.analysis.forecast.snapshot import won_between
from cadence.metrics.relations import TableSource

CHECKPOINT_DAYS = (0, 30, 60)
MIN_QUARTERS_FOR_BIAS = 3
LEVEL = 0.95


def accuracy(actual: float, forecast: float | None) -> float | None:
    """HubSpot's forecast accuracy, max(0, 1 − |actual − forecast| ÷ actual); None without a forecast or when
    nothing closed (no scale to judge a miss by)."""
    if forecast is None or actual <= 0 or math.isnan(forecast):
        return None
    return max(0.0, 1.0 - abs(actual - forecast) / actual)


@dataclass
class Checkpoint:
    day: int
    call: float | None
    called_at: str | None
    accuracy: float | None
    model: float | None
    model_accuracy: float | None
    stage_weighted: float
    stage_weighted_accuracy: float | None
    best_case: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"day": self.day, "call": self.call, "called_at": self.called_at, "accuracy": self.accuracy,
                "model": self.model, "model_accuracy": self.model_accuracy, "stage_weighted": self.stage_weighted,
                "stage_weighted_accuracy": self.stage_weighted_accuracy, "best_case": self.best_case}


@dataclass
class QuarterCalls:
    quarter: str
    actual: float
    checkpoints: list[Checkpoint]

    @property
    def relative_error(self) -> float | None:
        """The mean of (call − actual) ÷ actual over the checkpoints with a call; None if none or nothing closed."""
        errors = [(c.call - self.actual) / self.actual for c in self.checkpoints
                  if c.call is not None and self.actual > 0]
        return float(np.mean(errors)) if errors else None

    def as_dict(self) -> dict[str, Any]:
        return {"quarter": self.quarter, "actual": self.actual,
                "checkpoints": [c.as_dict() for c in self.checkpoints], "relative_error": self.relative_error}


@dataclass
class ForecasterScore:
    person_id: str
    name: str
    quarters: list[QuarterCalls]
    scope_people: int
    mean_error: float | None = None  # mean over quarters of the mean relative error (call − actual) ÷ actual
    interval: tuple[float, float] | None = None  # its 95% t-interval
    bias: str | None = None  # "under", "over" or None (not sure, or no bias)
    accuracy: float | None = None  # mean accuracy of every scored call
    model_accuracy: float | None = None
    stage_weighted_accuracy: float | None = None
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name, "quarters": [q.as_dict() for q in self.quarters],
                "mean_error": self.mean_error, "bias": self.bias, "accuracy": self.accuracy,
                "bias_interval": list(self.interval) if self.interval else None,
                "quarters_scored": sum(q.relative_error is not None for q in self.quarters),
                "model_accuracy": self.model_accuracy, "stage_weighted_accuracy": self.stage_weighted_accuracy,
                "scope_people": self.scope_people, "notes": list(self.notes)}


def bias_of(errors: list[float]) -> tuple[float | None, tuple[float, float] | None, str | None]:
    """(mean, 95% t-interval, "under"/"over"/None) of quarterly relative errors."""
    if not errors:
        return None, None, None
    mean = float(np.mean(errors))
    if len(errors) < MIN_QUARTERS_FOR_BIAS:
        return mean, None, None
    from scipy import stats

    sd = float(np.std(errors, ddof=1))
    half = float(stats.t.ppf(0.5 + LEVEL / 2, len(errors) - 1)) * sd / math.sqrt(len(errors))
    low, high = mean - half, mean + half
    verdict = "under" if high < 0 else "over" if low > 0 else None
    return mean, (low, high), verdict


def score_forecasters(calls: pd.DataFrame, forecaster: Forecaster, hierarchy: Hierarchy, currency: str,
                      end: date | None = None, last_quarters: int | None = None
                      ) -> tuple[list[ForecasterScore], list[str]]:
    """Every forecaster with a call on a complete past quarter (or on the `last_quarters` most recent ones),
    scored; and notes on what was left out."""
    calendar = forecaster.calendar
    last = min(end, forecaster.data.end) if end else forecaster.data.end
    notes: list[str] = []
    foreign = calls[calls["currency"].fillna(currency) != currency]
    if len(foreign):
        notes.append(f"{len(foreign):,} calls are in another currency than {currency}: left out, not converted")
    calls = calls[calls["currency"].fillna(currency) == currency]
    starts = _quarter_starts(calls, calendar, last, notes)
    if last_quarters is not None and len(starts) > last_quarters:
        kept = sorted(starts, key=lambda q: starts[q])[-last_quarters:]
        notes.append(f"the last {last_quarters} complete quarters called ({kept[0]} to {kept[-1]}) of {len(starts)}")
        starts = {q: starts[q] for q in kept}
    replays: dict[tuple[date, int], CompanyReplay] = {}
    stretches: dict[tuple[date, int], pd.Series | None] = {}
    scores = []
    for person in sorted(calls["person_id"].unique(), key=lambda p: (hierarchy.names.get(p, p), p)):
        mine = calls[calls["person_id"] == person]
        scope = hierarchy.scope(person) if person in hierarchy.names else {person}
        quarters = []
        for label in sorted(set(mine["quarter"]) & set(starts), key=lambda q: starts[q]):
            start = starts[label]
            replay = [_replay(replays, stretches, forecaster, start, d) for d in CHECKPOINT_DAYS]
            quarters.append(_quarter_calls(mine, person, label, start, scope, forecaster, replay))
        if quarters:  # a forecaster who called only quarters still under way has nothing to be scored on yet
            scores.append(_summarise(ForecasterScore(person, hierarchy.names.get(person, person), quarters,
                                                     len(scope))))
    return scores, notes


def _replay(cache: dict[tuple[date, int], CompanyReplay], stretches: dict[tuple[date, int], pd.Series | None],
            forecaster: Forecaster, start: date, day: int) -> CompanyReplay:
    if (start, day) not in cache:
        cache[(start, day)] = replay_company(forecaster, start, day, stretches)
    return cache[(start, day)]


def _quarter_starts(calls: pd.DataFrame, calendar: Any, last: date, notes: list[str]) -> dict[str, date]:
    """Start of each called quarter that is complete by `last`; unreadable labels are noted."""
    starts: dict[str, date] = {}
    bad = []
    for label in sorted(set(calls["quarter"].dropna())):
        try:
            start, grain = calendar.parse(label)
        except ValueError:
            bad.append(label)
            continue
        if grain == "quarter" and calendar.next_start(start, "quarter") <= last:
            starts[str(label)] = start
    if bad:
        notes.append(f"calls on quarters not read as fiscal quarters were left out: {', '.join(bad)}")
    return starts


def _quarter_calls(calls: pd.DataFrame, person: str, label: str, start: date, scope: set[str],
                   forecaster: Forecaster, replays: list[CompanyReplay]) -> QuarterCalls:
    end = forecaster.calendar.next_start(start, "quarter")
    won = won_between(forecaster.closes, start, end)
    actual = float(won.loc[won["owner_id"].isin(scope), "amount"].fillna(0.0).sum())
    checkpoints = []
    for day, replay in zip(CHECKPOINT_DAYS, replays, strict=True):
        call = latest_call(calls, person, label, start + timedelta(days=day))
        weighted, model = replay.for_owners(scope, forecaster)
        commit = None if call is None else float(call["commit_amount"])
        best = None if call is None or pd.isna(call["best_case_amount"]) else float(call["best_case_amount"])
        called_at = None if call is None else pd.Timestamp(call["called_at"]).isoformat()
        checkpoints.append(Checkpoint(day, commit, called_at, accuracy(actual, commit), model,
                                      accuracy(actual, model), weighted, accuracy(actual, weighted), best))
    return QuarterCalls(label, actual, checkpoints)


def _summarise(score: ForecasterScore) -> ForecasterScore:
    errors = [q.relative_error for q in score.quarters if q.relative_error is not None]
    score.mean_error, score.interval, score.bias = bias_of(errors)
    points = [c for q in score.quarters for c in q.checkpoints]
    score.accuracy = _mean([c.accuracy for c in points if c.call is not None])
    score.model_accuracy = _mean([c.model_accuracy for c in points])
    score.stage_weighted_accuracy = _mean([c.stage_weighted_accuracy for c in points])
    if errors and len(errors) < MIN_QUARTERS_FOR_BIAS:
        score.notes.append(f"{len(errors)} quarter(s) scored: a bias is named from {MIN_QUARTERS_FOR_BIAS} on")
    if any(q.actual <= 0 for q in score.quarters):
        score.notes.append("quarters where their scope closed nothing have no accuracy (nothing to measure a "
                           "miss against)")
    return score


def _mean(values: list[float | None]) -> float | None:
    kept = [v for v in values if v is not None]
    return float(np.mean(kept)) if kept else None


@dataclass
class CallsReport:
    """Every forecaster's scored calls, and what was left out (the JSON of `cadence forecast calls`)."""

    forecasters: list[ForecasterScore]
    currency: str
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"forecasters": [f.as_dict() for f in self.forecasters], "currency": self.currency,
                "checkpoint_days": list(CHECKPOINT_DAYS), "notes": list(self.notes)}


def score_calls(tables: TableSource, forecaster: Forecaster, currency: str,
                last_quarters: int | None = None) -> CallsReport:
    """The calls `tables` shows (a manager's scope: their team's), each forecaster scored over past quarters
    (every complete one, or the `last_quarters` most recent)."""
    calls = read_calls(tables)
    people = tables.table("people").select("person_id", "name", "manager_id").to_pandas()
    hierarchy = build_hierarchy(people, forecaster.data.deals["owner_id"].dropna())
    scores, notes = score_forecasters(calls, forecaster, hierarchy, currency, last_quarters=last_quarters)
    if calls.empty:
        notes.append("no forecast calls yet: record one with `cadence forecast call --person ID --quarter Q "
                     "--commit X` or on the forecast page")
    elif not any(f.quarters for f in scores):
        notes.append("no call is on a complete quarter yet: calls are scored once their quarter has ended")
    return CallsReport(scores, currency, notes)
