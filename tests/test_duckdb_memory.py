"""How much memory DuckDB may hold is the user's to say ($CADENCE_DUCKDB_MEMORY), and an import never leaves it
changed: during a large import DuckDB holds at most 128 MB (less when the user asked for less), then the user's
limit (or DuckDB's own default) is back.

The limits are read back from DuckDB itself (`current_setting('memory_limit')`, shown in MiB or GiB) and
converted by hand here, not by Cadence's own parser.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

import cadence
from cadence.workspace import init_workspace

UNITS = {"KiB": 2**10, "MiB": 2**20, "GiB": 2**30, "TiB": 2**40}


def shown_bytes(warehouse: cadence.Workspace) -> float:
    """DuckDB's memory limit as it shows it ("286.1 MiB"), in bytes."""
    shown = warehouse.warehouse.query("SELECT current_setting('memory_limit')")[0][0]
    number, unit = shown.split()
    return float(number) * UNITS[unit]


def close_to(shown: float, expected: float) -> bool:
    return abs(shown - expected) <= 0.05 * 2**20 + 0.0005 * expected  # DuckDB shows one decimal


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return init_workspace(tmp_path / "ws", company="Memory Co")


@pytest.mark.parametrize(("asked", "expected", "during"), [("300MB", 300e6, 128e6), ("64MB", 64e6, 64e6),
                                                         ("1.5GiB", 1.5 * 2**30, 128e6)])
def test_the_limit_asked_holds_outside_imports_and_the_smaller_one_during(
        root: Path, monkeypatch: pytest.MonkeyPatch, asked: str, expected: float, during: float) -> None:
    monkeypatch.setenv("CADENCE_DUCKDB_MEMORY", asked)
    with cadence.open(root) as ws:
        assert close_to(shown_bytes(ws), expected)
        with ws.warehouse.bounded_memory():
            assert close_to(shown_bytes(ws), during)
        assert close_to(shown_bytes(ws), expected)


def test_without_a_limit_an_import_gives_duckdb_its_default_back(root: Path, monkeypatch: pytest.MonkeyPatch
                                                                  ) -> None:
    monkeypatch.delenv("CADENCE_DUCKDB_MEMORY", raising=False)
    default = duckdb.connect().execute("SELECT current_setting('memory_limit')").fetchone()
    assert default is not None
    with cadence.open(root) as ws:
        with ws.warehouse.bounded_memory():
            assert close_to(shown_bytes(ws), 128e6)
        assert ws.warehouse.query("SELECT current_setting('memory_limit')")[0][0] == default[0]


@pytest.mark.parametrize("asked", ["lots", "12", "2 parsecs"])
def test_a_limit_that_is_not_a_size_is_one_line_naming_the_setting(root: Path, asked: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    env["CADENCE_DUCKDB_MEMORY"] = asked
    result = subprocess.run([sys.executable, "-m", "cadence.cli", "-w", str(root), "quarantine"], env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "CADENCE_DUCKDB_MEMORY" in lines[0] and repr(asked) in lines[0] and "2GB" in lines[0]
