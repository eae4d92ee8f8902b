"""The forecast page's roll-up, calls and accuracy table, and its call form: a manager keeps a call for a rep of
their team (stored, audited), is refused beside the field for another team's rep or a bad amount (400, nothing
written), and a rep reads but may not record a call. Calls posted here are on a quarter after the demo's data, so
no past quarter's score moves."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from tests.web.conftest import MANAGER_TEAM, ORIGIN, OTHER_TEAM, WebCompany

FUTURE = "2027-Q2"  # after the demo's last day: calls on it are kept but never scored


def _calls(web: WebCompany, person: str) -> list[tuple[Any, ...]]:
    return web.ws.warehouse.query("SELECT call_id, commit_amount, recorded_by FROM forecast_calls "
                                  "WHERE person_id = $1 AND quarter = $2 ORDER BY called_at", (person, FUTURE))


def _rep_of(web: WebCompany, team: str) -> str:
    people = web.ws.table("people").to_pandas()
    return str(sorted(people[(people.team == team) & (people.role == "rep")].person_id)[-1])


def test_a_manager_keeps_a_call_for_a_rep_of_their_team(web: WebCompany, client: Any) -> None:
    rep = _rep_of(web, MANAGER_TEAM)
    before = len(_calls(web, rep))
    answer = client("manager").post("/forecast/calls", data={"person": rep, "quarter": FUTURE, "commit": "125,000",
                                                             "best_case": "150000", "note": "webtest"},
                                    headers=ORIGIN, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    rows = _calls(web, rep)
    assert len(rows) == before + 1 and float(rows[-1][1]) == 125_000 and rows[-1][2] == web.users["manager"]
    audit = web.ws.warehouse.query("SELECT after_json FROM audit_log WHERE actor = $1 AND action = 'write' AND "
                                   "target = $2", (web.users["manager"], f"forecast_calls/{rows[-1][0]}"))
    assert audit and json.loads(audit[0][0])["commit_amount"] == 125_000
    page = client("manager").get(answer.headers["location"])
    assert page.status_code == 200 and f"Kept call {rows[-1][0]}" in page.text


@pytest.mark.parametrize(("form", "field", "words"), [
    ({"commit": "-5"}, "commit", "negative"),
    ({"commit": "lots"}, "commit", "not a number"),
    ({"quarter": "2027-Q9"}, "quarter", "2027-Q9"),
    ({"person": "OTHER"}, "person", "not in your team"),
])
def test_bad_calls_are_answered_beside_their_field(web: WebCompany, client: Any, form: dict[str, str], field: str,
                                                   words: str) -> None:
    rep = _rep_of(web, MANAGER_TEAM)
    person = _rep_of(web, OTHER_TEAM) if form.get("person") == "OTHER" else rep
    count = web.ws.warehouse.count("forecast_calls")
    data = {"person": rep, "quarter": FUTURE, "commit": "1000", **form, **({"person": person} if "person" in form
                                                                            else {})}
    answer = client("manager").post("/forecast/calls", data=data, headers=ORIGIN)
    assert answer.status_code == 400
    assert f'<p class="field-error" id="{field}-error">' in answer.text
    error = answer.text.split(f'id="{field}-error">')[1].split("</p>")[0]
    assert words in error and "nothing was written" in error
    assert web.ws.warehouse.count("forecast_calls") == count


def test_a_rep_reads_the_calls_but_may_not_record_one(web: WebCompany, client: Any) -> None:
    page = client("rep").get("/forecast")
    assert page.status_code == 200 and 'action="/forecast/calls"' not in page.text
    answer = client("rep").post("/forecast/calls", data={"person": web.rep_person, "quarter": FUTURE,
                                                         "commit": "10"}, headers=ORIGIN)
    assert answer.status_code == 403
    assert client("viewer").get("/forecast.json").status_code == 403


def test_the_json_twin_holds_the_rollup_and_the_calls_of_the_scope(web: WebCompany, client: Any) -> None:
    people = web.ws.table("people").to_pandas()
    data = client("manager").get("/forecast.json").json()
    lines = data["rollup"]["lines"]
    assert lines and lines[0]["person_id"] == web.manager_person  # their team's tree, them at the top
    team = set(people[people.team == MANAGER_TEAM].person_id)
    assert {line["person_id"] for line in lines} <= team
    scored = data["calls"]["accuracy"]["forecasters"]
    assert [f["person_id"] for f in scored] == [web.manager_person]  # only calls by people of their team
    (mine,) = scored
    # the manager's team's won deals in each scored quarter, summed here from the warehouse
    won = web.ws.warehouse.read_frame("SELECT owner_id, amount, closed_at FROM opportunities WHERE is_won")
    won = won[won["owner_id"].isin(team)]
    for quarter in mine["quarters"]:
        start, _ = web.ws.calendar.parse(quarter["quarter"])
        stop = web.ws.calendar.next_start(start, "quarter")
        inside = (won["closed_at"] >= pd.Timestamp(start)) & (won["closed_at"] < pd.Timestamp(stop))
        assert quarter["actual"] == pytest.approx(float(won.loc[inside, "amount"].astype("float64").sum()))


def test_an_executive_sees_every_forecaster_and_the_planted_biases(web: WebCompany, client: Any) -> None:
    demo_truths = json.loads((web.root / "truths.json").read_text())  # re-measured from this demo's warehouse
    page = client("executive").get("/forecast")
    assert page.status_code == 200 and 'id="accuracy"' in page.text and 'action="/forecast/calls"' in page.text
    assert ">nan<" not in page.text  # the demo's calls carry no note: an empty cell, not pandas' NaN
    scored = client("executive").get("/forecast.json").json()["calls"]["accuracy"]["forecasters"]
    assert len(scored) >= 4
    assert {f["person_id"]: f["bias"] for f in scored if f["bias"]} == demo_truths["forecast_bias"]
