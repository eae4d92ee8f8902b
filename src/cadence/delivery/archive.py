"""The archive of deliveries: one row per (schedule, recipient, channel, slot), claimed before anything is sent.

Exactly once rests on the database, not on the scheduler: a run claims a message by INSERTing its row (status
`claimed`) in a transaction of its own; the table's UNIQUE (schedule, recipient, channel, slot) refuses a second
claim, whoever makes it — another thread, another `cadence deliver --due` from cron, another server. Whoever
loses the claim sends nothing. A row is never upserted, deleted or re-inserted: after the claim only its
non-key columns change (status, attempts, the bodies as sent, the error, sent_at).
"""

from __future__ import annotations

import secrets
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cadence.errors import UnknownNameError

if TYPE_CHECKING:
    from cadence.store.warehouse import Warehouse
    from cadence.workspace import Workspace

__all__ = ["COLUMNS", "Claim", "claim", "get_delivery", "list_deliveries", "naive_utc", "update", "warehouse_lock"]

COLUMNS = ("delivery_id", "schedule", "recipient", "channel", "slot", "address", "scope", "snapshot_id", "status",
           "attempts", "subject", "body_text", "body_html", "payload_json", "error", "created_at", "sent_at")
LISTED = ("delivery_id", "schedule", "recipient", "channel", "slot", "address", "scope", "snapshot_id", "status",
          "attempts", "subject", "error", "created_at", "sent_at")
UPDATABLE = frozenset({"address", "scope", "snapshot_id", "status", "attempts", "subject", "body_text", "body_html",
                       "payload_json", "error", "sent_at"})

_locks: weakref.WeakKeyDictionary[Any, threading.RLock] = weakref.WeakKeyDictionary()
_locks_guard = threading.Lock()


@contextmanager
def warehouse_lock(warehouse: Warehouse) -> Iterator[None]:
    """One thread at a time on one warehouse connection (threads sharing a DuckDB connection would share its
    transaction); two connections — two processes, two servers on PostgreSQL — still race, and the UNIQUE key
    settles it."""
    with _locks_guard:
        lock = _locks.setdefault(warehouse, threading.RLock())
    with lock:
        yield


def naive_utc(moment: datetime) -> datetime:
    """The warehouse's timestamps: naive UTC, to the second."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0)


@dataclass(frozen=True)
class Claim:
    """The outcome of claiming one message: ours to send (`won`), or someone else's row (`delivery_id`)."""

    won: bool
    delivery_id: str | None


def claim(ws: Workspace, *, schedule: str, recipient: str, channel: str, slot: datetime,
          address: str | None = None) -> Claim:
    """INSERT the message's row with status `claimed`; when the UNIQUE key refuses it, the row already there
    (found again by SELECT) belongs to whoever claimed it first, and this run must send nothing."""
    delivery_id = secrets.token_hex(12)
    key = (schedule, recipient, channel, naive_utc(slot))
    warehouse = ws.warehouse
    with warehouse_lock(warehouse):
        try:
            with warehouse.transaction() as tx:
                tx.execute("INSERT INTO deliveries (delivery_id, schedule, recipient, channel, slot, address, "
                           "status, attempts, created_at) VALUES ($1, $2, $3, $4, $5, $6, 'claimed', 0, $7)",
                           (delivery_id, *key, address, naive_utc(datetime.now(UTC))))
            return Claim(True, delivery_id)
        except Exception as refused:  # duckdb.ConstraintException, psycopg.errors.UniqueViolation, …
            existing = warehouse.query("SELECT delivery_id FROM deliveries WHERE schedule = $1 AND recipient = $2 "
                                       "AND channel = $3 AND slot = $4", key)
            if existing:
                return Claim(False, str(existing[0][0]))
            raise refused


def update(ws: Workspace, delivery_id: str, **values: Any) -> None:
    """Change a claimed row's non-key columns (status, attempts, bodies, error, sent_at) — never its key."""
    unknown = set(values) - UPDATABLE
    if unknown:
        raise ValueError(f"deliveries: {sorted(unknown)} may not be changed after the claim")
    if not values:
        return
    names = sorted(values)
    sets = ", ".join(f"{name} = ${n}" for n, name in enumerate(names, start=1))
    params = tuple(naive_utc(values[n]) if isinstance(values[n], datetime) else values[n] for n in names)
    with warehouse_lock(ws.warehouse), ws.warehouse.transaction() as tx:
        tx.execute(f"UPDATE deliveries SET {sets} WHERE delivery_id = ${len(names) + 1}", (*params, delivery_id))


def _row(columns: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    found = dict(zip(columns, row, strict=True))
    if found.get("attempts") is not None:
        found["attempts"] = int(found["attempts"])
    return found


def list_deliveries(ws: Workspace, *, limit: int | None = 50, schedule: str | None = None,
                    recipient: str | None = None) -> list[dict[str, Any]]:
    """The archive, newest slot first (without the bodies): what went out, to whom, when, and how it went."""
    with warehouse_lock(ws.warehouse):
        rows = ws.warehouse.select("deliveries", LISTED, where=(("schedule", "=", schedule),
                                                                ("recipient", "=", recipient)),
                                   order_by="slot DESC, created_at DESC, recipient, channel", limit=limit)
    return [_row(LISTED, row) for row in rows]


def get_delivery(ws: Workspace, delivery_id: str) -> dict[str, Any]:
    """One message with its bodies exactly as sent; an unknown id is refused naming the closest."""
    with warehouse_lock(ws.warehouse):
        rows = ws.warehouse.query(f"SELECT {', '.join(COLUMNS)} FROM deliveries WHERE delivery_id = $1",
                                  (delivery_id,))
        if not rows:
            known = [str(r[0]) for r in ws.warehouse.query(
                "SELECT delivery_id FROM deliveries ORDER BY created_at DESC LIMIT 200")]
            raise UnknownNameError("delivery", delivery_id, known or ["(none yet)"])
    return _row(COLUMNS, rows[0])
