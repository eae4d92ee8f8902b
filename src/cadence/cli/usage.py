"""Mistakes on the command line itself (a mistyped command, a missing argument): one line and the usage.

typer 0.29 vendors click as `typer._click`, whose exceptions all derive from `typer.TyperException`;
nothing here imports `click`, which a plain `pip install cadence` does not bring.
"""

from __future__ import annotations

from typing import Any

import typer
from rich.markup import escape

from cadence.cli.console import errors


def show_usage_error(exc: typer.TyperException) -> int:
    """Print `exc` for a person (help when they asked for nothing, else one line plus the usage); its exit code."""
    ctx: Any = getattr(exc, "ctx", None)
    if type(exc).__name__ == "NoArgsIsHelpError" and ctx is not None:
        errors.print(ctx.get_help(), markup=False, highlight=False)
        return 0
    errors.print(f"[red]error:[/] {escape(_first_line(exc.format_message()))}", soft_wrap=True)
    if ctx is not None:
        errors.print(ctx.get_usage(), markup=False, highlight=False, soft_wrap=True)
    command = ctx.command_path if ctx is not None else "cadence"
    errors.print(f"Run `{command} --help` for the commands and options.", markup=False, highlight=False)
    return int(getattr(exc, "exit_code", 2))


def _first_line(message: str) -> str:
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    return " ".join(lines) if lines else "not a valid command line"
