"""Coaching: each rep's activity funnel against the model rep, and the one step to coach, when we are sure.

The method, stated once (`method_text` carries it, with the settings used, to every report):

1. **The funnel** (see `counts`): calls → connects → demos → proposals → wins as four
   conversion steps, with calls and bookings per working day beside them.
2. **The model rep.** By default the top quartile of the rep's team — the ⌈n/4⌉ reps with the most
   bookings per working day over the trailing two quarters, among those past their ramp — pooled; a rep
   who is in that group is compared with the rest of it. Or one named rep, for everyone.
3. **Evidence window.** Each step of each rep is measured over the most recent whole fiscal quarters —
   this quarter first, going back one at a time, at most `max_quarters` — until it holds enough trials
   to expect `target_successes` successes at the model's rate (how precise a rate is depends on its
   successes: 300 calls at a 20% connect rate tell as much as 100 demos at 60%). Busy steps are read on
   this quarter alone; thin ones (an enterprise rep's demos) look back further. The window depends on
   the rep's trials and the model's rate, never on how the rep's trials went, so choosing it does not
   bias the answer. The model is measured over the same window. 100 successes know a rate to about ±20%
   (1.96 ÷ √100): with the model's own uncertainty, enough to tell a rep at 60% of model from one at 80%.
4. **Ramp.** A rep in their first `ramp_months` months (from people.hired_at) is compared with the model
   at the same tenure, through a ramp curve measured in the company's own history: for each step, the
   pooled rate of every rep whose first months the data shows, in those months, ÷ the same reps' rate
   afterwards (capped at 1: ramp never raises the bar; 1 when either side has under `min_volume` trials).
   The model's rate is scaled by it for the share of the rep's trials that fell in their ramp.
5. **Confidence.** Ratio = rep's rate ÷ model's rate, with a `confidence` interval: Wilson intervals on
   both rates combined by MOVER-R (see `cadence.analysis.stats`). A step has enough volume when the rep and the
   model each have at least `min_volume` trials in the window.
6. **Focus.** The confident step with the lowest ratio: enough volume and the whole interval below
   `threshold` × model. Otherwise no focus (null), and the largest shortfall is still reported, unconfirmed.
   Only conversion steps can be the focus; activity volume and dollars per day are shown beside them.

Pure: tables in, results out; no I/O, no configuration.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any, Literal

import pandas as pd

from cadence.analysis.coaching.counts import CONVERSIONS, VOLUMES, step_counts
from cadence.analysis.funnel import require_rows
from cadence.analysis.stats import ratio_interval, z_for
from cadence.errors import MissingDataError, UnknownNameError
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.relations import TableSource

STEP_TRIALS = {"call_to_connect": "calls", "connect_to_demo": "connects", "demo_to_proposal": "demos",
               "proposal_to_win": "proposals", "calls_per_day": "working days", "dollars_per_day": "working days"}
MODEL_QUARTERS = 2
MIN_MODEL_DAYS = 20  # working days past ramp in the model window, so one lucky week does not make a model


@dataclass(frozen=True)
class CoachingSettings:
    """The knobs of the method (module docstring), with the defaults it was designed with."""

    model_rep: str | None = None  # person_id or name: everyone is compared with this rep, not their team's top quartile
    max_quarters: int = 12
    target_successes: int = 100
    min_volume: int = 30
    threshold: float = 0.8
    confidence: float = 0.95
    ramp_months: int = 6
    deal_kinds: tuple[str, ...] = ("new",)


@dataclass(frozen=True)
class StepComparison:
    """One step of one rep's funnel against the model."""

    step: str
    label: str
    kind: Literal["conversion", "volume"]
    unit: str  # what the trials are: calls, connects, demos, proposals, working days
    successes: float
    trials: float
    rate: float | None
    model_rate: float | None  # at the rep's tenure (ramp-adjusted)
    ratio: float | None
    ratio_low: float | None
    ratio_high: float | None
    quarters: int  # evidence window, in fiscal quarters ending with this one
    window_start: date
    model_trials: float
    enough_volume: bool
    confident: bool  # enough volume and the whole interval below the threshold
    ramp_share: float  # share of the rep's trials in their first months
    ramp_factor: float  # the ramp curve's factor for this step

    def window_text(self) -> str:
        return "this quarter" if self.quarters == 1 else f"in the last {self.quarters} quarters"


