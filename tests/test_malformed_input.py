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


MAPPING = """\
files:
  - file: deals.csv
    table: opportunities
    columns:
      opportunity_id: Id
      stage: Stage
      amount: Amount
      created_at: Created
      closed_at: Closed
"""
HEADER = b"Id,Stage,Amount,Created,Closed\n"
raw_cells = st.one_of(st.binary(max_size=8), st.sampled_from([b"", b'"', b",", b"\r\n", b"\xff\xfe", b"2024-01-01",
                                                              b"Closed Won", b"12.5", b"\x00"]))
raw_rows = st.lists(st.lists(raw_cells, min_size=0, max_size=7), min_size=0, max_size=12)


@settings(max_examples=40, deadline=None)
@given(rows=raw_rows)
def test_malformed_files_never_crash_and_never_lose_a_row(rows: list[list[bytes]]) -> None:
    """Whatever bytes a CSV holds: a one-line InputError, or an import where loaded + quarantined = read."""
    from cadence.errors import CadenceError

    ws = _workspace()
    folder = Path(tempfile.mkdtemp())
    (folder / "deals.csv").write_bytes(HEADER + b"".join(b",".join(row) + b"\n" for row in rows))
    (folder / "mapping.yml").write_text(MAPPING)
    try:
        prepared = ws.ingest(folder / "deals.csv", "csv", mapping=folder / "mapping.yml")
    except CadenceError as error:
        assert "\n" not in error.one_line() and "deals.csv" in error.one_line()
        return
    assert prepared.loaded + prepared.quarantined == prepared.read
