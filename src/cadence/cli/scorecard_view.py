"""The scorecard in the terminal: one Rich table per section."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.panel import Panel
from rich.text import Text

from cadence.cli.console import FitTable
from cadence.report.format import format_change, format_value, status_label
from cadence.report.model import Scorecard, Section

STATUS_STYLE = {"on_track": "bold green", "at_risk": "bold yellow", "off_track": "bold red"}


def _figures(section: Section, currency: str) -> FitTable:
    headers = ["team", "measure", "period", "actual", "target", "status", "w/w", "vs last period"]
    rows: list[list[str | Text]] = []
    for f in section.figures:
        status = Text(status_label(f.status), style=STATUS_STYLE.get(f.status or "", ""))
        rows.append([f.team or "", f.label, f.period or "", format_value(f.value, f.unit, currency),
                     format_value(f.target, f.unit, currency) if f.target is not None else "", status,
                     format_change(f.change_wow), format_change(f.change_period)])
    numeric = [False, False, False, True, True, False, True, True]
    shown = [i for i in range(len(headers))  # a column empty on every row says nothing: left out
             if i in (1, 3) or any(_plain(row[i]) not in ("", "–") for row in rows)]
    return FitTable(section.title, [headers[i] for i in shown], [[row[i] for i in shown] for row in rows],
                    numeric=[numeric[i] for i in shown])


def _plain(cell: str | Text) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def _rows(section: Section) -> FitTable:
    columns = list(section.rows[0]) if section.rows else []
    return FitTable(section.title, [name.replace("_", " ") for name in columns],
                    [[_text(row[c]) for c in columns] for row in section.rows])


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def render_scorecard(card: Scorecard) -> RenderableType:
    parts: list[RenderableType] = []
    header = f"[bold]{card.company}[/] — weekly scorecard, week {card.context.week}"
    if card.context.today is not None:
        header += f", {card.context.today.header()}"
    if card.mission:
        principles = "".join(f"\n  • {p}" for p in card.mission["principles"])
        header += f"\n[italic]{card.mission['statement']}[/]{principles}"
    parts.append(Panel(header))
    for section in card.sections:
        if not section.figures and not section.rows:  # a section refused or empty still says what it is
            parts.append(Text(section.title, style="bold"))
        if section.figures:
            parts.append(_figures(section, card.currency))
        if section.rows:
            parts.append(_rows(section))
        for note in section.notes:
            parts.append(Text(note, style="dim"))
    return Group(*parts)
