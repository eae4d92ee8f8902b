"""From the warehouse to a roadmap: themes, values at each possible ship date, the optimal and the naive plan.

Features built in a period ship at a month's end (the last day of each month of the period) — or,
with `monthly=False`, all on the period's last day. Their value is computed for each ship date, since
deals that decide before a feature ships wait for it less (`value.py`). The capacity is the developer
hours of the whole period; they accrue evenly over its days.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from cadence.analysis.roadmap.chances import Chances, estimate_chances
from cadence.analysis.roadmap.data import RoadmapData, RoadmapDataError, load_roadmap_data
from cadence.analysis.roadmap.optimiser import Candidate, Capacity, Plan, Solution, naive_plan, optimise
from cadence.analysis.roadmap.optimiser import __doc__ as OPTIMISER_DOC
from cadence.analysis.roadmap.themes import ThemeCatalogue, ThemeOverrides, find_themes
from cadence.analysis.roadmap.value import (
    LOOKBACK_DAYS,
    METHOD,
    SLIP_FACTOR,
    FeatureValue,
    ThemeValue,
    ValueRules,
    feature_values,
    request_values,
    segment_pipeline,
    theme_values,
)
from cadence.metrics.calendar import FiscalCalendar, Grain
from cadence.metrics.relations import TableSource

PLAN_METHOD = ("maximise expected won revenue over binary choices of feature and ship date (month ends) under "
               "developer hours accruing evenly, dependencies shipping first; exact MILP (SciPy milp / HiGHS), "
               "bound = its dual bound")


@dataclass
class Valuation:
    """Every unshipped feature's value at each ship date, and every theme's value at the period's end."""

    rules: ValueRules
    ship_dates: list[date]
    features: dict[date, list[FeatureValue]]
    themes: list[ThemeValue]
    catalogue: ThemeCatalogue
    chances: Chances
    data: RoadmapData
    method: str = METHOD.format(slip=SLIP_FACTOR)

    def at_end(self) -> list[FeatureValue]:
        return self.features[self.ship_dates[-1]]

    def feature(self, feature_id: str) -> FeatureValue:
        for value in self.at_end():
            if value.feature_id == feature_id:
                return value
        from cadence.errors import UnknownNameError

        known = [v.feature_id for v in self.at_end()]
        if not known:
            raise RoadmapDataError(f"no unshipped feature {feature_id!r}: the workspace has no features to build",
                                   hint="import the roadmap into `features` (feature_id, title, effort_hours, …)")
        raise UnknownNameError("unshipped feature", feature_id, known)


def find_request_themes(tables: TableSource, overrides: ThemeOverrides | None = None) -> ThemeCatalogue:
    """The workspace's requests grouped into themes, with a product manager's edits applied."""
    data = load_roadmap_data(tables)
    return find_themes(data.requests, data.features, overrides)


def ship_dates(period_start: date, period_end: date, *, monthly: bool = True) -> list[date]:
    """The last day of each month of [start, end), or only the period's last day."""
    last = period_end - timedelta(days=1)
    if not monthly:
        return [last]
    dates = []
    month = date(period_start.year, period_start.month, 1)
    while month < period_end:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        dates.append(min(following, period_end) - timedelta(days=1))
        month = following
    return sorted(set(dates)) or [last]


def elapsed_shares(period_start: date, period_end: date, dates: list[date]) -> list[float]:
    days = (period_end - period_start).days
    return [min(max((d + timedelta(days=1) - period_start).days / days, 0.0), 1.0) for d in dates]


def value_roadmap(tables: TableSource, *, period_start: date, period_end: date, as_of: date,
                  overrides: ThemeOverrides | None = None, monthly: bool = True, slip_factor: float = SLIP_FACTOR,
                  lookback_days: int = LOOKBACK_DAYS) -> Valuation:
    """Themes and dollar values of every waiting request, theme and unshipped feature."""
    data = load_roadmap_data(tables)
    catalogue = find_themes(data.requests, data.features, overrides)
    chances = estimate_chances(tables, data.deals, as_of, lookback_days)
    rules = ValueRules(period_start, period_end, as_of, slip_factor, lookback_days)
    dates = ship_dates(period_start, period_end, monthly=monthly)
    by_date: dict[date, list[FeatureValue]] = {}
    requests = pipeline = None
    for ship in dates:
        requests = request_values(data, catalogue, chances, rules, ship)
        pipeline = segment_pipeline(data, requests, chances, rules, ship)
        by_date[ship] = feature_values(data, catalogue, requests, pipeline, ship)
    assert requests is not None and pipeline is not None
    open_features = set(data.features.loc[~data.features["is_shipped"], "feature_id"])
    themes = theme_values(catalogue, requests, pipeline, open_features)
    return Valuation(rules, dates, by_date, themes, catalogue, chances, data,
                     METHOD.format(slip=f"{slip_factor:g}"))


