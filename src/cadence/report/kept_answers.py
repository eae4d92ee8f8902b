"""The answers of the slow analyses kept between sessions, for the data, settings and question they answer.

An analyst asks the same question twice: the backtest as a table, then `--format csv` for a spreadsheet; the CEO
opens the forecast page, then the CRO does, from another process. Until the data, cadence.yml or Cadence itself
changes, the answer cannot change, and computing it again took the demo company 10–25 seconds (the forecast's win
models are fitted again for every replayed quarter).

`kept_answer` names an answer as `kept_sections` names a scorecard section — the warehouse's data version (any
import, sync or hand entry, a forecast call among them, changes it), cadence.yml as loaded and the theme edits
beside it, the code, the reporting currency and the day the data is read up to — and by the question (the command
or page and its arguments), and reads it back when it is kept (`store/kept_results.py`). A reader who sees only
part of the company (a manager, a rep) is named by the scope of their rows too, so an answer computed on a team's
rows is only ever read back for that same scope. Nothing is kept where the data version is unknown (a company's own
warehouse) or while a write is under way, nor an answer that would not read back exactly as computed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from cadence.report.kept_sections import code_digest, from_plain, read_or_compute, settings_text, to_plain
from cadence.store.kept_results import KeptResults

if TYPE_CHECKING:
    from cadence.workspace import Workspace

KIND = "analysis answer"


def answer_key(ws: Workspace, question: tuple[Any, ...], data_version: str) -> str:
    parts = [code_digest(), data_version, settings_text(ws), ws.currency, ws.today.isoformat(), ws.scope_name,
             *(repr(part) for part in question)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def kept_answer(ws: Workspace, question: tuple[Any, ...], compute: Callable[[], dict[str, Any]], *,
                fresh: bool = False) -> dict[str, Any]:
    """`compute()`'s answer to `question` on `ws`, read back when kept for the same data, settings, day and scope;
    computed (and kept) otherwise, or always with `fresh`. The answer is plain data (what `--format json` prints)."""
    store = KeptResults(ws.warehouse)
    version = ws.warehouse.data_version() if store.kept else None
    if version is None:
        return compute()
    return read_or_compute(store, answer_key(ws, question, version), KIND, str(question[0]), compute, _write, _read,
                           reuse=not fresh)


def _write(answer: dict[str, Any]) -> str:
    return json.dumps(to_plain(answer), ensure_ascii=False, allow_nan=False)


def _read(body: str) -> dict[str, Any]:
    answer: dict[str, Any] = from_plain(json.loads(body))
    return answer
