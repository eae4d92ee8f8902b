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


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[object]:
    """One real PostgreSQL cluster for the whole session."""
    from tests.pg_server import PostgresServer

    server = PostgresServer()
    server.start()
    yield server
    server.stop()


_database_counter = iter(range(1_000_000))


@pytest.fixture
def postgres_url(postgres_server: object) -> str:
    """A fresh, empty database on the session's PostgreSQL."""
    return postgres_server.create_database(f"cadence_{next(_database_counter)}")  # type: ignore[attr-defined]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_workspace(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """The same fresh workspace on the embedded DuckDB and on a real PostgreSQL."""
    warehouse = None
    if request.param == "postgres":
        warehouse = request.getfixturevalue("postgres_url")
    root = init_workspace(tmp_path / "ws", company="Test Co", warehouse=warehouse)
    ws = cadence.open(root)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo company (seed 7), built once per test session; tests must not change it."""
    from cadence.demo import build_demo

    ws = build_demo(tmp_path_factory.mktemp("demo") / "northwind", seed=7)
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def demo_truths(demo_workspace: Workspace) -> dict[str, object]:
    """What the demo planted (truths.json): for tests only, never read by an analysis."""
    import json

    truths: dict[str, object] = json.loads((demo_workspace.root / "truths.json").read_text())
    return truths
