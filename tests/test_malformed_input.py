"""Whatever the cells hold, nothing is lost and nothing crashes: loaded + quarantined = read."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import cadence
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.workspace import Workspace, init_workspace

cells = st.one_of(
    st.none(),
    st.just(""),
    st.text(max_size=12),
    st.integers(-10**6, 10**9).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.dates().map(str),
    st.sampled_from(["Closed Won", "Demo", "closed won", " Demo ", "true", "FALSE", "2024-13-45", "1e400"]),
)
COLUMNS = ["opportunity_id", "stage", "amount", "created_at", "closed_at", "is_won", "kind", "discount_pct"]
rows = st.lists(st.fixed_dictionaries({c: cells for c in COLUMNS}), min_size=1, max_size=25)

_WS: dict[str, Workspace] = {}


def _workspace() -> Workspace:
    """One workspace for all examples: hypothesis runs many, and each must add to the same warehouse."""
    if "ws" not in _WS:
        _WS["ws"] = cadence.open(init_workspace(Path(tempfile.mkdtemp()) / "ws"))
    return _WS["ws"]


@settings(max_examples=60, deadline=None)
@given(records=rows)
def test_random_rows_reconcile_and_load(records: list[dict[str, object]]) -> None:
    ws = _workspace()
    frame = pd.DataFrame(records, columns=COLUMNS)
    frame["_line"] = range(2, len(frame) + 2)
    batch = ImportBatch("csv", [SourceFile("random.csv", len(frame))],
                        [CanonicalFrame("opportunities", frame, "random.csv")])
    prepared = prepare(batch, ws.stages())
    assert prepared.loaded + prepared.quarantined == prepared.read == len(records)
    ws.load(prepared)
    stored = ws.table("imports").to_pandas()
    mine = stored[stored["path"] == "random.csv"].iloc[0]
    assert (mine["loaded"], mine["quarantined"]) == (prepared.loaded, prepared.quarantined)
    quarantine = ws.table("quarantine").to_pandas()
    assert quarantine["reason"].notna().all() and (quarantine["line"] >= 2).all()
