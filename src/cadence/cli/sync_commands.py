"""`cadence sync`: the CRM read through its API and loaded like an import, nightly without anyone exporting.

`cadence sync salesforce` (or `hubspot`) reads what changed since the last successful sync; `--full` reads
everything; `cadence sync` alone syncs every CRM cadence.yml configures; `cadence sync --due` syncs those whose
`cron:` slot has passed (what system cron runs); `cadence sync log` lists the syncs. A failed sync exits 1.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.markup import escape

from cadence.cli.console import RichProgress, console, emit_json, errors, rich_table
from cadence.cli.main import UNCHANGED, FormatOption, Output, app, open_workspace
from cadence.cli.prepared import prepare_scorecard_for
from cadence.cli.render import Sheet, View, render, supports
from cadence.errors import CadenceError, InputError
from cadence.progress import Progress, Silent

LOG_COLUMNS = ["run_id", "source", "started_at", "finished_at", "status", "full", "read", "loaded", "quarantined",
               "deleted", "message"]
TARGETS = ("salesforce", "hubspot", "log")


@app.command()
@supports(Output.csv, Output.markdown)
def sync(
    target: Annotated[str | None, typer.Argument(
        help="salesforce or hubspot (default: every CRM in cadence.yml `sources:`), or `log` to list the syncs.")]
    = None,
    full: Annotated[bool, typer.Option("--full", help="Read every record, not only those changed since the last "
                                                      "sync; rows the CRM no longer has leave the warehouse.")]
    = False,
    due: Annotated[bool, typer.Option("--due", help="Sync the CRMs whose `cron:` slot has passed since their last "
                                                    "successful sync (for system cron).")] = False,
    limit: Annotated[int, typer.Option("--limit", help="With `log`: syncs to list, newest first.")] = 50,
    output: FormatOption = Output.table,
) -> None:
    """Sync Salesforce or HubSpot through its API: one transaction, incremental, reconciled like an import."""
    if target is not None and target not in TARGETS:
        raise InputError(f"unknown sync target {target!r}", hint="cadence sync salesforce | hubspot | log")
    if target == "log":
        with open_workspace() as ws:
            from cadence.sync.run import sync_log

            rows = sync_log(ws, limit=limit)
        render(View(rows, [Sheet(f"{len(rows)} syncs (newest first)", rows, LOG_COLUMNS)]), output)
        return
    if output in (Output.csv, Output.markdown):
        raise InputError(f"--format {output.value} is for `cadence sync log`", hint="use --format json or table")
    from cadence.sync import sync_due, sync_source

    results: list[dict[str, Any]] = []
    with open_workspace() as ws:
        if due:
            if target is not None or full:
                raise InputError("--due syncs what cron says is due: leave out the CRM and --full",
                                 hint="cadence sync --due")
            results = sync_due(ws, progress=_progress())
        else:
            names = [target] if target else ws.config.sources.configured()
            if not names:
                raise InputError("cadence.yml configures no CRM to sync",
                                 hint="add `sources: {salesforce: …}` or `{hubspot: …}` (docs/sync.md)")
            for name in names:
                try:
                    results.append(sync_source(ws, name, full=full, progress=_progress()).summary())
                except CadenceError as error:
                    if len(names) == 1:
                        raise
                    results.append({"source": name, "status": "failed", "message": error.one_line()})
        if any(r["status"] != "failed" for r in results):
            prepare_scorecard_for(ws, "the synced data")
    _print(results, output, due)
    if any(r["status"] == "failed" for r in results):
        raise typer.Exit(1)


def _progress() -> Progress:
    """Bars on a terminal; nothing when stderr is a pipe or a log (a bar each object would leave blank lines)."""
    return RichProgress() if errors.is_terminal else Silent()


def _print(results: list[dict[str, Any]], output: Output, due: bool) -> None:
    if output is Output.json:
        emit_json(results)
        return
    if not results:
        console.print("Nothing is due." if due else "Nothing was synced.")
        return
    for result in results:
        if result["status"] == "failed":
            errors.print(f"[bold red]{escape(str(result['source']))}: sync failed: {escape(str(result['message']))}[/]")
            continue
        kind = "full" if result["full"] else "incremental"
        console.print(rich_table(f"{result['source']} ({kind} sync {result['run_id']})", result["objects"],
                                 columns=["object", "read", "deleted"]))
        colour = "green" if result["quarantined"] == 0 else "yellow"
        console.print(f"[{colour}]read {result['read']:,} = loaded {result['loaded']:,} + quarantined "
                      f"{result['quarantined']:,}[/]" + ("  (see `cadence quarantine`)" if result["quarantined"]
                                                         else "")
                      + f"; deleted in {result['source']}: {result['deleted']:,}")
        if result.get("changed") is False:
            console.print(UNCHANGED)
        if result.get("message"):
            errors.print(f"[yellow]{escape(str(result['message']))}[/]")
