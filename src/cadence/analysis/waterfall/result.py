"""The waterfall as people read it: one row per step (money in whole cents, and deal counts), per group, with
every deal behind every bar."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import pandas as pd

from cadence.analysis.waterfall.movements import MOVEMENTS, RULE, StepMoves

BARS = ("start", *MOVEMENTS, "end")
RESIZED = ("increased", "decreased")  # deals that stay in the pipeline, their amount changed
DRILL_COLUMNS = ["from", "to", "movement", "opportunity_id", "name", "owner_name", "group", "amount",
                 "before_stage", "before_amount", "before_close_date", "after_stage", "after_amount",
                 "after_close_date"]


def money(cents: int) -> Decimal:
    """Whole cents as an exact amount."""
    return Decimal(cents) / 100


@dataclass(frozen=True)
class Step:
    """One step: each bar's amount in cents and its number of deals."""

    first: date
    last: date
    cents: dict[str, int]
    counts: dict[str, int]

    def amount(self, bar: str) -> Decimal:
        return money(self.cents[bar])

    def as_dict(self) -> dict[str, Any]:
        row: dict[str, Any] = {"from": self.first.isoformat(), "to": self.last.isoformat()}
        row.update({bar: float(self.amount(bar)) for bar in BARS})
        # `*_count` is what each bar does to the number of deals in the pipeline, so the same identity holds in
        # deals as in money; an increase or a decrease moves money, never a deal in or out (0), and how many
        # deals it concerns is `increased_deals` / `decreased_deals`
        row.update({f"{bar}_count": 0 if bar in RESIZED else self.counts[bar] for bar in BARS})
        row.update({f"{bar}_deals": self.counts[bar] for bar in RESIZED})
        return row


def tally(step: StepMoves, start_ids: pd.Index, end_ids: pd.Index, moves: pd.DataFrame) -> Step:
    """A step's bars over the deals given (all of them, or one group's)."""
    start, end = step.start.loc[start_ids], step.end.loc[end_ids]
    cents = {"start": int(start["cents"].sum()), "end": int(end["cents"].sum())}
    counts = {"start": len(start), "end": len(end)}
    for name in MOVEMENTS:
        mine = moves[moves["movement"] == name]
        cents[name], counts[name] = int(mine["cents"].sum()), len(mine)
    return Step(step.first, step.last, cents, counts)


def overall(steps: list[Step]) -> Step:
    """The steps as one: the first start, every movement summed, the last end (they chain, so it reconciles)."""
    cents = {"start": steps[0].cents["start"], "end": steps[-1].cents["end"]}
    counts = {"start": steps[0].counts["start"], "end": steps[-1].counts["end"]}
    for name in MOVEMENTS:
        cents[name] = sum(s.cents[name] for s in steps)
        counts[name] = sum(s.counts[name] for s in steps)
    return Step(steps[0].first, steps[-1].last, cents, counts)


@dataclass
class Waterfall:
    """What moved in the open pipeline of `period`, step by step, in `currency`."""

    currency: str
    period: str
    period_start: date
    period_end: date  # last day, included
    grain: str
    through: date  # the last day counted (the data's last day, or --today)
    rows: list[Step]
    by: str | None = None
    groups: dict[str, list[Step]] = field(default_factory=dict)
    moves: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # DRILL_COLUMNS, amounts in cents
    pipelines: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)  # the pipeline at each boundary
    method: str = RULE

    @property
    def total(self) -> Step:
        return overall(self.rows)

    def drill(self, bar: str, *, step: date | None = None, group: str | None = None) -> list[dict[str, Any]]:
        """The deals behind a bar (a movement, or start / end) of one step (its first day) or of all of them."""
        if bar in ("start", "end"):
            frame = self.pipelines[self.pipelines["bar"] == bar]
            if step is not None:
                frame = frame[frame["from"] == step]
            elif len(self.rows):
                frame = frame[frame["from"] == (self.rows[0].first if bar == "start" else self.rows[-1].first)]
        else:
            frame = self.moves[self.moves["movement"] == bar]
            if step is not None:
                frame = frame[frame["from"] == step]
        if group is not None:
            frame = frame[frame["group"] == group]
        return [_deal_row(record) for record in frame.to_dict("records")]

    def as_dict(self, *, drill: str | None = None, step: date | None = None) -> dict[str, Any]:
        data: dict[str, Any] = {
            "currency": self.currency, "period": self.period, "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(), "grain": self.grain, "as_of": self.through.isoformat(),
            "by": self.by, "method": self.method, "rows": [s.as_dict() for s in self.rows],
            "total": self.total.as_dict() if self.rows else None}
        if self.by is not None:
            data["groups"] = [{"group": name, "rows": [s.as_dict() for s in steps]}
                              for name, steps in self.groups.items()]
        if drill is not None:
            data["drill"] = {"movement": drill, "step": step.isoformat() if step else None,
                             "deals": self.drill(drill, step=step)}
        return data


def _deal_row(record: dict[Any, Any]) -> dict[str, Any]:
    row = {}
    for column in DRILL_COLUMNS:
        value = record.get(column)
        if column == "amount" or column.endswith("_amount"):
            value = None if value is None or pd.isna(value) else float(money(int(value)))
        elif isinstance(value, (pd.Timestamp, date)):
            value = pd.Timestamp(value).date().isoformat()
        elif value is not None and not isinstance(value, str) and pd.isna(value):
            value = None
        row[column] = value
    return row
