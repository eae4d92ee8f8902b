"""What every way of signing in ends with: a server-side session, its HttpOnly cookie, the `sign_in` audit event."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from cadence.accounts import audit
from cadence.accounts.sessions import start_session
from cadence.accounts.users import User
from cadence.web.deps import client_address, settings_of
from cadence.web.security import safe_next
from cadence.workspace import Workspace


def secure_request(request: Request) -> bool:
    """Whether cookies must be Secure: the server runs behind HTTPS, or this request came over it."""
    return settings_of(request).secure_cookies or request.url.scheme == "https"


def signed_in(request: Request, ws: Workspace, user: User, next_path: str, *,
              audited: dict[str, Any] | None = None) -> Response:
    """Open a session for `user`, record the sign-in (with `audited` as its details) and send them on to
    `next_path` (a path on this site only) with the session cookie set."""
    settings = settings_of(request)
    address = client_address(request)
    token = start_session(ws, user, address=address, user_agent=request.headers.get("user-agent"),
                          lifetime=settings.session_lifetime)
    audit.record(ws, "sign_in", actor=user.user_id, target=f"users/{user.user_id}", after=audited, address=address)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    response.set_cookie(settings.cookie_name, token, max_age=int(settings.session_lifetime.total_seconds()),
                        httponly=True, samesite="lax", path="/", secure=secure_request(request))
    return response
