"""docs/cli.md from the Typer app itself: every command, argument and option with its default.

`python -m cadence.cli.reference > docs/cli.md` (what `make docs` runs); tests/test_cli_reference.py keeps the
committed page equal to what this prints.
"""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import Any

import typer.main

from cadence.cli.main import app, register_commands
from cadence.cli.render import Output, formats_of

HEADER = """# Command-line reference

Generated from the code by `make docs` (`python -m cadence.cli.reference`); do not edit by hand.
Every command takes the global options before its name: `cadence [global options] COMMAND …`.
"""


def cli_markdown() -> str:
    """The whole reference: the global options, then each command in the order `cadence --help` lists them."""
    register_commands()
    root = typer.main.get_command(app)
    parts = [HEADER, "## Global options\n", _params_table(root.params)]
    for path, command in _commands(root, ["cadence"]):
        parts.append(_command_section(path, command))
    return "\n".join(parts)


def _commands(group: Any, path: list[str]) -> list[tuple[str, Any]]:
    found: list[tuple[str, Any]] = []
    for name, command in getattr(group, "commands", {}).items():
        here = [*path, name]
        found.append((" ".join(here), command))
        found += _commands(command, here)
    return found


def _command_section(path: str, command: Any) -> str:
    lines = [f"## `{path}`", "", (command.help or "").strip(), ""]
    subcommands = sorted(getattr(command, "commands", {}))
    if subcommands:
        lines += [f"Subcommands: {', '.join(f'`{path} {name}`' for name in subcommands)}.", ""]
    if command.params:
        lines.append(_params_table(command.params, formats_of(command.callback)))
    return "\n".join(lines)


def _params_table(params: list[Any], formats: frozenset[Output] = frozenset()) -> str:
    """One row per argument and option; `--format` lists only the formats this command's result takes."""
    rows = ["| argument or option | type | default | meaning |", "|---|---|---|---|"]
    for param in params:
        if getattr(param, "hidden", False):
            continue
        kind = " \\| ".join(o.value for o in Output if o in formats) if param.name == "output" else _type(param)
        rows.append(f"| {_names(param)} | {kind} | {_default(param)} | {_cell(getattr(param, 'help', ''))} |")
    return "\n".join(rows) + "\n"


def _names(param: Any) -> str:
    if param.param_type_name == "argument":
        return f"`{param.name.upper()}`"
    flags = [*param.opts, *param.secondary_opts]
    return ", ".join(f"`{flag}`" for flag in flags)


def _type(param: Any) -> str:
    """What a value looks like, from the parameter's annotation: text, integer, path, a choice, a flag."""
    if getattr(param, "is_flag", False):
        return "flag"
    annotation = param.type_descriptor.annotation
    repeatable = getattr(annotation, "__origin__", None) is list
    if repeatable:
        annotation = annotation.__args__[0]
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        kind = " \\| ".join(str(member.value) for member in annotation)
    else:
        kind = {str: "text", int: "integer", float: "number", Path: "path"}.get(annotation, str(annotation))
    return f"{kind}, repeatable" if repeatable else kind


def _default(param: Any) -> str:
    if param.required:
        return "required"
    value = param.default
    if isinstance(value, Enum):
        value = value.value
    if value is None or value == [] or value is False and getattr(param, "is_flag", False):
        shown = "—" if not getattr(param, "is_flag", False) else "off"
    else:
        shown = f"`{value}`"
    envvar = getattr(param, "envvar", None)
    return f"{shown} (env `{envvar}`)" if envvar else shown


def _cell(text: str | None) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ").strip()


if __name__ == "__main__":
    sys.stdout.write(cli_markdown())