@dataclass(frozen=True)
class RepCoaching:
    person_id: str
    name: str
    team: str | None
    hired_at: date | None
    ramping: bool
    model: list[str]  # person_ids the rep is compared with
    model_names: list[str]
    focus_step: str | None
    ratio_to_model: float | None  # the focus step's ratio, else the largest shortfall's
    confident: bool
    message: str
    steps: list[StepComparison]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["hired_at"] = self.hired_at.isoformat() if self.hired_at else None
        for step in data["steps"]:
            step["window_start"] = step["window_start"].isoformat()
            step["ratio_high"] = None if step["ratio_high"] == math.inf else step["ratio_high"]
        return data


@dataclass(frozen=True)
class Coaching:
    as_of: date
    quarter: str  # the fiscal quarter the evidence ends in
    settings: CoachingSettings
    demo_kind: str
    reps: list[RepCoaching]
    ramp_factors: dict[str, float] = field(default_factory=dict)
    method: str = ""
    notes: list[str] = field(default_factory=list)  # what the reader should know (reps without names…)

    def rep(self, key: str) -> RepCoaching:
        """One rep, by person_id or name (case-insensitive)."""
        for rep in self.reps:
            if key == rep.person_id or key.casefold() == rep.name.casefold():
                return rep
        raise UnknownNameError("rep", key, [r.name for r in self.reps] + [r.person_id for r in self.reps])

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "quarter": self.quarter, "method": self.method, "notes": self.notes,
                "settings": asdict(self.settings), "demo_kind": self.demo_kind, "ramp_factors": self.ramp_factors,
                "reps": [r.as_dict() for r in self.reps]}


def coach(tables: TableSource, calendar: FiscalCalendar, *, as_of: date | None = None,
          settings: CoachingSettings | None = None) -> Coaching:
    """Every current rep's funnel against the model rep, with a coaching focus where the data is sure."""
    settings = settings or CoachingSettings()
    require_rows(tables, "activities", "coaching", "calls, connects, demos and proposals per rep")
    require_rows(tables, "opportunities", "coaching", "the deals reps win")
    as_of = as_of or _data_end(tables)
    people = _reps(tables, as_of)
    demo_kind = _demo_kind(tables)
    counts = step_counts(tables, calendar, people, as_of=as_of, ramp_months=settings.ramp_months,
                         demo_kind=demo_kind, deal_kinds=settings.deal_kinds)
    quarters = _quarters(calendar, as_of, settings.max_quarters)
    counts = counts[counts["person_id"].isin(set(people["person_id"]))]
    ramp = ramp_curve(counts, people, settings.min_volume)
    models = model_groups(counts, people, quarters[:MODEL_QUARTERS], settings)
    current = people[people["current"]]
    by_person = {str(p): frame for p, frame in counts.groupby("person_id")}
    names = dict(zip(people["person_id"].astype(str), people["name"].astype(str), strict=True))
    reps = [_rep(row, by_person, quarters, models.get(str(row.person_id), []), names, ramp, settings, demo_kind)
            for row in current.itertuples(index=False)]
    reps = [r for r in reps if any(s.trials for s in r.steps if s.kind == "conversion")]
    reps.sort(key=lambda r: (str(r.team), r.name))
    unnamed = int((people["name"].astype(str) == people["person_id"].astype(str)).sum())
    notes = [f"{unnamed:,} reps are known only by their CRM id: import a User export to see names"] if unnamed else []
    return Coaching(as_of, calendar.label(quarters[0], "quarter"), settings, demo_kind, reps, ramp,
                    method=method_text(settings), notes=notes)


