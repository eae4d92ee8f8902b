"""A product manager's theme edits — rename, merge, split, pin, unpin — kept in `themes.yml` in the workspace.

Each edit is checked against the themes found now (an unknown key is an error naming the closest) and must
not leave a note behind (an edit that cannot be applied is refused); then themes.yml is written again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from cadence.analysis.roadmap.plan import find_request_themes
from cadence.analysis.roadmap.themes import Split, ThemeCatalogue, ThemeOverrides
from cadence.errors import ConfigError, InputError, Location
from cadence.metrics.relations import TableSource

THEMES_FILE = "themes.yml"
HEADER = ("# Theme edits made with `cadence requests themes …`, applied in this order: merges, splits, pins, renames.\n"
          "# Keys are the theme keys `cadence requests themes` shows.\n")

Change = Callable[[ThemeOverrides, ThemeCatalogue], ThemeOverrides]


def load_theme_overrides(root: Path) -> ThemeOverrides:
    """The workspace's theme edits (none when themes.yml does not exist)."""
    path = Path(root) / THEMES_FILE
    if not path.exists():
        return ThemeOverrides()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML ({exc})".replace("\n", " "), location=Location(str(path))) from None
    if data is not None and not isinstance(data, dict):
        raise ConfigError("expected merges, splits, pins and renames", location=Location(str(path)))
    try:
        return ThemeOverrides.from_dict(data)
    except ConfigError:
        raise
    except ValueError as exc:
        raise ConfigError(str(exc), location=Location(str(path))) from None


def save_theme_overrides(root: Path, overrides: ThemeOverrides) -> Path:
    path = Path(root) / THEMES_FILE
    path.write_text(HEADER + yaml.safe_dump(overrides.as_dict(), sort_keys=False, allow_unicode=True),
                    encoding="utf-8")
    return path


@dataclass(frozen=True)
class ThemeEdit:
    """An edit saved: the file written and the edits it now holds."""

    path: Path
    overrides: ThemeOverrides

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "edits": self.overrides.as_dict()}


def edit_themes(tables: TableSource, root: Path, change: Change) -> ThemeEdit:
    """Apply `change(overrides, catalogue) -> overrides`, refuse it if it cannot be applied, save themes.yml."""
    overrides = load_theme_overrides(root)
    catalogue = find_request_themes(tables, overrides)
    updated = change(overrides, catalogue)
    new_notes = [n for n in find_request_themes(tables, updated).notes if n not in catalogue.notes]
    if new_notes:
        raise InputError(new_notes[0])
    return ThemeEdit(save_theme_overrides(root, updated), updated)


def rename_theme(tables: TableSource, root: Path, key: str, name: str) -> ThemeEdit:
    """Give a theme the name product uses for it."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        catalogue.theme(key)
        return replace(o, renames={**o.renames, key: name})

    return edit_themes(tables, root, change)


def merge_themes(tables: TableSource, root: Path, key: str, into: str) -> ThemeEdit:
    """Merge one theme into another: both ask for the same thing."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        catalogue.theme(key)
        catalogue.theme(into)
        return replace(o, merges={**o.merges, key: into})

    return edit_themes(tables, root, change)


def split_theme(tables: TableSource, root: Path, key: str, words: str, name: str) -> ThemeEdit:
    """Move the requests of a theme that mention any of the comma-separated `words` into a new theme `name`."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        catalogue.theme(key)
        parts = tuple(w.strip() for w in words.split(",") if w.strip())
        return replace(o, splits=(*o.splits, Split(key, parts, name)))

    return edit_themes(tables, root, change)


def pin_request(tables: TableSource, root: Path, request: str, theme: str) -> ThemeEdit:
    """Put one request in a theme (a key, or the name of a new theme), whatever its wording says."""
    return edit_themes(tables, root, lambda o, catalogue: replace(o, pins={**o.pins, request: theme}))


def unpin_request(tables: TableSource, root: Path, request: str) -> ThemeEdit:
    """Let a pinned request's wording place it again."""
    def change(o: ThemeOverrides, catalogue: ThemeCatalogue) -> ThemeOverrides:
        if request not in o.pins:
            raise InputError(f"request {request} is not pinned")
        return replace(o, pins={k: v for k, v in o.pins.items() if k != request})

    return edit_themes(tables, root, change)
