"""docs/cli.md cannot drift: it is generated from the Typer app, and every command and option says what it does."""

from __future__ import annotations

import inspect
from typing import Any

import typer.main

from cadence.cli.main import app, register_commands
from cadence.cli.reference import cli_markdown
from tests.conftest import REPO

register_commands()


def leaf_commands(group: Any, path: str = "cadence") -> list[tuple[str, Any]]:
    found = []
    for name, command in getattr(group, "commands", {}).items():
        found.append((f"{path} {name}", command))
        found += leaf_commands(command, f"{path} {name}")
    return found


def test_the_cli_reference_is_up_to_date() -> None:
    committed = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    assert committed == cli_markdown(), "run `make docs` to regenerate docs/cli.md"


def test_every_command_and_option_is_described() -> None:
    for path, command in leaf_commands(typer.main.get_command(app)):
        assert (command.help or "").strip(), f"{path} has no description"
        for param in command.params:
            assert (param.help or "").strip(), f"{path} {param.name} has no help"


def test_each_command_has_a_section_with_its_defaults() -> None:
    """Read back from the functions' signatures, not from the generator: `cadence demo --seed` defaults to 7."""
    from cadence.cli.commands import demo

    page = (REPO / "docs" / "cli.md").read_text(encoding="utf-8")
    for path, _ in leaf_commands(typer.main.get_command(app)):
        assert f"## `{path}`" in page, path
    seed = inspect.signature(demo).parameters["seed"].default
    section = page.split("## `cadence demo`")[1].split("\n## ")[0]
    assert f"| `--seed` | integer | `{seed}` |" in section
    assert "| `DIRECTORY` | path | `demo-company` |" in section
