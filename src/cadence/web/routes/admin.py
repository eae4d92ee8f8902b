"""Users and roles, sessions, the audit log and the CRM syncs: the admin's pages."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from cadence.accounts.audit import read_audit
from cadence.accounts.sessions import list_sessions, revoke_sessions
from cadence.accounts.users import add_user, disable_user, list_users, set_role
from cadence.errors import CadenceError, InputError
from cadence.schema.app_tables import ROLES
from cadence.sync.run import SOURCES, sync_log
from cadence.web.deps import Viewer, viewer
from cadence.web.pages import csv_response, respond

router = APIRouter(tags=["admin"])
USER_FIELDS = ("user_id", "role", "team", "person_id", "email", "display_name", "password")


def _users_page(request: Request, seen: Viewer, *, values: dict[str, str] | None = None,
                errors: dict[str, str] | None = None, status: int = 200, flash: str | None = None) -> Response:
    users = list_users(seen.full)
    data = {"users": users, "sessions": list_sessions(seen.full)}
    return respond(request, "admin_users.html", data, status_code=status, viewer=seen, roles=ROLES,
                   values=values or dict.fromkeys(USER_FIELDS, ""), errors=errors or {}, flash=flash)


@router.get("/admin/users", include_in_schema=False)
@router.get("/admin/users.json", summary="Users, their roles and active sessions (admin)")
def users(request: Request, done: str | None = None, seen: Viewer = Depends(viewer("admin"))) -> Response:
    return _users_page(request, seen, flash=done)


def _field(error: CadenceError) -> str:
    field = getattr(error, "field", None)
    return str(field) if field in USER_FIELDS else "user_id"


@router.post("/admin/users", include_in_schema=False)
def add(request: Request, user_id: str = Form(""), role: str = Form(""), team: str = Form(""),
        person_id: str = Form(""), email: str = Form(""), display_name: str = Form(""), password: str = Form(""),
        seen: Viewer = Depends(viewer("admin"))) -> Response:
    seen.require_write("admin")
    values = {"user_id": user_id, "role": role, "team": team, "person_id": person_id, "email": email,
              "display_name": display_name, "password": ""}
    try:
        made = add_user(seen.full, user_id.strip(), role.strip(), password=password or None,
                        team=team.strip() or None, person_id=person_id.strip() or None, email=email.strip() or None,
                        display_name=display_name.strip() or None, actor=seen.user.user_id)
    except CadenceError as refused:
        return _users_page(request, seen, values=values, errors={_field(refused): refused.one_line()}, status=400)
    return RedirectResponse(f"/admin/users?done=added+{made.user_id}", status_code=303)


@router.post("/admin/users/{user_id}/role", include_in_schema=False)
def change_role(request: Request, user_id: str, role: str = Form(""), team: str = Form(""),
                person_id: str = Form(""), seen: Viewer = Depends(viewer("admin"))) -> Response:
    seen.require_write("admin")
    try:
        set_role(seen.full, user_id, role.strip(), team=team.strip() or None, person_id=person_id.strip() or None,
                 actor=seen.user.user_id)
    except CadenceError as refused:
        return _users_page(request, seen, errors={"role": f"{user_id}: {refused.one_line()}"}, status=400)
    return RedirectResponse(f"/admin/users?done={user_id}+is+now+{role}", status_code=303)


@router.post("/admin/users/{user_id}/disable", include_in_schema=False)
def disable(request: Request, user_id: str, seen: Viewer = Depends(viewer("admin"))) -> Response:
    seen.require_write("admin")
    disable_user(seen.full, user_id, actor=seen.user.user_id)
    return RedirectResponse(f"/admin/users?done=disabled+{user_id}", status_code=303)


@router.post("/admin/users/{user_id}/revoke", include_in_schema=False)
def revoke(request: Request, user_id: str, seen: Viewer = Depends(viewer("admin"))) -> Response:
    seen.require_write("admin")
    count = revoke_sessions(seen.full, user_id=user_id, actor=seen.user.user_id)
    return RedirectResponse(f"/admin/users?done=revoked+{count}+sessions+of+{user_id}", status_code=303)


def _since(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise CadenceError(f"not a date: {text!r}", hint="write it as YYYY-MM-DD") from None


@router.get("/admin/audit", include_in_schema=False)
@router.get("/admin/audit.json", summary="The audit log, newest first (admin)")
@router.get("/admin/audit.csv", summary="The audit log as CSV (admin; the download itself is recorded)")
def audit_log(request: Request, since: str | None = None, actor: str | None = None, action: str | None = None,
              limit: int = 500, seen: Viewer = Depends(viewer("admin"))) -> Response:
    events: list[dict[str, Any]] = read_audit(seen.full, since=_since(since), actor=actor or None,
                                              action=action or None, limit=max(1, min(limit, 10_000)))
    if request.url.path.endswith(".csv"):
        seen.audit("export", "/admin/audit.csv")
        columns = ["at", "actor", "action", "target", "before_json", "after_json", "address"]
        return csv_response(events, columns, "cadence-audit.csv")
    return respond(request, "admin_audit.html", {"events": events}, viewer=seen, since=since or "",
                   actor=actor or "", action=action or "")


SYNCS_PER_PAGE = 50


@router.get("/admin/syncs", include_in_schema=False)
@router.get("/admin/syncs.json", summary="The CRM syncs, newest first, as `cadence sync log` lists them (admin)")
def syncs(request: Request, source: str | None = None, limit: int = SYNCS_PER_PAGE, offset: int = 0,
          seen: Viewer = Depends(viewer("admin"))) -> Response:
    """`limit` syncs (of `source`, or of every CRM) after the `offset` newest; a link to the older ones."""
    source = source or None
    if source is not None and source not in SOURCES:
        raise InputError(f"unknown CRM {source!r}", hint=" or ".join(SOURCES))
    limit, offset = max(1, min(limit, 500)), max(0, offset)
    found = sync_log(seen.full, source, limit=limit + 1, offset=offset)  # one more: are there older ones?
    rows, older = found[:limit], len(found) > limit
    ever = bool(rows) or bool(sync_log(seen.full, limit=1))
    return respond(request, "admin_syncs.html", rows, viewer=seen, source=source or "", sources=SOURCES,
                   limit=limit, per_page=SYNCS_PER_PAGE, offset=offset, older=older, ever=ever)
