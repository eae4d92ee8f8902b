"""Workspaces wired to a CRM stand-in, and the warehouse's synced tables as plain rows to compare."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from cadence.workspace import Workspace, init_workspace, open_workspace

SYNCED = {"opportunities": "opportunity_id", "opportunity_history": "opportunity_id", "accounts": "account_id",
          "people": "person_id", "activities": "activity_id", "leads": "lead_id", "stages": "stage",
          "exchange_rates": "currency"}


def workspace_with(root: Path, sources_yaml: str, *, currency: str = "USD") -> Workspace:
    """A fresh workspace whose cadence.yml has `sources_yaml` (the block's lines under `sources:`)."""
    init_workspace(root)
    config = root / "cadence.yml"
    text = config.read_text(encoding="utf-8").replace("sources: []", "sources:\n" + sources_yaml, 1)
    text = text.replace("currency: USD", f"currency: {currency}", 1)
    config.write_text(text, encoding="utf-8")
    return open_workspace(root)


def table_rows(ws: Workspace, name: str, source: str) -> pd.DataFrame:
    """A synced table's rows from `source`, sorted, without bookkeeping columns, as text (to compare)."""
    frame = ws.warehouse.read_frame(f'SELECT * FROM "{name}" WHERE source = \'{source}\'')
    frame = frame.drop(columns=[c for c in ("source",) if c in frame])
    frame = frame.astype("object").where(frame.notna(), None).map(lambda v: None if v is None else str(v))
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


def snapshot(ws: Workspace, source: str) -> dict[str, Any]:
    """Every synced table's rows from `source`."""
    return {name: table_rows(ws, name, source).to_dict("records") for name in SYNCED}


def whole_warehouse(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the sync log, for 'nothing changed' checks."""
    out = {}
    for name in sorted(ws.warehouse.table_names()):
        if name.startswith("_") or name == "sync_runs":
            continue
        out[name] = sorted(map(repr, ws.warehouse.query(f'SELECT * FROM "{name}"')))
    return out
