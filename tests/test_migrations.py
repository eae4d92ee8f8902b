"""A workspace made by an older Cadence is migrated, never silently broken."""

from __future__ import annotations

from pathlib import Path

import pytest

import cadence
from cadence.errors import WorkspaceError
from cadence.schema import SCHEMA_VERSION
from cadence.store import connect
from cadence.store.migrations import create_version_1, schema_version
from cadence.workspace import init_workspace


def _version_1_workspace(root: Path, warehouse: str | None = None) -> Path:
    """A workspace whose warehouse holds Cadence 0.0's layout and a few rows."""
    init_workspace(root, warehouse=warehouse)
    wh = connect(warehouse or "cadence.duckdb", root)
    for name in wh.table_names():  # start again from Cadence 0.0's layout
        wh.execute(f'DROP TABLE "{name}"')
    create_version_1(wh)
    wh.execute(
        "INSERT INTO opportunities (opportunity_id, stage, amount, created_at, closed_at, is_won, source) "
        "VALUES "
        "('o1', 'Closed Won', 100, '2024-01-01', '2024-02-01', true, 'csv'), "
        "('o2', 'Demo', 50, '2024-01-01', NULL, false, 'csv')"
    )
    assert "pipeline" not in wh.column_names("opportunities")
    assert schema_version(wh) == 1
    wh.close()
    return root


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_version_1_workspace_is_migrated_with_its_data(engine: str, tmp_path: Path,
                                                       request: pytest.FixtureRequest) -> None:
    url = request.getfixturevalue("postgres_url") if engine == "postgres" else None
    root = _version_1_workspace(tmp_path / "old", url)
    with cadence.open(root) as ws:
        assert ws.migrated_through == list(range(2, SCHEMA_VERSION + 1))
        frame = ws.table("opportunities").order_by("opportunity_id").to_pandas()
        assert frame["pipeline"].tolist() == ["default", "default"]
        assert frame["is_closed"].tolist() == [True, False]
        assert "row_json" in ws.warehouse.column_names("quarantine")
        assert ws.warehouse.count("stages") == len(ws.config.stages)
        assert {"forecast_category", "modified_at", "deleted_at"} <= set(ws.warehouse.column_names("opportunities"))
        assert {"exchange_rates", "fiscal_periods"} <= set(ws.warehouse.table_names())
    with cadence.open(root) as again:  # a second open has nothing left to migrate
        assert again.migrated_through == []


def test_newer_warehouse_is_refused_not_broken(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "new")
    wh = connect("cadence.duckdb", root)
    wh.execute("UPDATE cadence_meta SET value = '99' WHERE key = 'schema_version'")
    wh.close()
    with pytest.raises(WorkspaceError, match="newer Cadence"):
        cadence.open(root)
