"""`cadence snapshot`, `cadence actions` and `cadence comment` from the terminal: what they print is checked
against the warehouse read with plain SQL."""

from __future__ import annotations

import csv
import getpass
import io
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cadence.cli.main import app, register_commands
from cadence.errors import CadenceError
from cadence.workspace import Workspace
from tests.test_review import W46, sales_company

register_commands()
ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def sales(tmp_path: Path) -> Iterator[Workspace]:
    ws = sales_company(tmp_path)
    yield ws
    ws.close()


def run(ws: Workspace, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(ws.root), "--today", "2026-11-20", *args])
    assert result.exit_code == 0, result.output
    return result.output


def refused(ws: Workspace, *args: str) -> str:
    """The one line `cadence` prints for a refusal (the error boundary in `cli.main.run` prints `one_line()`)."""
    result = CliRunner().invoke(app, ["-w", str(ws.root), "--today", "2026-11-20", *args])
    assert isinstance(result.exception, CadenceError), result.output
    line = result.exception.one_line()
    assert "\n" not in line
    return line


def stored_payload(ws: Workspace, monday: date) -> dict[str, Any]:
    rows = ws.warehouse.query("SELECT payload_json FROM snapshots WHERE week_start = $1 AND scope = 'company'",
                              (monday,))
    assert len(rows) == 1
    payload: dict[str, Any] = json.loads(rows[0][0])
    return payload


def test_snapshot_keeps_the_week_and_reports_its_figures_and_what_changed(sales: Workspace, tmp_path: Path) -> None:
    first = json.loads(run(sales, "snapshot", "--week", "2026-W45", "--format", "json"))
    figures = [f for s in stored_payload(sales, date(2026, 11, 2))["sections"] for f in s["figures"]]
    assert first["week"] == "2026-W45" and first["as_of"] == "2026-11-08"
    assert first["figures"] == len(figures) > 0
    assert first["off_track"] == sum(f["status"] == "off_track" for f in figures)
    assert first["changes"] == []  # no week before it kept

    version = sales.warehouse.query("SELECT definitions_version, computed_by FROM snapshots")[0]
    assert first["definitions_version"] == version[0] and version[1] == ACTOR

    later = json.loads(run(sales, "snapshot", "--week", W46, "--format", "json"))
    moved = {(c["section"], c["label"]): c for c in later["changes"]}
    bookings = moved[("kpis", "Bookings")]  # W45 had 5,000 booked in the quarter by its end; W46 12,000
    assert (bookings["before"], bookings["after"], bookings["delta"]) == (5000, 12000, 7000)
    assert not later["definitions_changed"]

    table = run(sales, "snapshot", "--week", W46)
    assert "Kept the scorecard of 2026-W46" in table and "What changed since last week" in table
    listed = json.loads(run(sales, "snapshot", "list", "--format", "json"))["snapshots"]
    assert [s["week"] for s in listed] == [W46, "2026-W45"]
    rows = list(csv.DictReader(io.StringIO(run(sales, "snapshot", "list", "--format", "csv"))))
    assert [r["week"] for r in rows] == [W46, "2026-W45"]
    assert sales.warehouse.query("SELECT COUNT(*) FROM snapshots")[0][0] == 2


def test_actions_add_list_close_and_comment(sales: Workspace) -> None:
    made = json.loads(run(sales, "actions", "add", "--team", "Sales", "--metric", "bookings", "--week", W46,
                          "--gap", "12,000 of 100,000", "--cause", "resources", "--action", "Two more demos a day",
                          "--owner", "ana", "--due", "2026-11-20", "--format", "json"))
    rid = made["review_id"]
    assert sales.warehouse.query("SELECT kind, owner_id, recorded_by, status FROM gap_reviews WHERE review_id = $1",
                                 (rid,)) == [("kpi", "ana", ACTOR, "open")]
    every = list(csv.DictReader(io.StringIO(run(sales, "actions", "--all", "--format", "csv"))))
    assert [(r["review_id"], r["status"]) for r in every] == [(rid, "open")]

    run(sales, "comment", f"action:{rid}", "<script>alert(1)</script>")
    assert sales.warehouse.query("SELECT body, author, subject FROM comments") == [
        ("<script>alert(1)</script>", ACTOR, f"action:{rid}")]
    thread = json.loads(run(sales, "comments", f"action:{rid}", "--format", "json"))["comments"]
    assert [c["body"] for c in thread] == ["<script>alert(1)</script>"]

    closed = json.loads(run(sales, "actions", "close", rid, "--format", "json"))
    assert closed["status"] == "done"
    assert sales.warehouse.query("SELECT status FROM gap_reviews WHERE review_id = $1", (rid,)) == [("done",)]
    out = refused(sales, "actions", "close", "GA-unknown")
    assert "unknown gap action 'GA-unknown'" in out


def test_a_bad_action_is_one_line_naming_the_field(sales: Workspace) -> None:
    out = refused(sales, "actions", "add", "--team", "Sales", "--metric", "bookings", "--week", W46, "--cause", "luck",
              "--action", "Pray", "--owner", "ana", "--due", "2026-11-20")
    assert "gap action refused — cause 'luck'" in " ".join(out.split())
    out = refused(sales, "actions", "add", "--team", "Sales", "--metric", "bookings", "--week", W46, "--cause",
              "resources", "--action", "Call", "--owner", "ana", "--due", "2026-11-01")
    assert "gap action refused — due" in " ".join(out.split())
    assert sales.warehouse.query("SELECT COUNT(*) FROM gap_reviews")[0][0] == 0
    out = refused(sales, "comment", "kpi:Sales/bookings", "   ")
    assert "comment refused — body" in " ".join(out.split())
