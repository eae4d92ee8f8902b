"""The sales funnel from opportunity history: how deals convert from stage to stage, and how fast.

The rules, stated once (`METHOD` carries them to every report):

- **Stages and their order** come from the `stages` table (pipeline, position). The funnel's steps
  are the pipeline's open stages in order, then "won" (every won stage counts as that one step),
  each only when a deal of the pipeline is or has been in it: a declared stage no deal ever used is
  no step. Lost stages are not steps: losing is how a deal leaves the funnel.
- **The cohort** is the deals created in the period (`opportunities.created_at` in [start, end)),
  each seen through its `opportunity_history` up to `as_of`.
- **Reached.** A deal that reached stage k — or any later stage — counts as having reached k (CRMs
  let deals skip stages), once, however often it moved back and forth. A lost deal reached the
  furthest open stage its history shows; a deal whose history shows nothing but a lost stage was
  lost at the first stage.
- **Conversion k → k+1** = deals that reached k+1 ÷ deals that reached k and are *decided* there:
  they went past k (even if they came back since) or closed. Open deals that have not gone past k
  are not counted either way, so a young cohort is not read as a bad one; the share is never above 100%.
- **Time in stage k**: days a deal spent in k, over every stay it ended (moving on, back or to a
  closed stage), for the deals that left k and are not in it now; median and mean. Empty only when
  no deal has left the stage.
- **Win rate from k**: of the closed deals that reached k, the share won.
- **Stage velocity** of k: what a deal that reaches k is worth per day — win rate from k × mean
  amount of those won ÷ median days from entering k to the win. It is the sales-velocity formula
  (deals × win rate × deal size ÷ cycle) for one deal, started from that stage.

Pure: tables in (any `table(name)` source), a tidy result out; no I/O, no configuration.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.errors import MissingDataError, UnknownNameError
from cadence.metrics.definitions import DEAL_DIMS
from cadence.metrics.money import missing_rates, reporting_currency
from cadence.metrics.relations import TableSource, deals

WON_STEP = "won"
METHOD = ("stages in the order of the `stages` table (open stages, then won; lost is how a deal leaves); the "
          "cohort is the deals created in the period, seen through their history; a deal that reached a stage or "
          "any later one counts as reaching it, once; conversion k → k+1 = deals that reached k+1 ÷ deals that "
          "reached k and went past it or closed; time in stage = days spent in it over the stays deals ended, for "
          "deals no longer in it; only stages deals use are listed; stage velocity = win rate from the stage × "
          "mean won amount ÷ median days from entering it to the win")


def require_rows(tables: TableSource, table: str, analysis: str, why: str) -> None:
    """Raise a one-line error naming the analysis and what it needs when `table` is empty."""
    if int(tables.table(table).count().execute()) == 0:
        raise MissingDataError(f"{analysis} needs {table}: the workspace has none ({why})",
                               hint="import them from your CRM (`cadence ingest`) and run it again")


@dataclass(frozen=True)
class StageRow:
    """One stage of the funnel for one group (or the whole cohort when `group` is None)."""

    group: str | None
    stage: str
    position: int  # 1 … number of steps
    reached: int  # deals that reached this stage or a later one
    sitting: int  # open deals in this stage now
    decided: int  # reached it and moved on or closed
    advanced: int  # reached the next stage
    conversion: float | None  # advanced ÷ decided; None for the last step
    median_days: float | None  # time in stage
    mean_days: float | None
    timed: int  # deals behind the time in stage
    win_rate: float | None  # closed deals that reached it: share won
    velocity: float | None  # money per day a deal reaching the stage is worth
    closed: int = 0  # closed deals that reached it (win_rate's denominator) …
    won: int = 0  # … and of them, won


@dataclass(frozen=True)
class Funnel:
    pipeline: str
    start: date | None
    end: date | None  # exclusive
    as_of: date | None
    by: str | None
    deals: int  # deals in the cohort with history
    stages: list[StageRow]
    without_history: int = 0  # deals of the cohort with no history row: left out
    other_pipelines: list[str] = field(default_factory=list)
    method: str = METHOD
    currency: str | None = None  # of stage velocity (money per day)
    velocity_note: str | None = None  # why stage velocity is left out (e.g. an exchange rate is missing)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(s) for s in self.stages], columns=[f.name for f in fields(StageRow)])

    def as_dict(self) -> dict[str, Any]:
        return {"pipeline": self.pipeline, "start": _iso(self.start), "end": _iso(self.end), "as_of": _iso(self.as_of),
                "by": self.by, "deals": self.deals, "without_history": self.without_history,
                "other_pipelines": self.other_pipelines, "method": self.method, "currency": self.currency,
                "velocity_note": self.velocity_note,
                "stages": [asdict(s) for s in self.stages]}


def funnel(tables: TableSource, *, pipeline: str | None = None, start: date | None = None, end: date | None = None,
           by: str | None = None, as_of: date | None = None) -> Funnel:
    """Stage-to-stage conversion, time in stage and stage velocity of the deals created in [start, end)."""
    require_rows(tables, "opportunity_history", "the funnel", "every change of stage, to see which stages each "
                 "deal reached and when")
    if by is not None and by not in DEAL_DIMS:
        raise UnknownNameError("funnel dimension", by, DEAL_DIMS)
    chosen, others = _pick_pipeline(tables, pipeline)
    steps, step_of, lost = _steps(tables, chosen)
    cohort, velocity_note, members = _cohort(tables, chosen, start, end, as_of, by)
    history = _history(tables, members, as_of)
    per_deal = _per_deal(cohort, _deal_outcomes(tables, members, as_of, step_of, lost).to_pandas())
    entries = _entries(history, step_of)
    stays = _time_in_steps(history, step_of)
    groups = [None] if by is None else sorted(per_deal["group"].dropna().unique().tolist(), key=str)
    rows = []
    for group in groups:
        part = per_deal if group is None else per_deal[per_deal["group"] == group]
        rows += _stage_rows(part, entries, stays, steps, None if group is None else str(group))
    return Funnel(chosen, start, end, as_of, by, int(len(per_deal)), rows,
                  without_history=int(len(cohort) - len(per_deal)), other_pipelines=others,
                  currency=reporting_currency(tables), velocity_note=velocity_note)


def win_rates_from_stage(tables: TableSource, *, by: str, start: date | None = None, end: date | None = None,
                         as_of: date | None = None) -> dict[tuple[str, str], tuple[float, int]]:
    """(group, stage) → (win rate from the stage, deals that reached it): the funnel's `win_rate` and `reached`
    for each group, by the same rules, without the time in stage and velocity a funnel also works out — what
    an analysis asks when all it wants is how likely a deal at a stage is to be won. Stages no closed deal
    reached are left out. Needs no exchange rate: no amount is read."""
    require_rows(tables, "opportunity_history", "win rates from each stage", "every change of stage, to see which "
                 "stages each deal reached")
    if by not in DEAL_DIMS:
        raise UnknownNameError("funnel dimension", by, DEAL_DIMS)
    chosen, _ = _pick_pipeline(tables, None)
    steps, step_of, lost = _steps(tables, chosen)
    cohort = _cohort_relation(tables, chosen, start, end, as_of)
    members = cohort.select("opportunity_id", group=cohort[by].cast("string"))
    per_deal = _deal_outcomes(tables, members, as_of, step_of, lost).inner_join(members, "opportunity_id")
    outcomes = per_deal.group_by("group", "reached", "won", "closed").aggregate(deals=per_deal.count()).to_pandas()
    rates: dict[tuple[str, str], tuple[float, int]] = {}
    for group, part in outcomes.dropna(subset=["group"]).groupby("group"):
        for k, name in enumerate(steps, start=1):
            at_k = part[part["reached"] >= k]
            closed_here = at_k[at_k["closed"].astype(bool)]
            if closed_here["deals"].sum():
                won = closed_here.loc[closed_here["won"].astype(bool), "deals"].sum()
                rates[(str(group), name)] = (float(won / closed_here["deals"].sum()), int(at_k["deals"].sum()))
    return rates


def _deal_outcomes(tables: TableSource, members: Any, as_of: date | None, step_of: dict[str, int],
                   lost: set[str]) -> Any:
    """Per deal of `members` whose history (before `as_of`) shows a step or a lost stage, worked out by the engine:
    the furthest step it reached (the first when it shows none), whether it is won and whether closed, and the step
    it sits in now (0 when closed). Its latest such row, a step before a lost stage at the same moment, says how it
    stands. One relation for the funnel (read per deal) and the stage win rates (counted in the engine)."""
    known = sorted(set(step_of) | lost)
    facts = ibis.memtable(pd.DataFrame({
        "stage": known, "step": pd.array([step_of.get(s) for s in known], dtype="Int64"),
        "is_lost": [s in lost for s in known]}))
    history = tables.table("opportunity_history")
    if as_of is not None:
        history = history.filter(history.changed_at < ibis.timestamp(pd.Timestamp(as_of)))
    rows = history.semi_join(members, "opportunity_id").select("opportunity_id", "changed_at", "stage") \
        .inner_join(facts, "stage")
    order = [rows.changed_at.desc(nulls_first=False), rows.step.fill_null(0).desc()]
    rows = rows.mutate(reached=rows.step.max().over(group_by="opportunity_id"),
                       latest=ibis.row_number().over(group_by="opportunity_id", order_by=order))
    last_step = max(step_of.values(), default=0)
    latest = rows.filter(rows.latest == 0)
    won = ((latest.step == last_step) & ~latest.is_lost).fill_null(False)
    closed = won | latest.is_lost
    return latest.select("opportunity_id", reached=ibis.greatest(latest.reached.fill_null(1), 1), won=won,
                         closed=closed, current=ibis.ifelse(closed, 0, latest.step.fill_null(0)))


# -- inputs ---------------------------------------------------------------------------------------------
def _pick_pipeline(tables: TableSource, pipeline: str | None) -> tuple[str, list[str]]:
    """The pipeline asked for, else the one with the most deals; and the other pipelines that have deals."""
    opps = tables.table("opportunities")
    counts = opps.group_by("pipeline").aggregate(n=opps.count()).order_by(ibis.desc("n")).to_pandas()
    with_deals = [str(p) for p in counts["pipeline"]]
    declared = tables.table("stages").pipeline.name("pipeline").as_table().distinct().to_pandas()["pipeline"]
    if pipeline is not None:
        if pipeline not in set(declared):
            raise UnknownNameError("pipeline", pipeline, sorted(set(declared)))
        return pipeline, [p for p in with_deals if p != pipeline]
    if not with_deals:
        raise MissingDataError("the funnel needs opportunities: the workspace has none")
    return with_deals[0], with_deals[1:]


def _steps(tables: TableSource, pipeline: str) -> tuple[list[str], dict[str, int], set[str]]:
    """The funnel's step names in order, each stage's step index (from 1), and the lost stages."""
    stages = tables.table("stages")
    rows = stages.filter(stages.pipeline == pipeline).order_by("position").to_pandas()
    rows = rows[rows["stage"].isin(_present(tables, pipeline))]
    open_stages = rows[~rows["is_won"].astype(bool) & ~rows["is_lost"].astype(bool)]["stage"].tolist()
    won = rows[rows["is_won"].astype(bool)]["stage"].tolist()
    steps = [*open_stages, *([won[0] if len(won) == 1 else WON_STEP] if won else [])]
    step_of = {stage: i + 1 for i, stage in enumerate(open_stages)}
    step_of.update({stage: len(steps) for stage in won})
    return steps, step_of, set(rows[rows["is_lost"].astype(bool)]["stage"])


def _present(tables: TableSource, pipeline: str) -> set[str]:
    """The stages the pipeline's deals are in or have been in: only those are steps."""
    opps = tables.table("opportunities")
    mine = opps.filter(opps.pipeline == pipeline)
    history = tables.table("opportunity_history")
    past = history.semi_join(mine.select("opportunity_id"), "opportunity_id").select("stage")
    return set(mine.select("stage").union(past).distinct().to_pandas()["stage"].dropna())


