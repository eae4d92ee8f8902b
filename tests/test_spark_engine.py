"""The warehouse on a local Apache Spark: statements mean what they mean on DuckDB, an import is all-or-nothing
and idempotent, a re-opened workspace finds its tables, and any other engine's missing driver names its extra."""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import cadence
from cadence.errors import WarehouseError
from cadence.store import Warehouse, connect
from cadence.workspace import Workspace, init_workspace
from tests.spark_env import require_spark
from tests.test_metrics_engines import _frames, _load

STATEMENTS = [
    'CREATE TABLE IF NOT EXISTS "deals" ("id" VARCHAR, "owner" VARCHAR, "amount" DECIMAL(18,2), '
    '"closed_at" TIMESTAMP, "won" BOOLEAN, UNIQUE ("id"))',
    ("INSERT INTO deals (id, owner, amount, closed_at, won) VALUES ($1, $2, $3, $4, $5), ($6, $7, $8, $9, $10), "
     "($11, $12, $13, $14, $15)",
     ("d'1", "ana", Decimal("10.50"), datetime(2025, 3, 31, 23, 30), True,
      "d2", None, Decimal("7.25"), None, False,
      "d3", "bo", None, datetime(2025, 4, 1, 0, 15), None)),
    ("UPDATE deals SET won = $1 WHERE owner = $2", (True, "bo")),
    ("DELETE FROM deals WHERE owner = $1", ("nobody",)),  # matches nothing
    ("DELETE FROM deals WHERE won = $1", (False,)),  # won IS NULL rows stay, as in SQL
    ("INSERT INTO deals (id, amount) VALUES ($1, $2)", ("d4", Decimal("1.00"))),
]
READ = "SELECT id, owner, amount, closed_at, won FROM deals ORDER BY id"

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def spark_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    require_spark()
    ws = cadence.open(init_workspace(Path(tmp_path_factory.mktemp("spark")) / "ws", warehouse="spark://local"))
    _load(ws)
    yield ws
    ws.close()


def _run(warehouse: Warehouse) -> list[tuple[object, ...]]:
    for statement in STATEMENTS:
        sql, params = (statement, None) if isinstance(statement, str) else statement
        warehouse.execute(sql, params)
    return warehouse.query(READ)


def test_statements_leave_the_rows_duckdb_leaves(tmp_path: Path) -> None:
    """Insert, update (NULL owners untouched), delete (a NULL flag is not false) and a partial insert: the rows
    Spark keeps are the rows DuckDB keeps, value for value, the wall-clock timestamps unshifted."""
    require_spark()
    expected = _run(connect("check.duckdb", tmp_path))
    got = _run(connect("spark://local", tmp_path / "w"))
    assert got == expected
    assert [row[0] for row in got] == ["d'1", "d3", "d4"]
    assert got[0][3] == datetime(2025, 3, 31, 23, 30)


def test_a_repeated_unique_key_is_refused_as_on_duckdb(tmp_path: Path) -> None:
    require_spark()
    warehouse = connect("spark://local", tmp_path)
    warehouse.execute(STATEMENTS[0])  # type: ignore[arg-type]
    warehouse.execute("INSERT INTO deals (id) VALUES ($1)", ("d1",))
    with pytest.raises(WarehouseError, match="unique"):
        warehouse.execute("INSERT INTO deals (id) VALUES ($1)", ("d1",))
    assert warehouse.count("deals") == 1


def test_a_failed_import_leaves_every_table_as_it_was(spark_ws: Workspace) -> None:
    """The catalog is swapped only on commit: rows written before the failure are not seen, now or after."""
    warehouse = spark_ws.warehouse
    before = {name: warehouse.count(name) for name in ("opportunities", "accounts", "imports")}
    catalog = (spark_ws.root / "spark-warehouse" / "catalog.json").read_text()
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.execute("DELETE FROM opportunities")
        warehouse.execute("INSERT INTO accounts (account_id, name) VALUES ($1, $2)", ("zz", "Half an import"))
        assert warehouse.count("opportunities") == 0  # the writing connection sees its own writes
        raise RuntimeError("the import failed half way")
    assert {name: warehouse.count(name) for name in before} == before
    assert (spark_ws.root / "spark-warehouse" / "catalog.json").read_text() == catalog


def test_importing_the_same_files_again_changes_nothing(spark_ws: Workspace) -> None:
    frames = _frames()
    _load(spark_ws)
    for table in ("opportunities", "accounts", "subscriptions", "activities"):
        assert spark_ws.warehouse.count(table) == len(frames[table]), table


