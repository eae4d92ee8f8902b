"""The terminal as people use it: at 80 and 60 columns no number, id or name is cut, numbers are
right-aligned, and mistakes on the command line are one line — never a traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cadence.cli.console import console
from cadence.cli.main import app, register_commands
from cadence.workspace import Workspace

register_commands()
CADENCE = [sys.executable, "-m", "cadence.cli"]
CUT = re.compile(r"[\w,.%$)]…")


def run(ws: Workspace, width: int, *args: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(console, "_width", width)  # the one console every command prints through
    result = CliRunner().invoke(app, ["-w", str(ws.root), *args], env={"COLUMNS": str(width)})
    assert result.exit_code == 0, result.output
    assert not CUT.search(result.output), result.output  # rich marks a value it cut with "…" right after it
    for line in result.output.splitlines():
        assert len(line.rstrip()) <= width, line
    return result.output


def json_of(ws: Workspace, *args: str) -> dict[str, object]:
    result = CliRunner().invoke(app, ["-w", str(ws.root), *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)  # type: ignore[no-any-return]


@pytest.mark.parametrize("width", [80, 60])
def test_metric_by_owner_shows_every_value_and_name_whole(demo_workspace: Workspace, width: int,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    args = ("metric", "bookings", "--by", "owner_name", "--grain", "quarter", "--from", "2025-Q3")
    out = run(demo_workspace, width, *args, monkeypatch=monkeypatch)
    rows = json_of(demo_workspace, *args)["rows"]
    assert rows
    for row in rows:  # type: ignore[attr-defined]
        assert f"{row['value']:,.0f}" in out
        assert row["owner_name"] in out


@pytest.mark.parametrize("width", [80, 60])
def test_metric_names_are_never_cut(demo_workspace: Workspace, width: int, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(demo_workspace, width, "metrics", monkeypatch=monkeypatch)
    names = [m["name"] for m in json_of(demo_workspace, "metrics")["metrics"]]  # type: ignore[index]
    words = set(re.findall(r"[a-z_]+", out))
    assert set(names) <= words  # each name appears as one unbroken word a user can type


@pytest.mark.parametrize("width", [80, 60])
def test_funnel_forecast_and_scorecard_fit(demo_workspace: Workspace, width: int,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    funnel = run(demo_workspace, width, "funnel", monkeypatch=monkeypatch)
    for stage in json_of(demo_workspace, "funnel")["stages"]:  # type: ignore[attr-defined]
        assert f"{stage['reached']:,}" in funnel
        if stage["win_rate"] is not None:  # the rate beside the counts it stands on
            assert f"{stage['win_rate']:.1%} ({stage['won']:,} of {stage['closed']:,})" in funnel
    forecast = run(demo_workspace, width, "forecast", monkeypatch=monkeypatch)
    assert "open deals" in forecast
    scorecard = run(demo_workspace, width, "scorecard", monkeypatch=monkeypatch)
    assert "weekly scorecard" in scorecard


def test_numbers_are_right_aligned(demo_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(demo_workspace, 80, "metric", "won_deals", "--grain", "year", monkeypatch=monkeypatch)
    values = [f"{r['value']:,.0f}" for r in json_of(demo_workspace, "metric", "won_deals", "--grain", "year")["rows"]]  # type: ignore[attr-defined]
    ends = {line.rstrip().rstrip("│┃ ").__len__() for line in out.splitlines() if any(v in line for v in values)}
    assert len(ends) == 1  # every value ends in the same column


def cadence(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    return subprocess.run([*CADENCE, *args], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("args, says", [(["nosuch"], "No such command 'nosuch'"),
                                        (["metric"], "Missing argument"),
                                        (["metric", "bookings", "--nope"], "No such option")])
def test_usage_errors_are_one_line_and_the_usage(args: list[str], says: str) -> None:
    result = cadence(*args)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "typer._click" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and says in errors[0], result.stderr
    assert "Usage: cadence" in result.stderr


def test_a_bad_where_value_is_one_line(demo_workspace: Workspace, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    from cadence.cli.main import run as entry_point  # the real error boundary, in this process (the demo is open)

    monkeypatch.setattr(sys, "argv", ["cadence", "-w", str(demo_workspace.root), "metric", "bookings",
                                      "--where", "amount > 'x'"])
    with pytest.raises(SystemExit) as stopped:
        entry_point()
    assert stopped.value.code == 1
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and "amount" in lines[0] and "'x'" in lines[0], lines


def test_explain_of_an_empty_period_says_so(demo_workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    out = run(demo_workspace, 80, "explain", "bookings", "--period", "2001-Q1", monkeypatch=monkeypatch)
    assert "no rows in 2001-Q1" in out
    assert "SELECT" not in out.upper()
    assert len(out.strip().splitlines()) <= 3


def test_make_test_runs_the_clean_install_smoke_test() -> None:
    """`make test` runs the clean-install smoke test, the linters and the type checker before the suite (read from
    what make would run, not from how the Makefile spells it)."""
    root = Path(__file__).resolve().parents[1]
    planned = subprocess.run(["make", "-n", "--no-print-directory", "test"], cwd=root, capture_output=True,
                             text=True, check=True, timeout=60).stdout
    steps = ["tools/cli_smoke.sh", "ruff check", "lint-imports", "mypy", "pytest"]
    at = [planned.find(step) for step in steps]
    assert all(i >= 0 for i in at), dict(zip(steps, at, strict=True))
    assert max(at[:-1]) < at[-1]  # every check before the suite
