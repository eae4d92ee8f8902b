"""Forecast categories rolled up the manager hierarchy: each person's closed, commit, best case and pipeline
for a quarter as they stood on an as-of date — the roll-up a CRM's forecast page shows beside each manager.

Everything is read as it was known before the as-of day (the pipeline replayed from history, as the forecast
does): a deal won in the quarter before that day counts as closed whatever its category; an open deal counts
when its expected close date then fell in the quarter, under the category its history carried then (amounts
in the reporting currency). Lost deals and omitted ones are left out (omitted ones are counted). A deal whose
history gives no category, or one this module does not know, is counted under `uncategorised` and named —
never placed in a column by guess. A manager's line is their own deals plus every report's line.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from cadence.analysis.forecast.categories import CATEGORIES, OMITTED, normalise_category
from cadence.analysis.forecast.data import ForecastData, as_timestamp
from cadence.analysis.forecast.hierarchy import Hierarchy, build_hierarchy
from cadence.analysis.forecast.quarter import Forecaster
from cadence.analysis.forecast.scoped import replay_company
from cadence.analysis.forecast.snapshot import pipeline_as_of, won_between
from cadence.metrics.relations import TableSource

COLUMNS = (*CATEGORIES, "uncategorised")


@dataclass
class RollupLine:
    """One person: their own deals' sums per category, and their whole team's (own plus every report's)."""

    person_id: str
    name: str
    manager_id: str | None
    depth: int
    own: dict[str, float]
    team: dict[str, float]
    deals: int  # deals counted in `team`
    stage_weighted: float | None = None  # the company's stage-weighted forecast restricted to the team's deals
    model: float | None = None  # the company's win-model forecast restricted to the team's deals (`scoped.py`)

    @property
    def commit_total(self) -> float:
        """Closed plus commit: what the team says will land (the CRM's "commit forecast")."""
        return self.team["closed"] + self.team["commit"]

    @property
    def best_case_total(self) -> float:
        """Closed, commit and best case together."""
        return self.commit_total + self.team["best_case"]

    def as_dict(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "name": self.name, "manager_id": self.manager_id, "depth": self.depth,
                **{c: self.team[c] for c in COLUMNS}, "commit_total": self.commit_total,
                "best_case_total": self.best_case_total, "deals": self.deals,
                "stage_weighted": self.stage_weighted, "model": self.model, "own": dict(self.own)}


@dataclass
class Rollup:
    quarter: str
    start: date
    end: date  # exclusive
    as_of: date  # knowing what was recorded before this day
    lines: list[RollupLine]
    total: dict[str, float]
    omitted: int  # open deals due in the quarter whose category said omitted
    unknown: dict[str, int]  # category names met and not known, with how many deals carried them
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"quarter": self.quarter, "start": self.start.isoformat(), "end": self.end.isoformat(),
                "as_of": self.as_of.isoformat(), "lines": [line.as_dict() for line in self.lines],
                "total": {**self.total, "commit_total": self.total["closed"] + self.total["commit"],
                          "best_case_total": self.total["closed"] + self.total["commit"] + self.total["best_case"]},
                "omitted_deals": self.omitted, "unknown_categories": self.unknown, "notes": list(self.notes)}


def categorised_deals(data: ForecastData, closes: pd.DataFrame, as_of: date, start: date, end: date
                      ) -> tuple[pd.DataFrame, dict[str, int]]:
    """Deals counted for the quarter on `as_of`: opportunity_id, owner_id, amount, column (a COLUMNS name or
    'omitted'), and the unknown category names met."""
    won = won_between(closes, start, min(as_of, end))
    closed = pd.DataFrame({"opportunity_id": won["opportunity_id"].to_numpy(), "owner_id": won["owner_id"].to_numpy(),
                           "amount": won["amount"].astype("float64").fillna(0.0).to_numpy(), "column": "closed"})
    if as_of >= end:
        return closed, {}
    snapshot = pipeline_as_of(data, as_of, open_only=True).open
    due = (snapshot["close_date"] >= as_timestamp(start)) & (snapshot["close_date"] < as_timestamp(end))
    open_deals = snapshot[due]
    raw = open_deals["forecast_category"]
    column = raw.map(normalise_category)
    unknown = Counter(str(r) for r, c in zip(raw, column, strict=True) if pd.isna(c) and isinstance(r, str) and r)
    column = column.where(column != "closed", "commit")  # an open deal marked closed: the rep's commit
    opened = pd.DataFrame({"opportunity_id": open_deals["opportunity_id"].to_numpy(),
                           "owner_id": open_deals["owner_id"].to_numpy(),
                           "amount": open_deals["amount"].astype("float64").fillna(0.0).to_numpy(),
                           "column": column.fillna("uncategorised").to_numpy()})
    return pd.concat([closed, opened], ignore_index=True), dict(unknown)


