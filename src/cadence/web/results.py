"""Analysis results kept for the data they came from: a page, its JSON twin and the next reader with the same
scope share one computation, and nothing computed before an import or a hand entry is ever served after it.

The key is the data's version (`Warehouse.data_version`: any import, sync, hand entry or statement Cadence commits
that changes the company's rows changes it, as it does for the scorecard sections kept in the warehouse; a reopened
warehouse bumps the holder's generation), the reader's scope, `--today` and the question asked.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import Request

from cadence.web.deps import Viewer, settings_of
from cadence.web.holder import WorkspaceHolder

T = TypeVar("T")
KEEP_MOST = 128  # results kept at once; the least recently used goes first
_kept: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_lock = threading.Lock()


def data_version(seen: Viewer) -> tuple[Any, ...]:
    """Changes with every committed write to the company's data (on Spark read from its catalog, no Spark job);
    on a company's own warehouse, which keeps no version, with every import and hand entry (each logged in
    `imports`)."""
    version = seen.full.warehouse.data_version()
    if version is not None:
        return (version,)
    rows = seen.full.warehouse.query("SELECT count(*), max(imported_at) FROM imports")
    return tuple(rows[0]) if rows else ()


def kept(request: Request, seen: Viewer, question: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """`compute()`, or its result kept for the same data, scope, day and question."""
    holder: WorkspaceHolder = request.app.state.holder
    key = (id(holder), holder.generation, data_version(seen), seen.scope.key, settings_of(request).today,
           *question)
    with _lock:
        if key in _kept:
            _kept.move_to_end(key)
            result: T = _kept[key]
            return result
    value = compute()
    with _lock:
        _kept[key] = value
        while len(_kept) > KEEP_MOST:
            _kept.popitem(last=False)
    return value
