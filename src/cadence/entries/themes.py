"""The theme edits a product manager makes by hand — rename, merge, split, pin, unpin — kept in the workspace's
`themes.yml`.

`load_theme_overrides(ws)` reads them (none when the file does not exist); each edit is applied with the pure
rules of `analysis.roadmap.theme_edits` (refused in one line if it cannot be applied, nothing written) and
the file is written again. The analyses never read the file: their callers pass the edits in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from cadence.analysis.roadmap import theme_edits
from cadence.analysis.roadmap.theme_edits import Change
from cadence.analysis.roadmap.themes import ThemeOverrides
from cadence.errors import ConfigError, Location

if TYPE_CHECKING:
    from cadence.workspace import Workspace

THEMES_FILE = "themes.yml"
HEADER = ("# Theme edits made with `cadence requests themes …`, applied in this order: merges, splits, pins, renames.\n"
          "# Keys are the theme keys `cadence requests themes` shows.\n")


def themes_path(ws: Workspace) -> Path:
    """Where the workspace keeps its theme edits."""
    return Path(ws.root) / THEMES_FILE


def themes_text(ws: Workspace) -> str:
    """The theme edits as saved, word for word ("" when there are none yet)."""
    path = themes_path(ws)
    return path.read_text(encoding="utf-8") if path.exists() else ""


def load_theme_overrides(ws: Workspace) -> ThemeOverrides:
    """The workspace's theme edits (none when themes.yml does not exist)."""
    path = themes_path(ws)
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


def save_theme_overrides(ws: Workspace, overrides: ThemeOverrides) -> Path:
    """Write `overrides` as the workspace's theme edits; the file written."""
    path = themes_path(ws)
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


def save_theme_edit(ws: Workspace, change: Change) -> ThemeEdit:
    """Apply `change` to the workspace's theme edits (refused if it cannot be applied) and save themes.yml."""
    updated = theme_edits.apply_theme_edit(ws, load_theme_overrides(ws), change)
    return ThemeEdit(save_theme_overrides(ws, updated), updated)


def rename_theme(ws: Workspace, key: str, name: str) -> ThemeEdit:
    """Give a theme the name product uses for it."""
    return save_theme_edit(ws, theme_edits.rename(key, name))


def merge_themes(ws: Workspace, key: str, into: str) -> ThemeEdit:
    """Merge one theme into another: both ask for the same thing."""
    return save_theme_edit(ws, theme_edits.merge(key, into))


def split_theme(ws: Workspace, key: str, words: str, name: str) -> ThemeEdit:
    """Move the requests of a theme that mention any of the comma-separated `words` into a new theme `name`."""
    return save_theme_edit(ws, theme_edits.split(key, words, name))


def pin_request(ws: Workspace, request: str, theme: str) -> ThemeEdit:
    """Put one request in a theme (a key, or the name of a new theme), whatever its wording says."""
    return save_theme_edit(ws, theme_edits.pin(request, theme))


def unpin_request(ws: Workspace, request: str) -> ThemeEdit:
    """Let a pinned request's wording place it again."""
    return save_theme_edit(ws, theme_edits.unpin(request))