def method_text(settings: CoachingSettings) -> str:
    model = (f"the named model rep {settings.model_rep}" if settings.model_rep else
             f"the top quartile of the rep's team by bookings per working day over the trailing {MODEL_QUARTERS} "
             "quarters (past their ramp)")
    return (f"each step is compared with {model}, over the most recent quarters holding the trials that would "
            f"give {settings.target_successes} successes at the model's rate (at most {settings.max_quarters} "
            f"quarters); ratio interval: Wilson intervals on both rates combined by MOVER-R, "
            f"{settings.confidence:.0%}; enough volume: {settings.min_volume} trials for the rep and the model; a "
            f"focus is named only when the whole interval is below {settings.threshold:.0%} of model; reps in their "
            f"first {settings.ramp_months} months are compared with the model at the same tenure through the "
            f"company's own ramp curve; deal steps count {', '.join(settings.deal_kinds)} business")


# -- inputs ---------------------------------------------------------------------------------------------
def _data_end(tables: TableSource) -> date:
    latest = tables.table("activities").occurred_at.max().execute()
    return pd.Timestamp(latest).date() + timedelta(days=1)


def _reps(tables: TableSource, as_of: date) -> pd.DataFrame:
    """The people coached: role 'rep' (everyone who owns deals when no one has that role), with `current`."""
    people = tables.table("people").select("person_id", "name", "team", "role", "hired_at", "left_at").to_pandas()
    if (people["role"] == "rep").any():
        reps = people[people["role"] == "rep"].copy()
    else:
        opps = tables.table("opportunities")
        owners = set(opps.select("owner_id").distinct().to_pandas()["owner_id"].dropna())
        reps = people[people["person_id"].isin(owners)].copy()
        if reps.empty and owners:  # owners are bare CRM ids (no User export): coach them by id
            reps = _unnamed(sorted(map(str, owners)))
    named = reps["name"].notna() & (reps["name"].astype(str).str.strip() != "")
    reps["name"] = reps["name"].where(named, reps["person_id"])
    if reps.empty:
        raise MissingDataError("coaching needs reps: no one in people has the role 'rep', and no deal has an owner",
                               hint="import a CRM export with deal owners, or a User export with the reps")
    hired = pd.to_datetime(reps["hired_at"])
    left = pd.to_datetime(reps["left_at"])
    last_day = pd.Timestamp(as_of - timedelta(days=1))
    reps["current"] = (hired.isna() | (hired <= last_day)) & (left.isna() | (left >= last_day))
    return reps.reset_index(drop=True)


def _unnamed(owner_ids: list[str]) -> pd.DataFrame:
    """Deal owners known only by their id: named by it, in no team, with no hire or leave date."""
    return pd.DataFrame({"person_id": owner_ids, "name": owner_ids, "team": None, "role": "rep",
                         "hired_at": pd.NaT, "left_at": pd.NaT})


def _demo_kind(tables: TableSource) -> str:
    """'demo' when the company logs demos, else 'meeting'."""
    acts = tables.table("activities")
    return "demo" if int(acts.filter(acts.kind == "demo").count().execute()) else "meeting"


def _quarters(calendar: FiscalCalendar, as_of: date, count: int) -> list[date]:
    """Starts of the `count` fiscal quarters ending with the one holding the day before `as_of`, newest first."""
    starts = [calendar.start_of(as_of - timedelta(days=1), "quarter")]
    while len(starts) < count:
        starts.append(calendar.start_of(starts[-1] - timedelta(days=1), "quarter"))
    return starts


# -- model and ramp -----------------------------------------------------------------------------------
def model_groups(counts: pd.DataFrame, people: pd.DataFrame, quarters: Sequence[date],
                 settings: CoachingSettings) -> dict[str, list[str]]:
    """For each rep, the person_ids of the model they are compared with (never themselves)."""
    if settings.model_rep is not None:
        named = model_person(people, settings.model_rep)
        return {p: [named] for p in people["person_id"] if p != named}
    dollars = counts[(counts["step"] == "dollars_per_day") & counts["quarter"].isin(set(quarters))]
    ramped = dollars[~dollars["in_ramp"]].groupby("person_id")[["successes", "trials"]].sum()
    ramped = ramped[ramped["trials"] >= MIN_MODEL_DAYS]
    per_day = (ramped["successes"] / ramped["trials"]).rename("per_day")
    groups: dict[str, list[str]] = {}
    for _, members in people.groupby("team", dropna=False):
        ranked = per_day.reindex(members["person_id"]).dropna().sort_values(ascending=False, kind="stable")
        top = ranked.index[: math.ceil(len(ranked) / 4)].tolist()
        for person in members["person_id"]:
            groups[person] = [p for p in top if p != person]
    return groups


