"""Each rep's activity funnel as counts: per person, fiscal quarter and ramp status, for every step.

Every step is a pair — successes over trials — so that any window of quarters, any group of reps
and a rep's first months can be added up the same way afterwards:

- call → connect: connects ÷ calls, each counted in its own quarter.
- connect → demo: demos (meetings when the company logs no demos) ÷ connects. Calls and connects
  are not tied to deals, so every demo the rep gave counts.
- demo → proposal: of the deals the rep demoed (dated by the first demo), the share that got a
  proposal — among those *decided* by `as_of`: proposed, or closed without one. A deal still open
  without a proposal is not yet a miss.
- proposal → win: of the deals the rep sent a proposal on (dated by the first), the share won, among
  those closed by `as_of`.
- calls per working day, and bookings (the registry's `bookings`, dated by close) per working day,
  over the Mon–Fri days the rep was employed while the data runs.

The two deal-linked steps follow the deal kinds asked for (new business by default; a deal of no
stated kind counts as new): expansions and renewals convert differently, and a rep's share of them
would pass for skill. A row is *in ramp* when it happened in the rep's first `ramp_months` months
(from people.hired_at).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.catalog import build_registry
from cadence.metrics.dating import dating_of
from cadence.metrics.money import require_rates
from cadence.metrics.query import MetricQuery, filtered_relation
from cadence.metrics.registry import Metric
from cadence.metrics.relations import TableSource

CONVERSIONS = ("call_to_connect", "connect_to_demo", "demo_to_proposal", "proposal_to_win")
VOLUMES = ("calls_per_day", "dollars_per_day")
KEYS = ["person_id", "quarter", "in_ramp"]


def step_counts(tables: TableSource, calendar: FiscalCalendar, people: pd.DataFrame, *, as_of: date,
                ramp_months: int, demo_kind: str, deal_kinds: Sequence[str]) -> pd.DataFrame:
    """Tidy counts: person_id, quarter (start date), in_ramp, step, successes, trials — before `as_of`."""
    hires = _hires(people)
    parts = [
        _activity_ratios(tables, calendar, hires, as_of, ramp_months, demo_kind),
        _deal_step(tables, calendar, hires, as_of, ramp_months, demo_kind, "demo_to_proposal", deal_kinds),
        _deal_step(tables, calendar, hires, as_of, ramp_months, "proposal", "proposal_to_win", deal_kinds),
        _per_day(tables, calendar, people, as_of, ramp_months),
    ]
    parts = [p for p in parts if len(p)]
    if not parts:
        empty = pd.DataFrame(columns=[*KEYS, "step", "successes", "trials"])
        return empty.astype({"in_ramp": bool, "successes": float, "trials": float})
    frame = pd.concat(parts, ignore_index=True)
    frame["quarter"] = pd.to_datetime(frame["quarter"]).dt.date
    frame["in_ramp"] = frame["in_ramp"].fillna(False).astype(bool)
    return frame.groupby([*KEYS, "step"], as_index=False)[["successes", "trials"]].sum()


def _hires(people: pd.DataFrame) -> Any:
    frame = people[["person_id", "hired_at"]].rename(columns={"person_id": "hire_person"})
    frame = frame.assign(hired_at=pd.to_datetime(frame["hired_at"]))
    return ibis.memtable(frame)


def _keyed(table: Any, person: Any, at: Any, hires: Any, calendar: FiscalCalendar, ramp_months: int) -> Any:
    """`table` with person_id, quarter and in_ramp (at < hired_at + ramp_months) columns."""
    joined = table.left_join(hires, person == hires.hire_person)
    ramp_end = joined.hired_at.cast("timestamp") + ibis.interval(months=ramp_months)
    return joined.mutate(person_id=person, quarter=calendar.period_start(at, "quarter"),
                         in_ramp=joined.hired_at.notnull() & (at < ramp_end))


def _activities(tables: TableSource, as_of: date) -> Any:
    acts = tables.table("activities")
    return acts.filter(acts.occurred_at < ibis.timestamp(pd.Timestamp(as_of)))


def _activity_ratios(tables: TableSource, calendar: FiscalCalendar, hires: Any, as_of: date, ramp_months: int,
                     demo_kind: str) -> pd.DataFrame:
    acts = _activities(tables, as_of)
    acts = acts.filter(acts.kind.isin(["call", "connect", demo_kind]))
    keyed = _keyed(acts, acts.person_id, acts.occurred_at, hires, calendar, ramp_months)
    counts = keyed.group_by([*KEYS, "kind"]).aggregate(n=keyed.count()).to_pandas()
    wide = counts.pivot_table(index=KEYS, columns="kind", values="n", aggfunc="sum", fill_value=0)
    wide = wide.reindex(columns=["call", "connect", demo_kind], fill_value=0).reset_index()
    pairs = {"call_to_connect": ("connect", "call"), "connect_to_demo": (demo_kind, "connect"),
             "calls_per_day": ("call", None)}
    out = []
    for step, (success, trial) in pairs.items():
        out.append(wide[KEYS].assign(step=step, successes=wide[success].astype(float),
                                     trials=wide[trial].astype(float) if trial else 0.0))
    return pd.concat(out, ignore_index=True)


def _closed(tables: TableSource, as_of: date) -> Any:
    """Per opportunity: its kind, and whether it was closed / won before `as_of`."""
    opps = tables.table("opportunities")
    closed_on = dating_of(tables).closed_on(opps)  # as the metrics date closed deals
    before = closed_on.notnull() & (closed_on < ibis.timestamp(pd.Timestamp(as_of)))
    return opps.select(deal_id=opps.opportunity_id, deal_kind=opps.kind,
                       closed=opps.is_closed & before, won=opps.is_won & before)


def _deal_step(tables: TableSource, calendar: FiscalCalendar, hires: Any, as_of: date, ramp_months: int,
               kind: str, step: str, deal_kinds: Sequence[str]) -> pd.DataFrame:
    acts = _activities(tables, as_of)
    linked = acts.filter(acts.opportunity_id.notnull())
    started = linked.filter(linked.kind == kind).group_by(["person_id", "opportunity_id"]).aggregate(
        first_at=linked.occurred_at.min())
    deals = _closed(tables, as_of)
    joined = started.left_join(deals, started.opportunity_id == deals.deal_id)
    if step == "demo_to_proposal":
        proposals = linked.filter(linked.kind == "proposal").select(proposed=linked.opportunity_id).distinct()
        joined = joined.left_join(proposals, joined.opportunity_id == proposals.proposed)
        success = joined.proposed.notnull()
        decided = success | joined.closed.fill_null(False)
    else:
        success = joined.won.fill_null(False)
        decided = joined.closed.fill_null(False)
    joined = joined.mutate(success=success, decided=decided)
    joined = joined.filter(joined.decided, joined.deal_kind.isnull() | joined.deal_kind.isin(list(deal_kinds)))
    keyed = _keyed(joined, joined.person_id, joined.first_at, hires, calendar, ramp_months)
    counts = keyed.group_by(KEYS).aggregate(successes=keyed.success.ifelse(1, 0).sum(), trials=keyed.count())
    return counts.to_pandas().assign(step=step)


def _per_day(tables: TableSource, calendar: FiscalCalendar, people: pd.DataFrame, as_of: date,
             ramp_months: int) -> pd.DataFrame:
    """Bookings per working day's parts, and the working days that calls per day also divide by."""
    bookings = build_registry().get("bookings")
    assert isinstance(bookings, Metric)
    won = filtered_relation(tables, bookings, calendar, MetricQuery("bookings", (), "quarter", None, as_of))
    require_rates(won, tables)  # bookings per day in one currency
    keyed = _keyed(won, won.owner_id, won.closed_on, _hires(people), calendar, ramp_months)
    amounts = keyed.group_by(KEYS).aggregate(successes=bookings.measure(keyed)).to_pandas()
    amounts = amounts.assign(quarter=pd.to_datetime(amounts["quarter"]).dt.date, trials=0.0)
    days = working_days(people, calendar, _data_start(tables, as_of), as_of, ramp_months).assign(successes=0.0)
    dollars = pd.concat([days, amounts], ignore_index=True).assign(step="dollars_per_day")
    calls = days.assign(step="calls_per_day")  # the calls themselves come with the activities
    return pd.concat([dollars, calls], ignore_index=True).astype({"successes": float, "trials": float})


