"""`cadence audit`: the audit log, newest first — sign-ins and failures, user and role changes, revoked sessions,
exports and views of hiring pages — filtered by day, actor and action."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import typer

from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import parse_day
from cadence.cli.render import Sheet, View, render, supports

COLUMNS = ["at", "actor", "action", "target", "address", "before", "after"]


@app.command()
@supports(Output.csv, Output.markdown)
def audit(
    since: Annotated[str | None, typer.Option("--since", help="From this day on (YYYY-MM-DD, UTC).")] = None,
    actor: Annotated[str | None, typer.Option("--actor", help="Only what this user (or cli:NAME) did.")] = None,
    action: Annotated[str | None, typer.Option(
        "--action", help="Only this action: sign_in, sign_in_failed, role_change, session_revoked, …")] = None,
    limit: Annotated[int | None, typer.Option("--limit", min=1, help="At most this many events.")] = None,
    output: FormatOption = Output.table,
) -> None:
    """The audit log, newest first."""
    from cadence.accounts.audit import read_audit

    day = parse_day(since, "--since")
    start = datetime(day.year, day.month, day.day) if day else None
    with open_workspace() as ws:
        events = read_audit(ws, since=start, actor=actor, action=action, limit=limit)
    rows = [{**event, "before": event["before_json"], "after": event["after_json"]} for event in events]
    decoded = [{k: v for k, v in event.items() if k not in ("before_json", "after_json")} for event in events]
    render(View(decoded, [Sheet(f"{len(rows)} audit events", rows, COLUMNS)]), output)
