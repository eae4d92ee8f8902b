"""How long work reports progress without knowing who is watching.

The core calls a `Progress`; the CLI passes one that draws Rich progress bars, tests and the
Python API get the silent default.
"""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def start(self, description: str, total: int | None) -> None: ...
    def advance(self, amount: int = 1) -> None: ...
    def finish(self) -> None: ...


class Silent:
    """Progress that shows nothing."""

    def start(self, description: str, total: int | None) -> None:
        return None

    def advance(self, amount: int = 1) -> None:
        return None

    def finish(self) -> None:
        return None
