"""The gap loop through the web: an action recorded on a red figure comes back on the next weeks' scorecards
until it is closed, flagged once past due; a form with bad input answers beside the field and writes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from tests.web.conftest import MANAGER_TEAM, ORIGIN, OTHER_TEAM, WebCompany


def _week(day: date) -> str:
    iso = day.isocalendar()
    return f"{iso.year}-W{iso.week:02d}"


def _reviews(web: WebCompany) -> int:
    return int(web.ws.warehouse.query("SELECT count(*) FROM gap_reviews")[0][0])


def test_an_action_comes_back_until_closed(web: WebCompany, client: Any) -> None:
    c = client("executive")
    card = c.get("/scorecard.json").json()
    week = card["snapshot"]["week"]
    monday = date.fromisocalendar(int(week[:4]), int(week[6:]), 1)
    due = monday + timedelta(days=9)  # due in the middle of the next week
    response = c.post("/actions", headers=ORIGIN, follow_redirects=False, data={
        "team": MANAGER_TEAM, "metric": "bookings", "week": week, "gap": "bookings 20% under target",
        "cause": "resources", "action": "Pair two reps with the model rep on discovery calls",
        "owner_id": web.manager_person, "due": due.isoformat()})
    assert response.status_code == 303, response.text
    recorded = web.ws.warehouse.query(
        "SELECT review_id, status FROM gap_reviews WHERE kind = 'kpi' AND action = "
        "'Pair two reps with the model rep on discovery calls'")
    assert len(recorded) == 1 and recorded[0][1] == "open"
    review_id = recorded[0][0]

    def listed(w: date) -> dict[str, Any] | None:
        rows = c.get("/actions.json", params={"week": _week(w)}).json()["actions"]
        return next((a for a in rows if a["review_id"] == review_id), None)

    assert listed(monday) is not None and not listed(monday)["past_due"]
    assert listed(monday + timedelta(days=7)) is not None
    later = listed(monday + timedelta(days=14))
    assert later is not None and later["past_due"]  # not closed by its due date
    assert c.post(f"/actions/{review_id}/close", headers=ORIGIN, data={"week": ""},
                  follow_redirects=False).status_code == 303
    assert web.ws.warehouse.query("SELECT status FROM gap_reviews WHERE review_id = $1", (review_id,))[0][0] == "done"
    assert listed(date.today() + timedelta(days=21)) is None


def test_bad_input_is_answered_beside_the_field(web: WebCompany, client: Any) -> None:
    c = client("executive")
    before = _reviews(web)
    base = {"team": MANAGER_TEAM, "metric": "bookings", "week": "2025-W40", "gap": "g", "cause": "resources",
            "action": "a", "owner_id": web.manager_person, "due": "2025-10-20"}
    for field, value in (("cause", "the weather"), ("owner_id", ""), ("due", "next tuesday"), ("due", "2025-09-01"),
                         ("week", "2025-40")):
        page = c.post("/actions", headers=ORIGIN, data={**base, field: value})
        assert page.status_code in (400, 422), (field, value)
        assert f'id="{field}-error"' in page.text, (field, value, page.text[-800:])
    assert _reviews(web) == before


def test_a_manager_records_for_their_own_team_only(web: WebCompany, client: Any) -> None:
    c = client("manager")
    before = _reviews(web)
    page = c.post("/actions", headers=ORIGIN, data={
        "team": OTHER_TEAM, "metric": "bookings", "week": "2025-W40", "gap": "g", "cause": "resources",
        "action": "a", "owner_id": web.manager_person, "due": "2025-10-20"})
    assert page.status_code == 400 and 'id="team-error"' in page.text
    assert _reviews(web) == before


def test_a_manager_sees_only_their_teams_actions(web: WebCompany, client: Any) -> None:
    rows = client("manager").get("/actions.json").json()["actions"]
    assert all(a["team"] == MANAGER_TEAM for a in rows)
