"""`cadence deliver …`: send the weekly scorecard on schedule, list the archive, show a message exactly as sent.

`cadence deliver --due` is what system cron or a Kubernetes CronJob runs (every few minutes is fine: a slot is
sent once, whoever runs first); `cadence deliver --schedule weekly --now` sends a schedule's latest slot on
demand. Both print one line per message and exit 1 when any message failed.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, emit_json, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import InputError

deliver_app = typer.Typer(help="Scheduled delivery of the weekly scorecard by email and Slack: send what is due, "
                               "list the archive, show a message exactly as sent.", invoke_without_command=True)
app.add_typer(deliver_app, name="deliver")

RUN_COLUMNS = ["schedule", "slot", "recipient", "channel", "status", "delivery_id", "error"]
LOG_COLUMNS = ["delivery_id", "schedule", "slot", "recipient", "channel", "address", "scope", "status", "attempts",
               "sent_at", "error"]
STATUS_STYLE = {"sent": "green", "failed": "bold red", "skipped": "yellow", "duplicate": "dim",
                "no_scorecard": "yellow"}


class Part(StrEnum):
    text = "text"
    html = "html"
    slack = "slack"


def _parse_now(text: str | None) -> Any:
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--at {text!r} is not a date and time", hint="write it as 2026-03-09T08:00:00-06:00 "
                         "(UTC when no offset is given)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@deliver_app.callback()
def deliver(
    ctx: typer.Context,
    due: Annotated[bool, typer.Option("--due", help="Send every schedule's due slot not sent yet (for cron).")]
    = False,
    schedule: Annotated[str | None, typer.Option("--schedule", help="The schedule to send (with --now).")] = None,
    now: Annotated[bool, typer.Option("--now", help="Send the schedule's latest slot now; a slot already sent "
                                                    "is not sent again.")] = False,
    at: Annotated[str | None, typer.Option("--at", help="Act as if it were this moment (ISO 8601; default: "
                                                        "now).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """Send what is due (--due), or one schedule now (--schedule NAME --now)."""
    if ctx.invoked_subcommand is not None:
        return
    from cadence.delivery.run import deliver_due, deliver_now

    if due == bool(schedule):
        raise InputError("say what to send: --due, or --schedule NAME --now",
                         hint="cadence deliver --due (for cron), cadence deliver --schedule weekly --now")
    if schedule and not now:
        raise InputError("--schedule sends only with --now", hint=f"cadence deliver --schedule {schedule} --now")
    moment = _parse_now(at)
    with open_workspace() as ws:
        results = deliver_due(ws, now=moment) if due else deliver_now(ws, str(schedule), now=moment)
    _print_run(results, output)
    if any(r["status"] == "failed" for r in results):
        raise typer.Exit(1)


def _print_run(results: list[dict[str, Any]], output: Output) -> None:
    if output is Output.json:
        emit_json(results)
        return
    if not results:
        console.print("Nothing is due.")
        return
    rows = [{c: r.get(c) for c in RUN_COLUMNS} for r in results]
    console.print(rich_table(f"{len(rows)} message{'' if len(rows) == 1 else 's'}", rows, columns=RUN_COLUMNS))
    counts: dict[str, int] = {}
    for r in results:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    console.print(Text(", ".join(f"{n} {status}" for status, n in sorted(counts.items())),
                       style=STATUS_STYLE.get("failed" if "failed" in counts else "sent", "")))


@deliver_app.command("log")
@supports(Output.csv, Output.markdown)
def log_(
    limit: Annotated[int, typer.Option("--limit", help="Messages to list, newest slot first.")] = 50,
    schedule: Annotated[str | None, typer.Option("--schedule", help="Only this schedule's messages.")] = None,
    recipient: Annotated[str | None, typer.Option("--recipient", help="Only this user's messages.")] = None,
    output: FormatOption = Output.table,
) -> None:
    """The archive: every message, its slot, recipient, scope, status and tries (bodies with `deliver show`)."""
    from cadence.delivery.archive import list_deliveries

    with open_workspace() as ws:
        rows = list_deliveries(ws, limit=limit, schedule=schedule, recipient=recipient)
    render(View(rows, [Sheet(f"{len(rows)} deliveries (newest first)", rows, LOG_COLUMNS)]), output)


@deliver_app.command()
def show(
    delivery_id: Annotated[str, typer.Argument(help="The delivery's id (from `cadence deliver log`).")],
    part: Annotated[Part, typer.Option("--part", help="text, html or slack: that body exactly as sent.")]
    = Part.text,
    output: FormatOption = Output.table,
) -> None:
    """One message exactly as sent: its plain-text part (default), HTML part, or Slack payload."""
    import sys

    from cadence.delivery.archive import get_delivery

    with open_workspace() as ws:
        found = get_delivery(ws, delivery_id)
    if output is Output.json:
        emit_json(found)
        return
    column = {"text": "body_text", "html": "body_html", "slack": "payload_json"}[part.value]
    body = found.get(column)
    if body is None:
        channel = found.get("channel")
        raise InputError(f"delivery {delivery_id} ({channel}, {found.get('status')}) has no {part.value} part",
                         hint="--part slack for a Slack message, text or html for an email")
    sys.stdout.write(str(body))