def test_a_reopened_workspace_finds_its_tables(spark_ws: Workspace) -> None:
    """A second connection (its own Spark session, no views shared) reads the tables from the workspace folder."""
    again = cadence.open(spark_ws.root)
    try:
        frames = _frames()
        assert again.warehouse.count("opportunities") == len(frames["opportunities"])
        won = again.table("opportunities").filter(lambda t: t.is_won).count().execute()
        assert won == int((frames["opportunities"]["stage"] == "Closed Won").sum())
    finally:
        again.close()
    catalog = json.loads((spark_ws.root / "spark-warehouse" / "catalog.json").read_text())
    assert set(catalog["tables"]) >= {"opportunities", "accounts", "cadence_meta", "users"}


@pytest.mark.parametrize(("url", "extra"), [
    ("snowflake://someone:secret@account/db/schema", "ibis-framework[snowflake]"),
    ("bigquery://project/dataset", "ibis-framework[bigquery]"),
    ("trino://someone@localhost:8080/hive/crm", "ibis-framework[trino]"),
    ("databricks://host/sql/warehouse", "ibis-framework[databricks]"),
])
def test_an_engine_without_its_driver_names_the_pip_extra(tmp_path: Path, url: str, extra: str) -> None:
    with pytest.raises(WarehouseError) as raised:
        connect(url, tmp_path)
    line = raised.value.one_line()
    assert f"pip install '{extra}'" in line
    assert "\n" not in line and "secret" not in line


def test_any_other_ibis_engine_holds_a_whole_workspace(tmp_path: Path) -> None:
    """SQLite stands in for engines with no information_schema: the schema is created, cadence.yml's stages land."""
    ws = cadence.open(init_workspace(tmp_path / "ws", warehouse=f"sqlite:///{tmp_path / 'w.db'}"))
    try:
        assert {"opportunities", "users", "forecast_calls"} <= ws.warehouse.table_names()
        assert ws.warehouse.count("stages") == len(ws.stages()) > 0
    finally:
        ws.close()


def test_a_spark_connect_token_is_never_shown() -> None:
    from cadence.store.spark import parse_url, shown

    url = "sc://workspace.cloud.databricks.com:443/;token=dapi-secret;x-databricks-cluster-id=0123"
    assert "secret" not in shown(url) and shown(url).startswith("sc://workspace.cloud.databricks.com:443")
    assert parse_url(url, Path("/w"))[0] == url  # Spark Connect gets the whole URL
    assert parse_url("spark://local?path=/mnt/acme", Path("/w")) == ("local[2]", Path("/mnt/acme"))
    assert parse_url("spark://master:7077", Path("/w")) == ("spark://master:7077", Path("/w/spark-warehouse"))


def test_copied_back_to_duckdb_every_row_is_as_imported(spark_ws: Workspace, tmp_path: Path) -> None:
    """Spark as the source of `cadence copy`: the rows that come back equal those DuckDB keeps from the same files."""
    from cadence.store.copy import copy_warehouse

    back = cadence.open(init_workspace(tmp_path / "back"))
    reference = cadence.open(init_workspace(tmp_path / "reference"))
    try:
        _load(reference)
        copied = copy_warehouse(spark_ws.warehouse, back.warehouse)
        assert copied["opportunities"].rows_in_target == len(_frames()["opportunities"])
        for name, key in (("opportunities", "opportunity_id"), ("subscriptions", "subscription_id"),
                          ("activities", "activity_id")):
            expected = reference.table(name).to_pandas().sort_values(key, ignore_index=True)
            got = back.table(name).to_pandas().sort_values(key, ignore_index=True)
            pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    finally:
        back.close()
        reference.close()


