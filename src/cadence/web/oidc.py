"""Signing in through the company's OpenID Connect provider: the protocol half (routes/oidc.py has the pages).

The authorization-code flow with PKCE (S256), `state` and `nonce`. What the browser brings back to the callback
(state, nonce, the PKCE verifier, where to go next) travels in a short-lived HttpOnly, SameSite=Lax cookie signed
with HMAC-SHA256 under `CADENCE_SECRET_KEY` (or a key made at random when the process starts). The ID token's
signature is checked against the provider's published keys (JWKS), then its issuer, audience, expiry and nonce.

An identity signs in the Cadence user whose `oidc_subject` is "<issuer>|<sub>"; failing that, when the provider
says the email is verified, the one user with that email and no identity yet, who then keeps this identity.
Nobody else gets in: signing in never creates a user (deny by default). The client secret is read from the
environment when the code is exchanged, sent only to the token endpoint, and never logged or shown.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

from cadence.accounts import audit
from cadence.accounts.records import SELECT, User, user_from_row
from cadence.config import load_config
from cadence.config.web import OidcConfig
from cadence.errors import CadenceError
from cadence.workspace import Workspace

SECRET_KEY_ENV = "CADENCE_SECRET_KEY"
FLOW_COOKIE = "cadence_oidc"
FLOW_SECONDS = 600  # the time someone has at the provider's sign-in page
CALLBACK_PATH = "/login/oidc/callback"
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
LEEWAY_SECONDS = 60  # clock difference tolerated between the provider and this server
TIMEOUT_SECONDS = 10.0
_PROCESS_KEY = secrets.token_bytes(32)  # signs flow cookies when CADENCE_SECRET_KEY is not set


class OidcRefused(CadenceError):
    """A sign-in through the provider that cannot go on; `status` is the page's HTTP status, `reason` what the
    audit log keeps of it."""

    def __init__(self, message: str, *, status: int = 401, reason: str, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason


@dataclass(frozen=True)
class Provider:
    """What the provider's discovery document says, of what Cadence uses."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    algorithms: tuple[str, ...]
    secret_in_body: bool  # client_secret_post rather than HTTP Basic


@dataclass(frozen=True)
class Flow:
    """One sign-in under way: what the callback must see again."""

    state: str
    nonce: str
    verifier: str
    next_path: str

    @classmethod
    def begin(cls, next_path: str) -> Flow:
        return cls(generate_token(32), generate_token(32), generate_token(64), next_path)


@dataclass(frozen=True)
class Identity:
    """Who the provider says signed in."""

    subject: str  # "<issuer>|<sub>", as users.oidc_subject keeps it
    email: str | None
    email_verified: bool


def configured(root: Path) -> tuple[OidcConfig, str | None] | None:
    """The workspace's `web.oidc` block and `web.base_url`, or None when sign-in through a provider is not set up."""
    web = load_config(root).web
    return (web.oidc, web.base_url) if web and web.oidc else None


def button_label(root: Path) -> str | None:
    """What the sign-in page's "Sign in with …" button says, or None for no button (or a cadence.yml that does
    not load: the pages that need it say why)."""
    try:
        found = configured(root)
    except CadenceError:
        return None
    return found[0].label if found else None


# -- the flow cookie ------------------------------------------------------------------------------------------
def seal(flow: Flow, *, now: float | None = None) -> str:
    """`flow` as a cookie value: its JSON and an HMAC of it, good for FLOW_SECONDS."""
    payload = {"state": flow.state, "nonce": flow.nonce, "verifier": flow.verifier, "next": flow.next_path,
               "expires": int((now or time.time()) + FLOW_SECONDS)}
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    return f"{body}.{_b64(_mac(body))}"


def unseal(value: str | None, *, now: float | None = None) -> Flow:
    """The flow a cookie holds, refused when it is missing, altered or expired."""
    body, _, mac = (value or "").partition(".")
    if not body or not hmac.compare_digest(mac, _b64(_mac(body))):
        raise OidcRefused("this sign-in was not started from this browser, or the server restarted meanwhile",
                          status=400, reason="no valid sign-in cookie", hint="start again from the sign-in page")
    payload = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if payload["expires"] < (now or time.time()):
        raise OidcRefused("this sign-in took too long", status=400, reason="sign-in cookie expired",
                          hint="start again from the sign-in page")
    return Flow(payload["state"], payload["nonce"], payload["verifier"], payload["next"])


