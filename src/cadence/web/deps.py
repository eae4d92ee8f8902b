"""Who is asking, and the workspace as they may see it: one dependency every page and JSON twin declares.

`viewer("pipeline")` signs the request in from its session cookie (or sends it to /login, or answers 401 to a
.json request), refuses a role that may not see the area (403), and hands the route a workspace scoped to the
person's rows — so the queries the route builds can only ever see what the person may see.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from fastapi import Depends, Request

from cadence.access.roles import Principal, may_see, may_write
from cadence.access.scope import Scope, scope_for, scoped
from cadence.accounts import audit
from cadence.accounts.sessions import session_user
from cadence.accounts.users import User
from cadence.errors import AccessDenied, CadenceError
from cadence.web.holder import WorkspaceHolder
from cadence.web.settings import Settings
from cadence.workspace import Workspace


class SignInRequired(CadenceError):
    """No valid session: HTML goes to /login, JSON gets 401."""


@dataclass
class Viewer:
    """The signed-in person on this request."""

    user: User
    principal: Principal
    scope: Scope
    ws: Workspace  # scoped: every table read is limited to the person's rows
    full: Workspace  # unscoped: for writes the route has already checked, and for the accounts tables
    address: str | None

    def may_see(self, area: str) -> bool:
        return may_see(self.principal, area)

    def may_write(self, area: str) -> bool:
        return may_write(self.principal, area)

    def require_write(self, area: str) -> None:
        if not may_write(self.principal, area):
            raise AccessDenied(f"{self.user.role} may not change {area}")

    def audit(self, action: str, target: str, *, before: object = None, after: object = None) -> None:
        audit.record(self.full, action, actor=self.user.user_id, target=target, before=before, after=after,
                     address=self.address)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


_request_lock = threading.Lock()  # one request at a time on the workspace (released from whichever thread ends it)


def workspace(request: Request) -> Iterator[Workspace]:
    holder: WorkspaceHolder = request.app.state.holder
    _request_lock.acquire()
    try:
        with holder.use() as ws:
            yield ws
    finally:
        _request_lock.release()


def client_address(request: Request) -> str | None:
    return request.client.host if request.client else None


def signed_in_user(request: Request, ws: Workspace) -> User | None:
    token = request.cookies.get(settings_of(request).cookie_name)
    return session_user(ws, token) if token else None


@functools.cache
def viewer(area: str) -> Callable[..., Viewer]:
    """The dependency for a page of `area` (see access.roles.AREAS); one function per area, so tests may
    override it with `app.dependency_overrides[viewer("pipeline")]`."""

    def dependency(request: Request, ws: Workspace = Depends(workspace)) -> Viewer:
        user = signed_in_user(request, ws)
        if user is None:
            raise SignInRequired("sign in to see this page")
        principal = Principal(user.user_id, user.role, user.team, user.person_id)
        if not may_see(principal, area):
            raise AccessDenied(f"a {user.role} may not see {area} pages", hint="ask an admin for another role")
        scope = scope_for(ws, principal)
        seen = Viewer(user, principal, scope, scoped(ws, scope), ws, client_address(request))
        if area in ("hiring", "hiring_scores") and request.method == "GET":  # HR data: every view is recorded
            seen.audit("view", request.url.path + (f"?{request.url.query}" if request.url.query else ""))
        return seen

    return dependency


def any_signed_in(request: Request, ws: Workspace = Depends(workspace)) -> User:
    """For pages every signed-in person may open (the API reference): a session, whatever the role."""
    user = signed_in_user(request, ws)
    if user is None:
        raise SignInRequired("sign in to see this page")
    return user
