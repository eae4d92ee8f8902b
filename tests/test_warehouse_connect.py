"""A warehouse opens from any Ibis backend URL, binds parameters through its driver, and keeps an error's cause."""

from __future__ import annotations

from pathlib import Path

import pytest

from cadence.errors import WarehouseError
from cadence.store import connect


def test_a_backend_without_its_driver_names_the_pip_extra(tmp_path: Path) -> None:
    with pytest.raises(WarehouseError) as raised:
        connect("mysql://someone@localhost/crm", tmp_path)
    assert "pip install 'ibis-framework[mysql]'" in str(raised.value)
    assert "\n" not in raised.value.one_line()
    assert isinstance(raised.value.__cause__, ImportError)


def test_any_ibis_url_reads_and_writes_with_numbered_parameters(tmp_path: Path) -> None:
    warehouse = connect(f"sqlite:///{tmp_path / 'w.db'}", tmp_path)
    warehouse.execute("CREATE TABLE deals (id TEXT, amount INTEGER)")
    with warehouse.transaction():
        warehouse.execute("INSERT INTO deals VALUES ($1, $2), ($3, $4)", ("a'1", 5, "b", 7))
    warehouse.delete_in("deals", "id", ["b"])
    assert warehouse.query("SELECT id, amount FROM deals WHERE amount > $1", (1,)) == [("a'1", 5)]
    assert warehouse.table("deals").amount.sum().execute() == 5
    warehouse.close()


def test_an_unreadable_duckdb_file_keeps_its_cause(tmp_path: Path) -> None:
    (tmp_path / "broken.duckdb").write_text("not a database")
    with pytest.raises(WarehouseError) as raised:
        connect("broken.duckdb", tmp_path)
    assert raised.value.__cause__ is not None


def test_the_command_line_prints_the_pip_extra_as_written(tmp_path: Path) -> None:
    """The terminal's colours are markup in square brackets: an error naming `ibis-framework[mysql]` must still
    show the brackets, or the command it tells the user to run is wrong."""
    from tests.test_cli import cadence

    result = cadence("init", str(tmp_path / "ws"), "--warehouse", "mysql://someone@localhost/crm")
    assert result.returncode == 1
    assert "pip install 'ibis-framework[mysql]'" in result.stderr
