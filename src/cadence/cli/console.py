"""The one console all terminal output goes through (Rich), and the progress bars for long work."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import sys
from typing import Any

from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

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


NUMBER = re.compile(r"^[-+▲▼■]?\s?(?:[A-Z]{3}\s|[$€£])?[-+]?\d[\d,]*(?:\.\d+)?\s?(?:%|×|[kMB]|days)?"
                    r"(?:\s[A-Z]{3})?(?:\s\(\d[\d,]* of \d[\d,]*\))?$")


def rich_table(title: str | None, rows: list[dict[str, Any]], *, columns: list[str] | None = None) -> FitTable:
    """Rows as a table that never cuts a value: numbers right-aligned, text wrapped at spaces, and one
    block per row (a vertical layout) when even that does not fit the terminal."""
    columns = columns or (list(rows[0]) if rows else [])
    cells: list[list[str | Text]] = [[_cell(row.get(name)) for name in columns] for row in rows]
    return FitTable(title, [name.replace("_", " ") for name in columns], cells)


def looks_numeric(values: list[str]) -> bool:
    """A column of numbers (plain, %, ×, money, "(n of m)"): right-aligned and never wrapped."""
    shown = [v for v in values if v and v not in ("–", "—")]
    return bool(shown) and all(NUMBER.match(v) for v in shown)


class FitTable:
    """A table whose every value is shown whole: wrapped at spaces, else one block per row."""

    def __init__(self, title: str | None, headers: list[str], rows: list[list[str | Text]],
                 numeric: list[bool] | None = None) -> None:
        self.title, self.headers = title, headers
        self.rows = [[cell if isinstance(cell, Text) else Text(cell) for cell in row] for row in rows]
        self.numeric = numeric or [looks_numeric([r[i].plain for r in self.rows]) for i in range(len(headers))]

    def table(self) -> Table:
        table = Table(title=self.title, title_justify="left", header_style="bold")
        for header, number in zip(self.headers, self.numeric, strict=True):
            table.add_column(header, justify="right" if number else "left", no_wrap=number, overflow="fold")
        for row in self.rows:
            table.add_row(*row)
        return table

    def minimum_width(self) -> int:
        """The narrowest this table can be drawn without breaking a word or a number."""
        widths = [max([_longest_word(h), *(cell_len(r[i].plain) if n else _longest_word(r[i].plain)
                                           for r in self.rows)])
                  for i, (h, n) in enumerate(zip(self.headers, self.numeric, strict=True))]
        return sum(widths) + 3 * len(widths) + 1  # one space of padding each side, one border per column and edge

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if not self.headers or self.minimum_width() <= options.max_width:
            yield self.table()
            return
        yield from self._vertical()

    def _vertical(self) -> RenderResult:
        if self.title:
            yield Text(self.title, style="bold")
        label_width = max(cell_len(h) for h in self.headers)
        for row in self.rows:
            block = Table.grid(padding=(0, 2))
            block.add_column(style="bold", width=label_width, no_wrap=True)
            block.add_column(overflow="fold")
            for header, value in zip(self.headers, row, strict=True):
                block.add_row(header, value)
            yield block
            yield Text("")


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
