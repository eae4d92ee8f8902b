"""The command line as users meet it: one red line for their mistakes, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cadence.cli.main import app

CADENCE = [sys.executable, "-m", "cadence.cli"]


def cadence(*args: str, cwd: Path | None = None, check: bool = False) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    result = subprocess.run([*CADENCE, *args], capture_output=True, text=True, cwd=cwd, env=env, timeout=120)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def _one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_init_then_schema_as_json(tmp_path: Path) -> None:
    cadence("init", str(tmp_path / "acme"), "--company", "Acme", check=True)
    out = cadence("-w", str(tmp_path / "acme"), "schema", "--format", "json", check=True)
    tables = {t["name"] for t in json.loads(out.stdout)["tables"]}
    assert {"accounts", "opportunities", "opportunity_history", "activities", "quarantine"} <= tables


def test_no_workspace_is_one_line(tmp_path: Path) -> None:
    line = _one_line_error(cadence("-w", str(tmp_path), "quarantine"))
    assert "cadence.yml" in line and "cadence init" in line


def test_unknown_format_suggests_the_closest(tmp_path: Path) -> None:
    cadence("init", str(tmp_path / "ws"), check=True)
    data = tmp_path / "deals.csv"
    data.write_text("a,b\n1,2\n")
    line = _one_line_error(cadence("-w", str(tmp_path / "ws"), "ingest", str(data), "--from", "salesforse"))
    assert "salesforce" in line


def test_workspace_from_environment(tmp_path: Path) -> None:
    cadence("init", str(tmp_path / "ws"), check=True)
    env = {**os.environ, "CADENCE_WORKSPACE": str(tmp_path / "ws")}
    result = subprocess.run([*CADENCE, "quarantine", "--format", "json"], capture_output=True, text=True,
                            env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["total"] == 0


def _commands(group: object) -> list[tuple[str, object]]:
    import typer.main

    click_group = typer.main.get_command(group)  # type: ignore[arg-type]
    return list(click_group.commands.items())  # type: ignore[attr-defined]


def test_every_command_says_what_it_does() -> None:
    from cadence.cli.main import register_commands

    register_commands()

    commands = _commands(app)
    assert len(commands) >= 5
    for name, command in commands:
        assert getattr(command, "help", None), f"`cadence {name}` has no description"


@pytest.mark.parametrize("args", [["--help"], ["ingest", "--help"]])
def test_help_works(args: list[str]) -> None:
    assert cadence(*args, check=True).stdout


def test_an_import_run_from_cron_leaves_no_blank_lines_in_its_log(tmp_path: Path) -> None:
    """With stderr a pipe or a log file (cron, CI), the progress bars are not drawn: no blank line or terminal
    escape per step, only what a reader of the log needs."""
    from tests.test_spark_connect import configure, write_company

    cadence("init", str(tmp_path / "ws"), check=True)
    configure(tmp_path / "ws")
    export = write_company(tmp_path / "export")
    result = cadence("-w", str(tmp_path / "ws"), "ingest", str(export), "--from", "csv", "--mapping",
                     str(export / "export.mapping.yml"), "--no-prepare", "--format", "json", check=True)
    assert json.loads(result.stdout)["loaded"] > 0
    assert "\n\n" not in "\n" + result.stderr and "\x1b" not in result.stderr, repr(result.stderr)