@dataclass
class RoadmapPlan:
    period: str
    capacity: Capacity
    valuation: Valuation
    candidates: list[Candidate]
    solution: Solution
    naive: Plan
    method: str = PLAN_METHOD
    rules_text: str = field(default=OPTIMISER_DOC or "")

    @property
    def ship_dates(self) -> list[date]:
        return self.valuation.ship_dates

    def as_dict(self, currency: str = "USD") -> dict[str, Any]:
        """The JSON `cadence roadmap plan --format json` prints: every candidate with the value used."""
        at_end = {v.feature_id: v for v in self.valuation.at_end()}
        chosen = self.solution.plan.ship
        rows = []
        for c in self.candidates:
            slot = chosen.get(c.feature_id)
            value = c.values[slot if slot is not None else -1]
            rows.append({
                "feature_id": c.feature_id, "title": at_end[c.feature_id].title, "team": c.team,
                "theme": at_end[c.feature_id].theme, "effort_hours": c.effort_hours, "value": round(value, 2),
                "depends_on": list(c.depends_on), "chosen": slot is not None,
                "ships_by": self.ship_dates[slot].isoformat() if slot is not None else None,
                "naive_chosen": c.feature_id in self.naive.ship,
                "excluded": self.solution.excluded.get(c.feature_id),
                "summary": _summary_at(self.valuation, c.feature_id, slot, currency),
            })
        return {
            "period": self.period, "period_start": self.valuation.rules.period_start.isoformat(),
            "period_end": self.valuation.rules.period_end.isoformat(),
            "ship_dates": [d.isoformat() for d in self.ship_dates],
            "capacity_hours": self.capacity.hours, "capacity": self.capacity.as_dict(),
            "features": rows,
            "expected_revenue": round(self.solution.plan.expected_revenue, 2),
            "bound": round(self.solution.bound, 2), "gap": self.solution.gap, "status": self.solution.status,
            "solver_seconds": round(self.solution.seconds, 3),
            "hours_used": sum(float(c.effort_hours or 0) for c in self.candidates if c.feature_id in chosen),
            "naive": {"rule": self.naive.rule, "expected_revenue": round(self.naive.expected_revenue, 2),
                      "chosen": self.naive.chosen,
                      "ships_by": {f: self.ship_dates[s].isoformat() for f, s in sorted(self.naive.ship.items())}},
            "method": {"plan": self.method, "value": self.valuation.method, "themes": self.valuation.catalogue.method,
                       "chance": "win rate from the deal's stage in its segment (funnel, two years)",
                       "winback": self.valuation.chances.winback_basis},
        }


def _summary_at(valuation: Valuation, feature_id: str, slot: int | None, currency: str) -> str:
    ship = valuation.ship_dates[slot if slot is not None else -1]
    for value in valuation.features[ship]:
        if value.feature_id == feature_id:
            return value.summary(currency)
    return ""


def candidates_from(valuation: Valuation) -> list[Candidate]:
    """One candidate per unshipped feature, with its value at each ship date."""
    by_id = {d: {v.feature_id: v for v in values} for d, values in valuation.features.items()}
    out = []
    for v in valuation.at_end():
        out.append(Candidate(v.feature_id, v.effort_hours,
                             tuple(by_id[d][v.feature_id].value for d in valuation.ship_dates), v.team,
                             v.depends_on, v.accounts, v.mean_certainty))
    return out


def plan_roadmap(tables: TableSource, capacity: Capacity, *, period_start: date, period_end: date, as_of: date,
                 period: str, overrides: ThemeOverrides | None = None, monthly: bool = True,
                 naive_rule: str = "value-per-hour", slip_factor: float = SLIP_FACTOR,
                 lookback_days: int = LOOKBACK_DAYS) -> RoadmapPlan:
    """The features to build in the period under `capacity`, beside the naive plan, with the bound."""
    if period_end <= as_of:
        from cadence.analysis.roadmap.optimiser import RoadmapInputError

        raise RoadmapInputError(f"{period} ended on {period_end - timedelta(days=1)}, before the data's last day "
                                f"({as_of - timedelta(days=1)})", hint="plan a period still to come")
    valuation = value_roadmap(tables, period_start=period_start, period_end=period_end, as_of=as_of,
                              overrides=overrides, monthly=monthly, slip_factor=slip_factor,
                              lookback_days=lookback_days)
    candidates = candidates_from(valuation)
    if not candidates:
        raise RoadmapDataError("the plan needs features not shipped yet: the workspace has none",
                               hint="import the roadmap into `features` (feature_id, title, effort_hours, "
                                    "depends_on, status)")
    shipped = set(valuation.data.features.loc[valuation.data.features["is_shipped"], "feature_id"])
    elapsed = elapsed_shares(period_start, period_end, valuation.ship_dates)
    solution = optimise(candidates, capacity, elapsed, satisfied=shipped)
    naive = naive_plan(candidates, capacity, elapsed, satisfied=shipped, rule=naive_rule)
    return RoadmapPlan(period, capacity, valuation, candidates, solution, naive)


def next_period(calendar: FiscalCalendar, as_of: date, grain: Grain = "quarter") -> tuple[date, date, str]:
    """The first fiscal period starting on or after `as_of`: what a team plans next."""
    start = calendar.start_of(as_of, grain)
    if start < as_of:
        start = calendar.next_start(start, grain)
    return start, calendar.next_start(start, grain), calendar.label(start, grain)
