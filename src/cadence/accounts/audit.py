"""The audit log: who did what, to what, when and from where — append-only.

Rows are only ever inserted. `before` and `after` are kept as JSON, with any key named password,
password_hash or token removed wherever it sits, so no secret reaches the log. A write elsewhere in the
accounts package records its event inside the same transaction as the change, so both happen or neither.
"""

from __future__ import annotations

import json
import secrets
from datetime import datetime
from typing import Any

from cadence.accounts.clock import naive_utc, utc_now
from cadence.schema.ddl import quote
from cadence.workspace import Workspace

SECRET_KEYS = frozenset({"password", "password_hash", "token"})
COLUMNS = ("event_id", "at", "actor", "action", "target", "before_json", "after_json", "address")


def record(ws: Workspace, action: str, *, actor: str | None, target: str | None = None, before: Any = None,
           after: Any = None, address: str | None = None) -> None:
    """Append one event (in its own small transaction, or the caller's if one is open)."""
    values = (secrets.token_hex(16), utc_now(), actor, action, target, _as_json(before), _as_json(after), address)
    marks = ", ".join(f"${n}" for n in range(1, len(COLUMNS) + 1))
    with ws.warehouse.transaction() as warehouse:
        warehouse.execute(f"INSERT INTO audit_log ({', '.join(quote(c) for c in COLUMNS)}) VALUES ({marks})",
                          values)


def read_audit(ws: Workspace, *, since: datetime | None = None, actor: str | None = None,
               action: str | None = None, limit: int | None = None) -> list[dict[str, Any]]:
    """Events newest first, optionally from `since` on, by one actor, of one action; at most `limit`. Each has
    its before and after records twice: as stored (`before_json`, `after_json`) and decoded (`before`, `after`)."""
    rows = ws.warehouse.select("audit_log", COLUMNS, where=(("at", ">=", naive_utc(since) if since else None),
                                                            ("actor", "=", actor), ("action", "=", action)),
                               order_by='"at" DESC, event_id', limit=limit)
    return [_event(row) for row in rows]


def _event(row: tuple[Any, ...]) -> dict[str, Any]:
    event_id, at, actor, action, target, before, after, address = row
    return {"event_id": event_id, "at": at, "actor": actor, "action": action, "target": target,
            "before_json": before, "after_json": after, "address": address,
            "before": json.loads(before) if before else None, "after": json.loads(after) if after else None}


def _as_json(value: Any) -> str | None:
    return None if value is None else json.dumps(without_secrets(value), default=str, sort_keys=True)


def without_secrets(value: Any) -> Any:
    """`value` with every key named password, password_hash or token dropped, at any depth."""
    if hasattr(value, "as_dict"):
        value = value.as_dict()
    if isinstance(value, dict):
        return {k: without_secrets(v) for k, v in value.items() if str(k).casefold() not in SECRET_KEYS}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [without_secrets(v) for v in value]
    return value
