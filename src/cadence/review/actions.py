"""The gap loop: one list of actions — a team's tempo gap reviews and the actions on off-track KPIs — that
comes back on every week's scorecard until it is closed, flagged when past due; and the comment threads on a
figure or an action.

A KPI action is a hand entry like any other: one `gap_reviews` row (kind `kpi`) checked by the one entry
policy, refused in one line naming the field with nothing written, logged in `imports` as `review-action`.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.entries.policy import Entry, EntryRefused, entry_key, write_entry
from cadence.entries.tempo import CAUSES
from cadence.errors import UnknownNameError
from cadence.review.snapshots import parse_week, week_label
from cadence.schema.ddl import quote
from cadence.schema.tables import table_named

if TYPE_CHECKING:
    from cadence.workspace import Workspace

ACTION_FORMAT = "review-action"
FORMAT_OF_KIND = {"kpi": ACTION_FORMAT, "tempo": "tempo-review"}
COLUMNS = ("review_id", "kind", "team", "period", "metric", "target", "actual", "cause", "action", "owner_id",
           "due", "status", "gap", "recorded_by", "closed_at", "created_at")
MAX_COMMENT = 4000
WEEK_PERIOD = re.compile(r"^\d{4}-?W\d{1,2}$", re.IGNORECASE)


class ActionRefused(EntryRefused):
    """A gap action or comment refused before anything was written; `field` names the form field it is about."""

    def __init__(self, what: str, field: str, value: Any, reason: str):
        super().__init__(what, field, value, reason)
        self.field = field


@dataclass(frozen=True)
class Action:
    """One gap action as it stood in a week: open, or closed during that week; `past_due` when its due date
    fell before the week's end and it was not closed by then."""

    review_id: str
    kind: str
    team: str
    metric: str
    period: str
    gap: str | None
    cause: str | None
    action: str | None
    owner_id: str | None
    due: date | None
    status: str
    recorded_by: str | None
    created_at: datetime
    closed_at: datetime | None
    past_due: bool = False
    target: float | None = None
    actual: float | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"review_id": self.review_id, "kind": self.kind, "team": self.team, "metric": self.metric,
                "period": self.period, "gap": self.gap, "cause": self.cause, "action": self.action,
                "owner_id": self.owner_id, "due": self.due.isoformat() if self.due else None,
                "status": self.status, "recorded_by": self.recorded_by, "created_at": self.created_at.isoformat(),
                "closed_at": self.closed_at.isoformat() if self.closed_at else None, "past_due": self.past_due,
                "target": self.target, "actual": self.actual}


def open_action(ws: Workspace, *, team: str, metric: str, week: str, gap: str, cause: str, action: str,
                owner_id: str, due: date | str, recorded_by: str, target: float | None = None,
                actual: float | None = None, at: datetime | None = None) -> Action:
    """Record the action on a figure's gap in `week` (at `at`, default now, naive UTC); a bad field is refused
    by name and nothing is written."""
    what = "gap action"
    for name, value in (("team", team), ("metric", metric), ("action", action), ("owner_id", owner_id)):
        if not (value or "").strip():
            raise ActionRefused(what, name, None, "is required")
    try:
        week_start = parse_week(week)
    except ValueError:
        raise ActionRefused(what, "week", week, "is not an ISO week (write YYYY-Www, e.g. 2026-W47)") from None
    due_day = _due_day(what, due)
    if due_day < week_start:
        raise ActionRefused(what, "due", due_day.isoformat(), f"is before the week's start ({week_start})")
    if cause not in CAUSES:
        raise ActionRefused(what, "cause", cause, f"must be one of {', '.join(CAUSES)}")
    now = at or _now()
    period = week_label(week_start)
    review_id = f"GA-{entry_key(team.strip(), metric.strip(), period, action.strip(), owner_id.strip())}"
    row = {"review_id": review_id, "kind": "kpi", "team": team.strip(), "period": period, "metric": metric.strip(),
           "target": target, "actual": actual, "cause": cause, "action": action.strip(),
           "owner_id": owner_id.strip(), "due": due_day.isoformat(), "status": "open",
           "gap": gap.strip() or None, "recorded_by": recorded_by, "closed_at": None, "created_at": now.isoformat()}
    write_entry(ws, Entry(what, "gap_reviews", row, ACTION_FORMAT, review_id))
    return _action(_read(ws, "WHERE review_id = $1", (review_id,))[0], week_start)


def close_action(ws: Workspace, review_id: str, *, closed_by: str, at: datetime | None = None) -> Action:
    """Mark an action (a KPI action or a tempo gap review) done at `at` (default now, naive UTC); who closed it
    (`closed_by`) is for the caller's audit log, as the table keeps who recorded it only."""
    found = _read(ws, "WHERE review_id = $1", (review_id,))
    if not found:
        known = [r[0] for r in ws.warehouse.query("SELECT review_id FROM gap_reviews")]
        raise UnknownNameError("gap action", review_id, known)
    row = found[0]
    if row["status"] != "done" or row["closed_at"] is None:
        row.update(status="done", closed_at=at or _now())
        kind = row["kind"] or "tempo"
        entry = {k: _text(v) for k, v in row.items()}
        entry["kind"] = kind
        write_entry(ws, Entry("gap action", "gap_reviews", entry, FORMAT_OF_KIND.get(kind, ACTION_FORMAT),
                              review_id))
        row = _read(ws, "WHERE review_id = $1", (review_id,))[0]
    closed_at = row["closed_at"]
    return _action(row, closed_at.date() - timedelta(days=closed_at.weekday()))


