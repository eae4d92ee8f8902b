"""`cadence copy --to DIR`: every table reconciled, refusals in one line, and a company copied to Spark shows the
same scorecard."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import cadence
from cadence.analysis.as_of import resolve_as_of
from cadence.analysis.roadmap.influence import feature_influence
from cadence.cli.main import app, register_commands
from cadence.errors import CadenceError
from cadence.report.scorecard import build_scorecard
from cadence.schema.tables import SYSTEM_TABLES, TABLES
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset
from tests.spark_env import require_spark
from tests.test_metrics_engines import _frames, _load


def copy(source: Path, *args: str) -> Any:
    register_commands()
    return CliRunner().invoke(app, ["-w", str(source), "copy", *args])


@pytest.fixture(scope="module")
def source(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(Path(tmp_path_factory.mktemp("copy")) / "source"))
    _load(ws)
    ws.warehouse.execute("INSERT INTO users (user_id, email, role, disabled) VALUES ($1, $2, $3, $4)",
                         ("ada", "ada@example.com", "admin", False))
    yield ws
    ws.close()


def test_every_table_is_copied_and_reconciled_in_json(source: Workspace, tmp_path: Path) -> None:
    target = init_workspace(tmp_path / "target")
    result = copy(source.root, "--to", str(target), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert set(report) == {t.name for t in TABLES + SYSTEM_TABLES}
    assert all(set(counts) == {"rows_copied", "rows_in_target"} for counts in report.values())
    frames = _frames()
    for table in ("opportunities", "accounts", "people", "subscriptions", "activities"):
        assert report[table] == {"rows_copied": len(frames[table]), "rows_in_target": len(frames[table])}, table
    assert report["users"] == {"rows_copied": 1, "rows_in_target": 1}
    copied = cadence.open(target)
    try:
        for name in ("opportunities", "users", "imports"):
            mine = source.table(name).to_pandas().sort_values(list(source.table(name).columns)[:1])
            theirs = copied.table(name).to_pandas().sort_values(list(copied.table(name).columns)[:1])
            assert mine.reset_index(drop=True).equals(theirs.reset_index(drop=True)), name
    finally:
        copied.close()


def test_a_target_holding_data_is_refused_unless_replaced(source: Workspace, tmp_path: Path) -> None:
    target = init_workspace(tmp_path / "target")
    assert copy(source.root, "--to", str(target)).exit_code == 0
    again = refusal(copy(source.root, "--to", str(target)))
    assert "already holds data" in again and "--replace" in again
    replaced = copy(source.root, "--to", str(target), "--replace", "--format", "json")
    assert replaced.exit_code == 0, replaced.output
    assert json.loads(replaced.stdout)["opportunities"]["rows_in_target"] == len(_frames()["opportunities"])


def test_a_target_of_another_schema_version_is_refused(source: Workspace, tmp_path: Path) -> None:
    target = cadence.open(init_workspace(tmp_path / "target"))
    target.warehouse.execute("UPDATE cadence_meta SET value = '5' WHERE key = 'schema_version'")
    target.close()
    assert "schema 5" in refusal(copy(source.root, "--to", str(tmp_path / "target")))


def test_a_missing_target_or_the_workspace_itself_is_refused(source: Workspace, tmp_path: Path) -> None:
    assert "cadence init" in refusal(copy(source.root, "--to", str(tmp_path / "nowhere")))
    assert "itself" in refusal(copy(source.root, "--to", str(source.root)))


def refusal(result: Any) -> str:
    """The one line `cadence` prints for a refused copy (a CadenceError; the shell prints its one_line())."""
    assert isinstance(result.exception, CadenceError), result.output
    line = result.exception.one_line()
    assert "\n" not in line
    return line


def scorecard_figures(ws: Workspace) -> dict[str, Any]:
    """Every figure of the weekly scorecard (its timings left out: they differ from run to run)."""
    return _without_timings(build_scorecard(ws).as_dict())


def _without_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_timings(v) for k, v in value.items() if "second" not in k and "timing" not in k}
    if isinstance(value, list):
        return [_without_timings(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


def _copied_to_spark(source: Workspace, folder: Path) -> Workspace:
    require_spark()
    target = init_workspace(folder, warehouse="spark://local")
    config = (source.root / "cadence.yml").read_text(encoding="utf-8")  # the company's settings, Spark's warehouse
    (target / "cadence.yml").write_text(
        "\n".join("warehouse: spark://local" if line.startswith("warehouse:") else line
                  for line in config.splitlines()) + "\n", encoding="utf-8")
    result = copy(source.root, "--to", str(target), "--format", "json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert all(c["rows_copied"] == c["rows_in_target"] == source.warehouse.count(t) for t, c in report.items())
    return cadence.open(target)


@pytest.mark.spark
@pytest.mark.slow
def test_the_maven_sample_copied_to_spark_shows_the_same_scorecard(dataset: Dataset, tmp_path: Path) -> None:
    duck = cadence.open(init_workspace(tmp_path / "maven"))
    duck.ingest(dataset("maven-crm"), "maven")
    spark = _copied_to_spark(duck, tmp_path / "spark")
    try:
        assert scorecard_figures(spark) == scorecard_figures(duck)
    finally:
        spark.close()
        duck.close()


@pytest.mark.spark
@pytest.mark.slow
def test_the_demo_company_copied_to_spark_shows_the_same_scorecard_and_influence(demo_workspace: Workspace,
                                                                                 tmp_path: Path) -> None:
    spark = _copied_to_spark(demo_workspace, tmp_path / "spark")
    try:
        assert scorecard_figures(spark) == scorecard_figures(demo_workspace)
        # and what shipping moved, whose stages on each ship day Spark works out from the history
        as_of = resolve_as_of(demo_workspace).day
        influence = feature_influence(spark, as_of=as_of, resamples=200).as_dict()
        assert influence["features"]
        assert _without_timings(influence) == _without_timings(
            feature_influence(demo_workspace, as_of=as_of, resamples=200).as_dict())
    finally:
        spark.close()
        shutil.rmtree(tmp_path / "spark", ignore_errors=True)
