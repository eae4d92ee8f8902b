"""The read-only analysis pages — pipeline, forecast, coaching — and their JSON twins: the same results the CLI
prints, checked against plain SQL on the warehouse; a manager sees their team's reps only, a rep themself; a
viewer is refused, a signed-out reader sent to sign in; a bad query parameter answers in one line."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest

from tests.web.conftest import MANAGER_TEAM, WebCompany

PAGES = ("/pipeline", "/forecast", "/coaching")


def _plain(value: Any) -> Any:
    from cadence.web.payload import plain

    return plain(value)


def _as_of(web: WebCompany) -> Any:
    from cadence.analysis.as_of import resolve_as_of

    return resolve_as_of(web.ws)


def _quarter_bounds(web: WebCompany, label: str) -> tuple[date, date]:
    start, _grain = web.ws.calendar.parse(label)
    return start, web.ws.calendar.next_start(start, "quarter")


def _team_people(web: WebCompany, team: str) -> set[str]:
    return {r[0] for r in web.ws.warehouse.query("SELECT person_id FROM people WHERE team = $1", (team,))}


def _other_names(web: WebCompany, team: str) -> set[str]:
    """Names of the reps of every other team (the manager's reports, if any, live in their team)."""
    rows = web.ws.warehouse.query("SELECT name FROM people WHERE role = 'rep' AND team <> $1 AND name IS NOT NULL",
                                  (team,))
    return {r[0] for r in rows}


# -- pipeline ---------------------------------------------------------------------------------------


def test_pipeline_for_an_executive_is_the_funnel_and_the_coverage(web: WebCompany, client: Any) -> None:
    from cadence.analysis.funnel import funnel
    from cadence.report.model import ScorecardContext
    from cadence.report.sections.pipeline import PipelineSection

    c = client("executive")
    page = c.get("/pipeline")
    assert page.status_code == 200 and "<svg" in page.text and "Stage funnel" in page.text
    data = c.get("/pipeline.json").json()
    assert data["funnel"] == _plain(funnel(web.ws).as_dict())  # `cadence funnel --format json`

    today = _as_of(web)
    this_label, next_label = (q["quarter"] for q in data["coverage"]["quarters"])
    this_start, this_end = _quarter_bounds(web, this_label)
    assert this_start <= today.day < this_end and _quarter_bounds(web, next_label)[0] == this_end
    expected = PipelineSection().build(web.ws, ScorecardContext("", today.next_day, today.next_day, today=today))
    assert expected is not None
    assert data["coverage"]["quarters"][0]["figures"] == _plain(expected.as_dict()["figures"])

    # a second way: the warehouse itself
    for label, quarter in zip((this_label, next_label), data["coverage"]["quarters"], strict=True):
        start, end = _quarter_bounds(web, label)
        open_due = web.ws.warehouse.query("SELECT coalesce(sum(amount), 0) FROM opportunities WHERE NOT is_closed AND "
                                          "close_date >= $1 AND close_date < $2 AND deleted_at IS NULL", (start, end))
        shown = next(f for f in quarter["figures"] if f["metric"] == "open_pipeline" and f["team"] is None)
        assert shown["value"] == pytest.approx(float(open_due[0][0]))
    stages = {s["stage"]: s for s in data["funnel"]["stages"]}
    pipeline = data["funnel"]["pipeline"]
    with_history = web.ws.warehouse.query(
        "SELECT count(*), count(*) FILTER (WHERE o.is_won) FROM opportunities o WHERE o.pipeline = $1 AND "
        "o.deleted_at IS NULL AND o.opportunity_id IN (SELECT opportunity_id FROM opportunity_history)", (pipeline,))
    first = min(data["funnel"]["stages"], key=lambda s: s["position"])
    assert first["reached"] == data["funnel"]["deals"] == with_history[0][0]
    won = max(data["funnel"]["stages"], key=lambda s: s["position"])
    assert won["reached"] == with_history[0][1] and stages[won["stage"]]["win_rate"] == 1.0


def test_pipeline_refuses_an_unknown_pipeline_or_cut_in_one_line(client: Any) -> None:
    c = client("executive")
    unknown = c.get("/pipeline", params={"pipeline": "no-such-pipeline"})
    assert unknown.status_code == 404 and "no-such-pipeline" in unknown.text
    assert c.get("/pipeline.json", params={"pipeline": "no-such-pipeline"}).json()["error"].count("\n") == 0
    bad_cut = c.get("/pipeline.json", params={"by": "owner_name"})
    assert bad_cut.status_code == 400 and "by=team" in bad_cut.json()["error"]


def test_a_manager_sees_their_teams_pipeline_only(web: WebCompany, client: Any) -> None:
    data = client("manager").get("/pipeline.json", params={"by": "team"}).json()
    assert {s["group"] for s in data["funnel"]["stages"]} == {MANAGER_TEAM}
    figures = [f for q in data["coverage"]["quarters"] for f in q["figures"]]
    assert {f["team"] for f in figures} <= {None, MANAGER_TEAM}
    team_deals = web.ws.warehouse.query(
        "SELECT count(*) FROM opportunities o JOIN people p ON p.person_id = o.owner_id WHERE p.team = $1 AND "
        "o.pipeline = $2 AND o.deleted_at IS NULL AND o.opportunity_id IN (SELECT opportunity_id FROM "
        "opportunity_history)", (MANAGER_TEAM, data["funnel"]["pipeline"]))
    assert data["funnel"]["deals"] == team_deals[0][0]


# -- forecast ---------------------------------------------------------------------------------------


def test_the_forecast_page_is_read_back_in_another_process_for_the_same_scope_only(client: Any,
                                                                                    monkeypatch: Any) -> None:
    """The page's answer is kept in the warehouse (`report/kept_answers.py`): a server process that has never
    computed it reads it back for a reader of the same scope; a manager's page is computed on the team's rows."""
    from cadence.web import results
    from cadence.web.routes import forecast as route

    first = client("executive").get("/forecast.json").json()
    computed: list[str] = []
    original = route.forecast_report
    monkeypatch.setattr(route, "forecast_report", lambda ws, *a: computed.append(ws.scope_name) or original(ws, *a))
    monkeypatch.setattr(results, "_kept", type(results._kept)())  # another process: nothing in its memory
    assert client("executive").get("/forecast.json").json() == first and computed == []
    team = client("manager").get("/forecast.json").json()
    assert len(computed) == 1 and computed[0] != "" and team != first


def test_forecast_for_an_executive_is_the_clis_forecast_and_backtest(web: WebCompany, client: Any) -> None:
    from cadence.analysis.forecast import forecast_quarter

    c = client("executive")
    page = c.get("/forecast")
    assert page.status_code == 200 and page.text.count("<svg") == 2
    data = c.get("/forecast.json").json()
    result = forecast_quarter(web.ws, web.ws.calendar, _as_of(web).next_day)  # `cadence forecast --format json`
    assert data["forecast"] == _plain({**result.as_dict(), "currency": web.ws.currency})
    assert {m["method"] for m in data["forecast"]["methods"]} == {"stage_weighted", "historical", "win_model"}

    backtest = data["backtest"]  # the scorecard's replay: day 30 of the last four complete quarters
    assert {r["checkpoint"] for r in backtest["rows"]} == {"day30"}
    assert len({r["quarter"] for r in backtest["rows"]}) == 4
    for method in {r["method"] for r in backtest["rows"]}:  # each score from its rows, by hand
        mine = [r for r in backtest["rows"] if r["method"] == method]
        summary = next(s for s in backtest["summary"] if s["method"] == method)
        assert summary["quarters"] == len(mine)
        assert summary["median_ape"] == pytest.approx(float(np.median([r["abs_pct_error"] for r in mine])))
        with_interval = [r for r in mine if r["p10"] is not None]
        assert summary["with_interval"] == len(with_interval)
        assert summary["inside"] == sum(r["p10"] <= r["actual"] <= r["p90"] for r in with_interval)
    for row in data["backtest"]["rows"]:  # the actual is the quarter's won amount, dated by the CRM's close date
        start, end = _quarter_bounds(web, row["quarter"])
        won = web.ws.warehouse.query(
            "SELECT coalesce(sum(amount), 0) FROM opportunities WHERE is_won AND deleted_at IS NULL AND "
            "coalesce(close_date, CAST(closed_at AS DATE)) >= $1 AND "
            "coalesce(close_date, CAST(closed_at AS DATE)) < $2", (start, end))
        assert row["actual"] == pytest.approx(float(won[0][0]))
        assert row["abs_pct_error"] == pytest.approx(abs(row["forecast"] - row["actual"]) / row["actual"])


@pytest.mark.parametrize(("params", "status"), [({"period": "2026-13"}, 400), ({"period": "2025-11"}, 400),
                                                ({"as_of": "yesterday"}, 400), ({"replay": "all"}, 400)])
def test_forecast_refuses_a_bad_period_in_one_line(client: Any, params: dict[str, str], status: int) -> None:
    response = client("executive").get("/forecast", params=params)
    assert response.status_code == status and 'class="message"' in response.text


# -- coaching ---------------------------------------------------------------------------------------


def test_coaching_for_an_executive_is_what_cadence_coach_prints(web: WebCompany, client: Any) -> None:
    from cadence.analysis.coaching import coach

    c = client("executive")
    data = c.get("/coaching.json").json()
    expected = coach(web.ws, web.ws.calendar, as_of=_as_of(web).next_day)  # `cadence coach --format json`
    assert data == _plain(expected.as_dict())
    current_reps = {r[0] for r in web.ws.warehouse.query(
        "SELECT person_id FROM people WHERE role = 'rep' AND left_at IS NULL")}
    assert {r["person_id"] for r in data["reps"]} <= current_reps and data["reps"]
    page = c.get("/coaching")
    assert page.status_code == 200 and all(r["name"] in page.text for r in data["reps"])
    one = data["reps"][0]
    detail = c.get(f"/coaching/{one['person_id']}.json").json()
    assert detail["reps"] == [one]  # `cadence coach REP --format json`
    assert c.get(f"/coaching/{one['person_id']}").status_code == 200


def test_a_manager_coaches_their_team_only(web: WebCompany, client: Any) -> None:
    c = client("manager")
    data = c.get("/coaching.json").json()
    team = _team_people(web, MANAGER_TEAM)
    reps = {r["person_id"] for r in data["reps"]}
    assert reps and reps <= team
    assert all(set(r["model"]) <= team for r in data["reps"])
    page = c.get("/coaching").text
    assert not [name for name in _other_names(web, MANAGER_TEAM) if name in page]
    other = sorted(r[0] for r in web.ws.warehouse.query(
        "SELECT person_id FROM people WHERE role = 'rep' AND team <> $1", (MANAGER_TEAM,)))[0]
    assert c.get(f"/coaching/{other}").status_code == 404
    assert c.get(f"/coaching/{other}.json").status_code == 404


def test_a_rep_sees_only_themself(web: WebCompany, client: Any) -> None:
    c = client("rep")
    data = c.get("/coaching.json").json()
    assert [r["person_id"] for r in data["reps"]] == [web.rep_person]
    assert c.get(f"/coaching/{web.rep_person}.json").json()["reps"][0]["person_id"] == web.rep_person
    page = c.get("/coaching").text
    teammates = web.ws.warehouse.query("SELECT name FROM people WHERE person_id <> $1 AND role = 'rep'",
                                       (web.rep_person,))
    assert not [name for (name,) in teammates if name and (name in page or name in json.dumps(data))]
    # the rep is measured against their team's model, exactly as their manager sees them — the model unnamed
    as_manager = client("manager").get(f"/coaching/{web.rep_person}.json").json()["reps"][0]
    mine = data["reps"][0]
    assert [s["model_rate"] for s in mine["steps"]] == [s["model_rate"] for s in as_manager["steps"]]
    assert any(s["model_rate"] is not None for s in mine["steps"])
    assert mine["model"] == [] and as_manager["model"]


def test_a_typed_model_name_comes_back_escaped(client: Any) -> None:
    response = client("executive").get("/coaching", params={"model": "<script>alert(1)</script>"})
    assert response.status_code == 404 and "<script>alert(1)" not in response.text


# -- who may see them -------------------------------------------------------------------------------


def test_a_viewer_is_refused_and_a_signed_out_reader_sent_to_sign_in(client: Any, anonymous: Any) -> None:
    viewer = client("viewer")
    for page in PAGES:
        assert viewer.get(page).status_code == 403
        assert viewer.get(page + ".json").status_code == 403
        assert anonymous.get(page + ".json").status_code == 401
        signed_out = anonymous.get(page, follow_redirects=False)
        assert signed_out.status_code == 303 and signed_out.headers["location"].startswith("/login")


def test_the_next_quarter_follows_this_one(web: WebCompany, client: Any) -> None:
    """Coverage covers the quarter holding the as-of day and the one after it, nothing else."""
    quarters = client("executive").get("/pipeline.json").json()["coverage"]["quarters"]
    first_start, first_end = _quarter_bounds(web, quarters[0]["quarter"])
    second_start, _ = _quarter_bounds(web, quarters[1]["quarter"])
    assert len(quarters) == 2 and second_start == first_end and first_end - first_start > timedelta(days=80)
