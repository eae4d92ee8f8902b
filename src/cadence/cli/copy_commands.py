"""`cadence copy --to DIR`: this workspace's warehouse copied into another workspace, on any engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from cadence.cli.console import errors
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.render import Sheet, View, render, supports


@app.command("copy")
@supports(Output.csv, Output.markdown)
def copy_command(
    to: Annotated[Path, typer.Option("--to", help="The workspace to copy into (made by `cadence init DIR "
                                     "--warehouse URL`: DuckDB, PostgreSQL, Spark or any Ibis engine).")],
    replace: Annotated[bool, typer.Option("--replace", help="Empty the target first if it already holds data.")]
    = False,
    output: FormatOption = Output.table,
) -> None:
    """Copy every table of this workspace's warehouse into another workspace, table by table in chunks, in one
    transaction on the target; prints each table's rows copied and rows then in the target."""
    from cadence.config import load_config
    from cadence.errors import WorkspaceError
    from cadence.store import connect
    from cadence.store.copy import copy_warehouse

    root = to.expanduser().resolve()
    if not root.is_dir():
        raise WorkspaceError(f"no workspace folder at {root}", hint="create it with `cadence init DIR --warehouse URL`")
    with open_workspace() as ws:
        if root == ws.root.resolve():
            raise WorkspaceError("--to names this workspace itself", hint="copy into another workspace folder")
        target = connect(load_config(root).warehouse, root)
        try:
            result = copy_warehouse(ws.warehouse, target, replace=replace)
        finally:
            target.close()
    data = {name: copied.as_dict() for name, copied in result.items()}
    rows = [{"table": name, **counts} for name, counts in data.items()]
    render(View(data, [Sheet(f"Copied into {target.location}", rows, ["table", "rows_copied", "rows_in_target"])]),
           output)
    short = [name for name, copied in result.items() if copied.rows_copied != copied.rows_in_target]
    if short:
        errors.print(f"[red]the target does not hold what was copied in {escape(', '.join(short))}[/]")
        raise typer.Exit(1)
