"""Cadence: revenue operations for B2B software companies.

    import cadence
    ws = cadence.open("acme")
    ws.table("opportunities").count().execute()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from pathlib import Path

    from cadence.workspace import Workspace


def open(directory: str | Path = ".") -> Workspace:
    """Open the workspace in `directory` (imports the heavy parts only when called)."""
    from cadence.workspace import open_workspace

    return open_workspace(directory)


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from cadence.workspace import Workspace

        return Workspace
    raise AttributeError(name)
