"""Workspaces wired to a CRM stand-in, and the warehouse's synced tables as plain rows to compare."""

from __future__ import annotations

import atexit
import shutil
import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from cadence.workspace import Workspace, init_workspace, open_workspace

SYNCED = {"opportunities": "opportunity_id", "opportunity_history": "opportunity_id", "accounts": "account_id",
          "people": "person_id", "activities": "activity_id", "leads": "lead_id", "stages": "stage",
          "exchange_rates": "currency"}


_TEMPLATE: list[Path] = []  # an empty DuckDB workspace, made once and copied (creating one costs ~0.4 s)


def _fresh(root: Path, warehouse: str | None) -> None:
    if warehouse is not None:
        init_workspace(root, warehouse=warehouse)
        return
    if not _TEMPLATE:
        template = Path(tempfile.mkdtemp(prefix="cadence-sync-template-")) / "ws"
        init_workspace(template)
        atexit.register(shutil.rmtree, template.parent, True)
        _TEMPLATE.append(template)
    shutil.copytree(_TEMPLATE[0], root, dirs_exist_ok=True)


def workspace_with(root: Path, sources_yaml: str, *, currency: str = "USD", warehouse: str | None = None
                   ) -> Workspace:
    """A fresh workspace whose cadence.yml has `sources_yaml` (the block's lines under `sources:`)."""
    _fresh(root, warehouse)
    config = root / "cadence.yml"
    text = config.read_text(encoding="utf-8").replace("sources: []", "sources:\n" + sources_yaml, 1)
    text = text.replace("currency: USD", f"currency: {currency}", 1)
    config.write_text(text, encoding="utf-8")
    return open_workspace(root)


def table_rows(ws: Workspace, name: str, source: str) -> pd.DataFrame:
    """A synced table's rows from `source`, sorted, without bookkeeping columns, as text (to compare)."""
    frame = ws.warehouse.read_frame(f'SELECT * FROM "{name}" WHERE source = \'{source}\'')
    frame = frame.drop(columns=[c for c in ("source",) if c in frame])
    frame = frame.sort_values(list(frame.columns), key=lambda c: c.map(str)).reset_index(drop=True)
    return pd.DataFrame([[_plain(v) for v in row] for row in frame.itertuples(index=False)],
                        columns=frame.columns, dtype="object")


def _plain(value: Any) -> Any:
    """One spelling of a value whichever engine stored it (Decimal or float, a timestamp with or without zone)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return None
    if isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float, Decimal)) or hasattr(value, "__float__"):
        return round(float(value), 6)
    if hasattr(value, "isoformat"):
        stamp = pd.Timestamp(value)
        return (stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo else stamp).isoformat()
    return str(value)


def snapshot(ws: Workspace, source: str) -> dict[str, Any]:
    """Every synced table's rows from `source`."""
    out = {}
    for name in SYNCED:
        frame = table_rows(ws, name, source)
        rows = [dict(zip(frame.columns, values, strict=True)) for values in frame.itertuples(index=False)]
        out[name] = sorted(rows, key=repr)
    return out


def whole_warehouse(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the sync log, for 'nothing changed' checks."""
    out = {}
    for name in sorted(ws.warehouse.table_names()):
        if name.startswith("_") or name == "sync_runs":
            continue
        out[name] = sorted(map(repr, ws.warehouse.query(f'SELECT * FROM "{name}"')))
    return out
