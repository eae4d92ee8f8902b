"""One renderer: a command's result as a Rich view, JSON, CSV or Markdown — or one line saying it cannot.

A command declares beside itself which formats beyond table and JSON its result can take (`@supports(...)`);
the `--format` option checks that before the command runs, so a command that does not handle a format is
refused in one place, with one line and exit code 1, instead of printing a Rich table where CSV was asked.
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

import typer

from cadence.cli.console import console, emit_json, rich_table
from cadence.errors import CadenceError


class Output(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"
    markdown = "markdown"


ALWAYS = frozenset({Output.table, Output.json})
WHY_NOT = {Output.csv: "its result is not one table", Output.markdown: "its result has no table form",
           Output.table: "it has no terminal view", Output.json: "it has no JSON form"}
_COMMAND: ContextVar[str] = ContextVar("command", default="cadence")
Command = TypeVar("Command", bound=Callable[..., Any])


class FormatRefused(CadenceError):
    """A command asked for a format its result cannot take."""

    def __init__(self, command: str, output: Output) -> None:
        super().__init__(f"{command} cannot print {output.value}: {WHY_NOT[output]}", hint="use --format json")


def supports(*formats: Output) -> Callable[[Command], Command]:
    """`@supports(Output.csv, Output.markdown)` under `@app.command()`: the formats this command's result takes
    besides table and JSON (which every command with `--format` takes)."""
    def mark(command: Command) -> Command:
        command.cadence_formats = ALWAYS | frozenset(formats)  # type: ignore[attr-defined]
        return command

    return mark


def formats_of(command: Callable[..., Any] | None) -> frozenset[Output]:
    """The formats a command declared (table and JSON when it declared none)."""
    declared: frozenset[Output] = getattr(command, "cadence_formats", ALWAYS)
    return declared


def check_format(ctx: typer.Context, value: Output) -> Output:
    """The `--format` option's callback: remember the command's name, refuse what it did not declare."""
    path = ctx.command_path or "cadence"
    _COMMAND.set(path)
    if value not in formats_of(ctx.command.callback):
        raise FormatRefused(path, value)
    return value


@dataclass(frozen=True)
class Sheet:
    """One table of a result: its rows, and its columns (kept so an empty table still has a header)."""

    title: str | None
    rows: list[dict[str, Any]]
    columns: list[str] | None = None

    def header(self) -> list[str]:
        return list(self.columns or (self.rows[0] if self.rows else []))


@dataclass(frozen=True)
class View:
    """What a command shows: the JSON form, the tables CSV and Markdown print, and the terminal view."""

    data: Any
    sheets: Sequence[Sheet] = ()
    show: Callable[[], None] | None = None  # draws the terminal view; default: each sheet as a table
    markdown: str | None = None  # a document of its own (the schema, the metric catalogue)


def render(result: Any, output: Output) -> None:
    """Print `result` (a View, rows, or anything with `as_dict()`) in `output`, or refuse in one line."""
    view = as_view(result)
    if output is Output.json:
        emit_json(view.data.as_dict() if hasattr(view.data, "as_dict") else view.data)
    elif output is Output.csv:
        if len(view.sheets) != 1:
            raise FormatRefused(_COMMAND.get(), output)
        sys.stdout.write(csv_text(view.sheets[0]))
    elif output is Output.markdown:
        if view.markdown is None and not view.sheets:
            raise FormatRefused(_COMMAND.get(), output)
        sys.stdout.write(view.markdown if view.markdown is not None else markdown_text(view.sheets))
    elif view.show is not None:
        view.show()
    else:
        for sheet in view.sheets:
            console.print(rich_table(sheet.title, sheet.rows, columns=sheet.columns))


def as_view(result: Any) -> View:
    if isinstance(result, View):
        return result
    if isinstance(result, list):
        return View(result, [Sheet(None, result)])
    return View(result)


def csv_text(sheet: Sheet) -> str:
    """The sheet as CSV: a header row, then the rows; nothing at all when it has neither rows nor known columns."""
    if not sheet.header():
        return ""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=sheet.header(), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(sheet.rows)
    return buffer.getvalue()


def markdown_text(sheets: Sequence[Sheet]) -> str:
    """Each sheet under its title as a Markdown table; `|` inside a value escaped, line breaks as spaces."""
    parts = []
    for sheet in sheets:
        header = sheet.header()
        lines = [f"## {sheet.title}", ""] if sheet.title else []
        lines += ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
        lines += ["| " + " | ".join(_md_cell(row.get(c)) for c in header) + " |" for row in sheet.rows]
        parts.append("\n".join(lines) + "\n")
    return "\n".join(parts)


def _md_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        value = ", ".join(map(str, value))
    return str(value).replace("|", "\\|").replace("\n", " ")
