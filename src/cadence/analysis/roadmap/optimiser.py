"""Which features to build this period: an exact mixed-integer program, beside the plan a spreadsheet would give.

The program (SciPy `milp`, which runs HiGHS):

- a binary x[i, s] per candidate feature i and ship date s (the period's month ends, or its last day):
  feature i ships by ship date s. Each feature ships at most once: Σ_s x[i, s] ≤ 1.
- **objective**: maximise Σ value[i, s] · x[i, s], the expected won revenue; a feature's value depends
  on its ship date because deals that decide before it ships are worth less or nothing (`value.py`).
- **capacity**: developer hours accrue evenly over the period, so by ship date s a team has spent at
  most its capacity × the share of the period elapsed: Σ_{i of team t, k ≤ s} effort_i · x[i, k] ≤
  C_t · elapsed_s, for every team with its own capacity (or one pool for everyone).
- **dependencies**: a feature ships no earlier than what it needs — for every s, Σ_{k ≤ s} x[child, k] ≤
  Σ_{k ≤ s} x[parent, k]; a parent already shipped needs nothing. A child of a feature that cannot be
  planned (no effort estimate, or its team has no capacity) cannot be planned either.

HiGHS proves optimality within `MIP_GAP` (relative); the **bound** is its dual bound — no plan can
expect more — and the reported gap is (bound − plan) ÷ bound. Should the solver stop at its time limit
with a plan worse than the naive one, the naive plan is returned instead (the bound still stands).
Features chosen with no value that nothing chosen depends on are dropped from the plan (they change
nothing), and among plans of equal revenue each feature ships as early as hours and prerequisites allow.

**The naive plan** is what a team does with a spreadsheet: sort features by a score — value ÷ effort
hours (value at the period's end), or RICE (reach × confidence ÷ effort, with reach the accounts asking
and confidence their mean certainty: dollars ignored) — then walk down the list, taking each feature
whose prerequisites are taken (or shipped) and that still fits in its team's hours. They are built in
that order, so each ships on the first ship date by which the hours spent so far have accrued. Its
expected revenue is counted with the same values as the program's, so the two plans compare fairly;
the program's optimum is never below it, since the naive plan is one of the plans it considers.
"""

from __future__ import annotations

import math
import os
import re
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np

from cadence.errors import CadenceError

MIP_GAP = 1e-4  # 0.01%: ten times tighter than the 0.1% a plan is held to, at a third of the time of 1e-6
TIME_LIMIT_SECONDS = 120.0
NAIVE_RULES = ("value-per-hour", "rice")


class RoadmapInputError(CadenceError, ValueError):
    """The features or the capacity cannot make a plan: a dependency cycle, a negative effort, no hours."""


@dataclass(frozen=True)
class Candidate:
    """A feature that could be built: its effort, its value if shipped by each ship date, what it needs."""

    feature_id: str
    effort_hours: float | None
    values: tuple[float, ...]  # value if shipped by ship date 0, 1, …
    team: str | None = None
    depends_on: tuple[str, ...] = ()
    reach: int = 0  # accounts asking (RICE)
    confidence: float | None = None  # their mean certainty (RICE)


@dataclass(frozen=True)
class Capacity:
    """Developer hours for the period: for everyone (`total`), per team, or both."""

    total: float | None = None
    teams: Mapping[str, float] = field(default_factory=dict)

    @property
    def hours(self) -> float:
        return float(self.total if self.total is not None else sum(self.teams.values()))

    def as_dict(self) -> dict[str, object]:
        return {"total": self.total, "teams": dict(self.teams)}


@dataclass
class Plan:
    """Features chosen, each with the index of its ship date, and the revenue the plan expects."""

    rule: str
    ship: dict[str, int]  # feature_id → ship date index
    expected_revenue: float
    order: list[str] = field(default_factory=list)  # the naive plan's ranking (empty for the program)

    @property
    def chosen(self) -> list[str]:
        return sorted(self.ship)


@dataclass
class Solution:
    plan: Plan
    bound: float
    gap: float
    status: str
    seconds: float
    excluded: dict[str, str]  # feature_id → why it could not be planned


# -- input -------------------------------------------------------------------------------------------------
_HOURS = re.compile(r"^\s*(?:(?P<team>[^=]+?)\s*=\s*)?(?P<hours>[0-9]+(?:\.[0-9]+)?)\s*(?:h|hours?)?\s*$", re.I)


