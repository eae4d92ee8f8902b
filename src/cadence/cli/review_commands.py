"""`cadence snapshot`, `cadence actions`, `cadence comment`: the weekly review from the terminal.

`cadence snapshot` computes a week's scorecard and keeps it as leadership sees it (`snapshot list` shows the
weeks kept); `cadence actions` lists the gap actions open in a week, `actions add` records one on a figure's
gap and `actions close` ends it; `cadence comment` adds to a figure's or an action's thread. Whoever runs
them is recorded as `cli:<OS user>`.
"""

from __future__ import annotations

import getpass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import parse_day
from cadence.cli.render import Sheet, View, render, supports

if TYPE_CHECKING:
    from cadence.review.changes import Changes
    from cadence.review.snapshots import Snapshot

snapshot_app = typer.Typer(help="Weekly scorecard snapshots: compute and keep a week's scorecard, or `list` them.")
actions_app = typer.Typer(help="The gap loop: actions on off-track figures and tempo gaps, until closed.")
app.add_typer(snapshot_app, name="snapshot")
app.add_typer(actions_app, name="actions")

WeekOption = Annotated[str | None, typer.Option("--week", help="ISO week, YYYY-Www (e.g. 2026-W47).")]
TOP_CHANGES = 5


def actor() -> str:
    """Who is running the command, as the warehouse records it."""
    return f"cli:{getpass.getuser()}"


def global_today() -> date | None:
    from cadence.cli.main import state

    return parse_day(state.today, "--today")


@snapshot_app.callback(invoke_without_command=True)
def snapshot(ctx: typer.Context, week: WeekOption = None, output: FormatOption = Output.table) -> None:
    """Compute a week's scorecard (default: the last complete week) and keep it as that week's snapshot."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.review.changes import what_changed
    from cadence.review.snapshots import get_snapshot, take_snapshot

    with open_workspace() as ws:
        taken = take_snapshot(ws, week, computed_by=actor(), today=global_today())
        changes = what_changed(taken, get_snapshot(ws, taken.week_start - timedelta(days=7), scope=taken.scope))
    summary = snapshot_summary(taken, changes)
    render(View(summary, show=lambda: _show_snapshot(summary)), output)


def snapshot_summary(taken: Snapshot, changes: Changes) -> dict[str, Any]:
    """What `cadence snapshot` reports: the week, its day, its figures and the top of what changed."""
    figures = taken.figures()
    return {"week": taken.week, "week_start": taken.week_start.isoformat(), "as_of": taken.as_of.isoformat(),
            "scope": taken.scope, "snapshot_id": taken.snapshot_id, "figures": len(figures),
            "off_track": sum(f.get("status") == "off_track" for f in figures),
            "definitions_version": taken.definitions_version, "definitions_changed": changes.definitions_changed,
            "changes": [c.as_dict() for c in changes.changes]}


def _show_snapshot(summary: dict[str, Any]) -> None:
    console.print(f"Kept the scorecard of {summary['week']} (data up to {summary['as_of']}): "
                  f"{summary['figures']} figures, {summary['off_track']} off track; "
                  f"definitions {summary['definitions_version']}")
    if summary["definitions_changed"]:
        console.print(Text("Figures are computed by changed definitions since last week's snapshot.",
                           style="bold yellow"))
    rows = [{"figure": c["label"], "team": c["team"] or "", "before": c["before"], "after": c["after"],
             "status": _status_move(c)} for c in summary["changes"][:TOP_CHANGES]]
    if rows:
        console.print(rich_table("What changed since last week", rows))


def _status_move(change: dict[str, Any]) -> str:
    before, after = change["status_before"], change["status_after"]
    return f"{before or '—'} → {after or '—'}" if before != after else (after or "")


@snapshot_app.command("list")
@supports(Output.csv, Output.markdown)
def snapshot_list(output: FormatOption = Output.table,
                  scope: Annotated[str | None, typer.Option(help="Only this scope, e.g. company.")] = None) -> None:
    """The snapshots kept, newest week first."""
    from cadence.review.snapshots import list_snapshots

    with open_workspace() as ws:
        rows = [s.as_dict() for s in list_snapshots(ws, scope)]
    render(View({"snapshots": rows}, [Sheet("Scorecard snapshots", rows, list(_SNAPSHOT_COLUMNS))]), output)


_SNAPSHOT_COLUMNS = ("week", "scope", "as_of", "computed_at", "computed_by", "definitions_version", "snapshot_id",
                     "week_start")


@actions_app.callback(invoke_without_command=True)
@supports(Output.csv, Output.markdown)
def actions(ctx: typer.Context, week: WeekOption = None, output: FormatOption = Output.table,
            every: Annotated[bool, typer.Option("--all", help="Every action ever recorded, open or done.")] = False
            ) -> None:
    """Gap actions open in a week (default: the current week), past-due ones first; `--all` for every one."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.review.actions import actions_for_week, all_actions
    from cadence.review.snapshots import parse_week, week_label

    day = parse_week(week) if week else (global_today() or date.today())
    with open_workspace() as ws:
        listed = all_actions(ws) if every else actions_for_week(ws, day, today=global_today())
    rows = [a.as_dict() for a in listed]
    title = "Every gap action" if every else f"Gap actions open in {week_label(day)}"
    data = {"week": None if every else week_label(day), "actions": rows}
    render(View(data, [Sheet(title, rows, list(_ACTION_COLUMNS))], lambda: _show_actions(title, rows)), output)


