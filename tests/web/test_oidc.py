"""Signing in through an OpenID Connect provider, against a stand-in provider on loopback.

The stand-in serves discovery, its signing keys (an RSA key made here with `cryptography`), a sign-in page that
hands back a code, and a token endpoint that checks the client secret and the PKCE verifier against the
challenge. ID tokens are signed here by hand (RS256 with `cryptography`), so the app's check is not checked with
itself. What the app did is read back with plain SQL on the warehouse.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import httpx2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from fastapi.testclient import TestClient

import cadence
from cadence.accounts.users import add_user
from cadence.web.app import create_app
from cadence.web.holder import WorkspaceHolder
from cadence.web.settings import Settings
from cadence.workspace import Workspace, init_workspace

CLIENT_ID = "cadence"
SECRET_ENV = "CADENCE_OIDC_SECRET"
SECRET = "s3cr3t-Zq81-do-not-print"
PASSWORD = "plum-orbit-canvas-7"
ORIGIN = {"Origin": "http://testserver"}
CALLBACK = "http://testserver/login/oidc/callback"


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def b64url_int(number: int) -> str:
    return b64url(number.to_bytes((number.bit_length() + 7) // 8, "big"))


@dataclass
class StandInProvider:
    """An identity provider in miniature. `identity` is who signs in at its page next; `changes` alters the claims
    of the next ID token (None removes one); `tamper` alters a signed token's payload afterwards."""

    key: rsa.RSAPrivateKey = field(default_factory=lambda: rsa.generate_private_key(65537, 2048))
    issuer: str = ""
    identity: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    tamper: bool = False
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    authorize_requests: list[dict[str, str]] = field(default_factory=list)
    token_requests: list[dict[str, Any]] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)

    def discovery(self) -> dict[str, Any]:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/protocol/openid-connect/auth",
                "token_endpoint": f"{self.issuer}/protocol/openid-connect/token",
                "jwks_uri": f"{self.issuer}/protocol/openid-connect/certs",
                "id_token_signing_alg_values_supported": ["RS256"], "response_types_supported": ["code"],
                "subject_types_supported": ["public"], "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"]}

    def jwks(self) -> dict[str, Any]:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "kid": "k1", "use": "sig", "alg": "RS256", "n": b64url_int(numbers.n),
                          "e": b64url_int(numbers.e)}]}

    def authorize(self, query: dict[str, str]) -> str:
        """The provider's page, with the person already signed in there: back to redirect_uri with a code."""
        self.authorize_requests.append(query)
        code = f"code-{len(self.codes)}"
        self.codes[code] = {**query, "identity": dict(self.identity)}
        return f"{query['redirect_uri']}?code={code}&state={query['state']}"

    def token(self, authorization: str | None, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        self.token_requests.append({"authorization": authorization, "form": form})
        if authorization is None or not authorization.startswith("Basic "):
            return 401, {"error": "invalid_client"}
        client, _, secret = base64.b64decode(authorization[6:]).decode().partition(":")
        if (unquote(client), unquote(secret)) != (CLIENT_ID, SECRET):
            return 401, {"error": "invalid_client"}
        grant = self.codes.pop(form.get("code", ""), None)
        if grant is None or form.get("grant_type") != "authorization_code" or form.get("redirect_uri") != \
                grant["redirect_uri"]:
            return 400, {"error": "invalid_grant"}
        challenge = b64url(hashlib.sha256(form.get("code_verifier", "").encode()).digest())
        if grant.get("code_challenge_method") != "S256" or challenge != grant.get("code_challenge"):
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "iat": now, "exp": now + 300, "nonce": grant["nonce"],
                  **grant["identity"]}
        for name, value in self.changes.items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        token = self.sign(claims)
        self.issued.append(token)
        return 200, {"access_token": "at-1", "token_type": "Bearer", "expires_in": 300, "id_token": token}

    def sign(self, claims: dict[str, Any]) -> str:
        header = b64url(json.dumps({"alg": "RS256", "typ": "JWT", "kid": "k1"}).encode())
        payload = b64url(json.dumps(claims).encode())
        signature = self.key.sign(f"{header}.{payload}".encode(), padding.PKCS1v15(), hashes.SHA256())
        if self.tamper:  # same signature, another person in the payload
            payload = b64url(json.dumps({**claims, "sub": "someone-else", "email": "olga@acme.test"}).encode())
        return f"{header}.{payload}.{b64url(signature)}"


