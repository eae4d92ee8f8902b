"""The workspace and its warehouse behave the same on DuckDB and on a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.errors import ConfigError, WorkspaceError
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.workspace import Workspace, init_workspace


def _opportunities(rows: list[dict[str, object]], file: str = "crm.csv") -> ImportBatch:
    frame = pd.DataFrame(rows)
    frame["_line"] = range(2, len(frame) + 2)
    return ImportBatch("csv", [SourceFile(file, len(frame))], [CanonicalFrame("opportunities", frame, file)])


DEALS = [
    {"opportunity_id": "o1", "stage": "Closed Won", "amount": "1200.50", "created_at": "2025-01-02",
     "closed_at": "2025-02-01", "owner_id": "p1"},
    {"opportunity_id": "o2", "stage": "Demo", "amount": "300", "created_at": "2025-01-05", "close_date": "2025-03-31"},
    {"opportunity_id": "o3", "stage": "Closed Lost", "amount": "-5", "created_at": "2025-01-05"},
    {"opportunity_id": "o4", "stage": "Nowhere", "amount": "10", "created_at": "2025-01-05"},
]


def test_init_writes_a_commented_config_that_loads(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "acme", company="Acme")
    text = (root / "cadence.yml").read_text()
    assert "# " in text and "fiscal_year_start_month" in text
    with cadence.open(root) as ws:
        assert ws.config.company == "Acme"
        assert (root / "cadence.duckdb").exists()


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    init_workspace(tmp_path / "acme")
    with pytest.raises(WorkspaceError, match="already exists"):
        init_workspace(tmp_path / "acme")


def test_bad_config_names_the_file_and_every_problem(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "acme")
    (root / "cadence.yml").write_text("company: X\nfiscal_year_start_month: 13\ncurrency: dollars\n")
    with pytest.raises(ConfigError) as info:
        cadence.open(root)
    message = str(info.value)
    assert "cadence.yml" in message and "fiscal_year_start_month" in message and "currency" in message


def test_environment_overrides_a_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = init_workspace(tmp_path / "acme")
    monkeypatch.setenv("CADENCE__FISCAL_YEAR_START_MONTH", "4")
    with cadence.open(root) as ws:
        assert ws.config.fiscal_year_start_month == 4


def test_load_validates_quarantines_and_reconciles(any_workspace: Workspace) -> None:
    ws = any_workspace
    prepared = prepare(_opportunities(DEALS), ws.stages())
    ws.load(prepared)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (4, 2, 2)
    table = ws.table("opportunities")
    frame = table.order_by("opportunity_id").to_pandas()
    assert frame["opportunity_id"].tolist() == ["o1", "o2"]
    assert frame["is_won"].tolist() == [True, False]  # derived from the stage's marker
    assert frame["is_closed"].tolist() == [True, False]
    assert float(frame["amount"].iloc[0]) == 1200.50
    quarantine = ws.table("quarantine").order_by("line").to_pandas()
    assert quarantine["line"].tolist() == [4, 5]
    assert quarantine["column_name"].tolist() == ["amount", "stage"]
    assert "at least 0" in quarantine["reason"].iloc[0]
    assert "Nowhere" in quarantine["row_json"].iloc[1]


def test_reimport_updates_and_never_duplicates(any_workspace: Workspace) -> None:
    ws = any_workspace
    ws.load(prepare(_opportunities(DEALS), ws.stages()))
    changed = [dict(DEALS[1], stage="Proposal", amount="350")]
    ws.load(prepare(_opportunities(DEALS), ws.stages()))
    ws.load(prepare(_opportunities(changed, file="crm-update.csv"), ws.stages()))
    frame = ws.table("opportunities").order_by("opportunity_id").to_pandas()
    assert frame["opportunity_id"].tolist() == ["o1", "o2"]
    assert frame.set_index("opportunity_id").loc["o2", "stage"] == "Proposal"
    assert ws.warehouse.count("quarantine") == 2  # the first file's problems, once
    assert ws.warehouse.count("imports") == 2


def test_failed_load_leaves_the_warehouse_as_it_was(any_workspace: Workspace,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    ws = any_workspace
    ws.load(prepare(_opportunities(DEALS[:1]), ws.stages()))
    before = ws.counts(), ws.warehouse.count("imports")
    prepared = prepare(_opportunities(DEALS), ws.stages())
    original = ws.warehouse.upsert

    def fail_on_imports(table, frame):  # type: ignore[no-untyped-def]
        if table.name == "imports":
            raise RuntimeError("disk full")
        return original(table, frame)

    monkeypatch.setattr(ws.warehouse, "upsert", fail_on_imports)
    with pytest.raises(RuntimeError, match="disk full"):
        ws.load(prepared)
    monkeypatch.undo()
    assert (ws.counts(), ws.warehouse.count("imports")) == before


def test_tables_are_ibis_expressions_with_the_same_answer_everywhere(any_workspace: Workspace) -> None:
    ws = any_workspace
    ws.load(prepare(_opportunities(DEALS), ws.stages()))
    table = ws.table("opportunities")
    won = table.filter(table.is_won).amount.sum().execute()
    assert float(won) == 1200.50
    by_stage = table.group_by("stage").agg(n=table.count()).order_by("stage").to_pandas()
    assert by_stage.to_dict("records") == [{"stage": "Closed Won", "n": 1}, {"stage": "Demo", "n": 1}]


def test_parts_of_a_refused_record_are_refused_with_it(workspace: Workspace) -> None:
    deals = pd.DataFrame([DEALS[0], DEALS[2]]).assign(_line=[2, 3])
    history = pd.DataFrame({"opportunity_id": ["o1", "o3"], "changed_at": ["2025-01-02", "2025-01-05"],
                            "stage": ["Demo", "Demo"], "_line": [2, 3]})
    batch = ImportBatch("csv", [SourceFile("crm.csv", 2)], [
        CanonicalFrame("opportunity_history", history, "crm.csv", primary=False, replace_on="opportunity_id"),
        CanonicalFrame("opportunities", deals, "crm.csv"),
    ])
    prepared = prepare(batch, workspace.stages())
    workspace.load(prepared)
    assert workspace.table("opportunity_history").opportunity_id.to_pandas().tolist() == ["o1"]
    assert prepared.tables["opportunity_history"].quarantined == 1


def test_numbers_too_large_to_store_are_quarantined(workspace: Workspace) -> None:
    rows = [dict(DEALS[1], opportunity_id=f"big{i}", amount=value) for i, value in enumerate(["1e306", "inf", "5"])]
    prepared = prepare(_opportunities(rows), workspace.stages())
    workspace.load(prepared)
    assert (prepared.loaded, prepared.quarantined) == (1, 2)
