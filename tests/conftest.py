"""Shared fixtures: the real datasets, fresh workspaces, and (see postgres.py) a real PostgreSQL."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
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


# Work units for `--dist loadfile` made of several files, each run whole by one worker:
# - the files that start a local Spark in the worker's own process share that one JVM (started once, its code
#   warmed once) instead of each worker starting its own;
# - the web app's files share one worker's `web_demo` and the figures its app keeps per scope (the scorecard and
#   the forecast for each role take seconds each), instead of both workers building and computing them.
SHARED_UNITS = {
    "spark-local": ("tests/test_copy.py", "tests/test_ingest_chunked.py", "tests/test_metrics_engines.py",
                    "tests/test_spark_engine.py"),
    "web": ("tests/web/",),
}


def work_unit(nodeid: str) -> str:
    """The unit of work (see SHARED_UNITS) a test belongs to: its group's name, else its file."""
    path = nodeid.split("::", 1)[0]
    return next((name for name, prefixes in SHARED_UNITS.items() if path.startswith(prefixes)), path)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist loadfile`, with the groups of SHARED_UNITS each handed to one worker as one unit."""
    if config.getoption("dist", None) != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class GroupedFiles(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid)

    return GroupedFiles(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The long units run first: files holding Spark tests (minutes each), then the web app's files. `--dist
    loadfile` hands units to the two workers in this order, so both share the long ones at the start instead of
    one worker running them alone at the end. The tests of a unit are kept together, each file's own order kept."""
    heavy = {item.path for item in items if item.get_closest_marker("spark")}
    rank = {}
    for item in items:
        unit = work_unit(item.nodeid)
        rank.setdefault(unit, 0 if item.path in heavy else 1 if unit == "web" else 2)
    first_seen = {unit: n for n, unit in enumerate(dict.fromkeys(work_unit(item.nodeid) for item in items))}
    items.sort(key=lambda item: (rank[work_unit(item.nodeid)], first_seen[work_unit(item.nodeid)]))


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
def _demo_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, Path]]:
    """The demo company (seed 7) built once per worker, and a copy of its folder taken as the build left it."""
    from cadence.demo import build_demo

    ws = build_demo(tmp_path_factory.mktemp("demo") / "northwind", seed=7)
    as_built = tmp_path_factory.mktemp("demo-as-built") / "northwind"
    _copy_workspace(ws, as_built)
    yield ws, as_built
    ws.close()


def _copy_workspace(ws: Workspace, target: Path) -> Path:
    """`ws`'s folder copied to `target`, its warehouse file whole (checkpointed first; no WAL, no lock)."""
    ws.warehouse.execute("CHECKPOINT")
    shutil.copytree(ws.root, target, ignore=shutil.ignore_patterns("*.wal", "*.lock", ".cadence*"))
    return target


@pytest.fixture(scope="session")
def demo_workspace(_demo_built: tuple[Workspace, Path]) -> Workspace:
    """The demo company (seed 7), built once per test session; tests must not change it."""
    return _demo_built[0]


@pytest.fixture(scope="session")
def demo_as_built(_demo_built: tuple[Workspace, Path]) -> Callable[[Path], Path]:
    """`demo_as_built(target)`: a folder of the demo company's own at `target`, exactly as `build_demo` left it
    (whatever tests have since written to `demo_workspace`), for tests that write to it; the demo is built once."""
    def copy_to(target: Path) -> Path:
        shutil.copytree(_demo_built[1], target)
        return target

    return copy_to


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
