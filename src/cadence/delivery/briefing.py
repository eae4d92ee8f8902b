"""What one recipient receives: their own week, read with the same scope rules as the web app.

`briefing_for(ws, user)` turns a Cadence user into a `Briefing`: the week's snapshot for their scope (the one kept,
else computed and kept now), what changed since last week's, the gap actions they follow, and — when the newest
import is older than the limit — a sentence saying so, which every message puts first. The email and the Slack
message are two renderings of the same briefing, so they can never disagree about what a recipient may see.

A scope narrower than the company also narrows the message: figures, rows, charts and changes about a team
outside the scope are left out, as is any note naming one (a manager's scorecard lists every team's KPI row,
with that team's own figures empty), so a manager's email names no other team.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.access.roles import Principal
from cadence.access.scope import Scope, scope_for, scoped
from cadence.accounts.records import User
from cadence.errors import AccessDenied
from cadence.report.format import format_value
from cadence.report.scorecard import week_context
from cadence.review.actions import Action, actions_for_week, comments_on
from cadence.review.changes import Change, Changes, what_changed
from cadence.review.snapshots import Snapshot, get_snapshot, parse_week, take_scoped_snapshot, week_label

if TYPE_CHECKING:
    from cadence.workspace import Workspace

__all__ = ["Briefing", "briefing_for", "stale_notice"]

TOP_CHANGES = 8


@dataclass(frozen=True)
class Briefing:
    """One recipient's week: their scorecard snapshot, what changed, their open gap actions, and whether the data
    is stale. `teams` is the teams the message may name (None: every team); `hidden_teams` those it may not."""

    recipient: User
    principal: Principal
    scope: Scope
    snapshot: Snapshot
    changes: Changes
    actions: list[Action]
    company: str
    currency: str
    week: str
    base_url: str | None
    stale: str | None
    teams: frozenset[str] | None = None
    hidden_teams: frozenset[str] = field(default_factory=frozenset)
    owners: dict[str, str] = field(default_factory=dict)  # person_id -> name, of the people in scope
    comments: dict[str, dict[str, Any]] = field(default_factory=dict)  # review_id -> the newest comment on it

    @property
    def page_url(self) -> str | None:
        """The week's scorecard page in the web app, when the app's address is known."""
        return f"{self.base_url.rstrip('/')}/scorecard?week={self.week}" if self.base_url else None

    @property
    def audience(self) -> str:
        """Whose figures these are, in words ("the company", "team Mid-Market Sales")."""
        return self.scope.label or "the company"

    def shows_team(self, team: str | None) -> bool:
        """Whether a figure, row or change about `team` (None: not about one team) belongs in this message."""
        return team is None or self.teams is None or team in self.teams

    def shows_text(self, text: str) -> bool:
        """Whether a note or cell names no team outside the scope."""
        return not any(name in text for name in self.hidden_teams)

    def sections(self) -> list[dict[str, Any]]:
        """The snapshot's sections as this recipient may see them: figures, rows, charts and notes about teams
        outside the scope left out; a section left with nothing is dropped."""
        return self._sections

    @cached_property
    def _sections(self) -> list[dict[str, Any]]:
        shown = []
        for section in self.snapshot.payload.get("sections", []):
            figures = [f for f in section.get("figures", []) if self.shows_team(f.get("team"))
                       and self.shows_text(str(f.get("label") or "") + str(f.get("note") or ""))]
            kept_charts = {f.get("chart") for f in figures}
            figure_charts = {f.get("chart") for f in section.get("figures", [])}
            charts = [c for c in section.get("charts", [])
                      if (c.get("key") in kept_charts or c.get("key") not in figure_charts)
                      and self.shows_text(json.dumps(c, ensure_ascii=False))]
            rows = [r for r in section.get("rows", []) if self.shows_team(r.get("team"))
                    and self.shows_text(" ".join(str(v) for v in r.values()))]
            notes = [n for n in section.get("notes", []) if self.shows_text(str(n))]
            only_notes = not section.get("figures") and not section.get("rows")
            if figures or rows or charts or (only_notes and notes):
                shown.append({**section, "figures": figures, "rows": rows, "charts": charts, "notes": notes})
        return shown

    def figures(self) -> list[dict[str, Any]]:
        """Every figure shown, each with its section's key and title."""
        return [{**f, "section": s.get("key"), "section_title": s.get("title")} for s in self.sections()
                for f in s["figures"]]

    def with_status(self, status: str) -> list[dict[str, Any]]:
        """The figures shown whose status is `status` (off_track, at_risk, on_track)."""
        return [f for f in self.figures() if f.get("status") == status]

    def off_track(self) -> list[dict[str, Any]]:
        return self.with_status("off_track")

    def mission(self) -> dict[str, Any] | None:
        """The mission metric's figure (the first figure of the mission section), if the scorecard has one."""
        found = [f for f in self.figures() if f["section"] == "mission"]
        return found[0] if found else None

    def attention(self) -> list[dict[str, Any]]:
        """The mission metric, then every figure off track, then every one at risk (each once)."""
        found: list[dict[str, Any]] = []
        for figure in [self.mission(), *self.off_track(), *self.with_status("at_risk")]:
            if figure is not None and figure not in found:
                found.append(figure)
        return found

    def top_changes(self, limit: int = TOP_CHANGES) -> list[Change]:
        """What changed since last week, worst first, about the teams in scope only."""
        return [c for c in self.changes if self.shows_team(c.team) and self.shows_text(c.label)][:limit]

    def open_actions(self) -> list[Action]:
        """Gap actions still open at the week's end, past-due ones first."""
        return [a for a in self.actions if a.status == "open"]

    def past_due(self) -> list[Action]:
        return [a for a in self.open_actions() if a.past_due]

    def owner(self, action: Action) -> str:
        """An action's owner by name when the scope knows them, else by their id."""
        return self.owners.get(action.owner_id or "", action.owner_id or "nobody")

    def latest_comment(self, action: Action) -> str | None:
        """The newest comment on an action's thread as "author: text", or None."""
        found = self.comments.get(action.review_id)
        return f"{found.get('author') or 'someone'}: {found.get('body') or ''}" if found else None

    def value(self, figure: dict[str, Any], name: str = "value") -> str:
        """A figure's number as the scorecard writes it (`name`: value, target or expected)."""
        number = figure.get(name)
        return format_value(number if isinstance(number, int | float) else None, str(figure.get("unit") or ""),
                            self.currency)

    def change_value(self, change: Change, which: str) -> str:
        """A change's before or after number, formatted in its unit."""
        return format_value(getattr(change, which), change.unit or "", self.currency)


