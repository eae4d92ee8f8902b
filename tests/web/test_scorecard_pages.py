"""The scorecard page per reader: leadership's one scorecard for the company, a manager's team only, a rep's own
part without the team's verdicts — each opened from its stored snapshot."""

from __future__ import annotations

from typing import Any

from tests.web.conftest import MANAGER_TEAM, WebCompany


def _figures(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for s in card["scorecard"]["sections"] for f in s["figures"]]


def test_the_company_scorecard_is_one_for_every_leader(client: Any) -> None:
    week = client("executive").get("/scorecard.json").json()["snapshot"]["week"]
    seen = {role: client(role).get("/scorecard.json", params={"week": week}).json() for role in
            ("executive", "admin", "viewer")}
    assert len({card["snapshot"]["snapshot_id"] for card in seen.values()}) == 1
    teams = {f["team"] for f in _figures(seen["executive"]) if f["team"]}
    assert MANAGER_TEAM in teams and len(teams) >= 3


def test_a_manager_sees_their_teams_figures_only(web: WebCompany, client: Any) -> None:
    card = client("manager").get("/scorecard.json").json()
    assert card["snapshot"]["scope"] == f"team:{MANAGER_TEAM}"
    figures = _figures(card)
    assert figures and {f["team"] for f in figures} <= {MANAGER_TEAM, None}
    others = {r[0] for r in web.ws.warehouse.query("SELECT DISTINCT team FROM people WHERE team <> $1",
                                                    (MANAGER_TEAM,)) if r[0]}
    page = client("manager").get("/scorecard").text
    assert not [team for team in others if f">{team}<" in page or f'data-team="{team}"' in page]


def test_a_reps_scorecard_keeps_their_part_without_the_teams_verdict(client: Any) -> None:
    card = client("rep").get("/scorecard.json").json()
    team_figures = [f for f in _figures(card) if f["team"]]
    assert team_figures and all(f["status"] is None and f["target"] is None for f in team_figures)
    assert {f["team"] for f in team_figures} == {MANAGER_TEAM}
