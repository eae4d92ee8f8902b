"""Scorecard sections kept between sessions: a later reader of the same data gets exactly what was computed, and
any write to the data (through Cadence or around it) makes the next scorecard compute again."""

from __future__ import annotations

import json
import math
import re
import shutil
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pytest

import cadence
from cadence.report.kept_sections import decode, encode, same
from cadence.report.model import Chart, Figure, Section
from cadence.report.scorecard import build_scorecard
from cadence.report.sections import SECTIONS
from cadence.store.kept_results import TABLE
from cadence.store.warehouse import UNSTAMPED
from cadence.workspace import Workspace

SRC = Path(__file__).resolve().parents[1] / "src" / "cadence"


@pytest.fixture
def demo_copy(demo_workspace: Workspace, tmp_path: Path) -> Path:
    """The demo company in a folder of its own, so a test may write to it."""
    demo_workspace.warehouse.execute("CHECKPOINT")
    target = tmp_path / "northwind"
    shutil.copytree(demo_workspace.root, target, ignore=shutil.ignore_patterns("*.wal", "*.lock", ".cadence*"))
    return target


@pytest.fixture
def computed(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The keys of the sections computed (not read back) while the test runs."""
    calls: list[str] = []
    for provider in SECTIONS:
        cls = type(provider)
        original = cls.build

        def counting(self: Any, ws: Workspace, context: Any, _original: Any = original) -> Any:
            calls.append(self.key)
            return _original(self, ws, context)

        monkeypatch.setattr(cls, "build", counting)
    yield calls


@pytest.fixture
def few(monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The scorecard narrowed to its mission, KPI and pipeline sections, whose figures move with the data, the week
    and the currency. Which inputs name a kept section is the same for every section (the first test computes and
    reads back all of them); the narrowing keeps these tests to seconds."""
    from cadence.report import scorecard

    keys = {"mission", "kpis", "pipeline"}
    monkeypatch.setattr(scorecard, "SECTIONS", [p for p in SECTIONS if p.key in keys])
    return keys


def kept_rows(ws: Workspace) -> int:
    return ws.warehouse.count(TABLE) if TABLE in ws.warehouse.table_names() else 0


def test_a_later_session_reads_back_exactly_the_computed_scorecard(demo_copy: Path, computed: list[str]) -> None:
    with cadence.open(demo_copy) as ws:
        first = build_scorecard(ws, fresh=True)
    every = {p.key for p in SECTIONS}
    assert set(computed) == every  # computed, each once
    computed.clear()
    with cadence.open(demo_copy) as ws:  # a new session, as the next `cadence scorecard` or the web app's page
        later = build_scorecard(ws)
        assert computed == []  # nothing computed: every section was read back
        assert later.as_dict() == first.as_dict()
        assert same(later.sections, first.sections)  # the same types too (a date stays a date, NaN stays NaN)
        again = build_scorecard(ws, fresh=True)  # --fresh computes every section again, with the same answer
        assert set(computed) == every
        assert again.as_dict() == first.as_dict()


def test_another_week_currency_or_setting_is_computed_not_read_back(demo_copy: Path,
                                                                    computed: list[str], few: set[str]) -> None:
    with cadence.open(demo_copy) as ws:
        card = build_scorecard(ws)
        computed.clear()
        earlier = build_scorecard(ws, week=_week_before(card.context.week))
        assert set(computed) == few
        assert earlier.context.week != card.context.week
        computed.clear()
        build_scorecard(ws, currency="EUR")
        assert set(computed) == few
    config = demo_copy / "cadence.yml"
    config.write_text(config.read_text(encoding="utf-8") + "\n# a comment changes nothing\n", encoding="utf-8")
    computed.clear()
    with cadence.open(demo_copy) as ws:  # a comment leaves the loaded settings as they were: read back
        build_scorecard(ws)
        assert computed == []
    text = config.read_text(encoding="utf-8")
    assert re.search(r"^company: .+$", text, flags=re.MULTILINE)
    config.write_text(re.sub(r"^company: .+$", "company: Northwind Renamed", text, count=1, flags=re.MULTILINE),
                      encoding="utf-8")
    with cadence.open(demo_copy) as ws:  # any change to the loaded settings computes again
        build_scorecard(ws)
        assert set(computed) == few


def _week_before(week: str) -> str:
    year, number = week.split("-W")
    monday = date.fromisocalendar(int(year), int(number), 1)
    iso = date.fromordinal(monday.toordinal() - 7).isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _won_this_week(ws: Workspace, card: Any) -> float:
    """Bookings won in the week under review, in plain SQL over the warehouse (amounts in the corporate
    currency only, as the demo's are)."""
    rows = ws.warehouse.query(
        "SELECT coalesce(sum(amount), 0) FROM opportunities WHERE is_won AND close_date >= $1 AND close_date < $2",
        (card.context.week_start, card.context.as_of))
    return float(rows[0][0])


def test_a_write_through_cadence_computes_again_with_the_new_rows(demo_copy: Path,
                                                                  computed: list[str], few: set[str]) -> None:
    with cadence.open(demo_copy) as ws:
        card = build_scorecard(ws)
        before = _won_this_week(ws, card)
        deal = ws.warehouse.query(
            "SELECT opportunity_id FROM opportunities WHERE is_won AND close_date >= $1 AND close_date < $2 "
            "ORDER BY opportunity_id LIMIT 1", (card.context.week_start, card.context.as_of))[0][0]
        ws.warehouse.execute("UPDATE opportunities SET amount = amount + 1000000 WHERE opportunity_id = $1", (deal,))
    computed.clear()
    with cadence.open(demo_copy) as ws:
        after = build_scorecard(ws)
        assert set(computed) == few
        assert _won_this_week(ws, after) == pytest.approx(before + 1_000_000)
        fresh = build_scorecard(ws, fresh=True)
        assert after.as_dict() == fresh.as_dict()
        assert after.as_dict() != card.as_dict()


def test_a_theme_edit_computes_the_roadmap_again(demo_copy: Path, computed: list[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Theme edits live in themes.yml, not in the warehouse: a product manager's rename must show in the next
    scorecard, not the name kept before it."""
    from cadence.analysis.roadmap.plan import next_period, value_roadmap
    from cadence.entries.themes import rename_theme
    from cadence.report import scorecard

    monkeypatch.setattr(scorecard, "SECTIONS", [p for p in SECTIONS if p.key == "roadmap"])
    with cadence.open(demo_copy) as ws:
        before = build_scorecard(ws)
        shown = [row["theme"] for row in before.sections[-1].rows]
        context = before.context
        start, end, _label = next_period(ws.calendar, context.as_of)
        top = value_roadmap(ws, period_start=start, period_end=end, as_of=context.as_of).themes[0]
        assert shown[0] == top.name
        rename_theme(ws, top.key, "Invoices the finance team can read")
    computed.clear()
    with cadence.open(demo_copy) as ws:
        after = build_scorecard(ws)
        assert computed == ["roadmap"]
        assert [row["theme"] for row in after.sections[-1].rows] == ["Invoices the finance team can read",
                                                                     *shown[1:]]


def test_rows_added_by_another_tool_compute_again(demo_copy: Path, computed: list[str], few: set[str]) -> None:
    with cadence.open(demo_copy) as ws:
        build_scorecard(ws)
        warehouse_file = ws.warehouse.location
    con = duckdb.connect(str(warehouse_file))  # a tool writing to the warehouse file without Cadence
    con.execute("INSERT INTO accounts (account_id, name) VALUES ('OUTSIDE-1', 'Written around Cadence')")
    con.close()
    computed.clear()
    with cadence.open(demo_copy) as ws:
        build_scorecard(ws)
    assert set(computed) == few


def test_a_scoped_reader_computes_and_keeps_nothing(demo_copy: Path, computed: list[str], few: set[str]) -> None:
    with cadence.open(demo_copy) as ws:
        build_scorecard(ws)
        rows = kept_rows(ws)
        view = ws.with_row_filter(lambda name, table: table, key="everyone-but-scoped")
        computed.clear()
        build_scorecard(view)
        assert set(computed) == few  # never read what was kept for the whole company
        assert kept_rows(ws) == rows  # and nothing of this view kept for anyone


@pytest.mark.parametrize("flavour", ["commit", "rollback", "sign-in", "reopen", "rewritten", "emptied"])
def test_the_data_version_changes_with_every_committed_write_and_only_then(any_workspace: Workspace,
                                                                        flavour: str) -> None:
    ws = any_workspace
    wh = ws.warehouse
    wh.execute("INSERT INTO accounts (account_id, name) VALUES ('A-1', 'First')")
    before = wh.data_version()
    assert before is not None
    if flavour == "commit":
        with wh.transaction():
            wh.execute("UPDATE accounts SET name = 'Renamed' WHERE account_id = 'A-1'")  # same row count
        assert wh.data_version() != before
    elif flavour == "rollback":
        with pytest.raises(RuntimeError), wh.transaction():
            wh.execute("UPDATE accounts SET name = 'Renamed' WHERE account_id = 'A-1'")
            raise RuntimeError("the import failed")
        assert wh.data_version() == before
        assert wh.query("SELECT name FROM accounts")[0][0] == "First"
    elif flavour == "rewritten":  # the same rows imported again: deleted and written back as they were, and logged
        with wh.transaction():
            wh.execute("DELETE FROM accounts WHERE account_id = 'A-1'")
            wh.execute("INSERT INTO accounts (account_id, name) VALUES ('A-1', 'First')")
            wh.execute("INSERT INTO imports (import_key, format, path, read, loaded, quarantined, imported_at) "
                       "VALUES ('csv:accounts.csv', 'csv', 'accounts.csv', 1, 1, 0, TIMESTAMP '2026-12-07 08:00:00')")
        assert wh.data_version() == before
        with wh.transaction():  # one cell of one row made NULL: same row count, other rows
            wh.execute("DELETE FROM accounts WHERE account_id = 'A-1'")
            wh.execute("INSERT INTO accounts (account_id, name) VALUES ('A-1', NULL)")
        assert wh.data_version() != before
    elif flavour == "emptied":  # every row deleted then a different one added: the row count alone cannot tell
        with wh.transaction():
            wh.execute("DELETE FROM accounts")
            wh.execute("INSERT INTO accounts (account_id, name) VALUES ('A-2', 'First')")
        assert wh.data_version() != before
        assert wh.query("SELECT account_id FROM accounts") == [("A-2",)]
    elif flavour == "sign-in":
        from cadence.accounts.sessions import start_session
        from cadence.accounts.users import add_user

        user = add_user(ws, "ana", "admin", password="a long enough passphrase")
        start_session(ws, user, address="127.0.0.1", user_agent="test")
        assert wh.data_version() == before  # who signs in changes no figure
    else:
        root = ws.root
        ws.close()
        with cadence.open(root) as again:  # opening writes cadence.yml's stages and rates only when they changed
            assert again.warehouse.data_version() == before


def test_a_section_reads_back_with_its_types() -> None:
    rows: list[dict[str, Any]] = [
        {"day": date(2026, 3, 31), "at": datetime(2026, 3, 31, 17, 5), "stamp": pd.Timestamp("2026-03-31 09:00"),
         "n": np.int64(7), "share": np.float64(0.25), "flag": np.bool_(True), "money": Decimal("12.50"),
         "missing": None, "nan": float("nan"), "inf": float("-inf"), "pair": ("EUR", 2), "by_year": {2026: 1.5},
         "text": "Négociation — 提案", "dollar_key": {"$date": "not a tag"}},
    ]
    section = Section("s", "Section", figures=[Figure("Bookings", 1.0 / 3.0, "currency", metric="bookings",
                                                      change_wow=float("nan"))],
                      rows=rows, charts=[Chart("c", "Chart", {"data": {"values": [{"x": 1, "y": None}]}})],
                      notes=["one note"])
    back = decode(encode(section))
    assert back is not None
    assert same(back, section)
    got = back.rows[0]
    assert isinstance(got["day"], date) and not isinstance(got["day"], datetime)
    assert type(got["n"]) is np.int64 and type(got["share"]) is np.float64 and type(got["stamp"]) is pd.Timestamp
    assert got["pair"] == ("EUR", 2) and got["by_year"] == {2026: 1.5} and got["money"] == Decimal("12.50")
    assert math.isnan(got["nan"]) and got["inf"] == float("-inf")
    assert got["dollar_key"] == {"$date": "not a tag"}
    assert back.figures[0].value == 1.0 / 3.0  # every digit of a float
    assert decode(encode(None)) is None


def test_a_section_that_cannot_be_written_is_shown_not_kept() -> None:
    with pytest.raises(TypeError):
        encode(Section("s", "Section", rows=[{"odd": object()}]))


def test_no_figure_reads_a_table_whose_writes_leave_the_data_version() -> None:
    """Writing `users`, `sessions`, … keeps every kept result: so no metric, analysis or report may read them."""
    names = "|".join(sorted(n for n in UNSTAMPED))
    quoted = re.compile(rf"""["']({names})["']|\b(?:FROM|JOIN)\s+"?({names})\b""", re.IGNORECASE)
    found = [f"{path.relative_to(SRC)}: {m.group(0)}"
             for folder in ("metrics", "analysis", "report")
             for path in sorted((SRC / folder).rglob("*.py"))
             for m in quoted.finditer(path.read_text(encoding="utf-8"))]
    assert found == []


def test_an_import_prepares_this_weeks_scorecard_for_its_first_reader(tmp_path: Path,
                                                                      computed: list[str], few: set[str]) -> None:
    """`cadence ingest` ends by computing and keeping this week's scorecard, so the first reader reads its sections
    back; `--no-prepare` leaves the computing to that reader."""
    from typer.testing import CliRunner

    from cadence.cli.main import app, register_commands
    from cadence.workspace import init_workspace
    from tests.test_spark_connect import configure, write_company

    register_commands()
    root = init_workspace(tmp_path / "company")
    configure(root)

    dropped: list[str] = []  # the sections the last ingest computed

    def ingest(version: int, *flags: str, output: str = "json") -> str:
        export = write_company(tmp_path / f"export-{version}", version=version)
        result = CliRunner().invoke(app, ["-w", str(root), "ingest", str(export), "--from", "csv", "--mapping",
                                          str(export / "export.mapping.yml"), "--format", output, *flags])
        assert result.exit_code == 0, result.output
        dropped[:] = computed
        computed.clear()
        return result.stdout

    def first_reader() -> Any:
        with cadence.open(root) as reader:  # a session of its own, as the next command or page
            return build_scorecard(reader)

    assert json.loads(ingest(1))["changed"] is True
    card = first_reader()
    assert computed == []  # every section read back
    with cadence.open(root) as reader:
        assert card.as_dict() == build_scorecard(reader, fresh=True).as_dict()
        logged = reader.warehouse.query("SELECT max(imported_at) FROM imports")[0][0]
    computed.clear()
    # the same export again (a nightly drop of an unchanged file): the rows are rewritten as they were, and it says so
    said = " ".join(ingest(1, output="table").split())
    assert "no row changed" in said and "is still current" in said
    assert dropped == []  # so the data keeps its version and the ingest computed nothing: it read the week back
    assert first_reader().as_dict() == card.as_dict()
    assert computed == []
    with cadence.open(root) as reader:  # the import itself is still logged
        assert reader.warehouse.query("SELECT max(imported_at) FROM imports")[0][0] > logged
    ingest(2, "--no-prepare")  # every amount tripled and a deal added
    later = first_reader()
    assert set(computed) == few
    assert later.as_dict() != card.as_dict()
