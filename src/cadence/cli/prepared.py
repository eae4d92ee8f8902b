"""This week's scorecard computed and kept at the end of a command that wrote data (`cadence ingest`, `cadence
sync`), so its first reader — the next `cadence scorecard`, the web page, a delivery — reads it back instead of
waiting for it (docs/scale.md, "Scorecards kept per version of the data")."""

from __future__ import annotations

from typing import Any

from rich.markup import escape

from cadence.cli.console import errors
from cadence.errors import CadenceError


def prepare_scorecard_for(ws: Any, what: str) -> None:
    """Compute and keep this week's scorecard for the data `what` (e.g. "the imported data") left. The write itself
    has succeeded, so nothing here fails the command: a scorecard that cannot be computed now is computed, with
    its reason, by its first reader."""
    from cadence.report.scorecard import prepare_scorecard

    if errors.is_terminal:
        errors.print(f"[dim]preparing this week's scorecard for {escape(what)}…[/]")
    try:
        prepare_scorecard(ws)
    except Exception as error:  # the rows are committed: say why, and leave the computing to the first reader
        message = error.one_line() if isinstance(error, CadenceError) else f"{type(error).__name__}: {error}"
        errors.print(f"[yellow]this week's scorecard was not prepared: {escape(message)}; "
                     "`cadence scorecard` computes it[/]")
