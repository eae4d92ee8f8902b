"""`cadence alignment`: the KPI tree checked against the data."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

import typer
from rich.text import Text

from cadence.cli.console import console, rich_table
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.options import as_of, as_of_line
from cadence.cli.render import Sheet, View, render, supports

VERDICT_STYLE = {"aligned": "bold green", "weak": "bold yellow", "not aligned": "bold red", "not enough data": "dim"}


class AlignmentGrain(StrEnum):
    month = "month"
    quarter = "quarter"


@app.command()
@supports(Output.csv, Output.markdown)
def alignment(
    grain: Annotated[AlignmentGrain | None, typer.Option(help="month or quarter (default: the mission's).")] = None,
    output: FormatOption = Output.table,
) -> None:
    """Does each team's KPI move the mission metric? Correlation of changes, best lead/lag, verdict."""
    from cadence.analysis.alignment import METHOD, PER_DAY, RULE, alignment_report
    from cadence.report.sections.alignment import alignment_row

    with open_workspace() as ws:
        day = as_of(ws)  # the complete periods before the one holding the day after it
        results = alignment_report(ws, grain.value if grain else None, as_of=day.next_day)  # type: ignore[arg-type]
        mission = ws.config.mission.metric if ws.config.mission else None
    data = {**day.as_dict(), "mission_metric": mission, "method": f"{METHOD}; {PER_DAY}", "rule": RULE,
            "kpis": [r.as_dict() for r in results]}
    rows = [{**alignment_row(r), "p": r.p_value, "reason": r.reason} for r in results]
    unit = results[0].grain if results else "period"
    title = f"Does each team's KPI move {mission}? (best lag in {unit}s; + means the KPI leads)"
    render(View(data, [Sheet(title, rows)], lambda: _show_alignment(title, rows, results, as_of_line(day))), output)


def _show_alignment(title: str, rows: list[dict[str, Any]], results: list[Any], header: Text) -> None:
    from cadence.analysis.alignment import METHOD, PER_DAY, RULE

    console.print(header)
    console.print(rich_table(title, rows, columns=["team", "kpi", "verdict", "r", "best_lag", "points", "p"]))
    for r in results:
        console.print(Text.assemble((f"{r.verdict:>15}", VERDICT_STYLE[r.verdict]), f"  {r.team} · {r.kpi}: ",
                                    r.reason))
    console.print(Text(f"Method: {METHOD}; {PER_DAY}.\nRule: {RULE}.", style="dim"))
