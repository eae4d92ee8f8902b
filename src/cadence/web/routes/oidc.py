"""Sign-in through the company's OpenID Connect provider, beside passwords (only when cadence.yml sets `web.oidc`).

`/login/oidc` sends the browser to the provider's sign-in page; `/login/oidc/callback` brings it back signed in
as the Cadence user that identity belongs to — or refused with a page that says why (an identity with no Cadence
user is told to ask an admin), audited `sign_in_failed`. Without `web.oidc` both answer 404.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from cadence.config.web import OidcConfig
from cadence.web.deps import client_address, settings_of, workspace
from cadence.web.oidc import (
    CALLBACK_PATH,
    FLOW_COOKIE,
    FLOW_SECONDS,
    Flow,
    Identity,
    OidcRefused,
    authorization_url,
    check_state,
    client_secret,
    configured,
    discover,
    exchange_code,
    http_client,
    record_refusal,
    seal,
    unseal,
    user_for,
    verified_identity,
)
from cadence.web.pages import html
from cadence.web.security import safe_next
from cadence.web.signin import secure_request, signed_in
from cadence.workspace import Workspace

router = APIRouter(tags=["sign-in"])
FLOW_PATH = "/login/oidc"  # the flow cookie goes to these two routes only
NO_USER = "no Cadence user for this identity"


@router.get("/login/oidc", include_in_schema=False)
def start(request: Request, next: str = "/") -> Response:
    """Off to the provider, with a fresh state, nonce and PKCE verifier kept in a signed cookie."""
    config, redirect_uri = _setup(request)
    flow = Flow.begin(safe_next(next))
    try:
        client_secret(config)  # a missing secret is said now, not after the provider's page
        with http_client() as http:
            target = authorization_url(discover(config, http), config, flow, redirect_uri)
    except OidcRefused as refusal:
        return _refused(request, config, refusal)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(FLOW_COOKIE, seal(flow), max_age=FLOW_SECONDS, httponly=True, samesite="lax",
                        path=FLOW_PATH, secure=secure_request(request))
    return response


@router.get(CALLBACK_PATH, include_in_schema=False)
def callback(request: Request, code: str = "", state: str = "", error: str = "") -> Response:
    """Back from the provider: check the answer and the ID token, then sign in the Cadence user it names."""
    config, redirect_uri = _setup(request)
    identity: Identity | None = None
    try:
        flow = unseal(request.cookies.get(FLOW_COOKIE))
        check_state(flow, state)
        if error or not code:
            said = error[:80] or "no code"
            raise OidcRefused(f"{config.label} did not sign you in ({said})", reason=f"provider answered: {said}",
                              hint="start again from the sign-in page")
        with http_client() as http:
            provider = discover(config, http)
            id_token = exchange_code(provider, config, code, flow, redirect_uri, http)
            identity = verified_identity(provider, config, id_token, flow, http)
        with _workspace(request) as ws:
            user = user_for(ws, identity)
            if user is None or user.disabled:
                raise _not_a_user(config, identity, disabled=user is not None)
            return _forget_flow(signed_in(request, ws, user, flow.next_path, audited={"method": "oidc"}))
    except OidcRefused as refusal:
        with _workspace(request) as ws:
            record_refusal(ws, refusal, identity=identity, issuer=config.issuer, address=client_address(request))
        return _forget_flow(_refused(request, config, refusal))


def _setup(request: Request) -> tuple[OidcConfig, str]:
    """The provider's settings and the callback's full address; 404 when sign-in through a provider is off."""
    settings = settings_of(request)
    found = configured(settings.workspace)
    if found is None:
        raise HTTPException(status_code=404)
    config, base_url = found
    return config, (base_url or settings.base_url or str(request.base_url)).rstrip("/") + CALLBACK_PATH


def _not_a_user(config: OidcConfig, identity: Identity, *, disabled: bool) -> OidcRefused:
    who = identity.email or identity.subject.rpartition("|")[2]
    if disabled:
        return OidcRefused(f"the Cadence user for {who} is disabled", status=403, reason="user disabled",
                           hint="ask an admin to enable it")
    return OidcRefused(f"you signed in to {config.label} as {who}, but no Cadence user goes with that identity",
                       status=403, reason=NO_USER, hint="ask an admin to add you")


def _refused(request: Request, config: OidcConfig, refusal: OidcRefused) -> Response:
    unknown = refusal.reason == NO_USER
    title = "Not a Cadence user" if unknown else f"Sign-in with {config.label} refused"
    return html(request, "error.html", status_code=refusal.status, title=title, message=refusal.one_line())


def _forget_flow(response: Response) -> Response:
    response.delete_cookie(FLOW_COOKIE, path=FLOW_PATH)
    return response


@contextmanager
def _workspace(request: Request) -> Iterator[Workspace]:
    """The shared workspace, taken only after the provider has answered (never held during network calls)."""
    yield from workspace(request)
