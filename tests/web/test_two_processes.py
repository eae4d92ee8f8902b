"""One machine, two processes: while `cadence serve` runs on the embedded DuckDB, `cadence ingest` from a
terminal still works — the server lets go of the file when the import asks for it, answers "an import is
running" meanwhile, and shows the new rows after."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cadence.accounts.users import add_user
from cadence.web.app import create_app
from cadence.web.settings import Settings
from cadence.workspace import init_workspace, open_workspace
from tests.datasets import Dataset
from tests.web.conftest import ORIGIN, PASSWORD


@pytest.mark.slow
def test_a_terminal_import_runs_while_the_server_serves(tmp_path: Path, dataset: Dataset) -> None:
    root = init_workspace(tmp_path / "ws")
    with open_workspace(root) as ws:
        add_user(ws, "ada", "admin", password=PASSWORD)
    # idle release far away: only the waiting import can make the server let go
    app = create_app(Settings(workspace=root, idle_release_seconds=3600))
    with TestClient(app, base_url="http://testserver") as client:
        client.post("/login", data={"username": "ada", "password": PASSWORD}, headers=ORIGIN)
        assert client.get("/quality/quarantine.json").status_code == 200  # the server now holds the file
        env = {**os.environ, "CADENCE_LOCK_WAIT": "60"}
        done = subprocess.run([sys.executable, "-m", "cadence.cli", "--workspace", str(root), "ingest",
                               str(dataset("maven-crm")), "--from", "maven"],
                              capture_output=True, text=True, env=env, timeout=180)
        assert done.returncode == 0, done.stderr
        after = client.get("/metrics/won_deals.json", params={"grain": "year"})
        assert after.status_code == 200
    with open_workspace(root) as ws:
        won = ws.warehouse.query("SELECT count(*) FROM opportunities WHERE is_won")[0][0]
    assert won > 0 and sum(r["value"] or 0 for r in after.json()["rows"]) == won


def test_a_busy_warehouse_is_answered_with_retry(tmp_path: Path) -> None:
    """While another process waits for the file, the server answers 503 with Retry-After, not an error page."""
    from cadence.store.engines import waiting_marker

    root = init_workspace(tmp_path / "ws")
    with open_workspace(root) as ws:
        add_user(ws, "ada", "admin", password=PASSWORD)
        path = Path(ws.warehouse.location)
    app = create_app(Settings(workspace=root))
    with TestClient(app, base_url="http://testserver") as client:
        client.post("/login", data={"username": "ada", "password": PASSWORD}, headers=ORIGIN)
        client.app.state.holder.close()  # type: ignore[attr-defined]
        waiting_marker(path).touch()
        try:
            busy = client.get("/scorecard")
            assert busy.status_code == 503 and busy.headers["retry-after"] == "2"
            assert "import is running" in busy.text
        finally:
            waiting_marker(path).unlink()