def model_person(people: pd.DataFrame, key: str) -> str:
    """The person_id of the rep named `key` (an id or a name, case-insensitive)."""
    match = people[(people["person_id"] == key) | (people["name"].str.casefold() == key.casefold())]
    if match.empty:
        raise UnknownNameError("model rep", key, people["name"].tolist() + people["person_id"].tolist())
    return str(match["person_id"].iloc[0])


def ramp_curve(counts: pd.DataFrame, people: pd.DataFrame, min_volume: int) -> dict[str, float]:
    """Per step: rate in the first months ÷ the same reps' rate afterwards, pooled; at most 1."""
    ramping = set(counts.loc[counts["in_ramp"] & (counts["trials"] > 0), "person_id"])
    mine = counts[counts["person_id"].isin(ramping)]
    factors = {}
    for step in (*CONVERSIONS, *VOLUMES):
        parts = mine[mine["step"] == step].groupby("in_ramp")[["successes", "trials"]].sum()
        if True not in parts.index or False not in parts.index:
            factors[step] = 1.0
            continue
        x_early, n_early = (float(v) for v in parts.loc[True, ["successes", "trials"]].to_numpy())
        x_late, n_late = (float(v) for v in parts.loc[False, ["successes", "trials"]].to_numpy())
        if min(n_early, n_late) < min_volume or x_late <= 0:
            factors[step] = 1.0
            continue
        factors[step] = min((x_early / n_early) / (x_late / n_late), 1.0)
    return factors


# -- one rep --------------------------------------------------------------------------------------------
def _rep(row: Any, by_person: dict[str, pd.DataFrame], quarters: list[date], model: list[str], names: dict[str, str],
         ramp: dict[str, float], settings: CoachingSettings, demo_kind: str) -> RepCoaching:
    empty = pd.DataFrame(columns=["in_ramp", "step", "quarter", "successes", "trials"])
    mine = dict(tuple(by_person.get(str(row.person_id), empty).groupby("step")))
    pooled = pd.concat([by_person[p] for p in model if p in by_person] or [empty], ignore_index=True)
    theirs = dict(tuple(pooled[~pooled["in_ramp"].astype(bool)].groupby("step")))
    steps = [_compare(step, mine.get(step, empty), theirs.get(step, empty), quarters, ramp.get(step, 1.0),
                      settings, demo_kind)
             for step in ("calls_per_day", *CONVERSIONS, "dollars_per_day")]
    hired = None if pd.isna(row.hired_at) else pd.Timestamp(row.hired_at).date()
    ramping = bool(hired and (pd.Timestamp(hired) + pd.DateOffset(months=settings.ramp_months)).date()
                   > quarters[0])
    focus, shortfall = _focus(steps)
    message = _message(focus, shortfall, steps, model, settings)
    chosen = focus or shortfall
    return RepCoaching(str(row.person_id), str(row.name), None if pd.isna(row.team) else str(row.team), hired,
                       ramping, list(model), [names.get(p, p) for p in model], focus.step if focus else None,
                       None if chosen is None or chosen.ratio is None else round(chosen.ratio, 4),
                       focus is not None, message, steps)


def _window(mine: pd.DataFrame, quarters: list[date], target: float) -> int:
    """How many quarters, newest first, the step needs to hold `target` trials — at most all of them, and never
    further back than the oldest quarter with any trials (a rep hired last year has no older evidence)."""
    per_quarter = mine.groupby("quarter")["trials"].sum()
    total, last_seen = 0.0, 1
    for k, quarter in enumerate(quarters, start=1):
        trials = float(per_quarter.get(quarter, 0.0))
        total += trials
        last_seen = k if trials > 0 else last_seen
        if total >= target:
            return k
    return last_seen


