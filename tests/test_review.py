"""The weekly review: a snapshot keeps the scorecard as leadership saw it, what changed is worked out figure by
figure, and a gap action comes back every week until it is closed — checked with plain SQL and hand-worked
tables, on a small company whose deals are typed in below."""

from __future__ import annotations

import csv
import json
import math
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

import cadence
from cadence.entries import EntryRefused, record_review, record_shipment, set_target
from cadence.errors import UnknownNameError
from cadence.report.scorecard import build_scorecard
from cadence.review.actions import ActionRefused, actions_for_week, add_comment, close_action, comments_on, open_action
from cadence.review.changes import what_changed
from cadence.review.snapshots import (
    Snapshot,
    definitions_version,
    get_snapshot,
    latest_snapshot,
    list_snapshots,
    parse_week,
    take_snapshot,
)
from cadence.workspace import Workspace, init_workspace
from tests.ingest_helpers import reopened

TEAMS = [{"name": "Sales", "kind": "sales", "kpis": [{"metric": "bookings", "target": 100000, "period": "quarter"}]}]
MAPPING = {"files": [{"file": "deals*.csv", "table": "opportunities",
                      "columns": {"opportunity_id": "Deal ID", "account_id": "Company ID", "stage": "Stage",
                                  "amount": "Amount", "created_at": "Created", "close_date": "Closed"},
                      "constants": {"currency": "USD"},
                      "values": {"stage": {"Won": "Closed Won", "Lost": "Closed Lost"}}}]}
HEADER = ["Deal ID", "Company ID", "Stage", "Amount", "Created", "Closed"]
FIRST = [["D1", "A1", "Won", "5000", "2026-10-01", "2026-11-03"],
         ["D2", "A1", "Won", "7000", "2026-10-05", "2026-11-10"],
         ["D3", "A2", "Lost", "3000", "2026-10-07", "2026-11-12"]]
LATER = [["D4", "A3", "Won", "9000", "2026-10-20", "2026-11-11"]]  # arrives after the snapshot, dated inside W46
W46, TODAY = "2026-W46", date(2026, 11, 20)


