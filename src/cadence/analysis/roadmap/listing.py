"""What `cadence requests` and `cadence roadmap` show, over a workspace: the period planned, the valuation, the
requests by value and the themes by value — each a typed result with its JSON form.

A workspace here is anything with `table(name)` and its fiscal `calendar`; `as_of` is the first day not counted.
The product manager's theme edits are passed in (`overrides`): the caller reads them where they are kept
(`cadence.entries.themes`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from cadence.analysis.roadmap.optimiser import Capacity
from cadence.analysis.roadmap.plan import RoadmapPlan, Valuation, next_period, plan_roadmap, value_roadmap
from cadence.analysis.roadmap.themes import ThemeOverrides
from cadence.analysis.roadmap.value import request_values
from cadence.errors import InputError
from cadence.metrics.calendar import FiscalCalendar

REQUEST_COLUMNS = ["request_id", "title", "account", "opportunity_id", "certainty", "theme", "feature_id", "status",
                   "value", "requested_at"]


class RoadmapSource(Protocol):
    @property
    def calendar(self) -> FiscalCalendar: ...

    def table(self, name: str) -> Any: ...


def period_bounds(calendar: FiscalCalendar, label: str | None, as_of: date) -> tuple[date, date, str]:
    """The month, quarter or year `label` names (default: the next fiscal quarter): start, end, label."""
    if label is None:
        return next_period(calendar, as_of)
    try:
        start, grain = calendar.parse(label)
    except ValueError as exc:
        raise InputError(str(exc)) from None
    if grain not in ("month", "quarter", "year"):
        raise InputError(f"plan a month, a quarter or a year, not {label!r}", hint="e.g. --period 2026-Q1")
    return start, calendar.next_start(start, grain), calendar.label(start, grain)


def valuation_for(ws: RoadmapSource, as_of: date, period: str | None, *, overrides: ThemeOverrides) -> Valuation:
    """Every request, feature and theme valued if answered in `period`, with the theme edits `overrides`."""
    start, end, _ = period_bounds(ws.calendar, period, as_of)
    return value_roadmap(ws, period_start=start, period_end=end, as_of=as_of, overrides=overrides)


def plan_for(ws: RoadmapSource, capacity: Capacity, as_of: date, period: str | None, *, overrides: ThemeOverrides,
             monthly: bool = True, naive_rule: str = "value-per-hour") -> RoadmapPlan:
    """The best roadmap for `period` under `capacity`, beside the naive plan, with the theme edits `overrides`."""
    start, end, label = period_bounds(ws.calendar, period, as_of)
    return plan_roadmap(ws, capacity, period_start=start, period_end=end, as_of=as_of, period=label,
                        overrides=overrides, monthly=monthly, naive_rule=naive_rule)


@dataclass(frozen=True)
class RequestList:
    """Requests, most valuable first (then by id), each with its theme, account and dollar value."""

    rows: list[dict[str, Any]]
    limit: int

    @property
    def shown(self) -> list[dict[str, Any]]:
        return self.rows[:self.limit]

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.shown, "total": len(self.rows)}


def request_list(valuation: Valuation, *, status: str | None = None, theme: str | None = None,
                 limit: int = 30) -> RequestList:
    """The requests of `valuation` (only `status`, only `theme` when given), valued and sorted."""
    data, catalogue = valuation.data, valuation.catalogue
    if theme is not None:
        catalogue.theme(theme)  # a clear error for an unknown key
    values = request_values(data, catalogue, valuation.chances, valuation.rules, valuation.ship_dates[-1])
    value_of = dict(zip(values["request_id"], values["value"], strict=True))
    names = data.deals.set_index("opportunity_id")["account_name"]
    frame = data.requests.assign(theme=data.requests["request_id"].map(catalogue.assignment),
                                 value=data.requests["request_id"].map(value_of).fillna(0.0).round(2),
                                 account=data.requests["opportunity_id"].map(names).fillna(data.requests["account_id"]))
    if status is not None:
        frame = frame[frame["status"] == status]
    if theme is not None:
        frame = frame[frame["theme"] == theme]
    frame = frame.sort_values(["value", "request_id"], ascending=[False, True])
    out = frame[REQUEST_COLUMNS].astype("object").where(frame[REQUEST_COLUMNS].notna(), None)
    rows = [{**{str(k): v for k, v in r.items()}, "requested_at": str(r["requested_at"])}
            for r in out.to_dict("records")]
    return RequestList(rows, limit)


@dataclass(frozen=True)
class ThemeList:
    """Themes by the dollars waiting on them (then by key), with how they were found and edits not applied."""

    method: str
    rows: list[dict[str, Any]]
    notes: list[str]

    def as_dict(self) -> dict[str, Any]:
        return {"method": self.method, "themes": self.rows, "notes": self.notes}


def theme_list(valuation: Valuation) -> ThemeList:
    value = {t.key: round(t.value, 2) for t in valuation.themes}
    found = sorted(valuation.catalogue.themes, key=lambda t: (-value.get(t.key, 0.0), t.key))
    rows: list[dict[str, Any]] = [
        {"key": t.key, "name": t.name, "requests": t.requests, "deals": t.deals, "accounts": t.accounts,
         "value": value.get(t.key, 0.0), "features": ", ".join(t.features), "pinned": t.pinned,
         "says": " · ".join(t.phrasings[:2])} for t in found]
    return ThemeList(valuation.catalogue.method, rows, list(valuation.catalogue.notes))