def _compare(step: str, mine: pd.DataFrame, theirs: pd.DataFrame, quarters: list[date], factor: float,
             settings: CoachingSettings, demo_kind: str) -> StepComparison:
    kind: Literal["conversion", "volume"] = "conversion" if step in CONVERSIONS else "volume"
    rows, model = mine, theirs
    k = MODEL_QUARTERS
    if kind == "conversion":
        overall = model["successes"].sum() / model["trials"].sum() if model["trials"].sum() else 0.0
        k = _window(rows, quarters, settings.target_successes / overall if overall else math.inf)
    window = set(quarters[:k])
    rows = rows[rows["quarter"].isin(window)]
    model = model[model["quarter"].isin(window)]
    x, n = float(rows["successes"].sum()), float(rows["trials"].sum())
    mx, mn = float(model["successes"].sum()), float(model["trials"].sum())
    share = float(rows.loc[rows["in_ramp"].astype(bool), "trials"].sum() / n) if n else 0.0
    scale = 1 - share + share * factor  # the model at the rep's tenure
    rate = x / n if n else None
    model_rate = mx / mn * scale if mn else None
    ratio = rate / model_rate if rate is not None and model_rate else None
    interval = None
    if kind == "conversion":
        interval = ratio_interval(x, n, mx, mn, z_for(settings.confidence))
    low, high = (interval[0] / scale, interval[1] / scale) if interval else (None, None)
    enough = kind == "conversion" and n >= settings.min_volume and mn >= settings.min_volume
    confident = bool(enough and high is not None and high < settings.threshold)
    return StepComparison(step, _label(step, demo_kind), kind, STEP_TRIALS[step].replace("demos", f"{demo_kind}s"),
                          x, n, rate, model_rate, ratio, low, high, k, quarters[k - 1], mn, enough, confident,
                          round(share, 4), factor)


def _focus(steps: list[StepComparison]) -> tuple[StepComparison | None, StepComparison | None]:
    """The confident step with the lowest ratio, and the largest shortfall among steps with enough volume."""
    judged = [s for s in steps if s.enough_volume and s.ratio is not None]
    confident = [s for s in judged if s.confident]
    by_ratio = sorted(judged, key=lambda s: s.ratio if s.ratio is not None else math.inf)
    focus = min(confident, key=lambda s: s.ratio if s.ratio is not None else math.inf) if confident else None
    return focus, (by_ratio[0] if by_ratio else None)


def _message(focus: StepComparison | None, shortfall: StepComparison | None, steps: list[StepComparison],
             model: list[str], settings: CoachingSettings) -> str:
    if not model:
        return "no model to compare with: no other rep of the team has bookings past their ramp"
    if focus is not None:
        return f"{_figure(focus)}; {focus.trials:,.0f} {focus.unit} {focus.window_text()}"
    if shortfall is None:
        thin = max((s for s in steps if s.kind == "conversion"), key=lambda s: s.trials)
        return (f"not enough volume yet: at most {thin.trials:,.0f} {thin.unit} {thin.window_text()}; a step needs "
                f"{settings.min_volume} trials, for the rep and for the model")
    if shortfall.ratio is not None and shortfall.ratio >= 1:
        return (f"at or above model on every step with enough volume; the lowest, {_figure(shortfall)}; "
                f"{shortfall.trials:,.0f} {shortfall.unit} {shortfall.window_text()}")
    return (f"no confident gap: the largest shortfall, {_figure(shortfall)}, could be chance; "
            f"{shortfall.trials:,.0f} {shortfall.unit} {shortfall.window_text()}")


def _figure(step: StepComparison) -> str:
    high = "∞" if step.ratio_high is None or step.ratio_high == math.inf else f"{step.ratio_high:.0%}"
    low = "0%" if step.ratio_low is None else f"{step.ratio_low:.0%}"
    return f"{step.label} is {step.ratio or 0:.0%} of model ({low}–{high})"


def _label(step: str, demo_kind: str) -> str:
    words = {"calls_per_day": "calls per working day", "dollars_per_day": "bookings per working day"}
    if step in words:
        return words[step]
    first, second = step.split("_to_")
    return f"{first} → {second}".replace("demo", demo_kind)