def _cohort(tables: TableSource, pipeline: str, start: date | None, end: date | None, as_of: date | None,
            by: str | None) -> tuple[pd.DataFrame, str | None, Any]:
    """The cohort's deals with their amounts in one currency, why there are none (a missing rate), and the
    cohort as a relation (its ids), for the engine to select their history."""
    table = _cohort_relation(tables, pipeline, start, end, as_of)
    missing = missing_rates(table, tables)
    columns = {"opportunity_id": table.opportunity_id,
               "amount": table.amount_value if missing is None else ibis.null("float64"),
               "group": table[by].cast("string") if by else ibis.null().cast("string")}
    note = None if missing is None else f"stage velocity left out: {missing.message}"
    return table.select(**columns).to_pandas(), note, table.select("opportunity_id")


def _cohort_relation(tables: TableSource, pipeline: str, start: date | None, end: date | None,
                     as_of: date | None) -> Any:
    """The pipeline's deals created in [start, end) and before `as_of`, as a relation of the engine."""
    table = deals(tables)
    table = table.filter(table.pipeline == pipeline)
    for bound, keep in ((start, lambda t, v: t.created_at >= v), (end, lambda t, v: t.created_at < v),
                        (as_of, lambda t, v: t.created_at < v)):
        if bound is not None:
            table = table.filter(keep(table, ibis.timestamp(pd.Timestamp(bound))))
    return table


