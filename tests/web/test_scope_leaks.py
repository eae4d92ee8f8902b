"""Rows outside a person's scope never appear — in a page, its JSON twin or a CSV download — whatever team,
person, period, cut or filter they ask for (hypothesis over the demo company's managers, reps and filters)."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.web.conftest import PASSWORD, WebCompany, sign_in

SALES_TEAMS = ("Enterprise Sales", "Mid-Market Sales", "Growth Sales")
PERIODS = ("2025-Q1", "2025-Q4", "2025-11", "2024", "2026-W03")
METRICS = ("bookings", "won_deals", "pipeline_created", "opportunities_created", "activities")
FILTERS = (None, "amount > 1000", "kind = 'new'", "1=1", "team = 'Enterprise Sales'",
           "owner_id IS NOT NULL OR 1=1", "x'; DROP TABLE opportunities; --")


class Reader:
    def __init__(self, client: TestClient, people: set[str], names: set[str]):
        self.client, self.people, self.names = client, people, names


@pytest.fixture(scope="module")
def readers(web: WebCompany, web_app: Any) -> dict[str, Reader]:
    """A manager for each sales team and one rep of each, signed in once."""
    from cadence.accounts.users import add_user, get_user

    people = web.ws.table("people").to_pandas()
    made: dict[str, Reader] = {}
    for team in SALES_TEAMS:
        members = people[people.team == team]
        manager = members[members.role == "manager"].person_id.iloc[0]
        rep = sorted(members[members.role == "rep"].person_id)[-1]
        for role, person, scope_people in (("manager", manager, set(members.person_id)), ("rep", rep, {rep})):
            name = f"leak_{role}_{team.split()[0].lower()}"
            if get_user(web.ws, name) is None:
                add_user(web.ws, name, role, password=PASSWORD, person_id=person,
                         team=team if role == "manager" else None)
            names = set(people[people.person_id.isin(scope_people)].name.dropna())
            made[name] = Reader(sign_in(web_app, name), scope_people, names)
    return made


def _others(web: WebCompany, reader: Reader) -> set[str]:
    """Names of sales people outside the reader's scope (they must never show)."""
    people = web.ws.table("people").to_pandas()
    outside = people[~people.person_id.isin(reader.people) & people.team.isin(SALES_TEAMS)]
    return {n for n in outside.name.dropna() if len(n) > 4}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(who=st.sampled_from(sorted(f"leak_{r}_{t.split()[0].lower()}" for r in ("manager", "rep")
                                  for t in SALES_TEAMS)),
       metric=st.sampled_from(METRICS), period=st.sampled_from(PERIODS), where=st.sampled_from(FILTERS),
       team=st.sampled_from((None, *SALES_TEAMS)))
def test_drill_down_rows_stay_in_scope(web: WebCompany, readers: dict[str, Reader], who: str, metric: str,
                                       period: str, where: str | None, team: str | None) -> None:
    reader = readers[who]
    params = {"period": period, **({"where": where} if where else {}), **({"team": team} if team else {})}
    as_json = reader.client.get(f"/metrics/{metric}/rows.json", params=params)
    if as_json.status_code != 200:
        assert as_json.status_code in (400, 404), as_json.text
        return
    owner = "person_id" if metric == "activities" else "owner_id"
    rows = as_json.json()["rows"]
    assert {r[owner] for r in rows} <= reader.people
    as_csv = reader.client.get(f"/metrics/{metric}/rows.csv", params=params)
    table = list(csv.DictReader(io.StringIO(as_csv.text.lstrip("\ufeff"))))
    assert len(table) == as_json.json()["total"] and {r[owner] for r in table} <= reader.people
    page = reader.client.get(f"/metrics/{metric}/rows", params=params).text
    assert not [n for n in _others(web, reader) if n in page]


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(who=st.sampled_from(sorted(f"leak_manager_{t.split()[0].lower()}" for t in SALES_TEAMS)),
       by=st.sampled_from(("owner_name", "team", "segment")), grain=st.sampled_from(("quarter", "month")))
def test_metric_cuts_stay_in_scope(web: WebCompany, readers: dict[str, Reader], who: str, by: str,
                                   grain: str) -> None:
    """A manager's bookings cut by owner, team or segment add up to their team's bookings — computed from the raw
    opportunities in SQL — and name no one outside it."""
    reader = readers[who]
    data = reader.client.get("/metrics/bookings.json", params={"grain": grain, "by": by}).json()
    if by == "owner_name":
        assert {r["owner_name"] for r in data["rows"]} <= reader.names | reader.people
    if by == "team":
        teams = {r["team"] for r in data["rows"]}
        assert len(teams) <= 1
    total = sum(r["value"] or 0 for r in data["rows"])
    # the same figure the second way: the whole company's bookings by owner, kept to the reader's people after
    company = readers_company(web, grain)
    expected = sum(r["value"] or 0 for r in company if r["owner_id"] in reader.people)
    assert total == pytest.approx(expected, rel=1e-9, abs=0.01)


_company: dict[str, list[dict[str, Any]]] = {}


def readers_company(web: WebCompany, grain: str) -> list[dict[str, Any]]:
    if grain not in _company:
        _company[grain] = web.ws.metric_result("bookings", by=["owner_id"], grain=grain).rows()  # type: ignore[arg-type]
    return _company[grain]
