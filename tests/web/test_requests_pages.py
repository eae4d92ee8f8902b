"""Feature requests, their themes and the roadmap in the browser: each JSON twin is what `cadence requests list`,
`cadence requests themes` and `cadence roadmap plan` print on the same workspace; a request added through the
form is in the warehouse (a manager's only on their own team's deals), refusals come back beside their field with
nothing written, a title with a script in it comes back escaped; theme edits are saved and audited; the capacity
is a positive number or a message beside the field.

The demo company is shared by the session: requests added here carry titles of their own, and themes.yml is put
back as it was after the theme edits."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from cadence.cli.main import app as cli_app
from cadence.cli.main import register_commands, state
from tests.web.conftest import MANAGER_TEAM, ORIGIN, OTHER_TEAM, WebCompany

register_commands()
TAG = uuid.uuid4().hex[:6]
SCRIPT = "<script>alert(1)</script>"


def cli_json(root: Path, *args: str) -> Any:
    """What `cadence -w ROOT ARGS --format json` prints, parsed."""
    result = CliRunner().invoke(cli_app, ["-w", str(root), *args, "--format", "json"])
    state.today = None
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def requests_written(web: WebCompany) -> tuple[int, int]:
    """Requests in the warehouse, and writes audited."""
    return (int(web.ws.warehouse.query("SELECT count(*) FROM feature_requests")[0][0]),
            int(web.ws.warehouse.query("SELECT count(*) FROM audit_log WHERE action = 'write'")[0][0]))


def deal_of(web: WebCompany, team: str) -> str:
    """An open deal owned by someone on `team`, found with SQL."""
    people = web.team_people[team]
    marks = ", ".join(f"${i + 1}" for i in range(len(people)))
    rows = web.ws.warehouse.query(f"SELECT opportunity_id FROM opportunities WHERE owner_id IN ({marks}) "
                                  "ORDER BY opportunity_id LIMIT 1", tuple(people))
    return str(rows[0][0])


def error_beside(text: str, field_id: str) -> str:
    start = text.index(f'id="{field_id}-error"')
    assert f'id="{field_id}"' in text and 'aria-invalid="true"' in text
    return text[start:start + 400]


# -- the lists ---------------------------------------------------------------------------------------------------


def test_requests_json_is_what_cadence_requests_list_prints(web: WebCompany, client: Any) -> None:
    executive = client("executive")
    data = executive.get("/requests.json").json()
    assert data == cli_json(web.root, "requests", "list")
    assert data["total"] == web.ws.warehouse.query("SELECT count(*) FROM feature_requests")[0][0]
    values = [r["value"] for r in data["requests"]]
    assert values == sorted(values, reverse=True)
    narrowed = executive.get("/requests.json?status=open&limit=5").json()
    assert narrowed == cli_json(web.root, "requests", "list", "--status", "open", "--limit", "5")
    assert narrowed["total"] == web.ws.warehouse.query(
        "SELECT count(*) FROM feature_requests WHERE status = 'open'")[0][0]


def test_themes_json_is_what_cadence_requests_themes_prints(web: WebCompany, client: Any) -> None:
    data = client("executive").get("/requests/themes.json").json()
    assert data == cli_json(web.root, "requests", "themes")
    page = client("executive").get("/requests/themes")
    assert page.status_code == 200
    for theme in data["themes"][:3]:
        assert f'data-theme="{theme["key"]}"' in page.text


def test_a_manager_sees_requests_of_their_team_only(web: WebCompany, client: Any) -> None:
    data = client("manager").get("/requests.json?limit=100000").json()
    people = web.team_people[MANAGER_TEAM]
    marks = ", ".join(f"${i + 1}" for i in range(len(people)))
    theirs = {r[0] for r in web.ws.warehouse.query(
        f"SELECT opportunity_id FROM opportunities WHERE owner_id IN ({marks})", tuple(people))}
    linked = [r["opportunity_id"] for r in data["requests"] if r["opportunity_id"]]
    assert linked and set(linked) <= theirs
    assert deal_of(web, OTHER_TEAM) not in json.dumps(data)


# -- adding a request --------------------------------------------------------------------------------------------


def test_a_manager_adds_a_request_on_their_teams_deal(web: WebCompany, client: Any) -> None:
    deal = deal_of(web, MANAGER_TEAM)
    title = f"Webtest export to parquet {TAG}"
    answer = client("manager").post("/requests", data={"title": title, "deal": deal, "certainty": "important"},
                                    headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    rows = web.ws.warehouse.query("SELECT request_id, opportunity_id, status FROM feature_requests WHERE title = $1",
                                  (title,))
    assert len(rows) == 1 and rows[0][1:] == (deal, "open")
    audit = web.ws.warehouse.query("SELECT after_json FROM audit_log WHERE actor = $1 AND action = 'write' AND "
                                   "target = $2", (web.users["manager"], f"requests/{rows[0][0]}"))
    assert audit and json.loads(audit[0][0])["request_id"] == rows[0][0]


@pytest.mark.parametrize(("role", "form", "field", "words"), [
    ("manager", {"title": "Webtest another team's deal"}, "deal", "not your team"),
    ("executive", {"title": "   ", "deal": ""}, "title", "title"),
    ("executive", {"title": "Webtest unknown deal", "deal": "O-NO-SUCH-DEAL"}, "deal", "O-NO-SUCH-DEAL"),
    ("executive", {"title": "Webtest bad date", "at": "last tuesday"}, "at", "not a date"),
    ("executive", {"title": "Webtest bad certainty", "certainty": "maybe-ish"}, "certainty", "certainty"),
])
def test_bad_requests_are_answered_beside_their_field_with_nothing_written(web: WebCompany, client: Any, role: str,
                                                                           form: dict[str, str], field: str,
                                                                           words: str) -> None:
    if field == "deal" and role == "manager":
        form = {**form, "deal": deal_of(web, OTHER_TEAM)}
    before = requests_written(web)
    answer = client(role).post("/requests", data=form, headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 400, answer.text
    assert words.lower() in error_beside(answer.text, f"add-{field}").lower()
    assert requests_written(web) == before


def test_a_script_typed_as_a_title_comes_back_as_text(web: WebCompany, client: Any) -> None:
    executive = client("executive")
    request_id = f"WEBTEST-XSS-{TAG}"
    answer = executive.post("/requests", data={"title": SCRIPT, "request_id": request_id}, headers=ORIGIN,
                            follow_redirects=False)
    assert answer.status_code == 303, answer.text
    page = executive.get("/requests?limit=100000").text
    assert f'data-request="{request_id}"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and SCRIPT not in page
    shown = [r for r in executive.get("/requests.json?limit=100000").json()["requests"]
             if r["request_id"] == request_id]
    assert [r["title"] for r in shown] == [SCRIPT]


def test_reps_may_read_but_not_add_and_viewers_may_not_read(web: WebCompany, client: Any) -> None:
    before = requests_written(web)
    assert client("rep").get("/requests.json").status_code == 200
    assert client("rep").post("/requests", data={"title": "Webtest by a rep"}, headers=ORIGIN).status_code == 403
    assert client("viewer").get("/requests").status_code == 403
    assert requests_written(web) == before


# -- theme edits -----------------------------------------------------------------------------------------------


@pytest.fixture
def themes_file(web: WebCompany) -> Iterator[Path]:
    """themes.yml, put back as it was after the test (other tests read the demo's themes)."""
    path = web.root / "themes.yml"
    kept = path.read_text(encoding="utf-8") if path.exists() else None
    yield path
    if kept is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(kept, encoding="utf-8")


def test_theme_edits_are_saved_and_audited(web: WebCompany, client: Any, themes_file: Path) -> None:
    executive = client("executive")
    themes = executive.get("/requests/themes.json").json()["themes"]
    key, other = themes[0]["key"], themes[1]["key"]
    name = f"Webtest {SCRIPT} {TAG}"
    renamed = executive.post("/requests/themes/rename", data={"key": key, "name": name}, headers=ORIGIN,
                             follow_redirects=False)
    assert renamed.status_code == 303, renamed.text
    assert yaml.safe_load(themes_file.read_text(encoding="utf-8"))["renames"][key] == name
    shown = {t["key"]: t["name"] for t in executive.get("/requests/themes.json").json()["themes"]}
    assert shown[key] == name
    assert "&lt;script&gt;" in executive.get("/requests/themes").text
    audit = web.ws.warehouse.query("SELECT after_json FROM audit_log WHERE actor = $1 AND target = "
                                   "'requests/themes/rename'", (web.users["executive"],))
    assert json.loads(audit[-1][0])["renames"][key] == name

    merged = executive.post("/requests/themes/merge", data={"key": other, "into": key}, headers=ORIGIN,
                            follow_redirects=False)
    assert merged.status_code == 303, merged.text
    keys = {t["key"] for t in executive.get("/requests/themes.json").json()["themes"]}
    assert other not in keys and key in keys
    assert executive.get("/requests/themes.json").json() == cli_json(web.root, "requests", "themes")


def test_bad_theme_edits_are_refused_beside_their_field_and_nothing_saved(web: WebCompany, client: Any,
                                                                         themes_file: Path) -> None:
    before = themes_file.read_text(encoding="utf-8") if themes_file.exists() else None
    executive = client("executive")
    key = executive.get("/requests/themes.json").json()["themes"][0]["key"]
    unknown = executive.post("/requests/themes/merge", data={"key": key, "into": "no-such-theme"}, headers=ORIGIN)
    assert unknown.status_code == 400
    assert "no-such-theme" in error_beside(unknown.text, "merge-into")
    empty = executive.post("/requests/themes/rename", data={"key": key, "name": " "}, headers=ORIGIN)
    assert empty.status_code == 400 and "name" in error_beside(empty.text, "rename-name")
    not_pinned = executive.post("/requests/themes/unpin", data={"request": "R-NOT-PINNED"}, headers=ORIGIN)
    assert not_pinned.status_code == 400 and "not pinned" in error_beside(not_pinned.text, "unpin-request")
    no_request = executive.post("/requests/themes/pin", data={"request": "R-NO-SUCH", "theme": key}, headers=ORIGIN)
    assert no_request.status_code == 400 and "R-NO-SUCH" in error_beside(no_request.text, "pin-request")
    after = themes_file.read_text(encoding="utf-8") if themes_file.exists() else None
    assert after == before
    assert client("manager").post("/requests/themes/rename", data={"key": key, "name": "Mine"},
                                  headers=ORIGIN).status_code == 403


# -- the roadmap -------------------------------------------------------------------------------------------------


def test_roadmap_json_is_what_cadence_roadmap_plan_prints(web: WebCompany, client: Any) -> None:
    data = client("executive").get("/roadmap.json?capacity=320").json()
    printed = cli_json(web.root, "roadmap", "plan", "--capacity", "320h")
    timing = ("solver_seconds",)
    assert {k: v for k, v in data.items() if k not in timing} == {k: v for k, v in printed.items() if k not in timing}
    effort = dict(web.ws.warehouse.query("SELECT feature_id, effort_hours FROM features"))
    chosen = [f["feature_id"] for f in data["features"] if f["chosen"]]
    assert data["hours_used"] == pytest.approx(sum(float(effort[f] or 0) for f in chosen))
    assert data["hours_used"] <= 320
    page = client("executive").get("/roadmap?capacity=320")
    assert page.status_code == 200
    for feature in chosen:
        assert f'data-feature="{feature}"' in page.text


@pytest.mark.parametrize("capacity", ["abc", "-5", "0"])
def test_a_capacity_that_is_not_a_positive_number_is_answered_beside_the_field(client: Any, capacity: str) -> None:
    page = client("executive").get(f"/roadmap?capacity={capacity}")
    assert page.status_code == 400
    assert "capacity" in error_beside(page.text, "capacity").lower() or capacity in page.text
    assert f'value="{capacity}"' in page.text
    twin = client("executive").get(f"/roadmap.json?capacity={capacity}")
    assert twin.status_code == 400 and twin.json()["field"] == "capacity"


def test_the_roadmap_asks_for_hours_and_is_not_for_managers(client: Any) -> None:
    page = client("executive").get("/roadmap")
    assert page.status_code == 200 and 'id="capacity"' in page.text
    assert client("manager").get("/roadmap?capacity=320").status_code == 403