def roll_up(deals: pd.DataFrame, hierarchy: Hierarchy) -> list[RollupLine]:
    """Each person's own sums and their team's, top down; people with no deal in their team are left out."""
    counted = deals[deals["column"] != OMITTED]
    own = counted.pivot_table(index="owner_id", columns="column", values="amount", aggfunc="sum", fill_value=0.0)
    own = own.reindex(columns=list(COLUMNS), fill_value=0.0)
    sums: dict[str, dict[str, float]] = {str(p): {str(c): float(v) for c, v in row.items()}
                                         for p, row in own.to_dict("index").items()}
    zero = dict.fromkeys(COLUMNS, 0.0)
    counts = counted.groupby("owner_id").size()
    order = hierarchy.walk()
    team: dict[str, dict[str, float]] = {}
    team_deals: dict[str, int] = {}
    for person, _ in reversed(order):  # reports before their manager
        mine = dict(sums.get(person, zero))
        n = int(counts.get(person, 0))
        for report in hierarchy.reports(person):
            mine = {c: mine[c] + team[report][c] for c in COLUMNS}
            n += team_deals[report]
        team[person], team_deals[person] = mine, n
    lines = []
    for person, depth in order:
        if team_deals[person] == 0:
            continue
        mine = dict(sums.get(person, zero))
        lines.append(RollupLine(person, hierarchy.names[person], hierarchy.manager[person], depth, mine,
                                team[person], team_deals[person]))
    return lines


def forecast_rollup(data: ForecastData, closes: pd.DataFrame, hierarchy: Hierarchy, label: str, as_of: date,
                    start: date, end: date) -> Rollup:
    """The quarter's categories per person and rolled up, as known before `as_of`."""
    deals, unknown = categorised_deals(data, closes, as_of, start, end)
    lines = roll_up(deals, hierarchy)
    counted = deals[deals["column"] != OMITTED]
    total = {c: float(counted.loc[counted["column"] == c, "amount"].sum()) for c in COLUMNS}
    notes = list(hierarchy.notes)
    uncategorised = int((counted["column"] == "uncategorised").sum())
    if uncategorised:
        named = "; ".join(f"{name!r} on {n:,}" for name, n in sorted(unknown.items()))
        notes.append(f"{uncategorised:,} open deals due in the quarter have no forecast category Cadence knows "
                     f"({named or 'none recorded in their history'}): counted under uncategorised, not guessed"
                     + (" — map them in the CRM to Pipeline, Best Case, Commit, Closed or Omitted" if unknown else ""))
    return Rollup(label, start, end, as_of, lines, total, int((deals["column"] == OMITTED).sum()), unknown, notes)


def people_hierarchy(tables: TableSource, forecaster: Forecaster) -> Hierarchy:
    """The hierarchy of the people `tables` shows, with every deal owner placed."""
    people = tables.table("people").select("person_id", "name", "manager_id").to_pandas()
    return build_hierarchy(people, forecaster.data.deals["owner_id"].dropna())


def quarter_rollup(tables: TableSource, forecaster: Forecaster, as_of: date, start: date) -> Rollup:
    """The roll-up of the quarter starting `start` as known before `as_of`, each line beside the company's
    stage-weighted and win-model forecasts restricted to that line's deals."""
    calendar = forecaster.calendar
    end = calendar.next_start(start, "quarter")
    as_of = min(max(as_of, start), end)
    hierarchy = people_hierarchy(tables, forecaster)
    rollup = forecast_rollup(forecaster.data, forecaster.closes, hierarchy, calendar.label(start, "quarter"), as_of,
                             start, end)
    replay = replay_company(forecaster, start, (as_of - start).days)
    for line in rollup.lines:
        line.stage_weighted, line.model = replay.for_owners(hierarchy.scope(line.person_id), forecaster)
    if not replay.has_model:
        rollup.notes.append("no win model could be fitted for this quarter: each line shows the stage-weighted "
                            "forecast of its deals only")
    return rollup
