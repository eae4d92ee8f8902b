"""What a scorecard is made of. One typed object; the terminal table, the JSON and the HTML are views of it.

Later areas (tempo, forecast, incentives, roadmap, hiring) contribute a `Section` through a
`SectionProvider` registered in `report/sections/__init__.py` — nothing else in the scorecard changes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf
    from cadence.workspace import Workspace


@dataclass
class Figure:
    """One number on the scorecard, with what it is judged against and where its definition lives."""

    label: str
    value: float | None
    unit: str
    metric: str | None = None  # registry name: the HTML links the figure to its definition
    team: str | None = None
    period: str | None = None
    target: float | None = None
    expected: float | None = None
    status: str | None = None  # on_track / at_risk / off_track / no_target / no_data
    change_wow: float | None = None  # relative change, this week vs last week
    change_period: float | None = None  # relative change, period to date vs the same days of the last period
    chart: str | None = None  # key of a chart in the section
    note: str | None = None


@dataclass
class Chart:
    key: str
    title: str
    spec: dict[str, Any]  # Vega-Lite


@dataclass
class Section:
    key: str
    title: str
    figures: list[Figure] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)  # a table, when figures are not the right shape
    charts: list[Chart] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ScorecardContext:
    """The week under review: `as_of` is the first day after it (an exclusive bound for every query)."""

    week: str
    week_start: date
    as_of: date
    today: AsOf | None = None  # the day the figures are for: the data's last day, or --today


@dataclass
class Scorecard:
    company: str
    currency: str
    context: ScorecardContext
    mission: dict[str, Any] | None
    sections: list[Section]
    definitions: list[dict[str, Any]]  # every metric shown, with its definition (the HTML links here)

    def as_dict(self) -> dict[str, Any]:
        return {"company": self.company, "currency": self.currency, "week": self.context.week,
                "week_start": self.context.week_start.isoformat(), "as_of": self.context.as_of.isoformat(),
                "today": self.context.today.day.isoformat() if self.context.today else None,
                "today_source": self.context.today.header() if self.context.today else None,
                "mission": self.mission, "sections": [s.as_dict() for s in self.sections],
                "definitions": self.definitions}


class SectionProvider(Protocol):
    """A part of the weekly scorecard. `build` returns None when the workspace has nothing for it."""

    key: str
    title: str
    order: int

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None: ...
