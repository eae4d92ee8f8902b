"""`warehouse: spark://HOST:PORT`: Cadence as the driver of an application on a real standalone Spark cluster — a
master and one worker (one core, 1 GB), started on loopback from the pip package — with the same company and
the same checks as over Spark Connect (`tests/test_spark_connect.py`): every row as DuckDB keeps it, money
converted at each close date's rate, bookings by owner with the deals that have none, MRR month by month, the
stage funnel, the scorecard's KPIs, and an import failing half way that leaves the warehouse as it was.

The executor runs in the worker's JVM, not in Cadence's process: it reads and writes the Parquet segments in
the workspace's `spark-warehouse/`, which it reaches because master, worker and Cadence share this machine's disk
(a cluster of several machines needs that folder on a shared file system: docs/scale.md)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cadence.workspace import Workspace
from tests.spark_env import require_spark, standalone_cluster
from tests.test_spark_connect import (
    Company,
    check_failed_import,
    check_funnel,
    check_import,
    check_money,
    check_revenue_grid,
    check_scorecard,
    check_win_rate_and_owners,
    duck,
    figures,
    on_spark,
    opened,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]
_ = duck  # the DuckDB reference, a fixture of this module too


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    require_spark()
    folder = tmp_path_factory.mktemp("cluster")
    with standalone_cluster(folder / "cluster") as url:
        yield from on_spark(url, folder, init_by_cli=False)


@pytest.fixture(scope="module")
def cluster_figures(cluster: Company) -> dict[str, Any]:
    return cluster.run(figures, cluster.root)  # type: ignore[no-any-return]


def test_an_import_on_the_cluster_keeps_every_row_as_duckdb_does(cluster: Company, duck: Workspace) -> None:
    check_import(cluster, duck)


def test_the_work_ran_on_the_cluster_s_executor(cluster: Company) -> None:
    """Not a local Spark in disguise: the application is the master's, and the worker started its executor (the
    worker's folder holds the application's executor logs)."""
    master, block_managers = cluster.run(application, cluster.root)
    assert master.startswith("spark://127.0.0.1:")
    assert block_managers >= 2  # the driver's and at least one executor's
    executors = list((cluster.root.parent / "cluster" / "work").glob("app-*/*/stderr"))
    assert executors, "the worker ran no executor"


def application(root: Any) -> tuple[str, int]:
    context = opened(root).warehouse._engine.session.sparkContext
    return context.master, int(context._jsc.sc().getExecutorMemoryStatus().size())


def test_money_converts_at_each_close_date_rate(cluster_figures: dict[str, Any], duck: Workspace) -> None:
    check_money(cluster_figures, duck)


def test_win_rate_and_bookings_by_owner_count_the_deals_with_no_owner(cluster_figures: dict[str, Any],
                                                                       duck: Workspace) -> None:
    check_win_rate_and_owners(cluster_figures, duck)


def test_mrr_month_by_month_from_the_revenue_grid(cluster_figures: dict[str, Any], duck: Workspace) -> None:
    check_revenue_grid(cluster_figures, duck)


def test_the_stage_funnel(cluster_figures: dict[str, Any], duck: Workspace) -> None:
    check_funnel(cluster_figures, duck)


def test_the_scorecard_kpis_against_their_targets(cluster: Company, duck: Workspace) -> None:
    check_scorecard(cluster, duck)


def test_an_import_failing_half_way_leaves_the_warehouse_as_it_was(cluster: Company) -> None:
    check_failed_import(cluster)
