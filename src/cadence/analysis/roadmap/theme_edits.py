"""A product manager's theme edits — rename, merge, split, pin, unpin — as changes to a `ThemeOverrides`.

Each edit is checked against the themes found now (an unknown key is an error naming the closest) and must
not leave a note behind (an edit that cannot be applied is refused). Nothing here reads or writes a file:
the hand-entry layer (`cadence.entries.themes`) loads the workspace's edits, applies one with
`apply_theme_edit` and saves the result.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from cadence.analysis.roadmap.plan import find_request_themes
from cadence.analysis.roadmap.themes import Split, ThemeCatalogue, ThemeOverrides
from cadence.errors import InputError
from cadence.metrics.relations import TableSource

Change = Callable[[ThemeOverrides, ThemeCatalogue], ThemeOverrides]


def apply_theme_edit(tables: TableSource, overrides: ThemeOverrides, change: Change) -> ThemeOverrides:
    """The edits after `change(overrides, catalogue)`; refused in one line if the change cannot be applied."""
    catalogue = find_request_themes(tables, overrides)
    updated = change(overrides, catalogue)
    new_notes = [n for n in find_request_themes(tables, updated).notes if n not in catalogue.notes]
    if new_notes:
        raise InputError(new_notes[0])
    return updated


def rename(key: str, name: str) -> Change:
    """Give a theme the name product uses for it."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        catalogue.theme(key)
        return replace(o, renames={**o.renames, key: name})

    return change


def merge(key: str, into: str) -> Change:
    """Merge one theme into another: both ask for the same thing."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        catalogue.theme(key)
        catalogue.theme(into)
        return replace(o, merges={**o.merges, key: into})

    return change


def split(key: str, words: str, name: str) -> Change:
    """Move the requests of a theme that mention any of the comma-separated `words` into a new theme `name`."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        catalogue.theme(key)
        parts = tuple(w.strip() for w in words.split(",") if w.strip())
        return replace(o, splits=(*o.splits, Split(key, parts, name)))

    return change


def pin(request: str, theme: str) -> Change:
    """Put one request in a theme (a key, or the name of a new theme), whatever its wording says."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        return replace(o, pins={**o.pins, request: theme})

    return change


def unpin(request: str) -> Change:
    """Let a pinned request's wording place it again."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        if request not in o.pins:
            raise InputError(f"request {request} is not pinned")
        return replace(o, pins={k: v for k, v in o.pins.items() if k != request})

    return change
