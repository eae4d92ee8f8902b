"""`cadence tempo`: where each team stands against what good looks like, and the commands that feed it.

`cadence tempo` (or `tempo status`) shows the board; `tempo ship` logs a shipment, `tempo target set`
a new version of a target, `tempo review add` the weekly gap conversation and `tempo review done` its end.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import InputError

if TYPE_CHECKING:
    from cadence.analysis.tempo import TempoBoard

tempo_app = typer.Typer(help="Tempo: what good looks like for each team, tracked every period, with the gap review.")
target_app = typer.Typer(help="Tempo targets: list them, or set a new version with `set`.")
review_app = typer.Typer(help="Gap reviews: list them with whether the gap closed, `add` one, mark one `done`.")
app.add_typer(tempo_app, name="tempo")
tempo_app.add_typer(target_app, name="target")
tempo_app.add_typer(review_app, name="review")

STATUS_STYLE = {"met": "bold green", "on_pace": "green", "at_risk": "bold yellow", "missed": "bold red"}
AsOfOption = Annotated[str | None, typer.Option("--as-of", help="Show the board as it stood before this day "
                                                                 "(YYYY-MM-DD; default: after the last shipment).")]


class Per(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"


class Cause(StrEnum):
    resources = "resources"
    blocker = "blocker"
    scope = "scope"
    skill = "skill"
    priority = "priority"
    other = "other"


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{what}: not a date: {text!r}", hint="write it as YYYY-MM-DD, e.g. 2026-02-15") from None


def calendar_today() -> date:
    """The global --today, else today's date: tempo entries (a review, a target) are made now, on the calendar."""
    from cadence.cli.main import state

    return parse_day(state.today, "--today") if state.today is not None else date.today()


def parse_moment(text: str | None) -> datetime:
    """A shipment's time: a date (midnight UTC), a date and time, or now."""
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"--date: not a date: {text!r}", hint="write YYYY-MM-DD or YYYY-MM-DDTHH:MM") from None
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def load_board(as_of: str | None) -> TempoBoard:
    """The board as of --as-of, or of the last day of data with every review recorded up to now."""
    from cadence.analysis.tempo.as_of import board_on

    today = calendar_today()
    with open_workspace() as ws:
        return board_on(ws, ws.calendar, today, parse_day(as_of, "--as-of") if as_of else None)


def show_status(output: Output, as_of: str | None) -> None:
    from cadence.report.sections.tempo import tempo_row

    board = load_board(as_of)
    rows = [tempo_row(r) for r in board.rows]
    title = f"Tempo before {board.as_of}"
    render(View(board, [Sheet(title, rows)], lambda: _show_board(board, title, rows)), output)


def _show_board(board: TempoBoard, title: str, rows: list[dict[str, Any]]) -> None:
    from cadence.analysis.tempo import DIAGNOSIS_RULE, PACE_RULE
    from cadence.report.sections.tempo import past_due_line

    if not rows:
        console.print("No tempo targets yet: say what good looks like with "
                      "`cadence tempo target set TEAM KIND COUNT --per month`.")
        return
    console.print(rich_table(title, rows))
    _print_diagnoses(board)
    for review in board.past_due:
        console.print(Text(past_due_line(review), style="bold red"))
    console.print(Text(f"Pace: {PACE_RULE}.\nDiagnosis: {DIAGNOSIS_RULE}.", style="dim"))


def _print_diagnoses(board: TempoBoard) -> None:
    """Each missing track's verdict, why, and the evidence behind it."""
    for row in board.diagnosed():
        assert row.diagnosis is not None
        console.print(Text.assemble((f"{row.diagnosis.verdict}: ", STATUS_STYLE[row.current.status]),
                                    f"{row.track.team} · {row.track.label} ({row.current.label}) — ",
                                    row.diagnosis.reason))
        for line in row.diagnosis.evidence:
            console.print(f"    • {line}")


@tempo_app.callback(invoke_without_command=True)
@supports(Output.csv, Output.markdown)
def tempo(ctx: typer.Context, output: FormatOption = Output.table, as_of: AsOfOption = None) -> None:
    """Each team's current period against its target: pace, streak, and whether a miss is organisational."""
    if ctx.invoked_subcommand is None:
        show_status(output, as_of)


@tempo_app.command()
@supports(Output.csv, Output.markdown)
def status(output: FormatOption = Output.table, as_of: AsOfOption = None) -> None:
    """Each team's current period against its target (the same as `cadence tempo`)."""
    show_status(output, as_of)


@tempo_app.command()
def ship(
    team: Annotated[str, typer.Argument(help="Team, as cadence.yml or people spell it.")],
    kind: Annotated[str, typer.Argument(help="Deliverable the team has a target for (episode, launch, …).")],
    title: Annotated[str, typer.Argument(help="What shipped.")],
    when: Annotated[str | None, typer.Option("--date", help="When it shipped: YYYY-MM-DD[THH:MM] (default: now).")]
    = None,
    owner: Annotated[str | None, typer.Option(help="Who shipped it: person id or name.")] = None,
    size: Annotated[str | None, typer.Option(help="Size, when a target counts it apart (e.g. big).")] = None,
    link: Annotated[str | None, typer.Option(help="Where to see it.")] = None,
    unplanned: Annotated[bool, typer.Option("--unplanned", help="Unplanned work (an interrupt, a fix).")] = False,
) -> None:
    """Log a shipment by hand."""
    from cadence.entries import record_shipment

    with open_workspace() as ws:
        logged = record_shipment(ws, team, kind, title, shipped_at=parse_moment(when), owner=owner, size=size,
                                 link=link, unplanned=unplanned)
    console.print(f"Logged {logged.shipment_id}: {team} · {kind} — {title}")


