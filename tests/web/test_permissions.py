"""Every route × every role: who may open what, written out by hand from the roles users were promised
(issue 12 / docs/users.md), not read from the code under test."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.routing import APIRoute

from tests.web.conftest import WebCompany

# The promise, area by area: which roles may open the pages of each area.
EVERYONE_BUT_RECRUITER = {"admin", "executive", "manager", "rep", "viewer"}
MAY_SEE = {
    "scorecard": EVERYONE_BUT_RECRUITER,
    "metrics": {"admin", "executive", "manager", "rep"},
    "pipeline": {"admin", "executive", "manager", "rep"},
    "forecast": {"admin", "executive", "manager", "rep"},
    "coaching": {"admin", "executive", "manager", "rep"},
    "tempo": {"admin", "executive", "manager"},
    "requests": {"admin", "executive", "manager", "rep"},
    "roadmap": {"admin", "executive"},
    "hiring": {"admin", "executive", "recruiter"},
    "hiring_scores": {"admin", "recruiter"},
    "quality": {"admin", "executive"},
    "actions": {"admin", "executive", "manager", "rep"},
    "admin": {"admin"},
}
ROLES = ("admin", "executive", "manager", "rep", "recruiter", "viewer")


def _area_of(route: APIRoute) -> str | None:
    from cadence.web.deps import viewer

    by_function = {viewer(area): area for area in MAY_SEE}
    for dependency in route.dependant.dependencies:
        if dependency.call in by_function:
            return by_function[dependency.call]
    return None


def _sample_path(path: str, web: WebCompany) -> str:
    samples = {"name": "bookings", "person_id": web.rep_person, "user_id": "vic", "review_id": "none"}
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: samples.get(m.group(1), "x"), path)


QUERIES = {"/rows": {"period": "2025-Q4"}, "/comments": {"subject": "kpi:/bookings"}}


def api_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, looking inside included routers (FastAPI keeps them as their own routers)."""
    found: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append(route)
        elif hasattr(route, "original_router"):
            found += api_routes(route.original_router.routes)
    return found


def _get_routes(app: Any) -> list[tuple[str, str]]:
    found = []
    for route in api_routes(app.routes):
        if isinstance(route, APIRoute) and "GET" in route.methods:
            area = _area_of(route)
            if area is not None:
                found.append((route.path, area))
    return found


def test_every_page_declares_who_may_see_it(web_app: Any) -> None:
    """No route is open by accident: every page and every form post but signing in and out (and the home
    redirect, which sends the signed-out to /login) goes through the viewer dependency of an area."""
    from cadence.web.deps import any_signed_in

    open_routes = {r.path for r in api_routes(web_app.routes) if _area_of(r) is None
                   and not any(d.call is any_signed_in for d in r.dependant.dependencies)}
    assert open_routes <= {"/login", "/logout", "/", "/login/oidc", "/login/oidc/callback"}, open_routes


def test_the_api_reference_needs_a_session(anonymous: Any, client: Any) -> None:
    assert anonymous.get("/docs", follow_redirects=False).status_code == 303
    assert anonymous.get("/openapi.json").status_code == 401
    document = client("viewer").get("/openapi.json").json()
    assert "/scorecard.json" in document["paths"] and "/metrics/{name}/rows.csv" in document["paths"]
    assert "/scorecard.json" in client("viewer").get("/docs").text


@pytest.mark.slow
def test_route_by_role_matrix(web: WebCompany, web_app: Any, client: Any) -> None:
    routes = _get_routes(web_app)
    assert len(routes) >= 8
    wrong = []
    for path, area in routes:
        url = _sample_path(path, web)
        params = next((q for suffix, q in QUERIES.items() if path.rstrip(".jsoncv").endswith(suffix)
                       or suffix in path), {})
        for role in ROLES:
            response = client(role).get(url, params=params, follow_redirects=False)
            allowed = role in MAY_SEE[area]
            # allowed: any answer but a refusal or a failure (a 4xx about the sample's missing parameters is one)
            answered = response.status_code < 500 and response.status_code not in (401, 403)
            if allowed and not answered or not allowed and response.status_code != 403:
                wrong.append(f"{role} GET {url} -> {response.status_code} (expected {'an answer' if allowed else 403})")
    assert not wrong, "\n".join(wrong)


def test_signed_out_html_goes_to_login_and_json_gets_401(web_app: Any, anonymous: Any, web: WebCompany) -> None:
    for path, _area in _get_routes(web_app):
        url = _sample_path(path, web)
        response = anonymous.get(url, follow_redirects=False)
        if path.endswith((".json", ".csv")):
            assert response.status_code == 401, url
        else:
            assert response.status_code == 303 and response.headers["location"].startswith("/login"), url