def _history(tables: TableSource, members: Any, as_of: date | None) -> pd.DataFrame:
    """The cohort's stage changes (before `as_of`): the engine selects them, only they are read."""
    history = tables.table("opportunity_history")
    if as_of is not None:
        history = history.filter(history.changed_at < ibis.timestamp(pd.Timestamp(as_of)))
    frame = history.semi_join(members, "opportunity_id").select("opportunity_id", "changed_at", "stage").to_pandas()
    frame["changed_at"] = pd.to_datetime(frame["changed_at"])
    return frame


def _per_deal(cohort: pd.DataFrame, outcomes: pd.DataFrame) -> pd.DataFrame:
    """One row per deal with history: group, amount, and the engine's reached, current, closed and won."""
    outcomes = outcomes.set_index("opportunity_id").sort_index()
    out = cohort.set_index("opportunity_id").loc[outcomes.index]
    out["reached"] = outcomes["reached"].astype(int).to_numpy()
    out["won"] = outcomes["won"].astype(bool).to_numpy()
    out["closed"] = outcomes["closed"].astype(bool).to_numpy()
    out["current"] = outcomes["current"].astype(int).to_numpy()
    return out


def _entries(history: pd.DataFrame, step_of: dict[str, int]) -> pd.DataFrame:
    """deal × step: when the deal first entered the step."""
    rows = history[history["stage"].isin(set(step_of))]
    rows = rows.assign(step=rows["stage"].map(step_of))
    return rows.groupby(["opportunity_id", "step"])["changed_at"].min().unstack("step")