_ACTION_COLUMNS = ("review_id", "kind", "team", "metric", "period", "gap", "cause", "action", "owner_id", "due",
                   "status", "past_due", "recorded_by", "created_at", "closed_at", "target", "actual")


def _show_actions(title: str, rows: list[dict[str, Any]]) -> None:
    if not rows:
        console.print("No gap actions. Record one with `cadence actions add --team T --metric M --week W …`.")
        return
    shown = [{k: r[k] for k in ("review_id", "team", "metric", "period", "cause", "action", "owner_id", "due",
                                "status")} | {"past due": "PAST DUE" if r["past_due"] else ""} for r in rows]
    console.print(rich_table(title, shown))


@actions_app.command("add")
def actions_add(
    team: Annotated[str, typer.Option(help="Team whose figure is off track.")],
    metric: Annotated[str, typer.Option(help="The figure's metric (or tempo deliverable).")],
    week: Annotated[str, typer.Option(help="Week of the scorecard, YYYY-Www.")],
    cause: Annotated[str, typer.Option(help="resources, blocker, scope, skill, priority or other.")],
    action: Annotated[str, typer.Option(help="What we will do.")],
    owner: Annotated[str, typer.Option("--owner", help="Who owns the action (person or user id).")],
    due: Annotated[str, typer.Option(help="When it is due, YYYY-MM-DD (not before the week's start).")],
    gap: Annotated[str, typer.Option(help="The gap in words, e.g. 'bookings 18% under target'.")] = "",
    output: FormatOption = Output.table,
) -> None:
    """Record the action on a figure's gap: it comes back on every week's scorecard until closed."""
    from cadence.review.actions import open_action

    with open_workspace() as ws:
        made = open_action(ws, team=team, metric=metric, week=week, gap=gap, cause=cause, action=action,
                           owner_id=owner, due=due, recorded_by=actor())
    render(View(made, show=lambda: console.print(f"Recorded {made.review_id}: {made.team} · {made.metric} "
                                                 f"({made.period}) — {made.action}; due {made.due}")), output)


@actions_app.command("close")
def actions_close(review_id: Annotated[str, typer.Argument(help="The action's id (GA-… or GR-…).")],
                  output: FormatOption = Output.table) -> None:
    """Mark an action done."""
    from cadence.review.actions import close_action

    with open_workspace() as ws:
        closed = close_action(ws, review_id, closed_by=actor())
    render(View(closed, show=lambda: console.print(f"Closed {closed.review_id} ({closed.team} · {closed.metric}).")),
           output)


@app.command()
def comment(subject: Annotated[str, typer.Argument(help="kpi:TEAM/METRIC for a figure, action:ID for an action.")],
            text: Annotated[str, typer.Argument(help="The comment, as typed.")],
            week: WeekOption = None, output: FormatOption = Output.table) -> None:
    """Add a comment to a figure's or an action's thread."""
    from cadence.review.actions import add_comment
    from cadence.review.snapshots import parse_week

    team = subject[4:].split("/", 1)[0] or None if subject.startswith("kpi:") else None
    with open_workspace() as ws:
        made = add_comment(ws, subject=subject, body=text, author=actor(),
                           week_start=parse_week(week) if week else None, team=team)
    render(View(made, show=lambda: console.print(f"Commented on {made['subject']} as {made['author']}.")), output)


@app.command()
@supports(Output.csv, Output.markdown)
def comments(subject: Annotated[str, typer.Argument(help="kpi:TEAM/METRIC or action:ID.")],
             output: FormatOption = Output.table) -> None:
    """The comment thread on a figure or an action, oldest first."""
    from cadence.review.actions import comments_on

    with open_workspace() as ws:
        thread = comments_on(ws, subject)
    columns = list(thread[0]) if thread else ["comment_id", "subject", "week_start", "team", "author", "at", "body"]
    render(View({"subject": subject, "comments": thread}, [Sheet(f"Comments on {subject}", thread, columns)]), output)