def _pipeline_only(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The scorecard narrowed to its pipeline section (every section on a local Spark takes minutes); the keys of
    the sections computed, not read back, are noted in the list returned."""
    from cadence.report import scorecard
    from cadence.report.sections.pipeline import PipelineSection

    computed: list[str] = []

    class Counted(PipelineSection):
        def build(self, ws: Workspace, context: Any) -> Any:
            computed.append(self.key)
            return super().build(ws, context)

    monkeypatch.setattr(scorecard, "SECTIONS", [Counted()])
    return computed


def test_the_data_version_changes_with_every_committed_write_and_only_then(spark_ws: Workspace) -> None:
    """On Spark the version is what the catalog says the data tables are made of: a rolled-back import, a sign-in
    and another session leave it; a committed write, even one keeping the row count, changes it."""
    from cadence.accounts.sessions import start_session
    from cadence.accounts.users import add_user

    warehouse = spark_ws.warehouse
    before = warehouse.data_version()
    assert before is not None
    with pytest.raises(RuntimeError), warehouse.transaction():
        warehouse.execute("UPDATE accounts SET name = $1", ("Half an import",))
        raise RuntimeError("the import failed")
    assert warehouse.data_version() == before
    user = add_user(spark_ws, "ana", "admin", password="a long enough passphrase")
    start_session(spark_ws, user, address="127.0.0.1", user_agent="test")
    assert warehouse.data_version() == before  # who signs in changes no figure
    again = cadence.open(spark_ws.root)
    try:
        assert again.warehouse.data_version() == before
        (account,) = again.warehouse.query("SELECT account_id FROM accounts ORDER BY account_id LIMIT 1")[0]
        again.warehouse.execute("UPDATE accounts SET name = $1 WHERE account_id = $2", ("Renamed", account))
        assert again.warehouse.data_version() != before
    finally:
        again.close()
    assert warehouse.data_version() != before  # another session's commit is seen here too


def test_a_later_session_reads_the_scorecard_back_until_the_data_changes(spark_ws: Workspace,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A section computed on Spark is kept as a file beside the catalog; the next session over the same data reads
    it back (no Spark job), and a committed write makes the next scorecard compute it again."""
    from cadence.report.scorecard import build_scorecard

    computed = _pipeline_only(monkeypatch)
    first = build_scorecard(spark_ws, today=date(2025, 6, 30), fresh=True)
    assert computed == ["pipeline"] and first.sections[-1].figures
    kept = list((spark_ws.root / "spark-warehouse" / "_kept").rglob("*.txt"))
    assert kept and all(json.loads(p.read_text(encoding="utf-8"))["key"] == "pipeline" for p in kept)
    computed.clear()
    again = cadence.open(spark_ws.root)
    try:
        later = build_scorecard(again, today=date(2025, 6, 30))
        assert computed == []
        assert later.as_dict() == first.as_dict()
        again.warehouse.execute("INSERT INTO accounts (account_id, name) VALUES ($1, $2)", ("zz-new", "New"))
        build_scorecard(again, today=date(2025, 6, 30))
        assert computed == ["pipeline"]
    finally:
        again.close()


def _mrr_by_hand(ws: Workspace, months: list[str]) -> dict[str, float]:
    """MRR on each month's last day from the subscriptions' rows, read with plain SQL and summed in pandas."""
    subs = pd.DataFrame(ws.warehouse.query("SELECT mrr, started_at, ended_at FROM subscriptions"),
                        columns=["mrr", "started_at", "ended_at"])
    started, ended = pd.to_datetime(subs["started_at"]), pd.to_datetime(subs["ended_at"])
    out = {}
    for month in months:
        last_day = pd.Period(month, "M").end_time.normalize()
        paying = (started <= last_day) & (ended.isna() | (ended > last_day))
        out[month] = float(subs.loc[paying, "mrr"].astype(float).sum())
    return out


def test_a_later_session_reads_the_kept_revenue_grid_until_the_data_changes(spark_ws: Workspace,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """On Spark the revenue grid is written once per version of the data as Parquet beside the catalog: the next
    session reads it and builds nothing; a committed write makes the next session build a new one, whose MRR
    follows the edit; only the newest versions stay on disk (here one)."""
    from cadence.store import derived
    from cadence.store.spark import SparkEngine

    built: list[str] = []
    original = SparkEngine.keep_derived

    def counted(self: SparkEngine, name: str, expr: Any) -> None:
        built.append(name)
        original(self, name, expr)

    monkeypatch.setattr(SparkEngine, "keep_derived", counted)
    months = [f"{year}-{month:02d}" for year in (2024, 2025) for month in range(1, 13)]

    def mrr_in_a_new_session() -> tuple[dict[str, float], dict[str, float]]:
        ws = cadence.open(spark_ws.root)
        try:
            frame = ws.metric("mrr", grain="month", start=date(2024, 1, 1), end=date(2026, 3, 1))
            got = {row.period: float(row.value) for row in frame.itertuples() if row.period in months}
            return got, _mrr_by_hand(ws, months)
        finally:
            ws.close()

    got, expected = mrr_in_a_new_session()
    assert got == pytest.approx(expected)
    assert [n for n in built if "mrr_months" in n] and (spark_ws.root / "spark-warehouse" / "_derived").is_dir()
    built.clear()
    assert mrr_in_a_new_session()[0] == got
    assert built == []  # read back, not built again

    monkeypatch.setattr(derived, "KEEP", 1)  # one version kept: the edit below drops the first grid
    editor = cadence.open(spark_ws.root)
    try:
        editor.warehouse.execute("UPDATE subscriptions SET mrr = mrr + $1 WHERE subscription_id = $2",
                                 (Decimal("1000.00"), "s0"))
    finally:
        editor.close()
    edited, expected = mrr_in_a_new_session()
    assert edited == pytest.approx(expected)
    assert edited != got  # s0 pays in some of these months: the edit is seen
    assert len([n for n in built if "mrr_months" in n]) == 1
    grids = [p for p in (spark_ws.root / "spark-warehouse" / "_derived").iterdir() if "mrr_months" in p.name]
    assert len(grids) == 1


def _segments(root: Path, *, logs: bool = False) -> dict[str, list[str]]:
    """What catalog.json itself names for each table of the company's data (and the logs too, with `logs`),
    read from the file."""
    from cadence.store.warehouse import DATA_TABLES

    catalog = json.loads((root / "spark-warehouse" / "catalog.json").read_text(encoding="utf-8"))
    return {name: list(table["segments"]) for name, table in catalog["tables"].items()
            if logs or name in DATA_TABLES}


def test_the_same_export_imported_again_keeps_the_data_version(tmp_path: Path) -> None:
    """A nightly drop of an unchanged file rewrites rows as they were: Spark then keeps every table's committed
    segments, so the data version (and the scorecard kept for it) stays; an export that changes the deals gives
    the deals new segments and leaves the accounts' and people's as they were. The rows are DuckDB's rows."""
    from tests.test_spark_connect import configure, write_company

    require_spark()
    first, changed = write_company(tmp_path / "v1"), write_company(tmp_path / "v2", version=2)
    root = init_workspace(tmp_path / "spark", warehouse="spark://local")
    configure(root)
    ws = cadence.open(root)
    configure(init_workspace(tmp_path / "duck"))
    duck = cadence.open(tmp_path / "duck")
    try:
        assert ws.ingest(first, "csv", mapping=first / "export.mapping.yml").summary()["changed"] is True
        version, before = ws.warehouse.data_version(), _segments(root)
        logged = ws.warehouse.query("SELECT max(imported_at) FROM imports")[0][0]
        again = ws.ingest(first, "csv", mapping=first / "export.mapping.yml").summary()
        assert again["changed"] is False and again["loaded"] > 0
        assert _segments(root) == before  # the catalog names exactly what it named
        catalog = json.loads((root / "spark-warehouse" / "catalog.json").read_text(encoding="utf-8"))["tables"]
        written = {f["table"] for f in yaml.safe_load((first / "export.mapping.yml").read_text())["files"]}
        assert written >= {"people", "accounts", "opportunities"}
        for name in written:  # each table the export writes is hashed, its rows counted as pandas counts them
            rows = sum(len(pd.read_parquet(root / "spark-warehouse" / s)) for s in before[name])
            assert catalog[name]["hashed"]["rows"][0] == rows, name
        assert ws.warehouse.data_version() == version
        assert ws.warehouse.query("SELECT max(imported_at) FROM imports")[0][0] > logged  # the import is logged
        named = {s for segments in _segments(root, logs=True).values() for s in segments}
        on_disk = {p.name for p in (root / "spark-warehouse").iterdir() if p.is_dir() and len(p.name) == 32}
        assert on_disk == named  # the segments written for the same rows are gone

        # one cell edited, every count the same: found by the rows' hashes, not their number
        edited = tmp_path / "v1-edited"
        shutil.copytree(first, edited)
        with (edited / "negocios.csv").open(encoding="utf-8", newline="") as handle:
            lines = list(csv.reader(handle))
        lines[1][lines[0].index("Valor")] = "12345"
        with (edited / "negocios.csv").open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows(lines)
        assert ws.ingest(edited, "csv", mapping=edited / "export.mapping.yml").summary()["changed"] is True
        assert ws.warehouse.data_version() != version
        assert _segments(root)["opportunities"] != before["opportunities"]
        assert _segments(root)["accounts"] == before["accounts"]
        one = "SELECT amount FROM opportunities WHERE opportunity_id = $1"
        assert ws.warehouse.query(one, (lines[1][0],)) == [(Decimal("12345.00"),)]

        assert ws.ingest(changed, "csv", mapping=changed / "export.mapping.yml").summary()["changed"] is True
        after = _segments(root)
        assert ws.warehouse.data_version() != version
        assert after["opportunities"] != before["opportunities"]
        assert after["accounts"] == before["accounts"] and after["people"] == before["people"]
        for export in (first, edited, changed):
            duck.ingest(export, "csv", mapping=export / "export.mapping.yml")
        read = "SELECT opportunity_id, amount, currency FROM opportunities ORDER BY opportunity_id"
        assert ws.warehouse.query(read) == duck.warehouse.query(read)
    finally:
        duck.close()
        ws.close()