def _time_in_steps(history: pd.DataFrame, step_of: dict[str, int]) -> pd.DataFrame:
    """deal × step: days spent in the step over every stay the deal ended (it moved back and forth: all of them),
    for deals not in the step now."""
    ordered = history.sort_values(["opportunity_id", "changed_at"], kind="stable")
    ordered = ordered.assign(step=ordered["stage"].map(step_of).fillna(0).astype(int))  # 0: lost or unknown
    ordered = ordered[ordered["step"] != ordered.groupby("opportunity_id")["step"].shift()]
    ordered = ordered.assign(until=ordered.groupby("opportunity_id")["changed_at"].shift(-1))
    ended = ordered[ordered["until"].notna() & (ordered["step"] > 0)]
    days = (ended["until"] - ended["changed_at"]).dt.total_seconds() / 86_400
    stays = days.groupby([ended["opportunity_id"], ended["step"]]).sum().unstack("step")
    now = ordered.groupby("opportunity_id")["step"].last().reindex(stays.index)
    for step in stays.columns:
        stays.loc[now == step, step] = np.nan
    return stays


# -- figures ------------------------------------------------------------------------------------------
def _stage_rows(part: pd.DataFrame, all_entries: pd.DataFrame, all_stays: pd.DataFrame, steps: list[str],
                group: str | None) -> list[StageRow]:
    entries = all_entries.loc[all_entries.index.intersection(part.index)]
    stays = all_stays.loc[all_stays.index.intersection(part.index)]
    won = part[part["won"]]
    rows = []
    for k, name in enumerate(steps, start=1):
        reached = part["reached"] >= k
        sitting = (part["current"] == k) & ~part["closed"]
        advanced = part["reached"] >= k + 1  # a deal that went past k and came back has still passed it once
        decided = reached & (advanced | part["closed"])
        last = k == len(steps)
        days = stays[k].dropna().astype("float64") if k in stays.columns else pd.Series(dtype="float64")
        closed_here = _closed_from(part, k)
        win_rate = float(closed_here["won"].mean()) if len(closed_here) else None
        velocity = _velocity(win_rate, won[won["reached"] >= k], entries, k, len(steps))
        rows.append(StageRow(
            group, name, k, int(reached.sum()), int(sitting.sum()), int(decided.sum()),
            0 if last else int(advanced.sum()),
            None if last or not decided.any() else float(advanced.sum() / decided.sum()),
            None if last or days.empty else float(days.median()), None if last or days.empty else float(days.mean()),
            0 if last else int(len(days)), win_rate, velocity,
            closed=len(closed_here), won=int(closed_here["won"].sum())))
    return rows


def _closed_from(part: pd.DataFrame, k: int) -> pd.DataFrame:
    """The closed deals of `part` that reached step k: the win rate from k is the share of them won."""
    return part[(part["reached"] >= k) & part["closed"]]


def _days_between(entries: pd.DataFrame, first: int, second: int) -> pd.Series:
    if first not in entries.columns or second not in entries.columns:
        return pd.Series(dtype="float64")
    both = entries[[first, second]].dropna()
    return ((both[second] - both[first]).dt.total_seconds() / 86_400).astype("float64")


def _velocity(win_rate: float | None, won: pd.DataFrame, entries: pd.DataFrame, k: int, last: int) -> float | None:
    if win_rate is None or won.empty:
        return None
    days = _days_between(entries.loc[entries.index.intersection(won.index)], k, last) if k < last else None
    if days is None or days.empty or float(days.median()) <= 0:
        return None
    return float(win_rate * won["amount"].astype("float64").mean() / days.median())


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None
