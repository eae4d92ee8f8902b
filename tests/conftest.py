"""Shared fixtures: the real datasets, fresh workspaces, and (see postgres.py) a real PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import cadence
from cadence.workspace import Workspace, init_workspace
from tests.datasets import NEEDS_SHARED, REPO, SHARED_DATA, USE, Dataset, find_dataset, shared_folder

__all__ = ["REPO", "SHARED_DATA"]  # tests import them from here


@pytest.fixture(scope="session")
def dataset() -> Dataset:
    """`dataset("maven-crm/sales_pipeline.csv")`: a real dataset's path, from tests/data, else ../shared/data.

    Skips the test (never fails it) when the dataset may live only in ../shared/data and that is absent.
    """
    return find_dataset


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """`../shared/data` itself; skipped where it is absent. Prefer `dataset(name)`, which also finds tests/data."""
    return shared_folder()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files holding Spark tests (minutes each) run first: `--dist loadfile` hands files to the two workers in this
    order, so both share them at the start instead of one worker running them alone at the end. Each file's own
    order is kept."""
    heavy = {item.path for item in items if item.get_closest_marker("spark")}
    items.sort(key=lambda item: item.path not in heavy)


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef: pytest.FixtureDef[object], request: pytest.FixtureRequest) -> object:
    USE.fixtures_being_set_up.append((fixturedef.argname, fixturedef.baseid))
    try:
        return (yield)
    finally:
        USE.fixtures_being_set_up.pop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    USE.running.append(item.nodeid)
    try:
        return (yield)
    finally:
        USE.running.pop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> pytest.TestReport:
    report: pytest.TestReport = yield
    if report.skipped and NEEDS_SHARED in str(report.longrepr):
        report.user_properties.append(("shared_data", "skipped"))
    elif report.when == "call" and USE.read_by(item.nodeid, getattr(item, "fixturenames", ())):
        report.user_properties.append(("shared_data", "ran"))
    return report


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    for key, outcome in report.user_properties:
        if key == "shared_data":
            USE.outcomes[str(outcome)].add(report.nodeid)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """How many tests needed a dataset that only ../shared/data has: how many ran, how many were skipped."""
    ran, skipped = len(USE.outcomes["ran"]), len(USE.outcomes["skipped"])
    if not ran and not skipped:
        return
    terminalreporter.write_sep("-", "real datasets kept outside the repository")
    terminalreporter.write_line(
        f"tests needing a dataset found only in {SHARED_DATA}: {ran} ran, {skipped} skipped for want of it "
        "(their licences forbid a copy in tests/data: see tests/data/PROVENANCE.md)")


@pytest.fixture(autouse=True)
def _terminal_width_read_at_each_run() -> None:
    """Rich fixes a console's width from COLUMNS when the console is made, i.e. when the first test that imports
    the CLI runs; tests give each CliRunner run its own COLUMNS, so the width is read again at every print."""
    from cadence.cli import console

    for each in (console.console, console.errors):
        each._width = None  # rich's own attribute: None means "ask the terminal and COLUMNS now"


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
def demo_truths(demo_workspace: Workspace) -> dict[str, Any]:
    """What the demo's warehouse shows, measured after the load (truths.json): for tests only."""
    import json

    truths: dict[str, Any] = json.loads((demo_workspace.root / "truths.json").read_text())
    return truths


@pytest.fixture(scope="session")
def demo_plan(demo_workspace: Workspace) -> dict[str, Any]:
    """What the demo planted and on whom (plan.json): for tests only, never read by an analysis."""
    import json

    plan: dict[str, Any] = json.loads((demo_workspace.root / "plan.json").read_text())
    return plan