def parse_capacity(texts: Sequence[str]) -> Capacity:
    """`["320h"]` → 320 hours for everyone; `["Platform=200h", "Mobile=120h"]` → per team; both may be given."""
    total: float | None = None
    teams: dict[str, float] = {}
    for text in texts:
        match = _HOURS.match(text)
        if not match:
            raise RoadmapInputError(f"not a capacity: {text!r}", hint="write hours such as 320h, or TEAM=200h")
        hours = float(match["hours"])
        if match["team"]:
            teams[match["team"].strip()] = hours
        else:
            total = hours
    if total is None and not teams:
        raise RoadmapInputError("no capacity given", hint="say how many developer hours the period has, e.g. 320h")
    capacity = Capacity(total, teams)
    check_capacity(capacity)
    return capacity


def check_capacity(capacity: Capacity) -> None:
    if capacity.total is not None and not capacity.total > 0:
        raise RoadmapInputError(f"capacity must be more than 0 hours, got {capacity.total:g}",
                                hint="a plan needs developer hours to spend")
    for team, hours in capacity.teams.items():
        if not hours > 0:
            raise RoadmapInputError(f"capacity of team {team!r} must be more than 0 hours, got {hours:g}")


def check_candidates(candidates: Sequence[Candidate], capacity: Capacity,
                     satisfied: set[str]) -> dict[str, str]:
    """Refuse what cannot be planned (negative effort, cycles, unknown prerequisites); return what is left out."""
    check_capacity(capacity)
    negative = [c.feature_id for c in candidates if c.effort_hours is not None and c.effort_hours < 0]
    if negative:
        raise RoadmapInputError(f"negative effort for {', '.join(sorted(negative)[:5])}",
                                hint="effort_hours is the developer hours a feature needs: 0 or more")
    ids = {c.feature_id for c in candidates}
    if len(ids) != len(candidates):
        raise RoadmapInputError("a feature is listed twice among the candidates")
    unknown = sorted({(c.feature_id, p) for c in candidates for p in c.depends_on if p not in ids | satisfied})
    if unknown:
        child, parent = unknown[0]
        raise RoadmapInputError(f"feature {child} depends on {parent}, which is not a feature",
                                hint="fix features.depends_on (comma-separated feature ids)")
    teams = sorted({c.team for c in candidates if c.team})
    unknown_teams = sorted(set(capacity.teams) - set(teams))
    if unknown_teams:
        raise RoadmapInputError(f"no feature belongs to team {unknown_teams[0]!r}",
                                hint=f"features' teams: {', '.join(teams) or '(none)'}")
    cycle = find_cycle({c.feature_id: [p for p in c.depends_on if p in ids] for c in candidates})
    if cycle:
        raise RoadmapInputError(f"dependency cycle: {' → '.join(cycle)}",
                                hint="a feature cannot need itself; fix features.depends_on")
    return _excluded(candidates, capacity, satisfied)


def find_cycle(graph: Mapping[str, Sequence[str]]) -> list[str] | None:
    """A cycle in `graph` (node → the nodes it needs) as [a, b, …, a], or None."""
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for root in sorted(graph):
        if state.get(root):
            continue
        path: list[str] = [root]
        stack = [iter(sorted(graph.get(root, ())))]
        state[root] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt):], nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def _excluded(candidates: Sequence[Candidate], capacity: Capacity, satisfied: set[str]) -> dict[str, str]:
    excluded: dict[str, str] = {}
    for c in candidates:
        if c.effort_hours is None or math.isnan(c.effort_hours):
            excluded[c.feature_id] = "no effort estimate"
        elif capacity.teams and capacity.total is None and c.team not in capacity.teams:
            excluded[c.feature_id] = f"no capacity given for team {c.team or '(none)'}"
    changed = True
    while changed:  # a feature needing one that cannot be planned cannot be planned either
        changed = False
        for c in candidates:
            blocked = [p for p in c.depends_on if p in excluded and p not in satisfied]
            if c.feature_id not in excluded and blocked:
                excluded[c.feature_id] = f"needs {blocked[0]}, which cannot be planned"
                changed = True
    return excluded