def deals_export(folder: Path, rows: list[list[str]]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "deals.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    (folder / "deals.mapping.yml").write_text(yaml.safe_dump(MAPPING))
    return folder


def sales_company(root: Path, warehouse: str | None = None) -> Workspace:
    """A company with one Sales team, a quarterly bookings target of 100,000 and three deals in November."""
    init_workspace(root / "ws", company="Review Co", warehouse=warehouse)
    path = root / "ws" / "cadence.yml"
    config = yaml.safe_load(path.read_text())
    config["teams"] = TEAMS
    path.write_text(yaml.safe_dump(config))
    ws = cadence.open(root / "ws")
    export = deals_export(root / "first", FIRST)
    ws.ingest(export, "csv", mapping=export / "deals.mapping.yml")
    return ws


@pytest.fixture
def sales(tmp_path: Path) -> Iterator[Workspace]:
    ws = sales_company(tmp_path)
    yield ws
    ws.close()


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def sales_any(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Workspace]:
    """The same company on the embedded DuckDB and on a real PostgreSQL."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    ws = sales_company(tmp_path, url)
    yield ws
    ws.close()


def normalised(value: Any) -> Any:
    """JSON as `json` writes it, with NaN and infinities as null (a second way to the stored form)."""
    def clean(item: Any) -> Any:
        if isinstance(item, float) and not math.isfinite(item):
            return None
        if isinstance(item, dict):
            return {k: clean(v) for k, v in item.items()}
        if isinstance(item, list):
            return [clean(v) for v in item]
        return item

    return clean(json.loads(json.dumps(value, default=str)))


def figure(payload: dict[str, Any], section: str, label: str) -> dict[str, Any]:
    found = [f for s in payload["sections"] if s["key"] == section for f in s["figures"] if f["label"] == label]
    assert len(found) == 1, found
    return found[0]


def count(ws: Workspace, sql: str, params: tuple[Any, ...] | None = None) -> int:
    return int(ws.warehouse.query(sql, params)[0][0])


# -- snapshots ------------------------------------------------------------------------------------------------


def test_a_snapshot_keeps_the_scorecard_as_leadership_saw_it_after_a_later_import(sales_any: Workspace,
                                                                                  tmp_path: Path) -> None:
    sales = sales_any
    expected = normalised(build_scorecard(sales, week=W46, today=TODAY).as_dict())
    taken = take_snapshot(sales, W46, computed_by="ana", today=TODAY)
    assert taken.payload == expected
    assert (taken.week_start, taken.week, taken.as_of) == (date(2026, 11, 9), W46, date(2026, 11, 15))
    stored = sales.warehouse.query("SELECT payload_json, computed_by, definitions_version FROM snapshots "
                                   "WHERE week_start = $1 AND scope = 'company'", (date(2026, 11, 9),))
    assert len(stored) == 1
    assert json.loads(stored[0][0]) == expected and stored[0][1] == "ana"

    take_snapshot(sales, W46, computed_by="ana", today=TODAY)  # again: replaces, never a second row
    assert count(sales, "SELECT COUNT(*) FROM snapshots") == 1

    later = deals_export(tmp_path / "later", LATER)
    sales.ingest(later, "csv", mapping=later / "deals.mapping.yml")
    kept = get_snapshot(sales, date(2026, 11, 12))  # any day of the week finds it
    assert kept is not None
    assert figure(kept.payload, "kpis", "Bookings")["value"] == 5000 + 7000  # what leadership saw
    fresh = build_scorecard(sales, week=W46, today=TODAY).as_dict()
    assert figure(fresh, "kpis", "Bookings")["value"] == 5000 + 7000 + 9000  # today's data differs
    assert get_snapshot(sales, date(2026, 11, 16)) is None
    assert get_snapshot(sales, date(2026, 11, 9), scope="team:Sales") is None


def test_snapshots_are_listed_newest_first_per_scope(sales: Workspace) -> None:
    take_snapshot(sales, "2026-W45", today=TODAY)
    take_snapshot(sales, W46, today=TODAY)
    take_snapshot(sales, "2026-W45", scope="team:Sales", today=TODAY)
    assert [(s.week, s.scope) for s in list_snapshots(sales, "company")] == [(W46, "company"), ("2026-W45", "company")]
    assert len(list_snapshots(sales)) == count(sales, "SELECT COUNT(*) FROM snapshots") == 3
    latest = latest_snapshot(sales)
    assert latest is not None and latest.week == W46
    assert latest_snapshot(sales, "person:nobody") is None


@pytest.mark.parametrize(("text", "monday"), [("2026-W47", date(2026, 11, 16)), ("2026w01", date(2025, 12, 29)),
                                              (" 2020-W53 ", date(2020, 12, 28))])
def test_weeks_are_iso_weeks(text: str, monday: date) -> None:
    assert parse_week(text) == monday


@pytest.mark.parametrize("text", ["2026-47", "2026-W54", "last week", ""])
def test_a_week_that_is_not_an_iso_week_is_refused_with_its_form(text: str) -> None:
    with pytest.raises(ValueError, match="YYYY-Www"):
        parse_week(text)


def test_the_definitions_version_changes_when_a_kpi_target_does(sales: Workspace) -> None:
    before = definitions_version(sales)
    with reopened(sales, teams=TEAMS) as same:
        assert definitions_version(same) == before
    changed = [{**TEAMS[0], "kpis": [{"metric": "bookings", "target": 120000, "period": "quarter"}]}]
    with reopened(sales, teams=changed) as other:
        assert definitions_version(other) != before
    per_month = [{**TEAMS[0], "kpis": [{"metric": "bookings", "target": 100000, "period": "month"}]}]
    with reopened(sales, teams=per_month) as other:
        assert definitions_version(other) != before


# -- what changed ---------------------------------------------------------------------------------------------


def fig(label: str, team: str | None, value: float | None, status: str | None) -> dict[str, Any]:
    return {"label": label, "team": team, "value": value, "status": status, "unit": "count", "metric": None}


def snap(week: str, version: str, figures: list[dict[str, Any]]) -> Snapshot:
    start = parse_week(week)
    return Snapshot("id-" + week, start, week, "company", datetime(2026, 11, 20), None, start, version,
                    {"sections": [{"key": "kpis", "figures": figures}, {"key": "other", "figures": []}]})


BEFORE = [fig("Bookings", "Sales", 100, "on_track"), fig("Bookings", "Marketing", 50, "on_track"),
          fig("Win rate", "Sales", 0.5, "at_risk"), fig("Leads", "Marketing", 40, "on_track"),
          fig("Same", "Sales", 7, "on_track"), fig("Dropped", "Sales", 3, "no_target")]
AFTER = [fig("Bookings", "Sales", 80, "off_track"), fig("Bookings", "Marketing", 50, "on_track"),
         fig("Win rate", "Sales", 0.6, "on_track"), fig("Leads", "Marketing", 50, "on_track"),
         fig("Same", "Sales", 7, "on_track"), fig("Fresh", "Sales", 5, "no_target")]
# hand-worked: (label, team, kind, before, after, delta, relative, status before, status after), worsenings first
EXPECTED = [("Bookings", "Sales", "worse", 100, 80, -20, -0.2, "on_track", "off_track"),
            ("Win rate", "Sales", "better", 0.5, 0.6, 0.1, 0.2, "at_risk", "on_track"),
            ("Fresh", "Sales", "new", None, 5, None, None, None, "no_target"),
            ("Dropped", "Sales", "gone", 3, None, None, None, "no_target", None),
            ("Leads", "Marketing", "moved", 40, 50, 10, 0.25, "on_track", "on_track")]


def test_what_changed_matches_figures_by_section_label_and_team_worsenings_first() -> None:
    changes = what_changed(snap("2026-W47", "v1", AFTER), snap("2026-W46", "v1", BEFORE))
    got = [(c.label, c.team, c.kind, c.before, c.after, c.delta, c.relative, c.status_before, c.status_after)
           for c in changes]
    assert len(got) == len(EXPECTED)
    for row, expected in zip(got, EXPECTED, strict=True):
        assert row[:5] == expected[:5] and row[7:] == expected[7:]
        assert row[5] == pytest.approx(expected[5]) and row[6] == pytest.approx(expected[6])
    assert not changes.definitions_changed and changes.note is None
    assert changes.as_dict()["changes"][0]["status_after"] == "off_track"


def test_what_changed_says_when_the_definitions_changed_and_says_nothing_without_last_week() -> None:
    changes = what_changed(snap("2026-W47", "v2", AFTER), snap("2026-W46", "v1", BEFORE))
    assert changes.definitions_changed
    assert changes.as_dict()["note"] == "figures are computed by changed definitions"
    alone = what_changed(snap("2026-W47", "v2", AFTER), None)
    assert list(alone) == [] and not alone.definitions_changed


# -- the gap loop ---------------------------------------------------------------------------------------------


def rows_written(ws: Workspace) -> dict[str, int]:
    return {t: count(ws, f"SELECT COUNT(*) FROM {t}") for t in ("gap_reviews", "imports", "quarantine", "comments")}


def kpi_action(ws: Workspace, **changes: Any) -> Any:
    given: dict[str, Any] = {"team": "Sales", "metric": "bookings", "week": W46, "gap": "bookings 40% under pace",
                             "cause": "resources", "action": "Two more demos a day", "owner_id": "ana",
                             "due": date(2026, 11, 20), "recorded_by": "lee", "target": 100000.0,
                             "actual": 12000.0, "at": datetime(2026, 11, 13, 10)}
    return open_action(ws, **{**given, **changes})


def listed(ws: Workspace, monday: date, teams: set[str] | None = None,
           today: date = date(2027, 1, 1)) -> dict[str, tuple[str, bool]]:
    """Each action of the week as (status, past due), looked at on `today` (default: long after)."""
    return {a.review_id: (a.status, a.past_due) for a in actions_for_week(ws, monday, teams=teams, today=today)}


def test_a_kpi_action_comes_back_each_week_until_closed_and_is_flagged_past_due(any_workspace: Workspace) -> None:
    workspace = any_workspace
    made = kpi_action(workspace)  # recorded Friday of W46, due Friday of W47
    stored = workspace.warehouse.query("SELECT kind, team, period, metric, cause, owner_id, due, status, "
                                       "recorded_by, closed_at FROM gap_reviews WHERE review_id = $1",
                                       (made.review_id,))
    assert stored == [("kpi", "Sales", W46, "bookings", "resources", "ana", date(2026, 11, 20), "open", "lee", None)]
    assert count(workspace, "SELECT COUNT(*) FROM imports WHERE format = 'review-action'") == 1
    rid = made.review_id
    assert listed(workspace, date(2026, 11, 2)) == {}  # recorded on W46's scorecard
    assert listed(workspace, date(2026, 11, 9)) == {rid: ("open", False)}
    assert listed(workspace, date(2026, 11, 16)) == {rid: ("open", True)}  # due before W47 ended, still open
    assert listed(workspace, date(2026, 11, 16), today=date(2026, 11, 20)) == {rid: ("open", False)}  # due today
    assert listed(workspace, date(2026, 11, 16), today=date(2026, 11, 21)) == {rid: ("open", True)}
    assert listed(workspace, date(2026, 11, 23)) == {rid: ("open", True)}
    assert listed(workspace, date(2026, 11, 16), teams={"Marketing"}) == {}
    assert listed(workspace, date(2026, 11, 16), teams={"Sales", "Marketing"}) == {rid: ("open", True)}

    closed = close_action(workspace, rid, closed_by="lee", at=datetime(2026, 12, 1, 9))  # Tuesday of W49
    assert closed.status == "done" and closed.closed_at == datetime(2026, 12, 1, 9)
    assert workspace.warehouse.query("SELECT status, closed_at FROM gap_reviews WHERE review_id = $1", (rid,)) == [
        ("done", datetime(2026, 12, 1, 9))]
    assert listed(workspace, date(2026, 11, 23)) == {rid: ("open", True)}  # W48 as it stood then
    assert listed(workspace, date(2026, 11, 30)) == {rid: ("done", False)}  # closed during W49
    assert listed(workspace, date(2026, 12, 7)) == {}  # gone the week after
    assert count(workspace, "SELECT COUNT(*) FROM gap_reviews") == 1


def test_closing_an_unknown_action_names_it(workspace: Workspace) -> None:
    with pytest.raises(UnknownNameError, match="GA-nope"):
        close_action(workspace, "GA-nope", closed_by="lee")


def test_tempo_gap_reviews_are_in_the_same_list(workspace: Workspace) -> None:
    set_target(workspace, "Podcast", "episode", 2, "week", valid_from=date(2025, 3, 3))
    record_shipment(workspace, "Podcast", "episode", "Only one", shipped_at=datetime(2025, 3, 4, 10))
    review = record_review(workspace, "Podcast", "episode", cause="scope", action="Keep one in reserve", owner=None,
                           due=date(2025, 3, 12), period="2025-W10", today=date(2025, 3, 9))
    kpi = kpi_action(workspace, week="2025-W10", due=date(2025, 3, 14), at=datetime(2025, 3, 10, 9))
    assert workspace.warehouse.query("SELECT kind FROM gap_reviews WHERE review_id = $1", (review.review_id,)) == [
        ("tempo",)]
    week11 = {a.review_id: a for a in actions_for_week(workspace, date(2025, 3, 10), today=date(2026, 1, 1))}
    assert set(week11) == {review.review_id, kpi.review_id}
    tempo = week11[review.review_id]
    assert (tempo.kind, tempo.team, tempo.metric, tempo.period, tempo.past_due) == (
        "tempo", "Podcast", "episode", "2025-W10", True)
    close_action(workspace, review.review_id, closed_by="lee", at=datetime(2025, 3, 11, 8))
    assert listed(workspace, date(2025, 3, 10))[review.review_id] == ("done", False)
    assert set(listed(workspace, date(2025, 3, 17))) == {kpi.review_id}


REFUSALS: dict[str, tuple[dict[str, Any], str]] = {
    "bad cause": ({"cause": "bad luck"}, "cause"),
    "missing owner": ({"owner_id": " "}, "owner_id"),
    "due before the week": ({"due": date(2026, 11, 8)}, "due"),
    "due not a date": ({"due": "next friday"}, "due"),
    "missing action": ({"action": ""}, "action"),
    "not a week": ({"week": "week 46"}, "week"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_action_is_refused_naming_the_field_and_nothing_is_written(any_workspace: Workspace, case: str) -> None:
    workspace = any_workspace
    kpi_action(workspace, action="Something else")  # one good row already there
    before = rows_written(workspace)
    changes, field = REFUSALS[case]
    with pytest.raises(ActionRefused) as caught:
        kpi_action(workspace, **changes)
    assert isinstance(caught.value, EntryRefused)  # the one hand-entry refusal, with the web form's field
    line = str(caught.value)
    assert "\n" not in line and line.startswith(f"gap action refused — {field} ")
    assert caught.value.column == caught.value.field == field
    assert rows_written(workspace) == before


def test_comments_are_stored_as_typed_oldest_first(any_workspace: Workspace) -> None:
    workspace = any_workspace
    body = "<script>alert('hi')</script> & more"
    first = add_comment(workspace, subject="kpi:Sales/bookings", body=body, author="ana",
                        week_start=date(2026, 11, 18), team="Sales")
    add_comment(workspace, subject="kpi:Sales/bookings", body="  second  ", author="lee", week_start=None, team="Sales")
    add_comment(workspace, subject="action:GA-1", body="elsewhere", author="lee", week_start=None, team=None)
    stored = workspace.warehouse.query("SELECT body, week_start, author FROM comments WHERE comment_id = $1",
                                       (first["comment_id"],))
    assert stored == [(body, date(2026, 11, 16), "ana")]
    thread = comments_on(workspace, "kpi:Sales/bookings")
    assert [c["body"] for c in thread] == [body, "second"]
    assert thread[0]["at"] <= thread[1]["at"] <= datetime.now(UTC).replace(tzinfo=None)


@pytest.mark.parametrize(("body", "reason"), [("   ", "is empty"), ("x" * 4001, "at most 4000")])
def test_an_empty_or_overlong_comment_is_refused_on_its_body(workspace: Workspace, body: str, reason: str) -> None:
    with pytest.raises(ActionRefused, match=reason) as caught:
        add_comment(workspace, subject="kpi:Sales/bookings", body=body, author="ana", week_start=None, team=None)
    assert caught.value.field == "body"
    assert count(workspace, "SELECT COUNT(*) FROM comments") == 0


def test_an_action_recorded_later_on_a_past_weeks_scorecard_belongs_to_that_week(workspace: Workspace) -> None:
    """Reviewing last month's scorecard today: the action shows on that week and the weeks after it."""
    made = kpi_action(workspace, at=datetime(2027, 2, 1, 9))  # recorded in February on W46's scorecard
    assert listed(workspace, date(2026, 11, 9), today=date(2027, 2, 1)) == {made.review_id: ("open", False)}
    assert listed(workspace, date(2026, 11, 2), today=date(2027, 2, 1)) == {}