def check_state(flow: Flow, state: str | None) -> None:
    """The provider must hand back the `state` this browser was sent with (else: a forged or crossed callback)."""
    if not state or not hmac.compare_digest(state, flow.state):
        raise OidcRefused("this sign-in answer does not belong to the sign-in this browser started", status=400,
                          reason="state mismatch", hint="start again from the sign-in page")


def _mac(body: str) -> bytes:
    key = os.environ.get(SECRET_KEY_ENV, "").encode() or _PROCESS_KEY
    return hmac.new(key, body.encode(), hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


# -- talking to the provider ----------------------------------------------------------------------------------
def discover(config: OidcConfig, http: httpx.Client) -> Provider:
    """Read `{issuer}/.well-known/openid-configuration`; its issuer must be the configured one exactly."""
    document = _get_json(http, f"{config.issuer}/.well-known/openid-configuration", "discovery document")
    if document.get("issuer") != config.issuer:
        raise OidcRefused(f"the provider calls itself {document.get('issuer')!r}, not {config.issuer!r}",
                          status=502, reason="issuer mismatch in discovery", hint="check web.oidc.issuer")
    try:
        offered = document.get("id_token_signing_alg_values_supported") or ["RS256"]
        methods = document.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        return Provider(config.issuer, document["authorization_endpoint"], document["token_endpoint"],
                        document["jwks_uri"], tuple(a for a in offered if a in ASYMMETRIC) or ("RS256",),
                        "client_secret_basic" not in methods and "client_secret_post" in methods)
    except KeyError as missing:
        raise OidcRefused(f"the provider's discovery document has no {missing}", status=502,
                          reason="incomplete discovery document") from None


def authorization_url(provider: Provider, config: OidcConfig, flow: Flow, redirect_uri: str) -> str:
    """Where to send the browser: the provider's sign-in page, with PKCE (S256), state and nonce."""
    return str(prepare_grant_uri(provider.authorization_endpoint, config.client_id, "code", redirect_uri,
                                 " ".join(config.scopes), flow.state, nonce=flow.nonce,
                                 code_challenge=create_s256_code_challenge(flow.verifier),
                                 code_challenge_method="S256"))


def client_secret(config: OidcConfig) -> str | None:
    """The client secret from the environment (None for a public client); refused when the variable is empty."""
    if config.client_secret_env is None:
        return None
    secret = os.environ.get(config.client_secret_env, "")
    if not secret:
        raise OidcRefused(f"sign-in with {config.label} is not set up: the environment variable "
                          f"{config.client_secret_env} is empty", status=503, reason="client secret not set",
                          hint="ask an admin to set it where `cadence serve` runs")
    return secret


def exchange_code(provider: Provider, config: OidcConfig, code: str, flow: Flow, redirect_uri: str,
                  http: httpx.Client) -> str:
    """Trade the authorization code (and the PKCE verifier) for tokens; the ID token, unchecked yet."""
    secret = client_secret(config)
    fields: dict[str, str] = {"code": code, "code_verifier": flow.verifier}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if secret is None or provider.secret_in_body:
        fields["client_id"] = config.client_id
        if secret is not None:
            fields["client_secret"] = secret
    else:  # HTTP Basic, both parts form-encoded first (RFC 6749 2.3.1)
        pair = f"{quote(config.client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    body = prepare_token_request("authorization_code", redirect_uri=redirect_uri, **fields)
    try:
        answer = http.post(provider.token_endpoint, content=body, headers=headers)
        tokens = answer.json()
    except (httpx.HTTPError, ValueError):
        raise OidcRefused(f"{config.label} did not answer the code exchange", status=502,
                          reason="token endpoint unreachable", hint="try again in a moment") from None
    if answer.status_code != 200 or not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
        error = tokens.get("error") if isinstance(tokens, dict) else None
        raise OidcRefused(f"{config.label} refused the sign-in ({str(error or answer.status_code)[:80]})",
                          reason=f"token endpoint refused: {str(error or answer.status_code)[:80]}",
                          hint="start again from the sign-in page")
    return str(tokens["id_token"])


def verified_identity(provider: Provider, config: OidcConfig, id_token: str, flow: Flow, http: httpx.Client,
                      *, now: int | None = None) -> Identity:
    """The ID token's identity once its signature (against the provider's JWKS), issuer, audience, expiry and
    nonce are right; refused otherwise."""
    keys = KeySet.import_key_set(_get_json(http, provider.jwks_uri, "signing keys"))  # type: ignore[arg-type]
    try:
        token = jwt.decode(id_token, keys, algorithms=list(provider.algorithms))
        claims = token.claims
        JWTClaimsRegistry(now=now, leeway=LEEWAY_SECONDS, iss={"essential": True, "value": provider.issuer},
                          aud={"essential": True, "value": config.client_id}, exp={"essential": True},
                          sub={"essential": True}, nonce={"essential": True, "value": flow.nonce}).validate(claims)
    except (JoseError, ValueError) as error:
        raise OidcRefused(f"{config.label} sent an identity that does not check out", reason=_why(error),
                          hint="start again from the sign-in page") from None
    audience = claims["aud"]
    if isinstance(audience, list) and len(audience) > 1 and claims.get("azp") != config.client_id:
        raise OidcRefused(f"{config.label} sent an identity meant for another application",
                          reason="azp is not our client id")
    email = claims.get("email")
    return Identity(f"{provider.issuer}|{claims['sub']}", email if isinstance(email, str) else None,
                    claims.get("email_verified") in (True, "true"))


def _why(error: Exception) -> str:
    return f"id token refused: {type(error).__name__}: {str(error)[:120]}"


def _get_json(http: httpx.Client, url: str, what: str) -> dict[str, Any]:
    try:
        answer = http.get(url, headers={"Accept": "application/json"})
        answer.raise_for_status()
        document = answer.json()
    except (httpx.HTTPError, ValueError):
        raise OidcRefused(f"the identity provider's {what} could not be read from {url}", status=502,
                          reason=f"{what} unreadable", hint="try again in a moment; if it lasts, check "
                          "web.oidc.issuer") from None
    if not isinstance(document, dict):
        raise OidcRefused(f"the identity provider's {what} is not a JSON object", status=502,
                          reason=f"{what} not an object")
    return document


def http_client() -> httpx.Client:
    """The HTTP client that talks to the provider (certificates verified, a short timeout, no redirects)."""
    return httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)


