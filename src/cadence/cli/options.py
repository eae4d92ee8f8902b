"""Reading option values the same way in every command."""

from __future__ import annotations

from datetime import date

from cadence.errors import InputError


def parse_day(text: str | None, option: str) -> date | None:
    """`--as-of 2026-01-31` and the like: a date, None when the option was not given, else a one-line error."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(f"{option} {text!r} is not a date", hint="write it as YYYY-MM-DD") from None
