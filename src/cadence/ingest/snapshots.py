"""Full exports and history from successive exports (`cadence ingest … --full`).

A CRM export of "all deals" is a snapshot of the table on the day it was taken. The rules:

- **The export's date** is a date in the file's name (`deals-2024-03-04.csv`, `deals_20240304.xlsx`),
  else the newest last-modified time in the file (HubSpot "Last Modified Date", Salesforce
  `LastModifiedDate`), else the file's modification time — the poorest guess (copying a file changes
  it). The import summary says which was used.
- **Deleted.** Deals of the same source (import format) and pipeline that a full export no longer
  holds are marked deleted (`deleted_at` = the export's date): kept in the warehouse, never counted.
  A deal that is in a later export again is no longer deleted. Deals the export holds but that were
  quarantined are not deleted.
- **History.** When a deal's stage, amount, close date or forecast category differs from the
  warehouse's, the new state is a row of `opportunity_history` dated by the deal's last-modified
  time (when it is later than the one the warehouse holds), else the export's date.
- **First state.** A deal seen for the first time gets its state as it stands, dated by its Create
  Date. A deal first seen closed is taken to have been open, in its pipeline's first stage, from its
  Create Date until it closed (closed_at, else close date, else last modified, else the export's
  date), so pipeline, waterfall and funnel see it while it was open.
- Deals whose history comes from the CRM itself (OpportunityHistory, HubSpot's stage dates, in the
  warehouse or in the same import) are left to that history.

Rows made here carry the source `<format> snapshot`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

HISTORY_COLUMNS = ["opportunity_id", "changed_at", "stage", "amount", "close_date", "forecast_category"]
COMPARED = ["stage", "amount", "close_date", "forecast_category"]
_NAME_DATE = re.compile(r"(?<!\d)(20\d{2})[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])(?!\d)")


def snapshot_source(format_name: str) -> str:
    return f"{format_name} snapshot"


@dataclass
class Snapshot:
    """One full export of deals: its date, how that date was found, the ids it holds, its loaded rows."""

    file: str
    moment: pd.Timestamp  # naive UTC
    dated_by: str
    seen: set[str]
    rows: pd.DataFrame

    def as_dict(self) -> dict[str, object]:
        return {"path": self.file, "date": self.moment.isoformat(sep=" "), "dated_by": self.dated_by}


@dataclass
class SnapshotOutcome:
    """What a full import changed beyond its rows."""

    history: int = 0  # changes between exports
    first_states: int = 0
    deleted: list[str] = field(default_factory=list)
    undeleted: int = 0

    def as_dict(self) -> dict[str, object]:
        return {"history_rows": self.history, "first_states": self.first_states, "deleted": len(self.deleted),
                "undeleted": self.undeleted}


def export_moment(path: str, modified: pd.Series) -> tuple[pd.Timestamp, str]:
    """When the export was taken, and how that was found (see the module's rules)."""
    matches = _NAME_DATE.findall(Path(path).stem)
    for year, month, day in reversed(matches):
        try:
            return pd.Timestamp(datetime(int(year), int(month), int(day))), "the date in the file name"
        except ValueError:
            continue
    newest = pd.to_datetime(modified, errors="coerce").max() if len(modified) else pd.NaT
    if not pd.isna(newest):
        return pd.Timestamp(newest).tz_localize(None) if pd.Timestamp(newest).tzinfo else pd.Timestamp(newest), \
            "the newest last-modified time in the file"
    mtime = datetime.fromtimestamp(Path(path).stat().st_mtime, UTC).replace(tzinfo=None)
    return pd.Timestamp(mtime), "the file's modification time (no date in its name or its rows)"


def make_snapshot(path: str, source_ids: pd.Series, clean: pd.DataFrame) -> Snapshot:
    modified = clean["modified_at"] if "modified_at" in clean else pd.Series(dtype="datetime64[ns]")
    moment, how = export_moment(path, modified)
    seen = {str(v) for v in source_ids.dropna()}
    return Snapshot(path, moment, how, seen, clean)


# -- what changed ---------------------------------------------------------------------------------------
def changes(current: pd.DataFrame, incoming: pd.DataFrame, moment: pd.Timestamp) -> pd.DataFrame:
    """A history row per deal whose state differs from the warehouse's (both frames: opportunities rows)."""
    both = incoming.merge(current, on="opportunity_id", suffixes=("", "_was"))
    if both.empty:
        return pd.DataFrame(columns=HISTORY_COLUMNS)
    differs = pd.Series(False, index=both.index)
    for column in COMPARED:
        new, old = _comparable(both[column]), _comparable(both[f"{column}_was"])
        said = new.notna() | (column != "forecast_category")
        differs |= said & ~((new == old) | (new.isna() & old.isna()))
    moved = both[differs]
    modified, before = pd.to_datetime(moved["modified_at"]), pd.to_datetime(moved["modified_at_was"])
    fresh = modified.notna() & (before.isna() | (modified > before))
    out = moved[HISTORY_COLUMNS[:1] + COMPARED].copy()
    out["changed_at"] = modified.where(fresh, moment)
    return out[HISTORY_COLUMNS].reset_index(drop=True)


def _comparable(values: pd.Series) -> pd.Series:
    if pd.api.types.is_datetime64_any_dtype(values):
        return values.dt.normalize()
    numbers = pd.to_numeric(values, errors="coerce")
    if values.notna().any() and numbers.notna().sum() == values.notna().sum():
        return numbers.round(6)
    return values.astype("object").where(values.notna(), None)


def first_states(deals: pd.DataFrame, first_open: dict[str, str], moment: pd.Timestamp) -> pd.DataFrame:
    """The first known state of each deal, dated by its creation (see the module's rules)."""
    rows: list[dict[str, object]] = []
    for deal in deals.to_dict("records"):
        created = _stamp(deal.get("created_at"))
        if created is None:
            continue
        state = {c: _plain(deal.get(c)) for c in COMPARED}
        start = first_open.get(str(deal.get("pipeline")))
        if not bool(deal.get("is_closed")) or start is None or start == deal.get("stage"):
            rows.append({"opportunity_id": deal["opportunity_id"], "changed_at": created, **state})
            continue
        closed = next((t for t in map(_stamp, (deal.get("closed_at"), deal.get("close_date"),
                                               deal.get("modified_at"))) if t is not None), moment)
        if closed > created:
            rows.append({"opportunity_id": deal["opportunity_id"], "changed_at": created, **state, "stage": start,
                         "forecast_category": None})
        rows.append({"opportunity_id": deal["opportunity_id"], "changed_at": max(closed, created), **state})
    return pd.DataFrame(rows, columns=HISTORY_COLUMNS)


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _stamp(value: Any) -> pd.Timestamp | None:
    if _missing(value):
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_convert(None) if stamp.tzinfo else stamp


def _plain(value: Any) -> Any:
    return None if _missing(value) else value


def deletions(current: pd.DataFrame, seen: set[str], pipelines: set[str]) -> list[str]:
    """Deals of the export's pipelines the warehouse holds (not deleted yet) and the export does not."""
    live = current[current["deleted_at"].isna() & current["pipeline"].isin(pipelines)]
    return sorted(str(i) for i in live["opportunity_id"] if str(i) not in seen)


def snapshot_history(snapshots: list[Snapshot], current: pd.DataFrame, history: pd.DataFrame,
                     own_history: set[str], first_open: dict[str, str],
                     format_name: str) -> tuple[pd.DataFrame, SnapshotOutcome]:
    """History rows a full import adds, and the deals it marks deleted.

    `current`: the warehouse's opportunities of this source (deleted ones too), before the import;
    `history`: opportunity_id and source of every history row the warehouse holds; `own_history`:
    deals whose history this import carries itself.
    """
    outcome = SnapshotOutcome()
    incoming = pd.concat([s.rows for s in snapshots], ignore_index=True).drop_duplicates("opportunity_id",
                                                                                         keep="last")
    seen = set().union(*(s.seen for s in snapshots))
    outcome.deleted = deletions(current, seen, set(incoming["pipeline"].dropna()))
    outcome.undeleted = int((current["deleted_at"].notna() & current["opportunity_id"].isin(seen)).sum())
    from_crm = set(history.loc[history["source"] != snapshot_source(format_name), "opportunity_id"]) | own_history
    with_history = set(history["opportunity_id"])
    parts = []
    for snapshot in snapshots:
        mine = snapshot.rows[~snapshot.rows["opportunity_id"].isin(from_crm)]
        known = current[current["opportunity_id"].isin(set(mine["opportunity_id"]))]
        new = mine[~mine["opportunity_id"].isin(set(current["opportunity_id"]))]
        unseen = known[~known["opportunity_id"].isin(with_history)]
        starts = first_states(pd.concat([unseen, new], ignore_index=True), first_open, snapshot.moment)
        moved = changes(known, mine, snapshot.moment)
        outcome.first_states += len(starts)
        outcome.history += len(moved)
        parts += [starts, moved]
    rows = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) \
        else pd.DataFrame(columns=HISTORY_COLUMNS)
    rows = rows.drop_duplicates(["opportunity_id", "changed_at"], keep="last")
    return rows.assign(source=snapshot_source(format_name)), outcome