# -- the exact program ----------------------------------------------------------------------------------------
def optimise(candidates: Sequence[Candidate], capacity: Capacity, elapsed: Sequence[float], *,
             satisfied: set[str] | frozenset[str] = frozenset(), time_limit: float = TIME_LIMIT_SECONDS) -> Solution:
    """The plan of most expected revenue; `elapsed[s]` is the share of the period gone by ship date s."""
    from scipy.optimize import Bounds, LinearConstraint, milp
    from scipy.sparse import coo_matrix

    started = time.perf_counter()
    satisfied = set(satisfied)
    excluded = check_candidates(candidates, capacity, satisfied)
    items = [c for c in candidates if c.feature_id not in excluded]
    slots = len(elapsed)
    if not items:
        return Solution(Plan("optimal", {}, 0.0), 0.0, 0.0, "nothing to plan", time.perf_counter() - started,
                        excluded)
    position = {c.feature_id: i for i, c in enumerate(items)}
    n = len(items) * slots
    value = np.array([_slot_values(c, slots) for c in items]).reshape(n)
    rows: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    data: list[np.ndarray] = []
    upper: list[float] = []
    row = 0
    # each feature ships at most once
    for i in range(len(items)):
        rows.append(np.full(slots, row))
        cols.append(i * slots + np.arange(slots))
        data.append(np.ones(slots))
        upper.append(1.0)
        row += 1
    # hours accrue over the period: cumulative effort by each ship date
    for members, hours in _pools(items, capacity):
        efforts = np.array([float(items[i].effort_hours or 0.0) for i in members])
        for s in range(slots):
            k = np.arange(s + 1)
            rows.append(np.full(len(members) * (s + 1), row))
            cols.append((np.array(members)[:, None] * slots + k[None, :]).reshape(-1))
            data.append(np.repeat(efforts, s + 1))
            upper.append(hours * elapsed[s])
            row += 1
    # a feature ships no earlier than what it needs
    for c in items:
        for parent in c.depends_on:
            if parent in satisfied and parent not in position:
                continue
            child_i, parent_i = position[c.feature_id], position[parent]
            for s in range(slots):
                k = np.arange(s + 1)
                rows.append(np.full(2 * (s + 1), row))
                cols.append(np.concatenate([child_i * slots + k, parent_i * slots + k]))
                data.append(np.concatenate([np.ones(s + 1), -np.ones(s + 1)]))
                upper.append(0.0)
                row += 1
    matrix = coo_matrix((np.concatenate(data), (np.concatenate(rows), np.concatenate(cols))), shape=(row, n)).tocsr()
    with _native_stdout_silenced():
        result = milp(-value, integrality=np.ones(n), bounds=Bounds(0, 1),
                      constraints=LinearConstraint(matrix, -np.inf, np.array(upper)),
                      options={"mip_rel_gap": MIP_GAP, "time_limit": time_limit, "disp": False})
    if result.x is None:
        raise CadenceError(f"the roadmap solver found no plan ({result.message})")
    chosen = np.round(result.x).reshape(len(items), slots)
    ship = {items[i].feature_id: int(np.argmax(chosen[i])) for i in range(len(items)) if chosen[i].sum() > 0.5}
    ship = _earliest(_without_idle(ship, items, slots), items, capacity, elapsed)
    revenue = plan_revenue(ship, items, slots)
    fallback = naive_plan(items, capacity, elapsed, satisfied=satisfied)
    if fallback.expected_revenue > revenue:  # only when the solver stopped early
        ship, revenue = fallback.ship, fallback.expected_revenue
    dual = getattr(result, "mip_dual_bound", None)
    bound = max(revenue, -float(dual)) if dual is not None and np.isfinite(dual) else revenue
    gap = (bound - revenue) / bound if bound > 0 else 0.0
    status = "optimal" if result.status == 0 else f"stopped: {result.message}"
    return Solution(Plan("optimal", ship, revenue), bound, gap, status, time.perf_counter() - started, excluded)


@contextmanager
def _native_stdout_silenced() -> Iterator[None]:
    """HiGHS 1.12 prints a stray debug line on the process's stdout even when told to be silent
    (ERGO-Code/HiGHS#2783), which would corrupt `--format json`; point file descriptor 1 elsewhere meanwhile."""
    try:
        saved = os.dup(1)
    except OSError:  # no stdout to protect
        yield
        return
    try:
        sys.stdout.flush()
        with open(os.devnull, "w") as sink:
            os.dup2(sink.fileno(), 1)
            try:
                yield
            finally:
                os.dup2(saved, 1)
    finally:
        os.close(saved)


def _slot_values(candidate: Candidate, slots: int) -> list[float]:
    if len(candidate.values) != slots:
        raise RoadmapInputError(f"feature {candidate.feature_id} has {len(candidate.values)} values for {slots} "
                                "ship dates")
    return [max(float(v), 0.0) for v in candidate.values]


def _pools(items: Sequence[Candidate], capacity: Capacity) -> list[tuple[list[int], float]]:
    """The capacity constraints: one per team with hours of its own, and the shared total if given."""
    pools: list[tuple[list[int], float]] = []
    for team, hours in sorted(capacity.teams.items()):
        members = [i for i, c in enumerate(items) if c.team == team]
        if members:
            pools.append((members, float(hours)))
    if capacity.total is not None:
        pools.append((list(range(len(items))), float(capacity.total)))
    return pools