# -- whom the identity signs in -------------------------------------------------------------------------------
def user_for(ws: Workspace, identity: Identity) -> User | None:
    """The Cadence user this identity is: by `oidc_subject`, else by a verified email on a user with no identity
    yet (who keeps it from now on, audited `oidc_linked`). None when nobody matches, or more than one does."""
    rows = ws.warehouse.query(f"{SELECT} WHERE oidc_subject = $1", (identity.subject,))
    if len(rows) == 1:
        return user_from_row(rows[0])
    if rows or not identity.email or not identity.email_verified:
        return None
    rows = ws.warehouse.query(f"{SELECT} WHERE lower(email) = $1 AND oidc_subject IS NULL",
                              (identity.email.lower(),))
    if len(rows) != 1:
        return None
    user = user_from_row(rows[0])
    if user.disabled:
        return user  # refused by the caller; a disabled user is not given an identity
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute("UPDATE users SET oidc_subject = $1 WHERE user_id = $2 AND oidc_subject IS NULL",
                          (identity.subject, user.user_id))
        audit.record(ws, "oidc_linked", actor=None, target=f"users/{user.user_id}",
                     after={"oidc_subject": identity.subject, "matched_by": "verified email"})
    return user


def record_refusal(ws: Workspace, error: OidcRefused, *, identity: Identity | None, issuer: str,
                   address: str | None) -> None:
    """Audit a refused sign-in through the provider as `sign_in_failed` (never with a token or the secret)."""
    details: dict[str, Any] = {"method": "oidc", "reason": error.reason}
    if identity is not None:
        details.update(oidc_subject=identity.subject, email=identity.email)
    target = f"oidc/{identity.subject if identity else issuer}"
    audit.record(ws, "sign_in_failed", actor=None, target=target, after=details, address=address)
