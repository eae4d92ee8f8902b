"""A week's scorecard kept as leadership saw it: computed once, stored with its day and definitions' version.

Building the scorecard reads the whole warehouse (seconds on a real company), and the figures must not move
under a meeting's feet when a later import arrives: the review opens a week from its snapshot. Taking a
snapshot again replaces that week's (for that scope) in one transaction.
"""

from __future__ import annotations

import json
import math
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.errors import InputError
from cadence.review.definitions import definitions_version
from cadence.schema.tables import table_named

if TYPE_CHECKING:
    from cadence.access.scope import Scope
    from cadence.workspace import Workspace

WEEK = re.compile(r"^\s*(\d{4})-?W(\d{1,2})\s*$", re.IGNORECASE)
SUMMARY_COLUMNS = ("snapshot_id", "week_start", "scope", "computed_at", "computed_by", "as_of", "definitions_version")


@dataclass(frozen=True)
class SnapshotSummary:
    """A stored snapshot without its figures: enough to list the weeks kept."""

    snapshot_id: str
    week_start: date
    week: str
    scope: str
    computed_at: datetime
    computed_by: str | None
    as_of: date
    definitions_version: str

    def as_dict(self) -> dict[str, Any]:
        return {"snapshot_id": self.snapshot_id, "week_start": self.week_start.isoformat(), "week": self.week,
                "scope": self.scope, "computed_at": self.computed_at.isoformat(), "computed_by": self.computed_by,
                "as_of": self.as_of.isoformat(), "definitions_version": self.definitions_version}


@dataclass(frozen=True)
class Snapshot(SnapshotSummary):
    """A week's scorecard as it was computed: `payload` is `Scorecard.as_dict()` in plain JSON values."""

    payload: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "payload": self.payload}

    def figures(self) -> list[dict[str, Any]]:
        """Every figure of every section, each with its section's key."""
        return [{**figure, "section": section.get("key")} for section in self.payload.get("sections", [])
                for figure in section.get("figures", [])]


def parse_week(text: str) -> date:
    """The Monday of an ISO week written YYYY-Www (2026-W47)."""
    found = WEEK.match(text or "")
    try:
        if found is None:
            raise ValueError(text)
        return date.fromisocalendar(int(found.group(1)), int(found.group(2)), 1)
    except ValueError:
        raise InputError(f"not an ISO week: {text!r}", hint="write the week as YYYY-Www, e.g. 2026-W47") from None


def week_label(day: date) -> str:
    """The ISO week a day falls in, as YYYY-Www."""
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def take_snapshot(ws: Workspace, week: str | None = None, *, scope: str = "company", computed_by: str | None = None,
                  today: date | None = None, teams: frozenset[str] | None = None, own: bool = False) -> Snapshot:
    """Compute the week's scorecard (default: the last complete week) and keep it as that week's snapshot for
    `scope`, replacing the one kept before. `ws` may be a workspace scoped to a team; `scope` labels it.

    `teams` (None: every team) keeps only those teams' figures, rows, charts and notes: a manager's scorecard is
    their team's. `own` (a rep's) keeps the figures but not the team's targets and statuses, which judge the
    whole team, not one rep's part of it."""
    from cadence.report.scorecard import build_scorecard

    card = build_scorecard(ws, week=week, today=today)
    if teams is not None:
        every = {str(t) for (t,) in ws.warehouse.query("SELECT DISTINCT team FROM people WHERE team IS NOT NULL")}
        card_dict = limit_to_teams(card.as_dict(), teams, frozenset(every) - teams, own=own)
    else:
        card_dict = card.as_dict()
    context = card.context
    last_day = context.as_of - timedelta(days=1)
    as_of = min(last_day, context.today.day) if context.today is not None else last_day
    snapshot = Snapshot(uuid.uuid4().hex[:16], context.week_start, context.week, scope,
                        datetime.now(UTC).replace(tzinfo=None, microsecond=0), computed_by, as_of,
                        definitions_version(ws), json_plain(card_dict))
    row = {**{c: getattr(snapshot, c) for c in SUMMARY_COLUMNS},
           "payload_json": json.dumps(snapshot.payload, sort_keys=True, allow_nan=False)}
    with ws.warehouse.transaction():
        ws.warehouse.upsert(table_named("snapshots"), pd.DataFrame([row]))
    return snapshot