def _without_idle(ship: dict[str, int], items: Sequence[Candidate], slots: int) -> dict[str, int]:
    """Drop chosen features worth nothing that no chosen feature needs (the solver may keep them: they cost 0)."""
    by_id = {c.feature_id: c for c in items}
    ship = dict(ship)
    while True:
        needed = {p for f in ship for p in by_id[f].depends_on}
        idle = [f for f in ship if f not in needed and by_id[f].values[ship[f]] <= 0]
        if not idle:
            return ship
        for f in idle:
            del ship[f]


def _earliest(ship: dict[str, int], items: Sequence[Candidate], capacity: Capacity,
              elapsed: Sequence[float]) -> dict[str, int]:
    """Among plans of equal revenue, ship each feature as early as the hours and its prerequisites allow."""
    by_id = {c.feature_id: c for c in items}
    ship = dict(ship)
    spent = {key: np.zeros(len(elapsed)) for key in [*capacity.teams, None]}
    for feature, slot in ship.items():
        for key in _pool_keys(by_id[feature], capacity):
            spent[key][slot:] += float(by_id[feature].effort_hours or 0.0)
    for feature in sorted(ship, key=lambda f: (ship[f], f)):
        c, now = by_id[feature], ship[feature]
        floor = max([ship[p] for p in c.depends_on if p in ship], default=0)
        effort = float(c.effort_hours or 0.0)
        for slot in range(floor, now):
            pools = _pool_keys(c, capacity)
            fits = all(spent[k][s] + effort <= _hours(capacity, k) * elapsed[s] + 1e-9 for k in pools
                       for s in range(slot, now))
            if fits and c.values[slot] >= c.values[now]:
                for k in pools:
                    spent[k][slot:now] += effort
                ship[feature] = slot
                break
    return ship


def plan_revenue(ship: Mapping[str, int], items: Sequence[Candidate], slots: int) -> float:
    by_id = {c.feature_id: c for c in items}
    return float(sum(max(float(by_id[f].values[s]), 0.0) for f, s in ship.items()))


# -- the spreadsheet's plan --------------------------------------------------------------------------------------
def naive_plan(candidates: Sequence[Candidate], capacity: Capacity, elapsed: Sequence[float], *,
               satisfied: set[str] | frozenset[str] = frozenset(), rule: str = "value-per-hour") -> Plan:
    """Sort by `rule`, take what fits and whose prerequisites are taken, build in that order."""
    if rule not in NAIVE_RULES:
        from cadence.errors import UnknownNameError

        raise UnknownNameError("naive rule", rule, NAIVE_RULES)
    satisfied = set(satisfied)
    excluded = check_candidates(candidates, capacity, satisfied)
    items = [c for c in candidates if c.feature_id not in excluded]
    slots = len(elapsed)
    order = sorted(items, key=lambda c: (-_score(c, rule), c.feature_id))
    spent: dict[str | None, float] = {}
    ship: dict[str, int] = {}
    for c in order:
        if _score(c, rule) <= 0 or any(p not in ship and p not in satisfied for p in c.depends_on):
            continue
        pools = _pool_keys(c, capacity)
        effort = float(c.effort_hours or 0.0)
        if any(spent.get(key, 0.0) + effort > _hours(capacity, key) + 1e-9 for key in pools):
            continue
        for key in pools:
            spent[key] = spent.get(key, 0.0) + effort
        slot = max(_first_slot(spent[key], _hours(capacity, key), elapsed) for key in pools)
        slot = max([slot, *(ship[p] for p in c.depends_on if p in ship)])
        ship[c.feature_id] = slot
    return Plan(rule, ship, plan_revenue(ship, items, slots), [c.feature_id for c in order])


def _score(c: Candidate, rule: str) -> float:
    effort = max(float(c.effort_hours or 0.0), 1e-9)
    if rule == "rice":
        return c.reach * (c.confidence or 0.0) / effort
    return max(float(c.values[-1]), 0.0) / effort


def _pool_keys(c: Candidate, capacity: Capacity) -> list[str | None]:
    keys: list[str | None] = []
    if c.team in capacity.teams:
        keys.append(c.team)
    if capacity.total is not None:
        keys.append(None)
    return keys


def _hours(capacity: Capacity, key: str | None) -> float:
    return float(capacity.total if key is None else capacity.teams[key])  # type: ignore[arg-type]


def _first_slot(spent: float, hours: float, elapsed: Sequence[float]) -> int:
    for s, share in enumerate(elapsed):
        if spent <= hours * share + 1e-9:
            return s
    return len(elapsed) - 1
