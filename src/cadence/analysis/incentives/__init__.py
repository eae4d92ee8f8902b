"""Incentive timing: quarter-end bunching, what quarter-end deals cost later, and executive goal dates.

`incentive_report` runs every part and keeps going when one lacks data: a workspace without
goals still gets its bunching, one without subscriptions its discount comparison. What a missing
part needs is said in `unavailable`, one line per part.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from cadence.analysis.as_of import AsOf, resolve_as_of
from cadence.analysis.incentives.bunching import Bunching, bookings_bunching, measure_bunching
from cadence.analysis.incentives.data import MetricSource, MissingDataError, won_deals
from cadence.analysis.incentives.goal_pressure import (
    PressureModel,
    PressureWeek,
    Simulation,
    fit_pressure_model,
    latest_goal_year,
    pressure_curve,
    read_goals,
    simulate,
    staggered_due_dates,
)
from cadence.analysis.incentives.movements import Movements, revenue_movements
from cadence.analysis.incentives.quarter_end_effects import METHOD as EFFECTS_METHOD
from cadence.analysis.incentives.quarter_end_effects import (
    Effect,
    account_months,
    discount_effect,
    retention_effects,
    time_to_value_effect,
)
from cadence.metrics.calendar import FiscalCalendar
from cadence.metrics.money import MissingRatesError

__all__ = ["IncentiveReport", "MissingDataError", "Simulation", "incentive_report", "simulate_goal_dates"]


@dataclass
class IncentiveReport:
    through: date | None  # the last day counted (the workspace's "as of")
    bunching: Bunching | None = None
    effects: list[Effect] = field(default_factory=list)
    pressure: list[PressureWeek] = field(default_factory=list)
    model: PressureModel | None = None
    movements: Movements | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # part → what it needs
    as_of: AsOf | None = None  # where `through` came from (the data's last day, or --today)

    def as_dict(self) -> dict[str, Any]:
        bunching = self.bunching
        peak = max((p.executives_due for p in self.pressure), default=0)
        return {
            "through": self.through.isoformat() if self.through else None,
            **(self.as_of.as_dict() if self.as_of else {}),
            "quarters": [{k: v for k, v in q.as_dict().items() if k != "weekly"} for q in bunching.quarters]
            if bunching else [],
            "years": [y.as_dict() for y in bunching.years] if bunching else [],
            "by_week_of_quarter": bunching.by_week_of_quarter() if bunching else [],
            "bunching_definition": bunching.definition if bunching else None,
            "quarter_end_effects": {"method": EFFECTS_METHOD,
                                    "measures": {e.measure: e.as_dict() for e in self.effects}},
            "goal_pressure": {
                "weeks": [p.as_dict() for p in self.pressure],
                "peak_executives_due": peak,
                "peak_weeks": [f"{p.quarter} week {p.week}" for p in self.pressure
                               if peak and p.executives_due == peak],
                "model": self.model.as_dict() if self.model else None,
            },
            "movements": self.movements.as_dict() if self.movements else None,
            "unavailable": self.unavailable,
        }


def _run_part(report: IncentiveReport, part: str, run: Any) -> Any:
    try:
        return run()
    except (MissingDataError, MissingRatesError) as exc:  # a part missing rows or exchange rates says so
        report.unavailable[part] = exc.one_line()
        return None


def incentive_report(source: MetricSource, calendar: FiscalCalendar, *, as_of: AsOf | None = None,
                     seed: int = 0) -> IncentiveReport:
    """Every part of the incentive analysis that the data allows, counting up to `as_of` (default: the
    workspace's one "as of", the data's last day)."""
    as_of = as_of or resolve_as_of(source)
    through = as_of.day
    report = IncentiveReport(through, as_of=as_of)
    won: pd.DataFrame | None = _run_part(report, "bunching", lambda: won_deals(source, calendar))
    if won is not None:
        report.bunching = measure_bunching(won, calendar, through=through, seed=seed)
        last = through or max(won["day"])
        for part, run in (("discount", lambda: [discount_effect(won, seed=seed)]),
                          ("churn_and_contraction",
                           lambda: retention_effects(won, account_months(source, last), last, seed=seed)),
                          ("time_to_first_value", lambda: [time_to_value_effect(won, source, seed=seed)])):
            report.effects += _run_part(report, part, run) or []
    else:
        for part in ("discount", "churn_and_contraction", "time_to_first_value"):
            report.unavailable[part] = report.unavailable["bunching"]
    goals = _run_part(report, "goal_pressure", lambda: read_goals(source))
    if goals is not None:
        report.pressure = pressure_curve(goals, calendar)
        if report.bunching is not None:
            bunching = report.bunching
            report.model = _run_part(report, "goal_pressure_model",
                                     lambda: fit_pressure_model(bunching.quarters, goals, calendar, seed=seed))
        else:
            report.unavailable["goal_pressure_model"] = ("the effect of goal dates on bookings needs closed-won "
                                                         "deals: there are none")
    report.movements = _run_part(report, "movements", lambda: revenue_movements(source, calendar, through=through))
    return report


def simulate_goal_dates(source: MetricSource, calendar: FiscalCalendar, *, proposal: dict[str, date] | None = None,
                        stagger_days: int | None = None, years: list[str] | None = None,
                        seed: int = 0, today: date | None = None) -> Simulation:
    """Expected pressure and bunching if goals fell due on other dates: staggered, or as `proposal` says.

    The model is fitted on the company's own bookings and goals; `years` default to the fiscal years
    the moved goals fall due in (with `proposal`) or the latest year with goals (with a stagger).
    """
    goals = read_goals(source)
    bunching = bookings_bunching(source, calendar, seed=seed, today=today)
    model = fit_pressure_model(bunching.quarters, goals, calendar, seed=seed)
    if proposal is not None:
        description = f"{len(proposal)} due dates as proposed"
        moved = goals[goals["goal_id"].astype(str).isin(proposal)]
        touched = [*moved["due_date"], *[d for g, d in proposal.items() if g in set(moved["goal_id"].astype(str))]]
        default_years = sorted({calendar.label(calendar.start_of(d, "year"), "year") for d in touched})
    else:
        step = stagger_days or 0
        proposal = staggered_due_dates(goals, calendar, step)
        description = (f"executives' goals staggered {step} days apart, back from each quarter's last day"
                       if step else "every goal due on its quarter's last day")
        default_years = [latest_goal_year(goals, calendar)]
    actual = {q.quarter: q.share_last_two_weeks for q in bunching.quarters if q.complete}
    return simulate(goals, proposal, model, calendar, years or default_years, description=description,
                    actual=actual, seed=seed)