def take_scoped_snapshot(ws: Workspace, scope: Scope, week: str | None = None, *, computed_by: str | None = None,
                         today: date | None = None) -> Snapshot:
    """The week's snapshot for a reader's `scope`, from the whole workspace `ws`: the company's on every row (one
    scorecard for leadership, whoever computes it first); a team's on its rows with its figures only; a rep's on
    their rows with their team's figures, without the team's targets and statuses."""
    from cadence.access.scope import scoped

    if scope.kind == "all":
        return take_snapshot(ws, week, scope=scope.key, computed_by=computed_by, today=today)
    view = scoped(ws, scope)
    teams = set(scope.teams)
    if scope.kind == "person":
        people = view.table("people").select("team").to_pandas()
        teams |= {str(t) for t in people["team"].dropna()}
    return take_snapshot(view, week, scope=scope.key, computed_by=computed_by, today=today, teams=frozenset(teams),
                         own=scope.kind == "person")


def get_snapshot(ws: Workspace, week_start: date, scope: str = "company") -> Snapshot | None:
    """The snapshot kept for the week starting `week_start` (any day of it will do), or None."""
    monday = week_start - timedelta(days=week_start.weekday())
    rows = ws.warehouse.query(f"SELECT {', '.join(SUMMARY_COLUMNS)}, payload_json FROM snapshots "
                              "WHERE week_start = $1 AND scope = $2", (monday, scope))
    return _snapshot(rows[0]) if rows else None


def latest_snapshot(ws: Workspace, scope: str = "company") -> Snapshot | None:
    """The snapshot of the newest week kept for `scope`, or None."""
    rows = ws.warehouse.query(f"SELECT {', '.join(SUMMARY_COLUMNS)}, payload_json FROM snapshots WHERE scope = $1 "
                              "ORDER BY week_start DESC LIMIT 1", (scope,))
    return _snapshot(rows[0]) if rows else None


def list_snapshots(ws: Workspace, scope: str | None = None) -> list[SnapshotSummary]:
    """Every snapshot kept (of one scope, or all), newest week first."""
    sql = f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM snapshots"
    rows = (ws.warehouse.query(sql + " WHERE scope = $1 ORDER BY week_start DESC", (scope,)) if scope is not None
            else ws.warehouse.query(sql + " ORDER BY week_start DESC, scope"))
    return [_summary(r) for r in rows]


def json_plain(value: Any) -> Any:
    """`value` as JSON would hold it: dates as ISO text, NaN and infinities as null, tuples as lists."""
    if isinstance(value, dict):
        return {str(k): json_plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item") and not isinstance(value, bool | int | float | str):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _summary(row: tuple[Any, ...]) -> SnapshotSummary:
    snapshot_id, week_start, scope, computed_at, computed_by, as_of, version = row[:7]
    start = _day(week_start)
    return SnapshotSummary(snapshot_id, start, week_label(start), scope, pd.Timestamp(computed_at).to_pydatetime(),
                           computed_by, _day(as_of), version)


def _snapshot(row: tuple[Any, ...]) -> Snapshot:
    summary = _summary(row)
    return Snapshot(**{c: getattr(summary, c) for c in (*SUMMARY_COLUMNS, "week")}, payload=json.loads(row[7]))


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else pd.Timestamp(value).date()


def limit_to_teams(payload: dict[str, Any], teams: frozenset[str], hidden: frozenset[str], *,
                   own: bool = False) -> dict[str, Any]:
    """The scorecard as someone who sees only `teams` may see it: figures, rows, charts and notes about a team in
    `hidden` left out, sections left with nothing dropped; `own` clears team targets and statuses (a rep's)."""

    def shows(team: object) -> bool:
        return team is None or str(team) in teams

    def clean(text: str) -> bool:
        return not any(name in text for name in hidden)

    sections = []
    for section in payload.get("sections", []):
        figures = [dict(f) for f in section.get("figures", []) if shows(f.get("team"))
                   and clean(str(f.get("label") or "") + str(f.get("note") or ""))]
        if own:
            for f in figures:
                if f.get("team") is not None:
                    f.update(target=None, expected=None, status=None,
                             note=f"your own part of {f['team']}'s figure; its target is the team's")
        kept_charts = {f.get("chart") for f in figures}
        figure_charts = {f.get("chart") for f in section.get("figures", [])}
        charts = [c for c in section.get("charts", []) if (c.get("key") in kept_charts or
                                                           c.get("key") not in figure_charts)
                  and clean(json.dumps(c, ensure_ascii=False))]
        rows = [r for r in section.get("rows", []) if shows(r.get("team"))
                and clean(" ".join(str(v) for v in r.values()))]
        notes = [n for n in section.get("notes", []) if clean(str(n))]
        only_notes = not section.get("figures") and not section.get("rows")
        if figures or rows or charts or (only_notes and notes):
            sections.append({**section, "figures": figures, "rows": rows, "charts": charts, "notes": notes})
    shown = {f.get("metric") for s in sections for f in s["figures"]}
    definitions = [d for d in payload.get("definitions", []) if d.get("name") in shown]
    return {**payload, "sections": sections, "definitions": definitions}
