"""Commands beyond the workspace basics, registered on the one `app`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cadence.cli.console import RichProgress, console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of, as_of_line
from cadence.cli.render import Sheet, View, render, supports

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf


@app.command()
@supports(Output.csv, Output.markdown)
def check(
    output: FormatOption = Output.table,
    today: Annotated[str | None, typer.Option(
        help="Treat this date (YYYY-MM-DD) as today (default: the data's last day).")] = None,
) -> None:
    """Data quality: duplicates, stale and missing fields, outliers, sources that disagree."""
    from cadence.analysis.quality import check_data_quality

    with open_workspace() as ws:
        day = as_of(ws, today)
        findings = check_data_quality(ws, today=day.day)
    rows = [f.as_dict() for f in findings]
    sheet = Sheet("Data quality", [{**r, "examples": " ".join(r["examples"])} for r in rows], FINDING_COLUMNS)
    render(View({**day.as_dict(), "findings": rows}, [sheet], lambda: _show_findings(day, rows)), output)


FINDING_COLUMNS = ["severity", "check", "count", "message", "examples"]


def _show_findings(day: AsOf, rows: list[dict[str, Any]]) -> None:
    console.print(as_of_line(day))
    if not rows:
        console.print("[green]No data-quality findings.[/]")
        return
    console.print(rich_table("Data quality", [{**r, "examples": ", ".join(r["examples"][:3])} for r in rows],
                             columns=FINDING_COLUMNS))


@app.command()
def demo(
    directory: Annotated[Path, typer.Argument(help="Folder for the demo workspace.")] = Path("demo-company"),
    seed: Annotated[int, typer.Option(help="Random seed: the same seed makes the same company.")] = 7,
    output: FormatOption = Output.table,
) -> None:
    """Generate the demo company (three fiscal years, planted truths) and summarise it."""
    from cadence.analysis.overview import company_overview
    from cadence.cli.overview_view import render_overview
    from cadence.demo import build_demo

    ws = build_demo(directory, seed=seed, progress=RichProgress())
    with ws:
        overview = company_overview(ws)
    render(View(overview, show=lambda: console.print(render_overview(overview))), output)