@target_app.callback(invoke_without_command=True)
@supports(Output.csv, Output.markdown)
def targets(ctx: typer.Context, output: FormatOption = Output.table) -> None:
    """Every version of every tempo target, oldest first."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.analysis.tempo import load_tempo
    from cadence.analysis.tempo.versions import target_versions

    with open_workspace() as ws:
        versions = target_versions(load_tempo(ws))
    title = "Tempo targets (a version applies to periods starting on or after valid_from)"
    render(View(versions, [Sheet(title, versions.rows)]), output)


@target_app.command("set")
def target_set(
    team: Annotated[str, typer.Argument(help="Team.")],
    kind: Annotated[str, typer.Argument(help="Deliverable (episode, launch, qualified_demo, …).")],
    count: Annotated[int, typer.Argument(help="How many per period.", min=0)],
    per: Annotated[Per, typer.Option("--per", help="week, month or quarter.")],
    size: Annotated[str | None, typer.Option(help="Count only shipments of this size (e.g. big).")] = None,
    valid_from: Annotated[str | None, typer.Option("--from", help="First day it applies, YYYY-MM-DD "
                                                   "(default: the start of the current period).")] = None,
) -> None:
    """Set what good looks like from a date on; periods that began earlier keep their old target."""
    from cadence.entries import set_target

    start = parse_day(valid_from, "--from") if valid_from else None
    with open_workspace() as ws:
        done = set_target(ws, team, kind, count, per.value, valid_from=start, size=size, today=calendar_today())
    label = f"{size} {kind}" if size else kind
    console.print(f"{team}: {count} {label} a {per.value}, for periods starting on or after {done.valid_from}")


@review_app.callback(invoke_without_command=True)
@supports(Output.csv, Output.markdown)
def reviews(ctx: typer.Context, output: FormatOption = Output.table, as_of: AsOfOption = None,
            limit: Annotated[int, typer.Option(help="Reviews to show, newest first.")] = 20) -> None:
    """Gap reviews, newest first: the action, its owner and due date, and whether the gap closed since."""
    if ctx.invoked_subcommand is not None:
        return
    board = load_board(as_of)
    rows = [r.as_dict() for r in board.reviews[:limit]]
    title = f"Gap reviews before {board.as_of}"
    render(View({"reviews": [r.as_dict() for r in board.reviews]}, [Sheet(title, rows)],
                lambda: console.print(rich_table(title, [_review_line(r) for r in rows]))), output)


def _review_line(r: dict[str, Any]) -> dict[str, Any]:
    """One review as the table shows it: the gap as "actual of target", its state and whether it closed."""
    gap = f"{r['actual']:g} of {r['target']:g}" if r["target"] is not None and r["actual"] is not None else None
    closed = {True: f"yes ({r['checked_in']})", False: f"no ({r['checked_in']})", None: "not yet"}[r["gap_closed"]]
    return {"review": r["review_id"], "team": r["team"], "deliverable": r["metric"], "period": r["period"],
            "gap": gap, "cause": r["cause"], "action": r["action"], "owner": r["owner"] or r["owner_id"],
            "due": r["due"], "state": "done" if r["done"] else "PAST DUE" if r["past_due"] else "open",
            "closed since": closed}


@review_app.command("add")
def review_add(
    team: Annotated[str, typer.Argument(help="Team.")],
    kind: Annotated[str, typer.Argument(help="Deliverable reviewed.")],
    cause: Annotated[Cause, typer.Option(help="Why the gap: resources, blocker, scope, skill, priority, other.")],
    action: Annotated[str, typer.Option(help="What we will do about it.")],
    owner: Annotated[str, typer.Option(help="Who owns the action: person id or name.")],
    due: Annotated[str, typer.Option(help="When the action is due, YYYY-MM-DD.")],
    period: Annotated[str | None, typer.Option(help="Period reviewed, e.g. 2026-W04 or 2026-01 (default: the "
                                                    "latest one missed or at risk).")] = None,
    size: Annotated[str | None, typer.Option(help="The size of the target reviewed (e.g. big).")] = None,
) -> None:
    """Record the gap conversation: the gap (from the data), its cause, the action, its owner and due date."""
    from cadence.entries import record_review

    with open_workspace() as ws:
        recorded = record_review(ws, team, kind, cause=cause.value, action=action, owner=owner,
                                 due=parse_day(due, "--due"), period=period, size=size, today=calendar_today())
    console.print(f"Recorded gap review {recorded.review_id} for {team} · {kind}")


@review_app.command("done")
def review_done(review_id: Annotated[str, typer.Argument(help="The review whose action is done.")]) -> None:
    """Mark a review's action done; the next review shows whether it closed the gap."""
    from cadence.entries import close_review

    with open_workspace() as ws:
        close_review(ws, review_id)
    console.print(f"Marked {review_id} done")
