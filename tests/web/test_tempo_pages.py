"""The tempo page: the board `cadence tempo` prints (its JSON twin is the CLI's JSON on the same workspace), each
figure counted again with plain SQL, and the three forms — a target, a shipment, a gap review — written end to end
through the web app, refused beside their field with nothing written, a manager kept to their own team.

The demo company is shared by the session: the rows written here use a deliverable of their own."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from cadence.cli.main import app as cli_app
from cadence.cli.main import register_commands, state
from tests.web.conftest import MANAGER_TEAM, ORIGIN, WebCompany

register_commands()
KIND = f"webtest_{uuid.uuid4().hex[:6]}"  # a deliverable no one else writes


def cli_json(root: Path, *args: str) -> Any:
    """What `cadence -w ROOT ARGS --format json` prints, parsed."""
    result = CliRunner().invoke(cli_app, ["-w", str(root), *args, "--format", "json"])
    state.today = None
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def counts(web: WebCompany) -> tuple[int, ...]:
    """Rows of the tables the forms write, and of the writes audited."""
    tables = ("tempo_targets", "shipments", "gap_reviews", "audit_log WHERE action = 'write'")
    return tuple(int(web.ws.warehouse.query(f"SELECT count(*) FROM {t}")[0][0]) for t in tables)


def audited(web: WebCompany, role: str, target: str) -> list[tuple[Any, ...]]:
    return web.ws.warehouse.query("SELECT before_json, after_json FROM audit_log WHERE actor = $1 AND action = "
                                  "'write' AND target = $2", (web.users[role], target))


def shipped_in(web: WebCompany, team: str, deliverable: str, period: str) -> int:
    """Shipments of a track in a period, counted with SQL between the period's bounds."""
    calendar = web.ws.calendar
    start, grain = calendar.parse(period)
    end = calendar.next_start(start, grain)
    size = "big" if deliverable.startswith("big ") else None
    kind = deliverable.removeprefix("big ")
    rows = web.ws.warehouse.query(
        "SELECT count(*) FROM shipments WHERE team = $1 AND deliverable = $2 AND shipped_at >= $3 AND shipped_at < $4"
        + (" AND lower(size) = 'big'" if size else ""), (team, kind, start, end))
    return int(rows[0][0])


def test_tempo_json_is_what_cadence_tempo_prints_and_each_count_is_in_the_warehouse(web: WebCompany,
                                                                                     client: Any) -> None:
    data = client("executive").get("/tempo.json").json()
    assert data == cli_json(web.root, "tempo")
    assert {r["team"] for r in data["teams"]} >= {"Podcast", "Product", "SDR EMEA"}
    for row in data["teams"]:
        if row["team"].startswith("webtest") or row["deliverable"].startswith("webtest"):
            continue
        assert row["actual"] == shipped_in(web, row["team"], row["deliverable"], row["period"]), row


def test_the_page_draws_the_board_and_the_trend_chart(web: WebCompany, client: Any) -> None:
    page = client("executive").get("/tempo")
    assert page.status_code == 200
    assert "<svg" in page.text and 'data-team="Podcast"' in page.text
    assert 'action="/tempo/targets"' in page.text and 'action="/tempo/reviews"' in page.text


def test_a_manager_sees_and_writes_their_own_team_only(web: WebCompany, client: Any) -> None:
    manager = client("manager")
    assert {r["team"] for r in manager.get("/tempo.json").json()["teams"]} <= {MANAGER_TEAM}
    page = manager.get("/tempo").text
    assert "Podcast" not in page and "SDR EMEA" not in page
    before = counts(web)
    refused = manager.post("/tempo/targets", data={"team": "Podcast", "deliverable": KIND, "count": "3",
                                                   "per": "month"}, headers=ORIGIN)
    assert refused.status_code == 400
    assert 'id="target-team-error"' in refused.text and "not your team" in refused.text
    assert 'id="target-team" name="team" type="text" value="Podcast" aria-invalid="true"' in refused.text
    assert counts(web) == before


