"""Shared fixtures: the real datasets, fresh workspaces, and (see postgres.py) a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import cadence
from cadence.workspace import Workspace, init_workspace

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data`: real public datasets, read-only."""
    if not SHARED_DATA.is_dir():
        pytest.fail(f"real datasets not found at {SHARED_DATA}: clone the project beside shared/")
    return SHARED_DATA


@pytest.fixture
def workspace(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh, empty workspace on the embedded DuckDB."""
    root = init_workspace(tmp_path / "ws", company="Test Co")
    ws = cadence.open(root)
    yield ws
    ws.close()
