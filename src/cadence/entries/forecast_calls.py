"""A forecaster's call on a quarter (`cadence forecast call`, the forecast page's form), kept as made.

Each call is a new `forecast_calls` row with its own id and the moment it was made — a second call on the same
quarter is a second row, never an update — so what anyone predicted, and when, can be scored later. A bad
field is refused in one line naming it (an unknown person with the closest match, a quarter that is not a
fiscal quarter, a negative or unreadable amount) and nothing is written.
"""

from __future__ import annotations

import difflib
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pandas as pd

from cadence.entries.policy import EntryRefused
from cadence.schema.tables import table_named

if TYPE_CHECKING:
    from cadence.workspace import Workspace

WHAT = "forecast call"


class CallRefused(EntryRefused):
    """A call refused before anything was written; `field` names the form field it is about."""

    def __init__(self, field: str, value: Any, reason: str):
        super().__init__(WHAT, field, value, reason)
        self.field = field


@dataclass(frozen=True)
class CallRecorded:
    call_id: str
    person_id: str
    name: str
    quarter: str
    commit_amount: float
    best_case_amount: float | None
    currency: str
    called_at: datetime
    recorded_by: str
    note: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"call_id": self.call_id, "person_id": self.person_id, "name": self.name, "quarter": self.quarter,
                "commit_amount": self.commit_amount, "best_case_amount": self.best_case_amount,
                "currency": self.currency, "called_at": self.called_at.isoformat(), "recorded_by": self.recorded_by,
                "note": self.note}


def record_call(ws: Workspace, *, person_id: str, quarter: str, commit: Any, best_case: Any = None,
                note: str | None = None, at: date | datetime | str | None = None,
                recorded_by: str = "cli") -> CallRecorded:
    """Keep one call: checked field by field, then written as a new row (with `at`, default now, UTC)."""
    person, name = check_person(ws, person_id)
    label = check_quarter(ws, quarter)
    commit_amount = check_amount("commit", commit, required=True) or 0.0
    best_case_amount = check_amount("best_case", best_case, required=False)
    called_at = check_moment(at)
    text = (note or "").strip() or None
    call = CallRecorded(uuid.uuid4().hex[:16], person, name, label, commit_amount, best_case_amount,
                        ws.corporate_currency, called_at, recorded_by, text)
    row = {k: v for k, v in call.as_dict().items() if k != "name"}
    row["called_at"] = called_at
    with ws.warehouse.transaction():
        ws.warehouse.upsert(table_named("forecast_calls"), pd.DataFrame([row]))
    return call


def check_person(ws: Workspace, person_id: str) -> tuple[str, str]:
    """(person_id, name) of someone in `people`; refused with the closest id or name otherwise."""
    given = (person_id or "").strip()
    if not given:
        raise CallRefused("person_id", None, "is required (a person_id from people)")
    people = ws.table("people").select("person_id", "name").to_pandas()
    names = dict(zip(people["person_id"].astype(str), people["name"].fillna("").astype(str), strict=True))
    if given in names:
        return given, names[given] or given
    by_name = {n.lower(): p for p, n in names.items() if n}
    if given.lower() in by_name:
        match = by_name[given.lower()]
        raise CallRefused("person_id", given, f"is a name, not an id: did you mean {match} ({names[match]})?")
    close = difflib.get_close_matches(given, list(names), n=1, cutoff=0.5) or \
        [by_name[n] for n in difflib.get_close_matches(given.lower(), list(by_name), n=1, cutoff=0.5)]
    known = ", ".join(sorted(names)[:8]) + (", …" if len(names) > 8 else "")
    hint = f"did you mean {close[0]} ({names[close[0]]})?" if close else f"known ids: {known or 'none'}"
    raise CallRefused("person_id", given, f"is not in people — {hint}")


def check_quarter(ws: Workspace, quarter: str) -> str:
    """The fiscal quarter's label as Cadence writes it (e.g. 2026-Q1)."""
    text = (quarter or "").strip()
    if not text:
        raise CallRefused("quarter", None, "is required (a fiscal quarter like 2026-Q1)")
    try:
        start, grain = ws.calendar.parse(text)
    except ValueError:
        raise CallRefused("quarter", text, "is not a fiscal quarter (write it like 2026-Q1)") from None
    if grain != "quarter":
        raise CallRefused("quarter", text, f"is a {grain}, not a quarter (write it like 2026-Q1)")
    return ws.calendar.label(start, "quarter")


def check_amount(field: str, value: Any, *, required: bool) -> float | None:
    """A non-negative amount in the corporate currency ("1,200,000" and "1200000.50" are read)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise CallRefused(field, None, "is required (an amount in the corporate currency)")
        return None
    try:
        amount = float(str(value).replace(",", "").replace("_", "").strip())
    except ValueError:
        raise CallRefused(field, value, "is not a number (write it like 1200000)") from None
    if math.isnan(amount) or math.isinf(amount):
        raise CallRefused(field, value, "is not a number (write it like 1200000)")
    if amount < 0:
        raise CallRefused(field, value, "is negative: a call is what will close, 0 or more")
    return amount


def check_moment(at: date | datetime | str | None) -> datetime:
    """When the call was made: now (UTC) by default; a day alone means the start of that day."""
    if at is None or (isinstance(at, str) and not at.strip()):
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    if isinstance(at, datetime):
        return at.replace(tzinfo=None)
    if isinstance(at, date):
        return datetime.combine(at, datetime.min.time())
    try:
        return datetime.combine(date.fromisoformat(at.strip()), datetime.min.time())
    except ValueError:
        raise CallRefused("at", at, "is not a date (write it as YYYY-MM-DD)") from None