def actions_for_week(ws: Workspace, week_start: date, *, teams: set[str] | None = None,
                     today: date | None = None) -> list[Action]:
    """Every action recorded on the scorecard of that week (of `week_start`) or an earlier one and not closed
    before the week began: open ones, and those closed during or after it, shown as they stood then. Past-due
    ones first. `teams`: None is all.

    An action belongs to the week of its period (a KPI action to the scorecard's week it was recorded on, a
    weekly tempo review to the week reviewed), else to the week it was recorded in. It is past due when its due
    day passed before the week ended and it was still open then; in the week still under way (`today`, default
    the real date, is in it) only a due day before `today` has passed.
    """
    monday = week_start - timedelta(days=week_start.weekday())
    end = monday + timedelta(days=7)
    rows = _read(ws, "WHERE (closed_at IS NULL OR closed_at >= $1) "
                     "AND (status IS NULL OR status = 'open' OR closed_at IS NOT NULL)",
                 (datetime.combine(monday, datetime.min.time()),))
    day = today or _now().date()
    listed = [_action(r, monday, day) for r in rows
              if _recorded_week(r) < end and (teams is None or r["team"] in teams)]
    return sorted(listed, key=lambda a: (not a.past_due, a.status != "open", a.due or date.max, a.team, a.metric))


def _recorded_week(row: dict[str, Any]) -> date:
    """The Monday of the week an action belongs to: its period's, when the period is an ISO week."""
    period = str(row["period"] or "")
    if WEEK_PERIOD.match(period):
        return parse_week(period)
    return _monday(row["created_at"])


def add_comment(ws: Workspace, *, subject: str, body: str, author: str, week_start: date | None,
                team: str | None) -> dict[str, Any]:
    """Add a comment to a figure's (kpi:TEAM/METRIC) or an action's (action:ID) thread; stored as typed."""
    text = (body or "").strip()
    if not text:
        raise ActionRefused("comment", "body", None, "is empty")
    if len(text) > MAX_COMMENT:
        raise ActionRefused("comment", "body", None, f"is {len(text)} characters; at most {MAX_COMMENT}")
    if not (subject or "").strip():
        raise ActionRefused("comment", "subject", None, "is required")
    row = {"comment_id": uuid.uuid4().hex[:16], "subject": subject.strip(),
           "week_start": None if week_start is None else week_start - timedelta(days=week_start.weekday()),
           "team": team, "author": author, "at": _now(), "body": text}
    with ws.warehouse.transaction():
        ws.warehouse.upsert(table_named("comments"), pd.DataFrame([row]))
    return _comment_dict(row)


def comments_on(ws: Workspace, subject: str) -> list[dict[str, Any]]:
    """The thread on `subject`, oldest first."""
    names = ("comment_id", "subject", "week_start", "team", "author", "at", "body")
    rows = ws.warehouse.query(f"SELECT {', '.join(quote(n) for n in names)} FROM comments WHERE subject = $1 "
                              f"ORDER BY {quote('at')}, comment_id", (subject,))
    return [_comment_dict(dict(zip(names, r, strict=True))) for r in rows]


def _comment_dict(row: dict[str, Any]) -> dict[str, Any]:
    week_start = row["week_start"]
    return {**row, "week_start": None if week_start is None or pd.isna(week_start) else _day(week_start),
            "at": pd.Timestamp(row["at"]).to_pydatetime()}


def _read(ws: Workspace, where: str, params: tuple[Any, ...]) -> list[dict[str, Any]]:
    rows = ws.warehouse.query(f"SELECT {', '.join(COLUMNS)} FROM gap_reviews {where}", params)
    found = [dict(zip(COLUMNS, r, strict=True)) for r in rows]
    for row in found:
        for name in ("created_at", "closed_at"):
            row[name] = None if row[name] is None else pd.Timestamp(row[name]).to_pydatetime()
        row["due"] = None if row["due"] is None else _day(row["due"])
    return found


def _action(row: dict[str, Any], monday: date, today: date | None = None) -> Action:
    end = datetime.combine(monday + timedelta(days=7), datetime.min.time())
    cutoff = end.date() if today is None else min(end.date(), today)
    closed_at = row["closed_at"]
    closed_by_end = closed_at is not None and closed_at < end
    due = row["due"]
    return Action(row["review_id"], row["kind"] or "tempo", row["team"], row["metric"], row["period"], row["gap"],
                  row["cause"], row["action"], row["owner_id"], due, "done" if closed_by_end else "open",
                  row["recorded_by"], row["created_at"], closed_at if closed_by_end else None,
                  due is not None and due < cutoff and not closed_by_end,
                  _float(row["target"]), _float(row["actual"]))


def _due_day(what: str, due: date | str) -> date:
    if isinstance(due, date):
        return due
    try:
        return date.fromisoformat((due or "").strip())
    except ValueError:
        raise ActionRefused(what, "due", due or None, "is not a date (write YYYY-MM-DD)") from None


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _text(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _float(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _day(value: Any) -> date:
    return value if isinstance(value, date) and not isinstance(value, datetime) else pd.Timestamp(value).date()


def all_actions(ws: Workspace, *, teams: set[str] | None = None) -> list[Action]:
    """Every action ever recorded, open or done, newest first, as it stands now."""
    listed = [_action(r, _monday(r["closed_at"] or _now())) for r in _read(ws, "", ())
              if teams is None or r["team"] in teams]
    return sorted(listed, key=lambda a: a.created_at, reverse=True)


def _monday(moment: datetime) -> date:
    return moment.date() - timedelta(days=moment.weekday())
