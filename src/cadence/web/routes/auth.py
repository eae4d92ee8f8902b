"""Signing in and out: local users with argon2id passwords; throttled after repeated failures."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.access.roles import Principal, may_see
from cadence.accounts import audit
from cadence.accounts.sessions import end_session
from cadence.accounts.throttle import login_allowed
from cadence.accounts.users import authenticate
from cadence.web.deps import client_address, settings_of, signed_in_user, workspace
from cadence.web.oidc import button_label
from cadence.web.pages import html
from cadence.web.security import safe_next
from cadence.web.signin import signed_in
from cadence.workspace import Workspace

router = APIRouter(tags=["sign-in"])


@router.get("/login", include_in_schema=False)
def login_page(request: Request, next: str = "/") -> Response:
    return html(request, "login.html", next=safe_next(next), username="", error=None,
                oidc=button_label(settings_of(request).workspace))


@router.post("/login", include_in_schema=False)
def login(request: Request, username: str = Form(""), password: str = Form(""), next: str = Form("/"),
          ws: Workspace = Depends(workspace)) -> Response:
    address = client_address(request)
    name = username.strip()
    allowed, retry_after = login_allowed(ws, name, address)
    if not allowed:
        minutes = max(1, round(retry_after / 60))
        response = html(request, "login.html", status_code=429, next=safe_next(next), username=name,
                        error=f"Too many failed sign-ins: try again in {minutes} minute{'s' if minutes > 1 else ''}.")
        response.headers["Retry-After"] = str(retry_after)
        return response
    user = authenticate(ws, name, password) if name and password else None
    if user is None:
        audit.record(ws, "sign_in_failed", actor=None, target=f"users/{name}", address=address)
        return html(request, "login.html", status_code=401, next=safe_next(next), username=name,
                    error="Unknown user or wrong password.")
    return signed_in(request, ws, user, next)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, ws: Workspace = Depends(workspace)) -> Response:
    settings = settings_of(request)
    user = signed_in_user(request, ws)
    token = request.cookies.get(settings.cookie_name)
    if token:
        end_session(ws, token)
    if user is not None:
        audit.record(ws, "sign_out", actor=user.user_id, target=f"users/{user.user_id}",
                     address=client_address(request))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(settings.cookie_name, path="/")
    return response


HOMES = (("scorecard", "/scorecard"), ("hiring", "/hiring"), ("admin", "/admin/users"))


@router.get("/", include_in_schema=False)
def home(request: Request, ws: Workspace = Depends(workspace)) -> Response:
    """The scorecard for everyone who may see it; a recruiter's home is hiring."""
    user = signed_in_user(request, ws)
    if user is None:
        return RedirectResponse("/login", status_code=303)
    principal = Principal(user.user_id, user.role, user.team, user.person_id)
    target = next((href for area, href in HOMES if may_see(principal, area)), "/login")
    return RedirectResponse(target, status_code=303)
