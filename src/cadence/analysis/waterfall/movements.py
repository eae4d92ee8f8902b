"""Which movement each deal made in one step of the waterfall: the rule, stated once, applied to every deal.

The period's open pipeline at a moment = deals whose latest history row before that moment is an open stage
(not won, not lost) with a close date inside the period. For each step, each deal's state at the step's
start (S) is compared with its state at the step's end (E):

- in the pipeline at S and at E: the amount's change is **increased** or **decreased**;
- in at S, out at E: **won** if E is a won stage whose close date (else the day it was won) is in the period:
  at the amount it was won for (what bookings count), the change from S going to increased or decreased
  first; **lost** if E is a lost stage, at its amount at S (CRMs often zero a lost deal's amount); otherwise
  **pushed_out** at its amount at S (its close date left the period or was cleared, or it was won with a
  close date outside the period);
- out at S, in at E: **created** if the deal was created within the step, else **pulled_in** (its close date
  moved into the period, or it was reopened). It enters at its amount at E;
- out at S and at E, but closed within the step with a close date in the period (created and won in one
  week; a deal of the next quarter won early): it went through the pipeline within the step, so it is
  counted twice at its amount at E: **created** (or **pulled_in**) and **won** (or **lost**).

A deal is known from its first history row on: one whose history begins after it was created enters then (as
created, if that is within its step of creation, else as pulled in); one without history is in no bar. Deleted
deals (a full export no longer held them) are never counted.

So money reconciles exactly: start + created + pulled_in + increased − decreased − pushed_out − won − lost = end,
in whole cents; and deals do too: start + created + pulled_in − pushed_out − won − lost = end (an
increase or decrease moves money, not deals: those deals are counted at both ends). In the JSON every
`*_count` is what its bar does to the number of deals — `increased_count` and `decreased_count` are 0, so the
money identity reads the same in deals — and `increased_deals` / `decreased_deals` say how many deals changed
amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from cadence.analysis.waterfall.data import WaterfallData, live_at

MOVEMENTS = ("created", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost")
ADDED = ("created", "pulled_in", "increased")
SUBTRACTED = ("decreased", "pushed_out", "won", "lost")
RULE = ("each deal's state at a step's start and end is compared: out → in is created (created within the step) "
        "or pulled_in, at its end amount; in → out is won (won with its close date in the period; at the amount won, "
        "the change since the start counted as increased or decreased), lost or else pushed_out (at its start "
        "amount); in at both: the amount's change is increased or decreased; a deal that "
        "enters and closes within one step (close date in the period) counts as created or pulled_in and as won "
        "or lost, at its closing amount. The pipeline = open deals (not won or lost) whose close date is in the "
        "period, as their latest history row before the moment says")
STATE = ["stage", "cents", "close_date"]


@dataclass(frozen=True)
class Period:
    """The target period: deals whose close date falls from `start` to `end` (both included)."""

    label: str
    start: date
    end: date

    def holds(self, days: pd.Series) -> pd.Series:
        return (days >= pd.Timestamp(self.start)) & (days < pd.Timestamp(self.end + timedelta(days=1)))


@dataclass
class StepMoves:
    """One step: the pipeline at its start and end (deal states), and every deal's movements within it."""

    first: date  # the step's first day (its start: the pipeline as the day began)
    last: date  # its last day (its end: the pipeline as the day ended)
    start: pd.DataFrame  # indexed by opportunity_id: stage, cents, close_date
    end: pd.DataFrame
    moves: pd.DataFrame  # movement, opportunity_id, cents, before_* and after_* (stage, cents, close_date)


def in_pipeline(states: pd.DataFrame, period: Period) -> pd.Series:
    """Whether each state is in the period's open pipeline."""
    return states["changed_at"].notna() & ~states["is_won"].astype(bool) & ~states["is_lost"].astype(bool) \
        & period.holds(states["close_date"])


def step_moves(data: WaterfallData, period: Period, first: date, last: date) -> StepMoves:
    """The movements from the start of `first` to the end of `last`."""
    every_after = live_at(data.history, pd.Timestamp(first) + pd.Timedelta(days=(last - first).days + 1))
    every_before = live_at(data.history, pd.Timestamp(first))
    closes_at = every_after["close_date"].fillna(every_after["changed_at"].dt.normalize())
    may_move = in_pipeline(every_after, period) | (
        (every_after["is_won"] | every_after["is_lost"]) & period.holds(closes_at))
    deals = every_before.index[in_pipeline(every_before, period)].union(every_after.index[may_move])
    after, before = every_after.loc[deals], every_before.reindex(deals)  # only the deals that may have moved
    before["is_won"] = before["is_won"].astype("boolean").fillna(False).astype(bool)
    before["is_lost"] = before["is_lost"].astype("boolean").fillna(False).astype(bool)
    in_start, in_end = in_pipeline(before, period), in_pipeline(after, period)
    closed_in_step = (after["is_won"] | after["is_lost"]) & ~(before["is_won"] | before["is_lost"])
    closes_in_period = period.holds(closes_at.loc[deals])
    created = data.deals["created_at"].reindex(deals)
    created_in_step = (created >= pd.Timestamp(first)) & (created < pd.Timestamp(last + timedelta(days=1)))
    stay, leave, enter = in_start & in_end, in_start & ~in_end, ~in_start & in_end
    through = ~in_start & ~in_end & closed_in_step & closes_in_period
    change = after["cents"] - before["cents"].fillna(0).astype("int64")
    won_leave = leave & after["is_won"] & closes_in_period
    lost_leave = leave & after["is_lost"]
    changed = stay | won_leave  # a deal won for another amount than it carried: the difference moves first
    parts = [
        ("increased", changed & (change > 0), change), ("decreased", changed & (change < 0), -change),
        ("created", (enter | through) & created_in_step, after["cents"]),
        ("pulled_in", (enter | through) & ~created_in_step, after["cents"]),
        ("won", won_leave, after["cents"]), ("lost", lost_leave, before["cents"]),
        ("pushed_out", leave & ~won_leave & ~lost_leave, before["cents"]),
        ("won", through & after["is_won"], after["cents"]), ("lost", through & after["is_lost"], after["cents"]),
    ]
    sides = pd.concat([before[STATE].add_prefix("before_"), after[STATE].add_prefix("after_")], axis=1)
    moves = pd.concat([_records(name, mask, amount, sides) for name, mask, amount in parts], ignore_index=True)
    return StepMoves(first, last, before.loc[in_start, STATE], after.loc[in_end, STATE], moves)


def _records(movement: str, mask: pd.Series, amount: pd.Series, sides: pd.DataFrame) -> pd.DataFrame:
    chosen = mask.to_numpy(dtype=bool)
    frame = sides[chosen].rename_axis("opportunity_id").reset_index()
    frame.insert(0, "movement", movement)
    frame.insert(2, "cents", amount.to_numpy()[chosen].astype("int64"))
    return frame