def briefing_for(ws: Workspace, user: User, *, week: str | None = None, base_url: str | None = None,
                 stale_after_days: int | None = None, today: date | None = None,
                 computed_by: str = "cadence deliver") -> Briefing:
    """`user`'s week (default: the last complete week of the data), in their role's scope. A user whose role sees
    no go-to-market figures (a recruiter) is refused with `AccessDenied`: they get no scorecard."""
    principal = Principal(user.user_id, user.role, user.team, user.person_id)
    if user.disabled:
        raise AccessDenied(f"{user.user_id} is disabled and is sent nothing", hint="enable the user, or drop them "
                           "from the schedule's recipients")
    scope = scope_for(ws, principal)
    if scope.kind == "none":
        raise AccessDenied(f"{user.user_id} ({user.describe()}) is sent no scorecard: the role sees no "
                           "go-to-market figures", hint="send the scorecard to executives, managers and reps")
    view = scoped(ws, scope)
    week_start = parse_week(week) if week else week_context(ws, None).week_start
    snapshot = get_snapshot(ws, week_start, scope=scope.key) or take_scoped_snapshot(
        ws, scope, week_label(week_start), computed_by=computed_by)
    previous = get_snapshot(ws, week_start - timedelta(days=7), scope=scope.key)
    people = view.table("people").select("person_id", "name", "team").to_pandas()
    teams = None if scope.kind == "all" else frozenset(scope.teams) | frozenset(people["team"].dropna().astype(str))
    every_team = frozenset(str(t) for (t,) in ws.warehouse.query("SELECT DISTINCT team FROM people "
                                                                 "WHERE team IS NOT NULL"))
    if scope.kind == "person":  # a rep follows the actions they own
        actions = [a for a in actions_for_week(ws, week_start) if a.owner_id in scope.person_ids]
    else:
        actions = actions_for_week(ws, week_start, teams=None if scope.kind == "all" else set(scope.teams))
    comments = {a.review_id: thread[-1] for a in actions if a.status == "open"
                and (thread := comments_on(ws, f"action:{a.review_id}"))}
    payload = snapshot.payload
    return Briefing(user, principal, scope, snapshot, what_changed(snapshot, previous), actions,
                    str(payload.get("company") or ""), str(payload.get("currency") or "USD"), snapshot.week,
                    base_url, stale_notice(ws, stale_after_days, today),
                    teams, frozenset() if teams is None else every_team - teams,
                    {str(p): str(n) for p, n in zip(people["person_id"], people["name"], strict=True)
                     if isinstance(n, str)}, comments)


def stale_notice(ws: Workspace, stale_after_days: int | None, today: date | None = None) -> str | None:
    """A sentence saying how old the data is when its newest import is more than `stale_after_days` days before
    `today` (default: today's UTC date); None when it is fresh enough or no limit is set."""
    if stale_after_days is None:
        return None
    day = today or datetime.now(UTC).date()
    rows = ws.warehouse.query("SELECT max(imported_at) FROM imports")
    newest = rows[0][0] if rows else None
    if newest is None or pd.isna(newest):
        return "No data has been imported yet: every figure below is empty."
    newest_day = pd.Timestamp(newest).date()
    age = (day - newest_day).days
    if age <= stale_after_days:
        return None
    return f"Data is {age} days old: the newest import was on {newest_day.isoformat()}."
