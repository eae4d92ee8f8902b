"""The slow analyses' answers kept between sessions: the same question on the same data reads back exactly what was
computed; another question, a write to the data, another scope or `--fresh` computes again."""

from __future__ import annotations

import json
import math
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest

import cadence
from cadence.cli.main import register_commands, run
from cadence.report.kept_answers import KIND, kept_answer
from cadence.store.kept_results import TABLE
from cadence.workspace import Workspace

register_commands()


def answers_kept(ws: Workspace) -> int:
    """Kept answers, counted with plain SQL on the results table."""
    if TABLE not in ws.warehouse.table_names():
        return 0
    return int(ws.warehouse.query(f"SELECT count(*) FROM {TABLE} WHERE kind = $1", (KIND,))[0][0])


def accounts_by_sql(ws: Workspace) -> int:
    return int(ws.warehouse.query("SELECT count(*) FROM accounts")[0][0])


def test_an_answer_is_read_back_until_the_data_the_question_or_the_scope_changes(workspace: Workspace) -> None:
    asked: list[str] = []

    def count(label: str, source: Workspace) -> dict[str, Any]:
        asked.append(label)
        return {"accounts": accounts_by_sql(source), "as_of": date(2026, 1, 31), "gap": math.nan, "owner": None}

    first = kept_answer(workspace, ("accounts",), lambda: count("first", workspace))
    again = kept_answer(workspace, ("accounts",), lambda: count("again", workspace))
    assert asked == ["first"] and again["accounts"] == first["accounts"] == 0
    assert again["as_of"] == date(2026, 1, 31) and math.isnan(again["gap"]) and again["owner"] is None  # types kept
    assert answers_kept(workspace) == 1

    kept_answer(workspace, ("accounts", "another question"), lambda: count("other question", workspace))
    kept_answer(workspace, ("accounts",), lambda: count("fresh", workspace), fresh=True)
    assert asked[-2:] == ["other question", "fresh"]

    workspace.warehouse.execute("INSERT INTO accounts (account_id, name) VALUES ('A-1', 'Müller & Söhne GmbH')")
    after = kept_answer(workspace, ("accounts",), lambda: count("after the write", workspace))
    assert asked[-1] == "after the write" and after["accounts"] == accounts_by_sql(workspace) == 1

    team_a = workspace.with_row_filter(lambda name, table: table, key="team:A")
    team_b = workspace.with_row_filter(lambda name, table: table, key="team:B")
    kept_answer(team_a, ("accounts",), lambda: count("team A", team_a))  # never the company's answer
    kept_answer(team_a, ("accounts",), lambda: count("team A again", team_a))  # its own, read back
    kept_answer(team_b, ("accounts",), lambda: count("team B", team_b))  # never team A's
    assert asked[-2:] == ["team A", "team B"]


def test_an_answer_that_would_not_read_back_the_same_is_given_not_kept(workspace: Workspace) -> None:
    answer = kept_answer(workspace, ("odd",), lambda: {"owners": {"P1", "P2"}})  # a set: JSON has none
    assert answer == {"owners": {"P1", "P2"}} and answers_kept(workspace) == 0


def cli(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> str:
    """`cadence ARGV` in this process, as the entry point runs it: what it printed."""
    monkeypatch.setattr(sys, "argv", ["cadence", *argv])
    capsys.readouterr()
    try:
        run()
    except SystemExit as exc:
        assert not exc.code, capsys.readouterr().err
    return capsys.readouterr().out


def test_the_forecast_asked_again_prints_exactly_what_a_fresh_forecast_prints(
        demo_workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    demo_workspace.warehouse.execute("CHECKPOINT")
    root = tmp_path / "northwind"
    shutil.copytree(demo_workspace.root, root, ignore=shutil.ignore_patterns("*.wal", "*.lock", ".cadence*"))
    with cadence.open(root) as ws:
        before = answers_kept(ws)  # the shared demo's own, kept by whatever asked it before
    from cadence.analysis import forecast

    fitted: list[int] = []
    monkeypatch.setattr(forecast, "forecast_with_rollup",
                        lambda *a, _f=forecast.forecast_with_rollup, **k: fitted.append(1) or _f(*a, **k))
    argv = ["-w", str(root), "forecast", "--as-of", "2025-11-15", "--format", "json"]
    computed = cli(argv, capsys, monkeypatch)
    read_back = cli(argv, capsys, monkeypatch)
    fresh = cli([*argv, "--fresh"], capsys, monkeypatch)
    assert len(fitted) == 2  # the first and the --fresh one; the second read back
    assert read_back == computed == fresh
    assert json.loads(read_back)["as_of"] == "2025-11-15"
    another = cli([*argv[:3], "--as-of", "2025-11-16", "--format", "json"], capsys, monkeypatch)
    assert len(fitted) == 3 and json.loads(another)["as_of"] == "2025-11-16"  # another question: computed
    with cadence.open(root) as ws:
        assert answers_kept(ws) == before + 2  # two questions; --fresh kept its answer under the first one's name