def serve(provider: StandInProvider) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = urlsplit(self.path)
            path = parts.path.removeprefix("/realms/acme")
            query = {k: v[0] for k, v in parse_qs(parts.query).items()}
            if path == "/.well-known/openid-configuration":
                self._json(200, provider.discovery())
            elif path == "/protocol/openid-connect/certs":
                self._json(200, provider.jwks())
            elif path == "/protocol/openid-connect/auth":
                self.send_response(302)
                self.send_header("Location", provider.authorize(query))
                self.end_headers()
            else:
                self._json(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            self._json(*provider.token(self.headers.get("Authorization"), form))

        def _json(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.issuer = f"http://127.0.0.1:{server.server_address[1]}/realms/acme"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def stand_in() -> Iterator[StandInProvider]:
    provider = StandInProvider()
    server = serve(provider)
    yield provider
    server.shutdown()
    server.server_close()


@pytest.fixture
def idp(stand_in: StandInProvider, monkeypatch: pytest.MonkeyPatch) -> StandInProvider:
    """The stand-in, forgetting the last test's changes; the client secret is in the environment."""
    monkeypatch.setenv(SECRET_ENV, SECRET)
    stand_in.identity = {"sub": "u-olga", "email": "olga@acme.test", "email_verified": True}
    stand_in.changes, stand_in.tamper = {}, False
    stand_in.token_requests.clear()
    stand_in.authorize_requests.clear()
    return stand_in


def web_block(issuer: str) -> str:
    return (f"\nweb:\n  oidc:\n    issuer: {issuer}\n    client_id: {CLIENT_ID}\n    client_secret_env: {SECRET_ENV}\n"
            "    label: Acme SSO\n    scopes: [openid, email, profile]\n")


@pytest.fixture(scope="module")
def company(stand_in: StandInProvider, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A workspace whose cadence.yml signs in through the stand-in. olga already has its identity; emil, nils and
    dina have only their email (dina is disabled); kai is linked to another identity."""
    root = init_workspace(tmp_path_factory.mktemp("oidc") / "ws", company="Acme")
    with (root / "cadence.yml").open("a", encoding="utf-8") as config:
        config.write(web_block(stand_in.issuer))
    ws = cadence.open(root)
    add_user(ws, "olga", "admin", password=PASSWORD, email="olga@acme.test")
    add_user(ws, "emil", "viewer", password=None, email="Emil@Acme.test")
    add_user(ws, "nils", "viewer", password=None, email="nils@acme.test")
    add_user(ws, "dina", "viewer", password=None, email="dina@acme.test")
    add_user(ws, "kai", "viewer", password=None, email="kai@acme.test")
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute("UPDATE users SET oidc_subject = $1 WHERE user_id = 'olga'", (f"{stand_in.issuer}|u-olga",))
        warehouse.execute("UPDATE users SET oidc_subject = 'https://elsewhere.test|k' WHERE user_id = 'kai'")
        warehouse.execute("UPDATE users SET disabled = TRUE WHERE user_id = 'dina'")
    yield ws
    ws.close()


@pytest.fixture
def browser(company: Workspace) -> Iterator[TestClient]:
    app = create_app(Settings(workspace=company.root), holder=WorkspaceHolder(company.root, workspace=company))
    with TestClient(app, base_url="http://testserver") as client:
        yield client


def through_provider(browser: TestClient, next_path: str = "/", *, state: str | None = None) -> httpx2.Response:
    """Click "Sign in with …", sign in at the provider's page, come back: the callback's answer."""
    start = browser.get("/login/oidc", params={"next": next_path}, follow_redirects=False)
    assert start.status_code == 303, start.text
    with httpx.Client() as outside:
        at_provider = outside.get(start.headers["location"], follow_redirects=False)
    back = urlsplit(at_provider.headers["location"])
    assert f"{back.scheme}://{back.netloc}{back.path}" == CALLBACK
    query = {k: v[0] for k, v in parse_qs(back.query).items()}
    if state is not None:
        query["state"] = state
    return browser.get(back.path, params=query, follow_redirects=False)


def sql(ws: Workspace, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in ws.warehouse.query(query, params)]


def session_owner(ws: Workspace, response: httpx2.Response) -> str | None:
    """Whose live session the cookie the response set opens, read from the sessions table by its SHA-256."""
    token = response.cookies.get("cadence_session")
    if token is None:
        return None
    rows = sql(ws, "SELECT user_id FROM sessions WHERE token_hash = $1 AND revoked_at IS NULL",
               (hashlib.sha256(token.encode()).hexdigest(),))
    return rows[0][0] if rows else None


def failures(ws: Workspace) -> list[dict[str, Any]]:
    rows = sql(ws, "SELECT target, after_json, actor FROM audit_log WHERE action = 'sign_in_failed' "
                   "AND target LIKE 'oidc/%' ORDER BY \"at\"")
    return [{"target": t, "after": json.loads(a), "actor": actor} for t, a, actor in rows]


def count(ws: Workspace, table: str) -> int:
    return int(sql(ws, f"SELECT count(*) FROM {table}")[0][0])


# -- the way in -------------------------------------------------------------------------------------------------
def test_the_login_page_offers_the_provider(browser: TestClient) -> None:
    page = browser.get("/login", params={"next": "/admin/users"})
    assert "Sign in with Acme SSO" in page.text
    assert 'href="/login/oidc?next=/admin/users"' in page.text


def test_the_sign_in_starts_with_pkce_state_and_nonce_in_a_short_lived_cookie(browser: TestClient,
                                                                                idp: StandInProvider) -> None:
    start = browser.get("/login/oidc", params={"next": "/admin/users"}, follow_redirects=False)
    target = urlsplit(start.headers["location"])
    query = {k: v[0] for k, v in parse_qs(target.query).items()}
    assert f"{target.scheme}://{target.netloc}{target.path}" == idp.discovery()["authorization_endpoint"]
    assert query["response_type"] == "code" and query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == CALLBACK
    assert query["scope"].split() == ["openid", "email", "profile"]
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32 and query["state"] != query["nonce"]
    cookie = start.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/login/oidc" in cookie
    assert "max-age=600" in cookie
    assert SECRET not in start.headers["location"] and SECRET not in start.headers["set-cookie"]
    another = browser.get("/login/oidc", follow_redirects=False)
    assert parse_qs(urlsplit(another.headers["location"]).query)["state"][0] != query["state"]


def test_a_known_identity_gets_the_same_session_as_a_password_sign_in(browser: TestClient, idp: StandInProvider,
                                                                      company: Workspace) -> None:
    before = count(company, "sessions")
    answer = through_provider(browser, "/admin/users")
    assert answer.status_code == 303 and answer.headers["location"] == "/admin/users"
    assert session_owner(company, answer) == "olga"
    assert count(company, "sessions") == before + 1
    rows = sql(company, "SELECT after_json, target FROM audit_log WHERE action = 'sign_in' AND actor = 'olga' "
                        "ORDER BY \"at\" DESC LIMIT 1")
    assert json.loads(rows[0][0]) == {"method": "oidc"} and rows[0][1] == "users/olga"
    assert browser.get("/admin/users").status_code == 200  # the session cookie signs the browser in
    # the cookie is set exactly as a password sign-in sets it, bar its value
    with TestClient(browser.app, base_url="http://testserver") as other:
        by_password = other.post("/login", data={"username": "olga", "password": PASSWORD, "next": "/"},
                                 headers=ORIGIN, follow_redirects=False)
    session_cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("cadence_session="))
    assert session_cookie.split(";")[1:] == by_password.headers["set-cookie"].split(";")[1:]
    assert "HttpOnly" in session_cookie and "SameSite=lax" in session_cookie


def test_the_provider_gets_the_secret_and_the_pkce_verifier(browser: TestClient, idp: StandInProvider) -> None:
    through_provider(browser)
    (request,) = idp.token_requests
    client, _, secret = base64.b64decode(request["authorization"][6:]).decode().partition(":")
    assert (client, secret) == (CLIENT_ID, SECRET)
    challenge = idp.authorize_requests[0]["code_challenge"]
    assert b64url(hashlib.sha256(request["form"]["code_verifier"].encode()).digest()) == challenge
    assert "client_secret" not in request["form"]


def test_a_verified_email_links_the_identity_to_its_user(browser: TestClient, idp: StandInProvider,
                                                         company: Workspace) -> None:
    idp.identity = {"sub": "u-emil", "email": "emil@acme.test", "email_verified": True}
    answer = through_provider(browser)
    assert session_owner(company, answer) == "emil"
    assert sql(company, "SELECT oidc_subject FROM users WHERE user_id = 'emil'")[0][0] == f"{idp.issuer}|u-emil"
    linked = sql(company, "SELECT after_json FROM audit_log WHERE action = 'oidc_linked' AND target = 'users/emil'")
    assert [json.loads(row[0])["oidc_subject"] for row in linked] == [f"{idp.issuer}|u-emil"]
    # the next time the identity is found by its subject, whatever its email says now
    idp.identity = {"sub": "u-emil", "email": "emil.new@acme.test", "email_verified": False}
    with TestClient(browser.app, base_url="http://testserver") as again:
        assert session_owner(company, through_provider(again)) == "emil"


@pytest.mark.parametrize(("identity", "why"), [
    ({"sub": "u-stranger", "email": "stranger@acme.test", "email_verified": True}, "no user has that email"),
    ({"sub": "u-nils", "email": "nils@acme.test", "email_verified": False}, "email not verified"),
    ({"sub": "u-nils", "email": "nils@acme.test"}, "email_verified missing"),
    ({"sub": "u-kai", "email": "kai@acme.test", "email_verified": True}, "kai already has another identity"),
])
def test_an_identity_without_a_cadence_user_is_refused_and_audited(browser: TestClient, idp: StandInProvider,
                                                                   company: Workspace, identity: dict[str, Any],
                                                                   why: str) -> None:
    idp.identity = identity
    users_before = sql(company, "SELECT user_id, oidc_subject FROM users ORDER BY user_id")
    sessions_before, refused_before = count(company, "sessions"), len(failures(company))
    answer = through_provider(browser)
    assert answer.status_code == 403, why
    assert "ask an admin to add you" in answer.text and "Not a Cadence user" in answer.text
    assert "cadence_session" not in answer.cookies
    assert sql(company, "SELECT user_id, oidc_subject FROM users ORDER BY user_id") == users_before  # none made
    assert count(company, "sessions") == sessions_before
    (latest,) = failures(company)[refused_before:]
    assert latest["target"] == f"oidc/{idp.issuer}|{identity['sub']}" and latest["actor"] is None
    assert latest["after"]["method"] == "oidc" and latest["after"]["email"] == identity["email"]


def test_a_disabled_user_is_refused(browser: TestClient, idp: StandInProvider, company: Workspace) -> None:
    idp.identity = {"sub": "u-dina", "email": "dina@acme.test", "email_verified": True}
    answer = through_provider(browser)
    assert answer.status_code == 403 and "disabled" in answer.text
    assert session_owner(company, answer) is None
    assert sql(company, "SELECT oidc_subject FROM users WHERE user_id = 'dina'")[0][0] is None


# -- tokens and answers that do not check out ---------------------------------------------------------------
@pytest.mark.parametrize(("changes", "tamper"), [
    ({"nonce": "a-nonce-from-another-sign-in"}, False),
    ({"nonce": None}, False),
    ({"aud": "another-app"}, False),
    ({"aud": ["another-app", CLIENT_ID], "azp": "another-app"}, False),
    ({"iss": "https://impostor.test/realms/acme"}, False),
    ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200}, False),
    ({}, True),
], ids=["wrong nonce", "no nonce", "wrong audience", "meant for another app", "wrong issuer", "expired",
        "tampered signature"])
def test_an_id_token_that_does_not_check_out_is_refused(browser: TestClient, idp: StandInProvider,
                                                        company: Workspace, changes: dict[str, Any],
                                                        tamper: bool) -> None:
    idp.changes, idp.tamper = changes, tamper
    sessions_before, refused_before = count(company, "sessions"), len(failures(company))
    answer = through_provider(browser)
    assert answer.status_code == 401
    assert "does not check out" in answer.text or "another application" in answer.text
    assert "cadence_session" not in answer.cookies
    assert count(company, "sessions") == sessions_before
    (latest,) = failures(company)[refused_before:]
    assert latest["after"]["method"] == "oidc" and latest["target"] == f"oidc/{idp.issuer}"
    assert idp.issued[-1] not in json.dumps(latest)  # the token itself is not kept


def test_a_mismatched_state_is_refused_before_the_code_is_used(browser: TestClient, idp: StandInProvider,
                                                               company: Workspace) -> None:
    sessions_before = count(company, "sessions")
    answer = through_provider(browser, state="a-state-from-somewhere-else")
    assert answer.status_code == 400 and "start again" in answer.text
    assert idp.token_requests == []  # the code was never exchanged
    assert count(company, "sessions") == sessions_before
    assert failures(company)[-1]["after"]["reason"] == "state mismatch"


def test_a_callback_without_the_browsers_cookie_is_refused(browser: TestClient, idp: StandInProvider) -> None:
    start = browser.get("/login/oidc", follow_redirects=False)
    with httpx.Client() as outside:
        back = urlsplit(outside.get(start.headers["location"], follow_redirects=False).headers["location"])
    with TestClient(browser.app, base_url="http://testserver") as another_browser:
        answer = another_browser.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert answer.status_code == 400 and idp.token_requests == []
    # and a flow cookie works once: the callback forgets it
    first = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert first.status_code == 303
    assert browser.get(f"{back.path}?{back.query}", follow_redirects=False).status_code == 400


def test_the_flow_cookie_is_signed_with_the_configured_key(browser: TestClient, idp: StandInProvider,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CADENCE_SECRET_KEY", "key-of-the-first-server")
    start = browser.get("/login/oidc", follow_redirects=False)
    with httpx.Client() as outside:
        back = urlsplit(outside.get(start.headers["location"], follow_redirects=False).headers["location"])
    monkeypatch.setenv("CADENCE_SECRET_KEY", "key-of-another-server")
    answer = browser.get(f"{back.path}?{back.query}", follow_redirects=False)
    assert answer.status_code == 400 and "not started from this browser" in answer.text
    assert idp.token_requests == []


def test_a_sign_in_left_too_long_at_the_provider_is_refused(browser: TestClient, idp: StandInProvider,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    start = browser.get("/login/oidc", follow_redirects=False)
    with httpx.Client() as outside:
        back = urlsplit(outside.get(start.headers["location"], follow_redirects=False).headers["location"])
    kept = start.cookies["cadence_oidc"]  # a browser would have dropped it by then; the server refuses it too
    later = time.time() + 11 * 60
    monkeypatch.setattr(time, "time", lambda: later)
    answer = browser.get(f"{back.path}?{back.query}", headers={"Cookie": f"cadence_oidc={kept}"},
                         follow_redirects=False)
    assert answer.status_code == 400 and "took too long" in answer.text
    assert idp.token_requests == []


def test_the_next_page_stays_on_this_site(browser: TestClient, idp: StandInProvider) -> None:
    answer = through_provider(browser, "//evil.example/steal")
    assert answer.status_code == 303 and answer.headers["location"] == "/"


def test_a_refusal_at_the_provider_is_shown(browser: TestClient, idp: StandInProvider) -> None:
    start = browser.get("/login/oidc", follow_redirects=False)
    state = parse_qs(urlsplit(start.headers["location"]).query)["state"][0]
    answer = browser.get("/login/oidc/callback", params={"error": "access_denied", "state": state})
    assert answer.status_code == 401 and "access_denied" in answer.text and idp.token_requests == []


# -- the secret -----------------------------------------------------------------------------------------------
def test_the_secret_never_shows(browser: TestClient, idp: StandInProvider, company: Workspace,
                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    answers: list[httpx2.Response] = [browser.get("/login"), through_provider(browser)]
    idp.identity = {"sub": "u-stranger", "email": "stranger@acme.test", "email_verified": True}
    answers.append(through_provider(browser))
    idp.changes = {"aud": "another-app"}
    answers.append(through_provider(browser))
    assert [a.status_code for a in answers] == [200, 303, 403, 401]
    for answer in answers:
        assert SECRET not in answer.text and SECRET not in str(answer.headers)
    for table in ("audit_log", "users", "sessions"):
        assert SECRET not in json.dumps(sql(company, f"SELECT * FROM {table}"), default=str), table
    assert SECRET not in caplog.text


def test_a_missing_secret_is_said_before_leaving_for_the_provider(browser: TestClient, idp: StandInProvider,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SECRET_ENV)
    answer = browser.get("/login/oidc", follow_redirects=False)
    assert answer.status_code == 503 and SECRET_ENV in answer.text
    assert idp.authorize_requests == []


def test_a_wrong_secret_is_refused_by_the_provider(browser: TestClient, idp: StandInProvider,
                                                   monkeypatch: pytest.MonkeyPatch, company: Workspace) -> None:
    monkeypatch.setenv(SECRET_ENV, "not-the-secret")
    answer = through_provider(browser)
    assert answer.status_code == 401 and "invalid_client" in answer.text
    assert session_owner(company, answer) is None and "not-the-secret" not in answer.text


# -- without web.oidc ------------------------------------------------------------------------------------------
def test_without_web_oidc_there_is_no_button_and_no_route(tmp_path: Path) -> None:
    ws = cadence.open(init_workspace(tmp_path / "plain"))
    try:
        app = create_app(Settings(workspace=ws.root), holder=WorkspaceHolder(ws.root, workspace=ws))
        with TestClient(app, base_url="http://testserver") as client:
            assert "Sign in with" not in client.get("/login").text
            assert client.get("/login/oidc", follow_redirects=False).status_code == 404
            assert client.get("/login/oidc/callback", params={"code": "x", "state": "y"}).status_code == 404
    finally:
        ws.close()


# -- the web block of cadence.yml -----------------------------------------------------------------------------
@pytest.mark.parametrize(("oidc", "said"), [
    ({"client_secret": "pasted-secret-123"}, "client_secret"),
    ({"client_secret_env": "pasted-secret-123"}, "client_secret_env"),
    ({"issuer": "http://login.acme.test/realms/acme"}, "https"),
    ({"scopes": ["email"]}, "openid"),
])
def test_a_web_block_that_would_leak_or_weaken_sign_in_is_refused(oidc: dict[str, Any], said: str) -> None:
    from cadence.config import validate_config
    from cadence.errors import ConfigError

    block = {"issuer": "https://login.acme.test/realms/acme", "client_id": CLIENT_ID, **oidc}
    with pytest.raises(ConfigError) as refused:
        validate_config({"web": {"oidc": block}})
    assert said in str(refused.value) and "pasted-secret-123" not in str(refused.value)