def test_target_shipment_and_review_written_through_the_forms(web: WebCompany, client: Any) -> None:
    manager = client("manager")
    set_ = manager.post("/tempo/targets", data={"team": MANAGER_TEAM, "deliverable": KIND, "count": "3",
                                                "per": "month", "valid_from": "2025-01-01"}, headers=ORIGIN,
                        follow_redirects=False)
    assert set_.status_code == 303, set_.text
    rows = web.ws.warehouse.query("SELECT count, period, valid_from FROM tempo_targets WHERE team = $1 AND "
                                  "deliverable = $2", (MANAGER_TEAM, KIND))
    assert [(r[0], r[1], str(r[2])[:10]) for r in rows] == [(3, "month", "2025-01-01")]
    assert audited(web, "manager", "tempo/targets")

    title = f"Webtest playbook {KIND}"
    ship = manager.post("/tempo/shipments", data={"team": MANAGER_TEAM, "deliverable": KIND, "title": title,
                                                  "shipped_at": "2026-01-15"}, headers=ORIGIN, follow_redirects=False)
    assert ship.status_code == 303, ship.text
    assert web.ws.warehouse.query("SELECT count(*) FROM shipments WHERE title = $1", (title,))[0][0] == 1
    assert audited(web, "manager", "tempo/shipments")

    board = manager.get("/tempo.json").json()["teams"]
    mine = [r for r in board if r["deliverable"] == KIND]
    assert mine and all(r["team"] == MANAGER_TEAM and r["target"] == 3 for r in mine)
    for row in mine:
        assert row["actual"] == shipped_in(web, MANAGER_TEAM, KIND, row["period"])

    review = manager.post("/tempo/reviews", data={
        "team": MANAGER_TEAM, "deliverable": KIND, "cause": "resources", "action": "Hire a writer",
        "owner": web.manager_person, "due": "2026-03-01"}, headers=ORIGIN, follow_redirects=False)
    assert review.status_code == 303, review.text
    written = web.ws.warehouse.query("SELECT kind, cause, action, owner_id, CAST(due AS DATE), target FROM "
                                     "gap_reviews WHERE team = $1 AND metric = $2", (MANAGER_TEAM, KIND))
    assert len(written) == 1
    kind, cause, action, owner, due, target = written[0]
    assert (kind, cause, action, owner, str(due), target) == ("tempo", "resources", "Hire a writer",
                                                              web.manager_person, "2026-03-01", 3)
    after = json.loads(audited(web, "manager", "tempo/reviews")[-1][1])
    assert after["team"] == MANAGER_TEAM and after["deliverable"] == KIND
    assert "Hire a writer" in manager.get("/tempo").text


@pytest.mark.parametrize(("path", "form", "field", "words"), [
    ("/tempo/shipments", {"team": "Nowhere Team", "deliverable": "episode", "title": "Webtest nowhere"}, "team",
     "unknown team"),
    ("/tempo/targets", {"team": "Podcast", "deliverable": "episode", "count": "-2", "per": "month"}, "count",
     "0 or more"),
    ("/tempo/targets", {"team": "Podcast", "deliverable": "episode", "count": "4", "per": "fortnight"}, "per",
     "week, month, quarter"),
    ("/tempo/targets", {"team": "Podcast", "deliverable": "episode", "count": "4", "per": "month",
                        "valid_from": "2026-13-45"}, "valid_from", "not a date"),
    ("/tempo/shipments", {"team": "Podcast", "deliverable": "episode", "title": "Webtest bad date",
                          "shipped_at": "yesterday"}, "shipped_at", "not a date"),
    ("/tempo/reviews", {"team": "Podcast", "deliverable": "episode", "cause": "weather", "action": "Wait",
                        "owner": "", "due": "2026-03-01"}, "cause", "not one of"),
    ("/tempo/reviews", {"team": "Podcast", "deliverable": "episode", "cause": "blocker", "action": "Unblock",
                        "owner": "nobody at all", "due": "2026-02-30"}, "due", "not a date"),
    ("/tempo/reviews", {"team": "Podcast", "deliverable": "sermon", "cause": "blocker", "action": "Unblock",
                        "owner": "x", "due": "2026-03-01"}, "deliverable", "tempo target"),
])
def test_bad_input_is_answered_beside_its_field_with_nothing_written(web: WebCompany, client: Any, path: str,
                                                                     form: dict[str, str], field: str,
                                                                     words: str) -> None:
    before = counts(web)
    answer = client("executive").post(path, data=form, headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 400, answer.text
    prefix = {"/tempo/targets": "target", "/tempo/shipments": "shipment", "/tempo/reviews": "review"}[path]
    start = answer.text.index(f'id="{prefix}-{field}-error"')
    assert words in answer.text[start:start + 300]
    assert 'aria-invalid="true"' in answer.text
    for name, typed in form.items():  # what was typed is kept
        if typed and name not in ("cause", "per"):
            assert f'value="{typed}"' in answer.text or f">{typed}</textarea>" in answer.text
    assert counts(web) == before


def test_reps_and_viewers_may_not_write_tempo(web: WebCompany, client: Any) -> None:
    before = counts(web)
    for role in ("rep", "viewer"):
        answer = client(role).post("/tempo/targets", data={"team": MANAGER_TEAM, "deliverable": KIND, "count": "1",
                                                           "per": "week"}, headers=ORIGIN, follow_redirects=False)
        assert answer.status_code == 403
    assert client("viewer").get("/tempo.json").status_code == 403
    assert counts(web) == before
