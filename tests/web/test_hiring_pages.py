"""The hiring pages: /hiring (the formula, interviewer calibration, manager candidates) for admins, executives and
recruiters; candidates' index and the interview scorecard for admins and recruiters only; every view audited.

JSON twins are checked against what `cadence hiring … --format json` prints on the same workspace (the demo
company); the scorecard form writes on a small workspace of its own, whose cadence.yml anchors its criteria,
and what it wrote is read back with plain SQL."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cadence.cli.main import app as cli_app
from cadence.cli.main import register_commands, state
from tests.web.conftest import ORIGIN, PASSWORD, WebCompany, sign_in

register_commands()

HIRING_BLOCK = """
hiring:
  scorecard_versions:
    - {version: 1, valid_from: 2024-01-01}
  criteria:
    - name: coachability
      description: Takes feedback and changes behaviour quickly.
      anchors: {1: "argues with every piece of feedback", 5: "accepts feedback, changes slowly",
                10: "asks for feedback and visibly applies it within the interview"}
    - name: work_ethic
      label: Work ethic
      anchors: {1: "does the minimum", 10: "outworks everyone, sustainably"}
    - name: curiosity
      anchors: {1: "asks nothing", 5: "asks about the role", 10: "asks what nobody thought to ask"}
"""
CRITERIA = ("coachability", "work_ethic", "curiosity")
INTERVIEWERS = [("HW-I1", "Ines Hiring"), ("HW-I2", "Omar Panel")]
CANDIDATES = [("HW-C1", "Cora Candidate"), ("HW-C2", "Dev Applicant"), ("HW-C3", "Eli Tester")]


def cli_json(root: Path, *args: str) -> Any:
    """What `cadence -w ROOT ARGS --format json` prints, parsed."""
    result = CliRunner().invoke(cli_app, ["-w", str(root), *args, "--format", "json"])
    state.today = None
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# -- /hiring and /hiring/candidates on the demo company -----------------------------------------------------


def test_hiring_json_is_what_the_cli_prints(web: WebCompany, client: Any) -> None:
    data = client("executive").get("/hiring.json").json()
    assert data["fit"] == cli_json(web.root, "hiring", "fit")
    assert data["interviewers"] == cli_json(web.root, "hiring", "interviewers")
    printed = cli_json(web.root, "hiring", "managers")
    assert client("admin").get("/hiring.json").json()["managers"] == printed
    # an executive sees the ranking without anyone's interview percentiles (HR data: admins and recruiters only)
    criteria = set(printed["dimensions"])
    for shown, full in zip(data["managers"]["candidates"], printed["candidates"], strict=True):
        hidden = {k for k in full if k.removesuffix("_pct") in criteria or k.startswith("weakest")}
        assert hidden and not hidden & set(shown)
        assert shown == {k: v for k, v in full.items() if k not in hidden}
    weights = {c["criterion"]: c for c in data["fit"]["criteria"]}
    found = {r[0] for r in web.ws.warehouse.query("SELECT DISTINCT criterion FROM interview_scores")}
    assert set(weights) == found  # without criteria in cadence.yml, every criterion scored is in the formula


def test_hiring_page_shows_the_formula_calibration_and_managers_and_is_audited(web: WebCompany,
                                                                              client: Any) -> None:
    audited = "SELECT COUNT(*) FROM audit_log WHERE actor = $1 AND action = 'view' AND target = '/hiring'"
    before = _count(web, audited, web.users["executive"])
    page = client("executive").get("/hiring")
    assert page.status_code == 200
    assert _count(web, audited, web.users["executive"]) == before + 1  # every view of a hiring page is recorded
    for criterion in cli_json(web.root, "hiring", "fit")["criteria"]:
        row = page.text.split(f'data-criterion="{criterion["criterion"]}">', 1)[1].split("</tr>", 1)[0]
        shown = [float(n) for n in re.findall(r"[-+]\d+\.\d\d", row)]
        assert abs(shown[0] - criterion["coef_std"]) <= 0.006  # the weight, then its interval
        assert abs(shown[1] - criterion["ci_low"]) <= 0.006 and abs(shown[2] - criterion["ci_high"]) <= 0.006
    # every interviewer the calibration could place (other tests may add an interviewer with too few candidates)
    calibrated = {i["interviewer_id"] for i in cli_json(web.root, "hiring", "interviewers")["interviewers"]}
    scored = {r[0] for r in web.ws.warehouse.query("SELECT DISTINCT interviewer_id FROM interview_scores")}
    assert calibrated <= scored
    assert set(re.findall(r'data-interviewer="([^"]+)"', page.text)) == calibrated
    assert 'id="managers"' in page.text
    assert "/hiring/candidates" not in page.text  # an executive is not offered candidates' scores


def test_candidates_json_is_what_the_cli_prints(web: WebCompany, client: Any) -> None:
    data = client("recruiter").get("/hiring/candidates.json").json()
    assert data == cli_json(web.root, "hiring", "index")
    in_play = {r[0] for r in web.ws.warehouse.query(
        "SELECT candidate_id FROM candidates WHERE status IN ('interviewing', 'offered')")}
    assert {c["candidate_id"] for c in data["candidates"]} <= in_play
    page = client("recruiter").get("/hiring/candidates")
    assert page.status_code == 200
    for row in data["candidates"]:
        assert f'data-candidate="{row["candidate_id"]}"' in page.text


@pytest.mark.parametrize("role", ["manager", "rep"])
def test_managers_and_reps_see_no_candidate_and_enter_no_score(web: WebCompany, client: Any, role: str) -> None:
    c = client(role)
    for path in ("/hiring/candidates", "/hiring/candidates.json", "/hiring/scorecard"):
        assert c.get(path, follow_redirects=False).status_code == 403, path
    before = _count(web, "SELECT COUNT(*) FROM interview_scores")
    posted = c.post("/hiring/scorecard", data={"candidate_id": "C0001", "interviewer_id": "P001",
                                               "interviewed_at": "2025-01-06", "score_coachability": "7"},
                    headers=ORIGIN, follow_redirects=False)
    assert posted.status_code == 403
    assert _count(web, "SELECT COUNT(*) FROM interview_scores") == before


def test_the_executive_sees_aggregates_but_no_candidate(client: Any) -> None:
    c = client("executive")
    assert c.get("/hiring").status_code == 200
    for path in ("/hiring/candidates", "/hiring/candidates.json", "/hiring/scorecard"):
        assert c.get(path).status_code == 403, path


def _count(web: WebCompany, sql: str, *params: Any) -> int:
    return int(web.ws.warehouse.query(sql, tuple(params) or None)[0][0])


# -- the interview scorecard on an office of its own ---------------------------------------------------------


@dataclass
class Office:
    ws: Any
    root: Path
    recruiter: TestClient


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Office]:
    """A workspace whose cadence.yml anchors three criteria, with two interviewers, three candidates, a recruiter."""
    import cadence
    from cadence.accounts.users import add_user
    from cadence.schema.tables import table_named
    from cadence.web.app import create_app
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.settings import Settings
    from cadence.workspace import init_workspace

    root = init_workspace(tmp_path_factory.mktemp("hiring") / "office", company="Hiring Office")
    with (root / "cadence.yml").open("a", encoding="utf-8") as config:
        config.write(HIRING_BLOCK)
    ws = cadence.open(root)
    people = pd.DataFrame([{"person_id": pid, "name": name, "email": None, "team": None, "role": "manager",
                            "manager_id": None, "region": None, "hired_at": None, "left_at": None,
                            "source": "test"} for pid, name in INTERVIEWERS])
    candidates = pd.DataFrame([{"candidate_id": cid, "name": name, "role": "AE", "applied_at": None,
                                "status": "interviewing", "person_id": None, "source": "test"}
                               for cid, name in CANDIDATES])
    with ws.warehouse.transaction() as warehouse:
        warehouse.upsert(table_named("people"), people)
        warehouse.upsert(table_named("candidates"), candidates)
    add_user(ws, "rita", "recruiter", password=PASSWORD, display_name="Rita Recruiter", email="rita@example.test")
    app = create_app(Settings(workspace=root), holder=WorkspaceHolder(root, workspace=ws))
    recruiter = sign_in(app, "rita")
    yield Office(ws, root, recruiter)
    recruiter.close()
    ws.close()


def _scores(office: Office, candidate: str) -> dict[str, float]:
    rows = office.ws.warehouse.query("SELECT criterion, score FROM interview_scores WHERE candidate_id = $1",
                                     (candidate,))
    return {r[0]: float(r[1]) for r in rows}


def _scorecard(candidate: str, interviewer: str, **scores: str) -> dict[str, str]:
    return {"candidate_id": candidate, "interviewer_id": interviewer, "interviewed_at": "2025-03-04",
            **{f"score_{k}": v for k, v in scores.items()}}


def _error_beside(page: str, field: str) -> str:
    """The message in the field's error paragraph, which must exist, with the field marked invalid."""
    assert f'aria-describedby="{field}-error"' in page
    return page.split(f'id="{field}-error">', 1)[1].split("</p>", 1)[0]


