"""The scorecard in the terminal: one Rich table per section."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from cadence.report.format import format_change, format_value, status_label
from cadence.report.model import Scorecard, Section

STATUS_STYLE = {"on_track": "bold green", "at_risk": "bold yellow", "off_track": "bold red"}


def _figures(section: Section, currency: str) -> Table:
    table = Table(title=section.title, title_justify="left", header_style="bold", expand=False)
    for name, justify in (("team", "left"), ("measure", "left"), ("period", "left"), ("actual", "right"),
                          ("target", "right"), ("status", "left"), ("w/w", "right"), ("vs last period", "right")):
        table.add_column(name, justify=justify)  # type: ignore[arg-type]
    for f in section.figures:
        status = Text(status_label(f.status), style=STATUS_STYLE.get(f.status or "", ""))
        table.add_row(f.team or "", f.label, f.period or "", format_value(f.value, f.unit, currency),
                      format_value(f.target, f.unit, currency) if f.target is not None else "", status,
                      format_change(f.change_wow), format_change(f.change_period))
    return table


def _rows(section: Section) -> Table:
    table = Table(title=section.title, title_justify="left", header_style="bold")
    columns = list(section.rows[0]) if section.rows else []
    for name in columns:
        table.add_column(name.replace("_", " "))
    for row in section.rows:
        table.add_row(*["" if row[c] is None else str(row[c]) for c in columns])
    return table


def render_scorecard(card: Scorecard) -> RenderableType:
    parts: list[RenderableType] = []
    header = f"[bold]{card.company}[/] — weekly scorecard, week {card.context.week}"
    if card.mission:
        principles = "".join(f"\n  • {p}" for p in card.mission["principles"])
        header += f"\n[italic]{card.mission['statement']}[/]{principles}"
    parts.append(Panel(header))
    for section in card.sections:
        if section.figures:
            parts.append(_figures(section, card.currency))
        if section.rows:
            parts.append(_rows(section))
        for note in section.notes:
            parts.append(Text(note, style="dim"))
    return Group(*parts)
