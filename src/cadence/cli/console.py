"""The one console all terminal output goes through (Rich), and the progress bars for long work."""

from __future__ import annotations

import json
import math
import re
import sys
from typing import Any

from rich import box
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
        if not errors.is_terminal:  # a pipe or a log: a bar there would only leave a blank line per step
            return
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

    def table(self, *, compact: bool = False, widths: list[int] | None = None) -> Table:
        """Bordered; `compact`: no borders, two spaces between columns (fits 2 more characters per column)."""
        table = Table(header_style="bold")  # the title is printed above it, so it never wraps to the table's width
        if compact:
            table.box, table.show_edge, table.padding = box.SIMPLE_HEAD, False, (0, 1, 0, 0)
        for i, (header, number) in enumerate(zip(self.headers, self.numeric, strict=True)):
            table.add_column(header, justify="right" if number else "left", overflow="fold",
                             width=widths[i] if widths else None)
        for row in self.rows:  # a number never wraps; its header may
            table.add_row(*(_unwrapped(c) if n else c for c, n in zip(row, self.numeric, strict=True)))
        return table

    def _widths(self, size: str) -> list[int]:
        """Per column: the narrowest it can be without breaking a word or a number ("min"), or its natural width."""
        def width(i: int, number: bool) -> int:
            cells = [r[i].plain for r in self.rows]
            header = cell_len(self.headers[i]) if size == "max" else _longest_word(self.headers[i])
            if size == "max" or number:
                return max([header, *(max(map(cell_len, c.splitlines()), default=0) for c in cells)])
            return max([header, *map(_longest_word, cells)])

        return [width(i, n) for i, n in enumerate(self.numeric)]

    def _overhead(self, compact: bool) -> int:
        n = len(self.headers)
        return 2 * n - 1 if compact else 3 * n + 1  # padding, separators and edges

    def minimum_width(self, *, compact: bool = False) -> int:
        """The narrowest this table can be drawn without breaking a word or a number."""
        return sum(self._widths("min")) + self._overhead(compact)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        if self.title and self.headers:
            yield Text(self.title, style="bold")
        if not self.headers:
            yield self.table()
            return
        for compact in (False, True):
            room = options.max_width - self._overhead(compact)
            low, high = self._widths("min"), self._widths("max")
            if sum(high) <= room:
                yield self.table(compact=compact)
                return
            if sum(low) <= room:
                yield self.table(compact=compact, widths=_share(room, low, high))
                return
        yield from self._vertical()

    def _vertical(self) -> RenderResult:
        label_width = max(cell_len(h) for h in self.headers)
        for row in self.rows:
            block = Table.grid(padding=(0, 2))
            block.add_column(style="bold", width=label_width, no_wrap=True)
            block.add_column(overflow="fold")
            for header, value in zip(self.headers, row, strict=True):
                block.add_row(header, value)
            yield block
            yield Text("")


def _share(room: int, low: list[int], high: list[int]) -> list[int]:
    """Column widths from their minimums, handing out the spare room one character at a time to the columns
    that would still wrap (rich alone would squeeze a column below its longest word)."""
    widths = list(low)
    spare = room - sum(widths)
    while spare > 0 and any(w < h for w, h in zip(widths, high, strict=True)):
        for i, h in enumerate(high):
            if spare and widths[i] < h:
                widths[i] += 1
                spare -= 1
    return widths


def _unwrapped(cell: Text) -> Text:
    cell = cell.copy()
    cell.no_wrap = True
    return cell


def _longest_word(text: str) -> int:
    return max((cell_len(word) for word in text.split()), default=0)


def rate_with_count(rate: float | None, hits: float, trials: float) -> str | None:
    """"100.0% (1 of 1)": a rate beside the counts it stands on, so one lucky deal reads as what it is."""
    if rate is None:
        return None
    return f"{rate:.1%} ({hits:,.0f} of {trials:,.0f})"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
