"""The one console all terminal output goes through (Rich), and the progress bars for long work."""

from __future__ import annotations

import csv
import io
import json
import math
import sys
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

console = Console(highlight=False)
errors = Console(stderr=True, highlight=False)


class RichProgress:
    """`cadence.progress.Progress` drawn as Rich bars on stderr (silent when stderr is not a terminal)."""

    def __init__(self) -> None:
        self._bar: Progress | None = None
        self._task: Any = None

    def start(self, description: str, total: int | None) -> None:
        self.finish()
        self._bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                             TimeElapsedColumn(), console=errors, transient=True)
        self._bar.start()
        self._task = self._bar.add_task(description, total=total)

    def advance(self, amount: int = 1) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, amount)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None


def _json_safe(value: Any) -> Any:
    """NaN and infinities become null: JSON has no such numbers, and a blank is what they mean here."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(item) for item in value]
    return value


def emit_json(data: Any) -> None:
    """Print only JSON on stdout (for `--format json`)."""
    sys.stdout.write(json.dumps(_json_safe(data), indent=2, default=str, allow_nan=False) + "\n")


def emit_csv(rows: list[dict[str, Any]]) -> None:
    buffer = io.StringIO()
    if rows:
        writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    sys.stdout.write(buffer.getvalue())


def rich_table(title: str | None, rows: list[dict[str, Any]], *, columns: list[str] | None = None) -> Table:
    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, title_justify="left", header_style="bold")
    for name in columns:
        numeric = bool(rows) and all(isinstance(r.get(name), (int, float)) for r in rows if r.get(name) is not None)
        table.add_column(name.replace("_", " "), justify="right" if numeric else "left")
    for row in rows:
        table.add_row(*[_cell(row.get(name)) for name in columns])
    return table


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
