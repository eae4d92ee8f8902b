"""Users: who may sign in, with which role, and their argon2id password (or none: OpenID Connect only).

Every change is checked field by field (a `FieldError` names the field) and written in one transaction
together with its audit event: `user_added`, `role_change`, `password_changed`, `user_disabled`.
"""

from __future__ import annotations

from cadence.accounts import audit
from cadence.accounts.checks import check_email, check_new_user_id, check_role
from cadence.accounts.clock import utc_now
from cadence.accounts.passwords import check_password, hash_password, needs_rehash, verify_password
from cadence.accounts.records import User, get_user, list_users
from cadence.accounts.sessions import revoke_sessions
from cadence.errors import UnknownNameError
from cadence.schema.app_tables import ROLES
from cadence.workspace import Workspace

__all__ = ["ROLES", "User", "add_user", "authenticate", "disable_user", "get_user", "list_users", "set_password",
           "set_role"]


def add_user(ws: Workspace, user_id: str, role: str, *, password: str | None, team: str | None = None,
             person_id: str | None = None, email: str | None = None, display_name: str | None = None,
             actor: str | None = None) -> User:
    """Add a user; with no password they can sign in only through OpenID Connect."""
    user_id = user_id.strip()
    check_new_user_id(ws, user_id)
    check_role(ws, role, team, person_id)
    check_email(email)
    if password is not None:
        check_password(password, user_id)
    user = User(user_id, role, display_name or None, team or None, person_id or None, email or None)
    hashed = hash_password(password) if password is not None else None
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute(
            "INSERT INTO users (user_id, display_name, role, team, person_id, email, password_hash, disabled, "
            "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            (user.user_id, user.display_name, user.role, user.team, user.person_id, user.email, hashed, False,
             utc_now()))
        audit.record(ws, "user_added", actor=actor, target=_target(user_id),
                     after={**user.as_dict(), "sign_in": "password" if hashed else "openid connect"})
    return user


def set_role(ws: Workspace, user_id: str, role: str, *, team: str | None = None, person_id: str | None = None,
             actor: str | None) -> User:
    """Give a user another role. A person not given stays as it was; so does the team a manager leads, but a
    role other than manager leads no team unless one is given."""
    before = _existing(ws, user_id)
    kept_team = before.team if role == "manager" else None
    after = User(before.user_id, role, before.display_name, team or kept_team, person_id or before.person_id,
                 before.email, before.disabled)
    check_role(ws, role, after.team, after.person_id)
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute("UPDATE users SET role = $1, team = $2, person_id = $3 WHERE user_id = $4",
                          (after.role, after.team, after.person_id, user_id))
        audit.record(ws, "role_change", actor=actor, target=_target(user_id), before=before, after=after)
    return after


def set_password(ws: Workspace, user_id: str, password: str, *, actor: str | None) -> None:
    """Set a new password (checked like a new user's)."""
    _existing(ws, user_id)
    check_password(password, user_id)
    _store_hash(ws, user_id, hash_password(password), actor=actor)


def disable_user(ws: Workspace, user_id: str, *, actor: str | None) -> int:
    """Stop a user signing in and end their live sessions; returns how many sessions were ended."""
    before = _existing(ws, user_id)
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute("UPDATE users SET disabled = $1 WHERE user_id = $2", (True, user_id))
        audit.record(ws, "user_disabled", actor=actor, target=_target(user_id), before=before,
                     after=User(**{**before.as_dict(), "disabled": True}))
        return revoke_sessions(ws, user_id=user_id, actor=actor)


def authenticate(ws: Workspace, user_id: str, password: str) -> User | None:
    """The user when the password is theirs and they are not disabled; None otherwise, in about the same time
    whether or not the name exists. A hash made with older parameters is replaced on success."""
    rows = ws.warehouse.query("SELECT password_hash FROM users WHERE user_id = $1", (user_id,))
    stored = rows[0][0] if rows else None
    if not verify_password(stored, password):
        return None
    user = get_user(ws, user_id)
    if user is None or user.disabled:
        return None
    if stored and needs_rehash(stored):
        with ws.warehouse.transaction() as warehouse:
            warehouse.execute("UPDATE users SET password_hash = $1 WHERE user_id = $2",
                              (hash_password(password), user_id))
    return user


def _store_hash(ws: Workspace, user_id: str, hashed: str, *, actor: str | None) -> None:
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute("UPDATE users SET password_hash = $1 WHERE user_id = $2", (hashed, user_id))
        audit.record(ws, "password_changed", actor=actor, target=_target(user_id))


def _existing(ws: Workspace, user_id: str) -> User:
    user = get_user(ws, user_id)
    if user is None:
        raise UnknownNameError("user", user_id, [u.user_id for u in list_users(ws)])
    return user


def _target(user_id: str) -> str:
    return f"users/{user_id}"