def test_the_form_shows_each_criterion_on_its_anchored_scale(office: Office) -> None:
    page = office.recruiter.get("/hiring/scorecard")
    assert page.status_code == 200
    for name in CRITERIA:
        assert page.text.count(f'name="score_{name}"') == 10  # radio buttons 1 to 10
    assert "asks for feedback and visibly applies it within the interview" in page.text
    assert "outworks everyone, sustainably" in page.text and "Work ethic" in page.text
    for cid, name in CANDIDATES:
        assert f'value="{cid}"' in page.text and name in page.text
    for pid, _name in INTERVIEWERS:
        assert f'value="{pid}"' in page.text


def test_a_recruiter_enters_a_scorecard_end_to_end(office: Office) -> None:
    typed = {"coachability": "8", "work_ethic": "6", "curiosity": "10"}
    response = office.recruiter.post("/hiring/scorecard", data=_scorecard("HW-C1", "HW-I1", **typed), headers=ORIGIN,
                                     follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/hiring/scorecard?recorded=")
    assert _scores(office, "HW-C1") == {k: float(v) for k, v in typed.items()}
    days = office.ws.warehouse.query("SELECT DISTINCT interviewer_id, CAST(interviewed_at AS VARCHAR) FROM "
                                     "interview_scores WHERE candidate_id = 'HW-C1'")
    assert days == [("HW-I1", "2025-03-04")]
    audit = office.ws.warehouse.query("SELECT actor, after_json FROM audit_log WHERE action = 'write' AND "
                                      "target = 'hiring/scorecard/HW-C1/HW-I1'")
    assert len(audit) == 1 and audit[0][0] == "rita"
    assert {e["criterion"]: e["score"] for e in json.loads(audit[0][1])} == {k: int(v) for k, v in typed.items()}
    confirmed = office.recruiter.get(response.headers["location"])
    assert "Recorded the scorecard of candidate HW-C1" in confirmed.text


def test_a_score_of_eleven_is_refused_beside_its_row_and_nothing_is_written(office: Office) -> None:
    form = _scorecard("HW-C2", "HW-I2", coachability="7", work_ethic="11", curiosity="5")
    response = office.recruiter.post("/hiring/scorecard", data=form, headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 400
    assert "11" in _error_beside(response.text, "score_work_ethic")
    assert 'id="score_coachability-error"' not in response.text
    assert 'value="7" checked' in response.text  # what was typed is kept
    assert _scores(office, "HW-C2") == {}  # not even the two good scores


def test_a_missing_criterion_is_asked_for_beside_its_row(office: Office) -> None:
    form = _scorecard("HW-C2", "HW-I2", coachability="7", work_ethic="4")
    response = office.recruiter.post("/hiring/scorecard", data=form, headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 400
    assert "choose a score" in _error_beside(response.text, "score_curiosity")
    assert _scores(office, "HW-C2") == {}


def test_a_candidate_not_on_the_list_and_script_in_a_score_come_back_escaped(office: Office) -> None:
    form = _scorecard("HW-C3", "HW-I1", coachability="<script>alert(1)</script>", work_ethic="5", curiosity="5")
    response = office.recruiter.post("/hiring/scorecard", data=form, headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 400
    assert "<script>alert(1)" not in response.text and "&lt;script&gt;alert(1)" in response.text
    assert 'id="score_coachability-error"' in response.text
    assert _scores(office, "HW-C3") == {}
    stranger = _scorecard("HW-NOBODY", "HW-I1", coachability="5", work_ethic="5", curiosity="5")
    response = office.recruiter.post("/hiring/scorecard", data=stranger, headers=ORIGIN, follow_redirects=False)
    assert response.status_code == 400 and 'id="candidate_id-error"' in response.text
    assert _scores(office, "HW-NOBODY") == {}
