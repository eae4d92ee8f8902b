"""Server-side sessions: the browser holds a random token, the warehouse only its SHA-256.

A session ends when it expires, when its user signs out or is disabled, or when an admin revokes it.
`session_user` runs on every request, so it reads one joined row and writes `last_seen_at` at most once a minute.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta
from typing import Any

from cadence.accounts import audit
from cadence.accounts.clock import utc_now
from cadence.accounts.errors import FieldError
from cadence.accounts.records import COLUMNS as USER_COLUMNS
from cadence.accounts.records import User, user_from_row
from cadence.workspace import Workspace

DEFAULT_LIFETIME = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=1)
ID_LENGTH = 12  # how much of the hash names a session in lists
_COLUMNS = ("token_hash", "user_id", "created_at", "last_seen_at", "expires_at", "revoked_at", "address",
            "user_agent")


def token_hash(token: str) -> str:
    """The SHA-256 hex of a session token: all the warehouse ever keeps of it."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(ws: Workspace, user: User, *, address: str | None, user_agent: str | None,
                  lifetime: timedelta = DEFAULT_LIFETIME) -> str:
    """Open a session for `user` and return its token, for the browser's cookie (shown nowhere else)."""
    token = secrets.token_urlsafe(32)
    now = utc_now()
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute(
            "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, expires_at, address, user_agent) "
            "VALUES ($1, $2, $3, $4, $5, $6, $7)",
            (token_hash(token), user.user_id, now, now, now + lifetime, address, (user_agent or "")[:500] or None))
    return token


def session_user(ws: Workspace, token: str) -> User | None:
    """The user a token signs in, or None when the session is unknown, expired, revoked, or its user disabled."""
    digest = token_hash(token)
    user_columns = ", ".join(f"u.{c}" for c in USER_COLUMNS)
    rows = ws.warehouse.query(
        f"SELECT s.expires_at, s.revoked_at, s.last_seen_at, {user_columns} FROM sessions AS s "
        "JOIN users AS u ON u.user_id = s.user_id WHERE s.token_hash = $1", (digest,))
    if not rows:
        return None
    expires_at, revoked_at, last_seen_at, *user_row = rows[0]
    user = user_from_row(tuple(user_row))
    now = utc_now()
    if revoked_at is not None or expires_at <= now or user.disabled:
        return None
    if last_seen_at is None or now - last_seen_at >= SEEN_EVERY:
        with ws.warehouse.transaction() as warehouse:
            warehouse.execute("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", (now, digest))
    return user


def end_session(ws: Workspace, token: str) -> None:
    """Sign out: the token no longer signs anyone in."""
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL",
                          (utc_now(), token_hash(token)))


def revoke_sessions(ws: Workspace, *, user_id: str | None = None, token_hash_prefix: str | None = None,
                    actor: str | None) -> int:
    """End the live sessions of one user, or the one(s) whose hash starts with a listed session id, or — with
    neither — every live session; audited as `session_revoked`. Returns how many were ended."""
    where, target = ["revoked_at IS NULL", "expires_at > $1"], "sessions"
    params: list[object] = [utc_now()]
    if user_id is not None:
        params.append(user_id)
        where.append(f"user_id = ${len(params)}")
        target = f"users/{user_id}"
    if token_hash_prefix is not None:
        params.append(_checked_prefix(token_hash_prefix) + "%")
        where.append(f"token_hash LIKE ${len(params)}")
        target = f"sessions/{token_hash_prefix.lower()}"
    condition = " AND ".join(where)
    with ws.warehouse.transaction() as warehouse:
        count = int(warehouse.query(f"SELECT count(*) FROM sessions WHERE {condition}", tuple(params))[0][0])
        params.append(utc_now())
        warehouse.execute(f"UPDATE sessions SET revoked_at = ${len(params)} WHERE {condition}", tuple(params))
        audit.record(ws, "session_revoked", actor=actor, target=target, after={"sessions_revoked": count})
    return count


def list_sessions(ws: Workspace, *, user_id: str | None = None, active_only: bool = True) -> list[dict[str, Any]]:
    """Sessions, newest first, each named by the first characters of its hash (`session_id`), never its token."""
    now = utc_now()
    where: list[str] = []
    params: list[object] = []
    if user_id is not None:
        params.append(user_id)
        where.append(f"user_id = ${len(params)}")
    if active_only:
        params.append(now)
        where.append(f"revoked_at IS NULL AND expires_at > ${len(params)}")
    sql = f"SELECT {', '.join(_COLUMNS)} FROM sessions"
    sql += f" WHERE {' AND '.join(where)}" if where else ""
    rows = ws.warehouse.query(sql + " ORDER BY created_at DESC", tuple(params))
    return [_listed(dict(zip(_COLUMNS, row, strict=True)), now) for row in rows]


def _listed(row: dict[str, Any], now: Any) -> dict[str, Any]:
    active = row["revoked_at"] is None and row["expires_at"] > now
    return {"session_id": row.pop("token_hash")[:ID_LENGTH], **row, "active": active}


def _checked_prefix(prefix: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{6,64}", prefix):
        raise FieldError("session_id", f"session id {prefix!r} is not the start of a session's hash",
                         hint="copy it from `cadence users sessions` (at least 6 characters)")
    return prefix.lower()
