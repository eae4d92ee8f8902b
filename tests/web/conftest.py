"""The web app over the demo company, with one signed-in user per role.

`web` (session): the demo workspace with users for every role; `client("manager")` a TestClient signed in as that
role's user. Every state-changing request a browser makes carries `Origin`, so the clients send it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cadence.workspace import Workspace

PASSWORD = "correct horse battery staple"
ORIGIN = {"Origin": "http://testserver"}
MANAGER_TEAM = "Mid-Market Sales"
OTHER_TEAM = "Enterprise Sales"


@dataclass
class WebCompany:
    ws: Workspace
    root: Path
    users: dict[str, str]  # role -> user_id
    manager_person: str
    rep_person: str
    today: date | None = None
    team_people: dict[str, list[str]] = field(default_factory=dict)


@pytest.fixture(scope="session")
def web_demo(tmp_path_factory: pytest.TempPathFactory, demo_as_built: Callable[[Path], Path]) -> Iterator[Workspace]:
    """A demo company of the web tests' own: they write (users, targets, actions, comments), and the session's
    `demo_workspace` must stay as built for the tests that read it, whichever worker runs them first. A copy of
    the demo's folder as `build_demo` left it, opened: the demo is built once per worker."""
    import cadence

    ws = cadence.open(demo_as_built(tmp_path_factory.mktemp("web-demo") / "northwind"))
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def web(web_demo: Workspace) -> WebCompany:
    from cadence.accounts.users import add_user, get_user

    ws = web_demo
    people = ws.table("people").to_pandas()
    manager = people[(people.team == MANAGER_TEAM) & (people.role == "manager")].person_id.iloc[0]
    rep = sorted(people[(people.team == MANAGER_TEAM) & (people.role == "rep")].person_id)[0]
    users = {"admin": "ada", "executive": "eve", "manager": "max", "rep": "ria", "recruiter": "rex", "viewer": "vic"}
    extra = {"manager": {"team": MANAGER_TEAM, "person_id": manager}, "rep": {"person_id": rep}}
    for role, name in users.items():
        if get_user(ws, name) is None:
            add_user(ws, name, role, password=PASSWORD, display_name=f"{role.title()} {name.title()}",
                     email=f"{name}@example.test", **extra.get(role, {}))
    teams = {t: sorted(g.person_id) for t, g in people.groupby("team")}
    return WebCompany(ws, ws.root, users, manager, rep, team_people=teams)


@pytest.fixture(scope="session")
def web_app(web: WebCompany) -> object:
    from cadence.web.app import create_app
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.settings import Settings

    holder = WorkspaceHolder(web.root, workspace=web.ws)
    return create_app(Settings(workspace=web.root), holder=holder)


def sign_in(app: object, user_id: str, password: str = PASSWORD) -> TestClient:
    client = TestClient(app, base_url="http://testserver")  # type: ignore[arg-type]
    response = client.post("/login", data={"username": user_id, "password": password, "next": "/"}, headers=ORIGIN,
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    return client


@pytest.fixture(scope="session")
def client(web: WebCompany, web_app: object) -> Iterator[Callable[[str], TestClient]]:
    """`client("rep")`: a TestClient signed in as the rep (one per role, reused)."""
    clients: dict[str, TestClient] = {}

    def for_role(role: str) -> TestClient:
        if role not in clients:
            clients[role] = sign_in(web_app, web.users[role])
        return clients[role]

    yield for_role
    for c in clients.values():
        c.close()


@pytest.fixture
def anonymous(web_app: object) -> Iterator[TestClient]:
    with TestClient(web_app, base_url="http://testserver") as c:  # type: ignore[arg-type]
        yield c
