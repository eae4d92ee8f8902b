"""Every command's `--format csv` and `--format markdown` print that format, or exit 1 with one line.

The commands are found on the Typer app itself, so a new command is covered the day it is added (and fails
here until it is given the arguments it needs on the demo company).
"""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main

from cadence.cli.main import FormatOption, Output, app, register_commands, run
from cadence.workspace import Workspace, init_workspace

register_commands()

# What each command needs beyond `--format` to run on the demo company ({tmp}: a scratch folder).
ARGUMENTS: dict[str, list[str]] = {
    "ingest": ["{tmp}/deals.csv", "--from", "csv"],
    "demo": ["{tmp}/another-demo"],
    "metric": ["bookings", "--grain", "quarter"],
    "explain": ["bookings"],
    "hiring score": ["C-1", "I-1", "communication", "3"],
    "requests add": ["Export to PDF"],
    "roadmap plan": ["--capacity", "800h"],
    "roadmap value": ["{feature}"],
    "comments": ["kpi:Sales/bookings"],
    "forecast call": ["--person", "P014", "--quarter", "2027-Q2", "--commit", "1000"],
    "copy": ["--to", "{tmp}/no-workspace-here"],  # the format is answered before the target is looked for
}
# Commands that write: run on an empty workspace of their own, never on the shared demo.
WRITES = {"ingest", "demo", "hiring score", "requests add", "forecast call"}
SLOW = {"forecast backtest", "forecast calls"}


def commands_with_format() -> list[str]:
    """The path (after `cadence`) of every command and command group that takes `--format`."""
    found: list[str] = []

    def walk(command: Any, path: list[str]) -> None:
        if any(param.name == "output" for param in command.params):
            found.append(" ".join(path))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return found


def cases() -> Iterator[Any]:
    for command in commands_with_format():
        for output in ("csv", "markdown"):
            marks = [pytest.mark.slow] if command in SLOW else []
            yield pytest.param(command, output, id=f"{command.replace(' ', '-')}-{output}", marks=marks)


def invoke(argv: list[str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, str,
                                                                                                          str]:
    """`cadence ARGV` in this process, as the entry point runs it: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["cadence", *argv])
    capsys.readouterr()
    try:
        run()
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def feature(demo_workspace: Workspace) -> str:
    return str(demo_workspace.warehouse.table("features").order_by("feature_id").to_pandas()["feature_id"][0])


def assert_csv(text: str) -> None:
    rows = list(csv.reader(io.StringIO(text)))
    assert rows and rows[0] and all(rows[0]), f"no CSV header in:\n{text[:500]}"
    assert all(len(row) == len(rows[0]) for row in rows[1:]), f"ragged CSV:\n{text[:500]}"
    assert "┃" not in text and "│" not in text, "a Rich table where CSV was asked"


def assert_markdown(text: str) -> None:
    lines = text.splitlines()
    assert any(line.startswith("|---") for line in lines) or any(line.startswith("#") for line in lines), text[:500]
    assert "┃" not in text and "│" not in text, "a Rich table where Markdown was asked"


@pytest.mark.parametrize(("command", "output"), list(cases()))
def test_every_command_prints_the_format_or_refuses_in_one_line(
        command: str, output: str, demo_workspace: Workspace, feature: str, tmp_path: Path,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    root = demo_workspace.root
    if command in WRITES:
        root = init_workspace(tmp_path / "scratch", company="Scratch")
        (tmp_path / "deals.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    extra = [arg.format(tmp=tmp_path, feature=feature) for arg in ARGUMENTS.get(command, [])]
    code, out, err = invoke(["-w", str(root), *command.split(), *extra, "--format", output], capsys, monkeypatch)
    if code == 0:
        (assert_csv if output == "csv" else assert_markdown)(out)
        return
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 1 and len(lines) == 1, f"exit {code}, stderr:\n{err}"


def test_the_refusal_names_the_command_the_format_and_the_way_out(
        demo_workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = invoke(["-w", str(demo_workspace.root), "explain", "bookings", "--format", "csv"],
                            capsys, monkeypatch)
    assert (code, out) == (1, "")
    assert err.strip() == "error: cadence explain cannot print csv: its result is not one table — use --format json"


def test_a_command_that_declares_nothing_is_refused_csv_before_it_runs() -> None:
    """The check sits in the `--format` option: a command that never thought about CSV cannot print a table."""
    from cadence.cli.render import FormatRefused

    ran: list[Output] = []
    scratch = typer.Typer()

    @scratch.command()
    def report(output: FormatOption = Output.table) -> None:
        ran.append(output)

    @scratch.command()
    def other() -> None:  # a second command, so `report` is a subcommand like every command of cadence
        pass

    with pytest.raises(FormatRefused, match="cannot print csv"):
        scratch(["report", "--format", "csv"], standalone_mode=False)
    scratch(["report", "--format", "json"], standalone_mode=False)
    assert ran == [Output.json]
