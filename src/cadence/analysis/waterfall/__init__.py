"""The pipeline waterfall: what moved in the open pipeline of a period, step by step ("what moved this week?").

For the deals open with a close date in a target period (a fiscal quarter by default), between consecutive
dates — steps of a week or a fiscal month from the period's start up to its end or the data's last day,
whichever comes first — the pipeline's value moves as

    start + created + pulled_in + increased − decreased − pushed_out − won − lost = end

in one currency (the workspace's, or another one through its exchange rates; a missing rate refuses the
whole waterfall, never a mixed sum), exactly to the cent, and in deal counts (start + created + pulled_in −
pushed_out − won − lost = end). Each step's end is the next step's start. Which movement a deal makes is
decided by comparing its state at the step's start and end (movements.py states the rule); every bar lists
its deals with their stage, amount and close date before and after.

Pure: tables in (any `table(name)` source), a `Waterfall` out.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pandas as pd

from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.waterfall.data import DIMENSIONS, WaterfallData, load_waterfall_data
from cadence.analysis.waterfall.movements import ADDED, MOVEMENTS, RULE, SUBTRACTED, Period, StepMoves, step_moves
from cadence.analysis.waterfall.result import BARS, DRILL_COLUMNS, Step, Waterfall, money, overall, tally
from cadence.errors import InputError, UnknownNameError
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.relations import TableSource

__all__ = ["ADDED", "BARS", "DIMENSIONS", "DRILL_COLUMNS", "GRAINS", "MOVEMENTS", "RULE", "SUBTRACTED", "Period",
           "Step", "Waterfall", "WaterfallData", "load_waterfall_data", "money", "overall", "pipeline_waterfall",
           "target_period", "touching", "waterfall_steps", "week_waterfall"]

GRAINS = ("week", "month")
NO_GROUP = "(none)"


def target_period(calendar: FiscalCalendar, label: str | None, through: date) -> Period:
    """The period named by `label` (2026-Q1, 2026-03, 2026), else the fiscal quarter holding `through`."""
    if label is None:
        start = calendar.start_of(through, "quarter")
        grain: Any = "quarter"
    else:
        start, grain = calendar.parse(label)
        if grain in ("day", "week"):
            raise InputError(f"--period {label}: the waterfall's target period is a quarter, a month or a year",
                             hint="e.g. --period 2026-Q1")
    return Period(calendar.label(start, grain), start, calendar.next_start(start, grain) - timedelta(days=1))


def waterfall_steps(calendar: FiscalCalendar, period: Period, grain: str, through: date) -> list[tuple[date, date]]:
    """(first day, last day) of each step: a week or a fiscal month from the period's start, up to its end or
    `through` (the data's last day), whichever comes first."""
    if grain not in GRAINS:
        raise UnknownNameError("grain", grain, GRAINS)
    last = min(period.end, through)
    if last < period.start:
        raise InputError(f"{period.label} starts on {period.start}, after the data's last day ({through})",
                         hint="pick a period that has begun, or give a later --today")
    steps, first = [], period.start
    while first <= last:
        following = first + timedelta(days=7) if grain == "week" else \
            calendar.next_start(calendar.start_of(first, "month"), "month")
        steps.append((first, min(following - timedelta(days=1), last)))
        first = following
    return steps


def pipeline_waterfall(tables: TableSource, calendar: FiscalCalendar, *, period: str | None = None,
                       grain: str = "week", by: str | None = None, through: date | None = None,
                       data: WaterfallData | None = None) -> Waterfall:
    """The waterfall of `period`'s open pipeline (default: the quarter holding the data's last day), step by
    `grain`, up to `through` (default: the data's last day); one per group with `by` (team, owner_name,
    segment). `data` may be handed in when many periods are read from one workspace."""
    if by is not None and by not in DIMENSIONS:
        raise UnknownNameError("waterfall dimension", by, DIMENSIONS)
    last_day = through or resolve_as_of(tables).day
    target = target_period(calendar, period, last_day)
    bounds = waterfall_steps(calendar, target, grain, last_day)
    loaded = touching(data or load_waterfall_data(tables, touching=(target.start, target.end)), target)
    return assemble(loaded, target, grain, last_day, [step_moves(loaded, target, a, b) for a, b in bounds], by)


def week_waterfall(tables: TableSource, calendar: FiscalCalendar, first: date, last: date) -> Waterfall:
    """One step, from the start of `first` to the end of `last`, of the quarter holding `last` (the scorecard's
    week under review): only deals not closed before the week are read."""
    target = target_period(calendar, None, last)
    data = touching(load_waterfall_data(tables, active_since=first, touching=(target.start, target.end)), target)
    return assemble(data, target, "week", last, [step_moves(data, target, first, last)], None)


def touching(data: WaterfallData, period: Period) -> WaterfallData:
    """Only the deals that ever had a close date in the period (or closed in it without one): no other deal can
    be in its pipeline or close within it, so no other can make a movement."""
    history = data.history
    days = history["close_date"].fillna(history["changed_at"].dt.normalize())
    deals = history.loc[period.holds(days), "opportunity_id"].unique()
    return WaterfallData(data.deals, history[history["opportunity_id"].isin(deals)], data.currency)


def assemble(data: WaterfallData, period: Period, grain: str, through: date, steps: list[StepMoves],
             by: str | None) -> Waterfall:
    """The steps' bars, per group when `by` is given, and the drill frames."""
    deals = data.deals
    group_of = deals[by].fillna(NO_GROUP).astype(str) if by else None
    rows, groups = [], {}
    for step in steps:
        rows.append(tally(step, step.start.index, step.end.index, step.moves))
    if group_of is not None:
        names = sorted({group_of.get(i, NO_GROUP) for s in steps for i in (*s.start.index, *s.end.index,
                                                                          *s.moves["opportunity_id"])})
        for name in names:
            groups[name] = [tally(s, s.start.index[_in(s.start.index, group_of, name)],
                                  s.end.index[_in(s.end.index, group_of, name)],
                                  s.moves[_in(pd.Index(s.moves["opportunity_id"]), group_of, name)])
                            for s in steps]
    return Waterfall(data.currency, period.label, period.start, period.end, grain, through, rows, by=by,
                     groups=groups, moves=_moves_frame(steps, deals, group_of),
                     pipelines=_pipelines_frame(steps, deals, group_of))


def _in(ids: pd.Index, group_of: pd.Series, name: str) -> Any:  # which of `ids` belong to group `name`
    return (group_of.reindex(ids).fillna(NO_GROUP) == name).to_numpy()


def _moves_frame(steps: list[StepMoves], deals: pd.DataFrame, group_of: pd.Series | None) -> pd.DataFrame:
    parts = [s.moves.assign(**{"from": s.first, "to": s.last}) for s in steps]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["movement", "opportunity_id"])
    return _described(frame.rename(columns={"cents": "amount", "before_cents": "before_amount",
                                            "after_cents": "after_amount"}), deals, group_of)


def _pipelines_frame(steps: list[StepMoves], deals: pd.DataFrame, group_of: pd.Series | None) -> pd.DataFrame:
    parts = []
    for step in steps:
        for bar, states in (("start", step.start), ("end", step.end)):
            side = "before" if bar == "start" else "after"
            frame = states.reset_index().rename(columns={"stage": f"{side}_stage", "cents": f"{side}_amount",
                                                         "close_date": f"{side}_close_date"})
            parts.append(frame.assign(bar=bar, movement=bar, amount=frame[f"{side}_amount"],
                                      **{"from": step.first, "to": step.last}))
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["bar", "opportunity_id"])
    return _described(frame, deals, group_of)


def _described(frame: pd.DataFrame, deals: pd.DataFrame, group_of: pd.Series | None) -> pd.DataFrame:
    ids = frame["opportunity_id"]
    return frame.assign(name=ids.map(deals["name"]), owner_name=ids.map(deals["owner_name"]),
                        group=ids.map(group_of).fillna(NO_GROUP) if group_of is not None else None)