def _data_start(tables: TableSource, as_of: date) -> date:
    first = _activities(tables, as_of).occurred_at.min().execute()
    return pd.Timestamp(first).date() if first is not None and not pd.isna(first) else as_of


def working_days(people: pd.DataFrame, calendar: FiscalCalendar, first: date, as_of: date,
                 ramp_months: int) -> pd.DataFrame:
    """Mon–Fri days each person was employed in [first, as_of), per quarter and ramp status (as trials)."""
    rows = []
    for person in people.itertuples(index=False):
        hired = _day(person.hired_at) or first
        left = _day(person.left_at)
        start, end = max(first, hired), min(as_of, left + timedelta(days=1) if left else as_of)
        ramp_end = (pd.Timestamp(hired) + pd.DateOffset(months=ramp_months)).date() if _day(person.hired_at) else first
        quarter = calendar.start_of(start, "quarter")
        while quarter < end:
            following = calendar.next_start(quarter, "quarter")
            lo, hi = max(start, quarter), min(end, following)
            for in_ramp, a, b in ((True, lo, min(hi, ramp_end)), (False, max(lo, ramp_end), hi)):
                if a < b:
                    rows.append({"person_id": person.person_id, "quarter": quarter, "in_ramp": in_ramp,
                                 "trials": float(np.busday_count(a, b))})
            quarter = following
    return pd.DataFrame(rows, columns=[*KEYS, "trials"])


def _day(value: Any) -> date | None:
    if value is None or pd.isna(value):
        return None
    return pd.Timestamp(value).date()
