"""One error root for everything Cadence raises on purpose.

The CLI turns a `CadenceError` into one red line and exit code 1; anything else is a bug
and keeps its traceback. Errors about what a user gave us also subclass `ValueError`.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """Where a problem sits: a file, and optionally the line and column (or config key) in it."""

    file: str | None = None
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts = [self.file or ""]
        if self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(p for p in parts if p)


class CadenceError(Exception):
    """Base of every error Cadence raises deliberately."""

    def __init__(self, message: str, *, location: Location | None = None, hint: str | None = None):
        self.message = message
        self.location = location
        self.hint = hint
        super().__init__(self.one_line())

    def one_line(self) -> str:
        where = f"{self.location}: " if self.location and str(self.location) else ""
        hint = f" — {self.hint}" if self.hint else ""
        return f"{where}{self.message}{hint}"


class ConfigError(CadenceError, ValueError):
    """cadence.yml (or an override) is not valid."""


class InputError(CadenceError, ValueError):
    """A file given to Cadence cannot be read as what it claims to be."""


class WorkspaceError(CadenceError):
    """The workspace is missing, locked, or was made by a newer Cadence."""


class WarehouseError(CadenceError):
    """The warehouse cannot be reached or refused a statement."""


class MissingDataError(CadenceError, ValueError):
    """An analysis needs rows the workspace does not have; the message names the analysis and the table.

    Each area may subclass it (ForecastDataError, …); the scorecard leaves out a section that raises it.
    """


class UnknownNameError(CadenceError, ValueError):
    """A name (table, metric, format, team…) that Cadence does not know; suggests the closest."""

    def __init__(self, kind: str, name: str, known: list[str] | tuple[str, ...], *,
                 location: Location | None = None):
        import difflib

        close = difflib.get_close_matches(name, list(known), n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(sorted(known))}"
        super().__init__(f"unknown {kind} {name!r}", location=location, hint=hint)
        self.name = name


class AccessDenied(CadenceError):
    """The person asking may not see these rows or this page (the web answers 403). Deny by default."""
