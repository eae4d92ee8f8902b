"""What keeps the web app safe: escaped output, same-site writes, cookie flags, revocable sessions, SQL-looking
input taken as data, and sign-in throttling."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from tests.web.conftest import ORIGIN, PASSWORD, WebCompany, sign_in

SCRIPT = "<script>alert('x')</script>"


def test_session_cookie_is_httponly_and_samesite_lax(web_app: Any, web: WebCompany) -> None:
    with TestClient(web_app, base_url="http://testserver") as c:
        response = c.post("/login", data={"username": "vic", "password": PASSWORD}, headers=ORIGIN,
                          follow_redirects=False)
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # plain http on loopback; --secure-cookies (or https) adds it


def test_secure_flag_behind_https(web: WebCompany) -> None:
    from cadence.web.app import create_app
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.settings import Settings

    app = create_app(Settings(workspace=web.root, secure_cookies=True),
                     holder=WorkspaceHolder(web.root, workspace=web.ws))
    with TestClient(app, base_url="http://testserver") as c:
        response = c.post("/login", data={"username": "vic", "password": PASSWORD}, headers=ORIGIN,
                          follow_redirects=False)
    assert "secure" in response.headers["set-cookie"].lower()


def test_the_token_is_never_stored(web: WebCompany, web_app: Any) -> None:
    c = sign_in(web_app, "vic")
    token = c.cookies.get("cadence_session")
    assert token
    hashed = hashlib.sha256(token.encode()).hexdigest()
    stored = {r[0] for r in web.ws.warehouse.query("SELECT token_hash FROM sessions")}
    assert hashed in stored and token not in stored
    dumped = " ".join(str(v) for table in ("sessions", "audit_log", "users")
                      for row in web.ws.warehouse.query(f"SELECT * FROM {table}") for v in row)
    assert token not in dumped and PASSWORD not in dumped


def test_cross_site_post_is_refused(web_app: Any, client: Any) -> None:
    c = client("admin")
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {}):
        response = c.post("/admin/users", data={"user_id": "mallory", "role": "admin", "password": "x" * 12},
                          headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
    assert all(u["user_id"] != "mallory" for u in c.get("/admin/users.json").json()["users"])


def test_a_revoked_session_is_refused(web: WebCompany, web_app: Any, client: Any) -> None:
    from cadence.accounts.sessions import revoke_sessions
    from cadence.accounts.users import add_user, get_user

    if get_user(web.ws, "rovo") is None:  # a user of its own: the shared clients' sessions stay alive
        add_user(web.ws, "rovo", "viewer", password=PASSWORD)
    mine = sign_in(web_app, "rovo")
    assert mine.get("/scorecard.json").status_code == 200
    revoke_sessions(web.ws, user_id="rovo", actor="test")
    assert mine.get("/scorecard.json").status_code == 401
    assert mine.get("/scorecard", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(web_app: Any) -> None:
    mine = sign_in(web_app, "eve")
    token = mine.cookies.get("cadence_session")
    assert mine.post("/logout", headers=ORIGIN, follow_redirects=False).status_code == 303
    again = TestClient(web_app, base_url="http://testserver", cookies={"cadence_session": token})
    assert again.get("/scorecard.json").status_code == 401


def test_login_is_throttled_after_repeated_failures(web: WebCompany, web_app: Any) -> None:
    from cadence.accounts.users import add_user

    add_user(web.ws, "tess", "viewer", password=PASSWORD)
    with TestClient(web_app, base_url="http://testserver") as c:
        codes = [c.post("/login", data={"username": "tess", "password": "wrong password"}, headers=ORIGIN).status_code
                 for _ in range(6)]
        right = c.post("/login", data={"username": "tess", "password": PASSWORD}, headers=ORIGIN,
                       follow_redirects=False)
    assert codes[:5] == [401] * 5 and codes[5] == 429
    assert right.status_code == 429 and "Retry-After" in right.headers  # even the right password waits
    failures = web.ws.warehouse.query(
        "SELECT count(*) FROM audit_log WHERE action = 'sign_in_failed' AND target = 'users/tess'")[0][0]
    assert failures >= 5


def test_after_sign_in_only_local_paths(web_app: Any) -> None:
    with TestClient(web_app, base_url="http://testserver") as c:
        response = c.post("/login", data={"username": "vic", "password": PASSWORD, "next": "//evil.example/x"},
                          headers=ORIGIN, follow_redirects=False)
    assert response.headers["location"] == "/"


def test_script_in_a_comment_is_escaped_everywhere(web: WebCompany, client: Any) -> None:
    c = client("executive")
    subject = "kpi:Mid-Market Sales/bookings"
    response = c.post("/comments", data={"subject": subject, "body": SCRIPT, "week": ""}, headers=ORIGIN,
                      follow_redirects=False)
    assert response.status_code == 303
    page = c.get("/comments", params={"subject": subject})
    assert SCRIPT not in page.text and "&lt;script&gt;" in page.text
    assert any(comment["body"] == SCRIPT for comment in c.get("/comments.json", params={"subject": subject})
               .json()["comments"])


def test_script_in_a_user_name_is_escaped(web: WebCompany, client: Any) -> None:
    from cadence.accounts.users import add_user

    add_user(web.ws, "xss.name", "viewer", password=PASSWORD, display_name=SCRIPT)
    page = client("admin").get("/admin/users")
    assert SCRIPT not in page.text and "&lt;script&gt;" in page.text


SQLISH = ["' OR 1=1 --", "1; DROP TABLE opportunities", "team = 'x' UNION SELECT * FROM users",
          "Robert'); DROP TABLE users;--"]


def test_sql_looking_filters_are_data(web: WebCompany, client: Any) -> None:
    before = web.ws.warehouse.query("SELECT count(*) FROM opportunities")[0][0]
    c = client("executive")
    for text in SQLISH:
        for url, params in (("/metrics/bookings.json", {"by": text, "grain": text}),
                            ("/metrics/bookings/rows.json", {"period": text}),
                            ("/metrics/bookings/rows.json", {"period": "2025-Q4", "team": text}),
                            ("/metrics/bookings/rows.json", {"period": "2025-Q4", "where": text}),
                            ("/scorecard.json", {"week": text}),
                            ("/admin/audit.json", {"actor": text, "action": text}),
                            ("/comments.json", {"subject": text})):
            response = c.get(url, params=params)
            assert response.status_code in (200, 400, 403, 404), (url, params, response.status_code)
            if url.endswith("rows.json") and "team" in params and response.status_code == 200:
                assert response.json()["rows"] == []
    assert web.ws.warehouse.query("SELECT count(*) FROM opportunities")[0][0] == before
    assert web.ws.warehouse.query("SELECT count(*) FROM users")[0][0] >= 6
