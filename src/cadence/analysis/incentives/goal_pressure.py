"""Executive goals falling due together, the bunching they bring, and a simulator of other due dates.

*Pressure* of a week (weeks of a fiscal quarter, counted back from its end as in `data`): how many
executives have a goal due in it, and — what the model uses — how many have one due in it or in
the week after (deals are pulled into the days before a goal is measured).

*The model*, fitted on the company's own history: for each week of each complete quarter that the
goals table covers, its **pace** — the week's bookings ÷ what it would have booked had the
quarter's bookings been spread evenly over its days (1 = an average week) — is regressed on that
pressure by ordinary least squares: pace = a + b × executives due this week or next. The slope b
is the extra pace one more executive's due date brings. Its 95% interval comes from a bootstrap
that resamples whole quarters (weeks of one quarter are not independent), seeded.

*The simulator* moves goals' due dates (staggered, or one by one), recomputes each week's pressure,
turns it into an expected pace with the fitted model (never below 0), and from the paces the share
of each quarter's bookings expected in its last two weeks — with the interval the bootstrapped
models give. It says what the company's own history implies, no more: a schedule far from any seen
(pressure above the highest observed) is flagged as an extrapolation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.incentives.bunching import QuarterBunching
from cadence.analysis.incentives.data import (
    LAST_TWO_WEEKS_DAYS,
    MissingDataError,
    QuarterWeek,
    quarter_weeks,
    quarters_between,
)
from cadence.errors import CadenceError
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.relations import TableSource

RESAMPLES = 1000
NEAR_DAYS = 7  # a goal due within a week after a week's end still weighs on it
MODEL = ("OLS of each week's pace (bookings ÷ the quarter's even daily rate × days) on the executives with a goal "
         "due that week or the next, plus a last-two-weeks term when the history can tell it apart; 95% intervals "
         "by bootstrapping whole quarters, and for simulated quarters also the real quarters' spread around the model")


class ProposalError(CadenceError, ValueError):
    """A proposed schedule names goals that do not exist, or is not a schedule."""


def read_goals(tables: TableSource) -> pd.DataFrame:
    """The goals table (goal_id, owner_id, metric, due_date as dates); MissingDataError when empty."""
    goals = tables.table("goals").select("goal_id", "owner_id", "metric", "period_start", "due_date").to_pandas()
    if goals.empty:
        raise MissingDataError("goal pressure and the simulator need executives' goals: the goals table is empty",
                               hint="import goals (goal_id, owner_id, metric, target, period_start, due_date)")
    goals["due_date"] = pd.to_datetime(goals["due_date"]).dt.date
    goals["period_start"] = pd.to_datetime(goals["period_start"]).dt.date
    return goals


@dataclass
class PressureWeek:
    quarter: str
    week: int
    start: date
    executives_due: int  # executives with a goal due in this week
    goals_due: int
    executives_near: int  # executives with a goal due in this week or the next (the model's input)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "start": self.start.isoformat()}


def week_pressure(goals: pd.DataFrame, week: QuarterWeek) -> PressureWeek:
    """Pressure of one week from `goals` (columns owner_id, due_date)."""
    due = goals["due_date"].to_numpy()
    owners = goals["owner_id"].to_numpy()
    this_week = (due >= week.start) & (due < week.end)
    near = (due >= week.start) & (due < week.end + timedelta(days=NEAR_DAYS))
    return PressureWeek(week.quarter, week.week, week.start, len(set(owners[this_week])), int(this_week.sum()),
                        len(set(owners[near])))


def pressure_curve(goals: pd.DataFrame, calendar: FiscalCalendar, quarter_starts: list[date] | None = None
                   ) -> list[PressureWeek]:
    """Pressure of every week of the quarters given (default: every quarter a goal falls due in)."""
    if quarter_starts is None:
        quarter_starts = quarters_between(calendar, min(goals["due_date"]), max(goals["due_date"]))
    return [week_pressure(goals, w) for start in quarter_starts for w in quarter_weeks(calendar, start)]


@dataclass
class PressureModel:
    """pace = intercept + slope × executives due this week or next (+ quarter_end in the last two weeks)."""

    intercept: float
    slope: float  # extra pace per executive with a goal due this week or next
    slope_low: float
    slope_high: float
    quarter_end: float | None  # extra pace of a quarter's last two weeks whatever the goals; None: not measurable
    quarter_end_low: float | None
    quarter_end_high: float | None
    r_squared: float
    weeks: int
    quarters: list[str]
    max_pressure_seen: int
    draws: np.ndarray = field(repr=False)  # bootstrap coefficient rows, for simulation intervals
    residuals: np.ndarray = field(repr=False)  # actual − fitted last-two-weeks share of each fitted quarter
    description: str = MODEL

    def features(self, pressure: np.ndarray) -> np.ndarray:
        """Design rows for the 13 weeks of a quarter with the given pressure."""
        columns = [np.ones_like(pressure), pressure]
        if self.quarter_end is not None:
            columns.append(_last_two_weeks_flag(len(pressure)))
        return np.column_stack(columns)

    @property
    def coefficients(self) -> np.ndarray:
        values = [self.intercept, self.slope] + ([self.quarter_end] if self.quarter_end is not None else [])
        return np.array(values, dtype="float64")

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in asdict(self).items() if k not in ("draws", "residuals")}
        out["formula"] = ("pace = intercept + slope × executives due this week or next"
                          + (" + quarter_end × (last two weeks)" if self.quarter_end is not None else ""))
        return out


def _last_two_weeks_flag(weeks: int) -> np.ndarray:
    return (np.arange(1, weeks + 1) > weeks - LAST_TWO_WEEKS_DAYS // 7).astype("float64")


def _fit(design: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """Least-squares coefficients, or None when the design cannot tell its columns apart."""
    if len(y) <= design.shape[1] or np.linalg.matrix_rank(design) < design.shape[1]:
        return None
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    return np.asarray(coefficients)


def pace_table(quarters: list[QuarterBunching], goals: pd.DataFrame, calendar: FiscalCalendar) -> pd.DataFrame:
    """One row per week of each complete quarter with bookings that the goals cover: quarter, pace, pressure."""
    covered_from = calendar.start_of(min(goals["period_start"]), "quarter")
    covered_to = max(goals["due_date"])
    rows = []
    for q in quarters:
        if not q.complete or q.bookings <= 0 or q.start < covered_from or q.start > covered_to:
            continue
        weeks = quarter_weeks(calendar, q.start)
        days = sum(w.days for w in weeks)
        for w, amount in zip(weeks, q.weekly, strict=True):
            rows.append({"quarter": q.quarter, "week": w.week, "days": w.days, "share": q.share_last_two_weeks,
                         "pace": amount / q.bookings * days / w.days,
                         "pressure": week_pressure(goals, w).executives_near})
    return pd.DataFrame(rows, columns=["quarter", "week", "days", "share", "pace", "pressure"])


def fit_pressure_model(quarters: list[QuarterBunching], goals: pd.DataFrame, calendar: FiscalCalendar,
                       *, seed: int = 0) -> PressureModel:
    """The effect of goals falling due on the pace of bookings, measured on the company's history.

    The quarter-end term joins the model only when the history can tell it from the goals' effect
    (some quarter's last two weeks had a different pressure from the others').
    """
    table = pace_table(quarters, goals, calendar)
    y, pressure = table["pace"].to_numpy(dtype="float64"), table["pressure"].to_numpy(dtype="float64")
    end = (table["week"].to_numpy() > 13 - LAST_TWO_WEEKS_DAYS // 7).astype("float64")
    design = np.column_stack([np.ones_like(y), pressure, end])
    coefficients = _fit(design, y)
    if coefficients is None:
        design = design[:, :2]
        coefficients = _fit(design, y)
    if coefficients is None:
        seen = sorted({int(p) for p in pressure})
        raise MissingDataError("the effect of goal dates needs complete quarters of bookings while goals were "
                               "set, with weeks under different goal pressure: found "
                               f"{table['quarter'].nunique()} such quarters"
                               + (f", every week with {seen[0]} executives due" if len(seen) == 1 else ""))
    residual = y - design @ coefficients
    r_squared = 1 - float((residual ** 2).sum() / ((y - y.mean()) ** 2).sum())
    labels = table["quarter"].unique()
    groups = {q: np.flatnonzero(table["quarter"].to_numpy() == q) for q in labels}
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(RESAMPLES):
        picks = np.concatenate([groups[q] for q in rng.choice(labels, size=len(labels))])
        again = _fit(design[picks], y[picks])
        if again is not None:
            draws.append(again)
    sample = np.array(draws) if draws else coefficients[None, :]
    low, high = np.quantile(sample, [0.025, 0.975], axis=0)
    with_end = design.shape[1] == 3
    fitted = np.array([expected_share(design[idx] @ coefficients, table["days"].to_numpy(dtype="float64")[idx])
                       for idx in groups.values()])
    actual = np.array([table["share"].to_numpy(dtype="float64")[idx[0]] for idx in groups.values()])
    return PressureModel(
        float(coefficients[0]), float(coefficients[1]), float(low[1]), float(high[1]),
        float(coefficients[2]) if with_end else None, float(low[2]) if with_end else None,
        float(high[2]) if with_end else None, r_squared, len(table), list(labels), int(pressure.max()), sample,
        actual - fitted)


def expected_share(paces: np.ndarray, days: np.ndarray) -> np.ndarray:
    """Share of a quarter's bookings in its last two weeks (weeks 12–13) from weekly paces (rows: models)."""
    amounts = np.clip(paces, 0, None) * days
    total = amounts.sum(axis=-1)
    last = amounts[..., -(LAST_TWO_WEEKS_DAYS // 7):].sum(axis=-1)
    return np.asarray(np.where(total > 0, last / np.where(total > 0, total, 1), np.nan))


def staggered_due_dates(goals: pd.DataFrame, calendar: FiscalCalendar, step_days: int) -> dict[str, date]:
    """Each executive's goals due `step_days` apart, counted back from the last day of the goal's quarter.

    Executives are taken in order of owner_id; as many slots as fit in a quarter (13 weeks ÷ step)
    are used, and when there are more executives than slots they share slots in turn. A step of 0
    puts every goal on the quarter's last day.
    """
    owners = sorted(goals["owner_id"].unique())
    slots = max(1, 91 // step_days) if step_days > 0 else 1
    offset = {owner: (i % slots) * step_days for i, owner in enumerate(owners)}
    out = {}
    for goal_id, owner, due in zip(goals["goal_id"], goals["owner_id"], goals["due_date"], strict=True):
        last_day = calendar.next_start(calendar.start_of(due, "quarter"), "quarter") - timedelta(days=1)
        out[str(goal_id)] = last_day - timedelta(days=offset[owner])
    return out


@dataclass
class SimulatedQuarter:
    quarter: str
    peak_executives_current: int  # most executives with a goal due in one week
    peak_executives_proposed: int
    expected_share_current: float | None  # expected share of bookings in the last two weeks
    expected_share_proposed: float | None
    expected_share_proposed_low: float | None
    expected_share_proposed_high: float | None
    actual_share: float | None  # what really happened, when the quarter is in the data
    extrapolated: bool  # the proposal puts more pressure on a week than history ever saw


@dataclass
class Simulation:
    years: list[str]
    proposal: str
    moved_goals: int
    quarters: list[SimulatedQuarter]
    weeks: list[dict[str, Any]]  # quarter, week, start, executives due now and as proposed
    model: PressureModel

    def as_dict(self) -> dict[str, Any]:
        return {"years": self.years, "proposal": self.proposal, "moved_goals": self.moved_goals,
                "quarters": [asdict(q) for q in self.quarters], "weeks": self.weeks, "model": self.model.as_dict()}


def apply_proposal(goals: pd.DataFrame, proposal: dict[str, date]) -> pd.DataFrame:
    """`goals` with the proposed due dates; ProposalError naming goal ids the table does not hold."""
    unknown = sorted(set(proposal) - set(goals["goal_id"].astype(str)))
    if unknown:
        shown = ", ".join(unknown[:5]) + (f" and {len(unknown) - 5} more" if len(unknown) > 5 else "")
        raise ProposalError(f"the proposed due dates name goals the goals table does not hold: {shown}")
    moved = goals.copy()
    moved["due_date"] = [proposal.get(str(g), d) for g, d in zip(moved["goal_id"], moved["due_date"], strict=True)]
    return moved


def _expected(model: PressureModel, pressure: np.ndarray, days: np.ndarray,
              rng: np.random.Generator) -> tuple[float, float, float]:
    """Expected last-two-weeks share, and its interval: model uncertainty plus real quarters' spread around it."""
    design = model.features(pressure)
    point = expected_share(design @ model.coefficients, days)
    spread = expected_share(model.draws @ design.T, days) + rng.choice(model.residuals, size=len(model.draws))
    low, high = np.nanquantile(np.clip(spread, 0, 1), [0.025, 0.975])
    return float(point), float(low), float(high)


def simulate(goals: pd.DataFrame, proposal: dict[str, date], model: PressureModel, calendar: FiscalCalendar,
             years: list[str], *, description: str, actual: dict[str, float | None] | None = None,
             seed: int = 0) -> Simulation:
    """The pressure curve and the expected bunching of each quarter of `years` under the proposed due dates."""
    moved = apply_proposal(goals, proposal)
    starts = [_year_start(calendar, year) for year in years]
    in_scope = np.array([calendar.label(calendar.start_of(d, "year"), "year") in years for d in goals["due_date"]],
                        dtype=bool)
    changed = int(((moved["due_date"] != goals["due_date"]).to_numpy() & in_scope).sum())
    quarters, weeks = [], []
    rng = np.random.default_rng(seed)
    for year_start in starts:
        for start in quarters_between(calendar, year_start, calendar.next_start(year_start, "year")
                                      - timedelta(days=1)):
            grid = quarter_weeks(calendar, start)
            now = [week_pressure(goals, w) for w in grid]
            then = [week_pressure(moved, w) for w in grid]
            days = np.array([w.days for w in grid], dtype="float64")
            current, _, _ = _expected(model, np.array([p.executives_near for p in now], dtype="float64"), days, rng)
            proposed = np.array([p.executives_near for p in then], dtype="float64")
            share, low, high = _expected(model, proposed, days, rng)
            label = calendar.label(start, "quarter")
            quarters.append(SimulatedQuarter(label, max(p.executives_due for p in now),
                                             max(p.executives_due for p in then), current, share, low, high,
                                             (actual or {}).get(label), bool(proposed.max() > model.max_pressure_seen)))
            weeks += [{"quarter": label, "week": a.week, "start": a.start.isoformat(),
                       "executives_due_current": a.executives_due, "executives_due_proposed": b.executives_due}
                      for a, b in zip(now, then, strict=True)]
    return Simulation(years, description, changed, quarters, weeks, model)


def _year_start(calendar: FiscalCalendar, year: str) -> date:
    try:
        start, grain = calendar.parse(year)
    except ValueError as exc:
        raise ProposalError(str(exc)) from None
    if grain != "year":
        raise ProposalError(f"not a fiscal year: {year!r}", hint="write it as 2026")
    return start


def latest_goal_year(goals: pd.DataFrame, calendar: FiscalCalendar) -> str:
    """The fiscal year of the latest goal due date: what a simulation looks at by default."""
    return calendar.label(calendar.start_of(max(goals["due_date"]), "year"), "year")
