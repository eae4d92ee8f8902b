"""Docs that cannot drift: the schema reference is generated, and the README links it."""

from __future__ import annotations

from cadence.schema import SCHEMA_VERSION, TABLES
from cadence.schema.reference import schema_markdown
from tests.conftest import REPO


def test_schema_reference_is_up_to_date() -> None:
    committed = (REPO / "docs" / "schema.md").read_text(encoding="utf-8").rstrip("\n")
    assert committed == schema_markdown(SCHEMA_VERSION).rstrip("\n"), "run `make docs` to regenerate docs/schema.md"


def test_every_table_and_column_is_described() -> None:
    for table in TABLES:
        assert table.description, table.name
        for column in table.columns:
            assert column.description, f"{table.name}.{column.name}"


def test_readme_shows_the_two_commands_and_links_the_schema() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    first_screen = "\n".join(readme.splitlines()[:40])
    assert "make demo" in first_screen and "make test" in first_screen
    assert "docs/schema.md" in readme
