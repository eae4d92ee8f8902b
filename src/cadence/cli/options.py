"""Reading option values the same way in every command."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from rich.text import Text

from cadence.errors import InputError

if TYPE_CHECKING:
    from cadence.analysis.as_of import AsOf
    from cadence.metrics.relations import TableSource


def parse_day(text: str | None, option: str) -> date | None:
    """`--as-of 2026-01-31` and the like: a date, None when the option was not given, else a one-line error."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date", hint="write it as YYYY-MM-DD") from None


def as_of(tables: TableSource, today: str | None = None, option: str = "--today") -> AsOf:
    """The one "as of" of a command: its own `--today` (or `--as-of`), else the global `--today`, else the
    data's last day."""
    from cadence.analysis.as_of import AsOf, resolve_as_of
    from cadence.cli.main import state

    if today is not None:
        day = parse_day(today, option)
        assert day is not None
        return AsOf(day, option)
    return resolve_as_of(tables, parse_day(state.today, "--today"))


def as_of_line(value: AsOf) -> Text:
    """The line every command that depends on "now" prints first."""
    return Text(value.header(), style="dim")
