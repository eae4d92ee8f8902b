"""Writing a full export (`--full`): deleted deals marked, history from successive exports.

The rules are in `cadence.ingest.snapshots`.
"""

from __future__ import annotations

import pandas as pd

from cadence.ingest.prepare import PreparedImport
from cadence.ingest.snapshots import SnapshotOutcome, snapshot_history
from cadence.schema.ddl import quote
from cadence.schema.tables import table_named
from cadence.schema.validate import LINE, validate_rows
from cadence.store.warehouse import Warehouse


def snapshot_state(warehouse: Warehouse, format_name: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Before the import: the warehouse's deals of this source (deleted too), and who has history from where."""
    opps = warehouse.table("opportunities")
    current = opps.filter(opps.source == format_name).to_pandas()
    history = warehouse.table("opportunity_history").select("opportunity_id", "source").distinct().to_pandas()
    return current, history


def write_snapshots(warehouse: Warehouse, prepared: PreparedImport, current: pd.DataFrame,
                    history: pd.DataFrame) -> SnapshotOutcome:
    """After the import's rows: add the history its exports imply and mark the deals they no longer hold."""
    own = {str(i) for table, frame, _ in prepared.upserts if table == "opportunity_history"
           for i in frame["opportunity_id"].dropna()}
    rows, outcome = snapshot_history(prepared.snapshots, current, history, own, first_open_stages(warehouse),
                                     prepared.format)
    if len(rows):
        checked = validate_rows(table_named("opportunity_history"), rows.assign(**{LINE: range(2, len(rows) + 2)}))
        warehouse.upsert(table_named("opportunity_history"), checked.clean)
    if outcome.deleted:
        moment = max(s.moment for s in prepared.snapshots).to_pydatetime()
        mark_deleted(warehouse, outcome.deleted, moment)
    return outcome


def first_open_stages(warehouse: Warehouse) -> dict[str, str]:
    """Each pipeline's first open stage (read on the writing connection: this import's stages are not committed)."""
    rows = warehouse.query("SELECT pipeline, stage FROM stages WHERE NOT is_won AND NOT is_lost "
                           "ORDER BY pipeline, position")
    first: dict[str, str] = {}
    for pipeline, stage in rows:
        first.setdefault(str(pipeline), str(stage))
    return first


def mark_deleted(warehouse: Warehouse, ids: list[str], moment: object) -> None:
    for start in range(0, len(ids), 1000):
        chunk = ids[start:start + 1000]
        marks = ", ".join(f"${n}" for n in range(2, len(chunk) + 2))
        warehouse.execute(f"UPDATE {quote('opportunities')} SET {quote('deleted_at')} = $1 "
                          f"WHERE {quote('opportunity_id')} IN ({marks})", (moment, *chunk))
