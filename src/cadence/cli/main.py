"""`cadence …`: parse, call one method of the core, render. Nothing else lives here."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from cadence.cli.console import RichProgress, console, emit_json, errors, rich_table
from cadence.cli.render import Output, Sheet, View, check_format, render, supports
from cadence.errors import CadenceError

if TYPE_CHECKING:
    from cadence.workspace import Workspace

app = typer.Typer(
    name="cadence",
    help="Revenue operations for B2B software: one source of truth, one definition per metric, one weekly scorecard.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class State:
    workspace: Path = Path(".")
    debug: bool = False
    today: str | None = None  # --today, read when a command needs "now" (see cli/options.py as_of)


state = State()

WorkspaceOption = Annotated[
    Path | None,
    typer.Option("--workspace", "-w", envvar="CADENCE_WORKSPACE", help="Workspace folder (default: current folder)."),
]
FormatOption = Annotated[Output, typer.Option(
    "--format", callback=check_format,
    help="table (default), json, csv or markdown; a format the command's result cannot take is refused.")]


@app.callback()
def main(
    workspace: WorkspaceOption = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks for errors.")] = False,
    today: Annotated[str | None, typer.Option(
        "--today", help="Treat this day (YYYY-MM-DD) as today in every command (default: the data's last day).")]
    = None,
) -> None:
    state.workspace = workspace or Path(".")
    state.debug = debug
    state.today = today


def open_workspace() -> Workspace:
    from cadence.workspace import open_workspace as _open

    ws = _open(state.workspace)
    if ws.migrated_through:
        errors.print(f"[yellow]Migrated the warehouse to schema {ws.migrated_through[-1]}.[/]")
    return ws


@app.command()
def init(
    directory: Annotated[Path, typer.Argument(help="Folder to create the workspace in.")],
    company: Annotated[str, typer.Option(help="Company name.")] = "My Company",
    warehouse: Annotated[str | None, typer.Option(help="Where the data lives: a DuckDB file (default), "
                                                  "postgresql://…, spark://local, spark://HOST:PORT, sc://HOST:PORT, "
                                                  "or any Ibis URL (snowflake://, bigquery://, trino://, …).")] = None,
    force: Annotated[bool, typer.Option(help="Overwrite an existing cadence.yml.")] = False,
) -> None:
    """Create a workspace: a commented cadence.yml and an empty warehouse."""
    from cadence.workspace import init_workspace

    root = init_workspace(directory, company=company, warehouse=warehouse, force=force)
    console.print(f"Created workspace [bold]{root}[/] — edit {root / 'cadence.yml'}, then `cadence ingest`.")


@app.command()
@supports(Output.csv, Output.markdown)
def schema(output: FormatOption = Output.table) -> None:
    """Print the canonical schema: every table, column, type and check."""
    from cadence.schema import SCHEMA_VERSION, TABLES
    from cadence.schema.reference import _checks, schema_markdown
    from cadence.schema.tables import SYSTEM_TABLES

    data = {"version": SCHEMA_VERSION, "tables": [
        {"name": t.name, "description": t.description, "key": list(t.key), "columns": [
            {"name": c.name, "type": c.type.value, "required": c.required, "allowed": c.allowed,
             "minimum": c.minimum, "maximum": c.maximum, "description": c.description} for c in t.columns]}
        for t in TABLES + SYSTEM_TABLES]}
    if output is Output.csv:  # one table: every column of every table
        render(View(data, [Sheet(None, [{"table": t.name, "column": c.name, "type": c.type.value,
                                         "checks": _checks(c, t), "meaning": c.description}
                                        for t in TABLES + SYSTEM_TABLES for c in t.columns])]), output)
        return
    sheets = [Sheet(f"{t.name} — {t.description}", [{"column": c.name, "type": c.type.value,
                                                     "checks": _checks(c, t), "meaning": c.description}
                                                    for c in t.columns]) for t in TABLES + SYSTEM_TABLES]
    render(View(data, sheets, markdown=schema_markdown(SCHEMA_VERSION) + "\n"), output)


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="Export file or folder to import.")],
    from_: Annotated[str, typer.Option("--from", help="Import format (`cadence formats` lists them).")],
    mapping: Annotated[Path | None, typer.Option(help="Mapping file (csv/xlsx/parquet formats).")] = None,
    encoding: Annotated[str | None, typer.Option(
        help="Text encoding of CSV files (detected when left out: UTF-8 with or without BOM, UTF-16, cp1252).")] = None,
    full: Annotated[bool, typer.Option(
        "--full", help="The export is the whole table: records it no longer holds are marked deleted.")] = False,
    prepare: Annotated[bool, typer.Option(
        "--prepare/--no-prepare", help="Then compute and keep this week's scorecard for the new data, so its first "
        "reader does not wait (--no-prepare for all but the last of several imports in a row).")] = True,
    output: FormatOption = Output.table,
) -> None:
    """Import an export into the warehouse: one transaction, idempotent, reconciled."""
    from cadence.cli.prepared import prepare_scorecard_for

    with open_workspace() as ws:
        prepared = ws.ingest(path, from_, mapping=mapping, encoding=encoding, full=full, progress=RichProgress())
        ws.keep_figures_ready(RichProgress())  # the first scorecard after the import need not build them
        summary = prepared.summary()
        summary["notes"] = _calendar_notes(ws, summary)
        if prepare:  # the first reader after the import reads it back (docs/scale.md)
            prepare_scorecard_for(ws, "the imported data")
    for file, reason in prepared.skipped:
        errors.print(f"[yellow]skipped {escape(str(file))}: {escape(reason)}[/]")
    if output is Output.json:
        emit_json(summary)
        return
    console.print(rich_table(None, [{"table": k, **v} for k, v in summary["tables"].items()]))
    console.print(rich_table(f"Files read from {path}", [
        {"file": Path(item["path"]).name, "encoding": item.get("encoding") or "", "read": item["read"],
         "loaded": item["loaded"], "quarantined": item["quarantined"]} for item in summary["files"]]))
    colour = "green" if summary["quarantined"] == 0 else "yellow"
    console.print(f"[{colour}]read {summary['read']:,} = loaded {summary['loaded']:,} + quarantined "
                  f"{summary['quarantined']:,}[/]"
                  + ("  (see `cadence quarantine`)" if summary["quarantined"] else ""))
    if summary.get("changed") is False:
        console.print(UNCHANGED)
    _say_inferred_and_full(summary)
    for note in summary["notes"]:
        errors.print(f"[yellow]{escape(note)}[/]")


UNCHANGED = ("no row changed: the warehouse already held every loaded row as it is, so what was computed for "
             "these rows, this week's scorecard among them, is still current")


def _calendar_notes(ws: Workspace, summary: dict[str, Any]) -> list[str]:
    """When the import brought a fiscal calendar that cadence.yml disagrees with, say so now, not only in check."""
    if not summary["tables"].get("fiscal_periods", {}).get("loaded"):
        return []
    from cadence.analysis.quality.fiscal_calendar import fiscal_start_disagrees

    return [finding.message for finding in fiscal_start_disagrees(ws.calendar, ws.config.fiscal_year_start_month)]


def _say_inferred_and_full(summary: dict[str, Any]) -> None:
    """What the import inferred about stages (written to cadence.yml) and what a full export changed."""
    if summary.get("inferred"):
        console.print(rich_table("Stages inferred (written to cadence.yml `pipelines:` — correct them there)",
                                 summary["inferred"], columns=["pipeline", "position", "stage", "outcome", "why"]))
    full = summary.get("full")
    if full:
        for export in full["exports"]:
            console.print(f"  {export['path']}: taken {export['date']} (from {export['dated_by']})")
        console.print(f"full export: deals no longer in it marked deleted (kept, never counted): {full['deleted']:,}; "
                      f"back again: {full['undeleted']:,}; history rows added: {full['history_rows']:,} changes since "
                      f"the last export, {full['first_states']:,} for deals seen the first time")


@app.command()
@supports(Output.csv, Output.markdown)
def formats(output: FormatOption = Output.table) -> None:
    """The import formats `cadence ingest --from` knows."""
    from cadence.ingest.registry import FORMATS

    rows = [{"format": name, "reads": description} for name, (_, _, description) in FORMATS.items()]
    render(View({"formats": rows}, [Sheet("Import formats", rows)]), output)


@app.command()
@supports(Output.csv, Output.markdown)
def quarantine(
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    output: FormatOption = Output.table,
) -> None:
    """Show quarantined rows: file, line, column, value and why each was refused."""
    with open_workspace() as ws:
        table = ws.warehouse.table("quarantine")
        frame = table.order_by(["file", "line"]).limit(limit).to_pandas()
        total = ws.warehouse.count("quarantine")
    rows = frame.drop(columns=["row_json", "import_key"]).to_dict("records")
    columns = ["file", "line", "target_table", "column_name", "value", "reason"]
    render(View({"total": total, "rows": rows}, [Sheet(f"{total:,} quarantined problems", rows, columns)]), output)


def register_commands() -> None:
    """Import every `cadence.cli.*_commands` module and `commands`: each registers its commands on `app`."""
    import importlib
    import pkgutil

    import cadence.cli as package

    for module in pkgutil.iter_modules(package.__path__):
        if module.name == "commands" or module.name.endswith("_commands"):
            importlib.import_module(f"cadence.cli.{module.name}")


def run() -> None:
    """Entry point: a CadenceError is one red line and exit code 1; a usage error one line, the usage, exit 2."""
    register_commands()

    try:
        app(standalone_mode=False, prog_name="cadence")
    except CadenceError as exc:
        if state.debug or os.environ.get("CADENCE_DEBUG"):
            raise
        errors.print(f"[red]error:[/] {escape(exc.one_line())}", soft_wrap=True)
        sys.exit(1)
    except (typer.Abort, KeyboardInterrupt):
        errors.print("[red]aborted[/]")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # typer vendors click: its usage errors derive from TyperException
        from cadence.cli.usage import show_usage_error

        sys.exit(show_usage_error(exc))
