"""Sign-in throttling, read from the audit log so it holds across processes and restarts.

Five failed sign-ins for one user name (or twenty from one address) within fifteen minutes refuse further
attempts until fifteen minutes after the last of them. A successful sign-in clears the user name's count
(not the address's). Failures are the `sign_in_failed` events the web app records, with target `users/NAME`.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from cadence.accounts.clock import naive_utc
from cadence.workspace import Workspace

WINDOW = timedelta(minutes=15)
PER_USER = 5
PER_ADDRESS = 20


def login_allowed(ws: Workspace, user_id: str, address: str | None,
                  now: datetime | None = None) -> tuple[bool, int]:
    """Whether a sign-in may be tried now, and if not, how many seconds until it may."""
    moment = naive_utc(now)
    waits = [_wait(_failures(ws, "target", f"users/{user_id}", moment, _last_success(ws, user_id, moment)),
                   PER_USER, moment)]
    if address:
        waits.append(_wait(_failures(ws, "address", address, moment, None), PER_ADDRESS, moment))
    retry_after = max(waits)
    return retry_after == 0, retry_after


def _failures(ws: Workspace, column: str, value: str, now: datetime, after: datetime | None) -> list[datetime]:
    """When the failures matching `column = value` happened in the last two windows (after `after`)."""
    start = max(now - 2 * WINDOW, after) if after else now - 2 * WINDOW
    rows = ws.warehouse.query(
        f'SELECT "at" FROM audit_log WHERE action = \'sign_in_failed\' AND {column} = $1 '
        'AND "at" > $2 AND "at" <= $3 ORDER BY "at"', (value, start, now))
    return [row[0] for row in rows]


def _last_success(ws: Workspace, user_id: str, now: datetime) -> datetime | None:
    rows = ws.warehouse.query(
        'SELECT max("at") FROM audit_log WHERE action = \'sign_in\' AND target = $1 AND "at" <= $2',
        (f"users/{user_id}", now))
    return rows[0][0] if rows else None


def _wait(failures: list[datetime], limit: int, now: datetime) -> int:
    """Seconds to wait: the last failure is recent and at least `limit` failures fall in the window ending on it."""
    if not failures:
        return 0
    last = failures[-1]
    if last + WINDOW <= now or sum(1 for at in failures if at >= last - WINDOW) < limit:
        return 0
    return max(1, math.ceil((last + WINDOW - now).total_seconds()))
