"""A large file is imported a chunk at a time, and nothing a user can see changes because of it.

The same export is imported whole (one chunk) and in chunks of a few rows; every table, the quarantine and the
reconciliation must come out the same, on DuckDB and on PostgreSQL. The duplicates and broken lines expected
are found a second way, with the csv module, from how the file was written. An import that fails in its
fourth chunk must leave every table as it was before it began.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

import cadence
from cadence.ingest.prepare import Preparer
from cadence.schema import key_ledger
from cadence.schema.tables import TABLES
from cadence.workspace import Workspace, init_workspace

HEADER = ["Activity", "Rep", "Account", "Deal", "Type", "When"]
KINDS = ["call", "email", "meeting", "demo"]
SMALL = 7  # rows per chunk: the file below makes about a dozen chunks


def export_lines(version: int = 1) -> list[str]:
    """An activity export with, among 90 good records, each kind of problem a chunk boundary could split."""
    rows: list[str] = [",".join(HEADER)]
    for i in range(1, 91):
        fields = [f"ACT{i:04d}", f"P{i % 5}", f"A{i % 11:03d}", f"D{i}" if i % 3 else "", KINDS[i % 4],
                  f"2024-0{1 + i % 9}-1{i % 10} 09:{i % 60:02d}:00"]
        if version == 2:
            fields[4] = "note"
        if i == 9:
            fields[4] = "lunch"  # not a kind: refused by validation
        if i == 17:
            fields[5] = "yesterday"  # not a time
        if i in (31, 64):
            fields[0] = "ACT0004"  # the key of line 5, many chunks earlier
        if i == 45:
            fields[0] = "ACT0044"  # the key of the line before: a duplicate in the same chunk, or across two
        if i == 23:
            fields[2] = '"Acme, Inc\nEMEA"'  # a record over two lines, quoted
        rows.append(",".join(fields))
        if i == 12:
            rows.append("ACT9999,P1,A001,,call,2024-01-01 09:00:00,extra")  # a field too many: broken
        if i == 50:
            rows.append("ACT9998,P1,A001")  # fields missing: broken
        if i == 60:
            rows.append("")  # a blank line: an empty record, refused as missing its values
        if i in (70, 71):
            rows.append("just one value")  # a lone value before more records: broken
    rows += ["", "Confidential - internal use only"]  # a report's footer: records for the importer to judge
    return rows


def write_export(folder: Path, version: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "activities.csv").write_text("\n".join(export_lines(version)) + "\n", encoding="utf-8")
    mapping = {"files": [
        {"file": "activities.csv", "table": "activities",
         "columns": {"activity_id": "Activity", "person_id": "Rep", "account_id": "Account",
                     "opportunity_id": "Deal", "kind": "Type", "occurred_at": "When"}},
        {"file": "activities.csv", "table": "accounts",  # derived: one account per activity, repeated keys refused
         "columns": {"account_id": "Account", "name": "Account"}},
    ]}
    (folder.parent / f"mapping-{folder.name}.yml").write_text(yaml.safe_dump(mapping), encoding="utf-8")
    return folder


def mapping_of(folder: Path) -> Path:
    return folder.parent / f"mapping-{folder.name}.yml"


def snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    """Every table, sorted, the import times left out (they differ by when the import ran)."""
    out = {}
    for table in TABLES:
        frame = ws.warehouse.read_frame(f'SELECT * FROM "{table.name}"')
        frame = frame.drop(columns=[c for c in ("quarantined_at", "imported_at") if c in frame])
        frame = frame.astype("object").where(frame.notna(), None).astype(str)
        out[table.name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return out


def assert_same(left: dict[str, pd.DataFrame], right: dict[str, pd.DataFrame]) -> None:
    for name in left:
        pd.testing.assert_frame_equal(left[name], right[name], obj=name)


class Counting:
    """Counts the chunks an import prepares, and can make one of them fail."""

    def __init__(self, fail_at: int | None = None):
        self.calls, self.fail_at = 0, fail_at
        self.original = Preparer.add

    def __call__(self, preparer: Preparer, batch: object) -> object:
        self.calls += 1
        if self.calls == self.fail_at:
            raise RuntimeError("the disk went away")
        return self.original(preparer, batch)  # type: ignore[arg-type]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request: pytest.FixtureRequest) -> str | None:
    return request.getfixturevalue("postgres_url") if request.param == "postgres" else None


def open_ws(root: Path, warehouse: str | None = None) -> Workspace:
    return cadence.open(init_workspace(root, company="Chunk Co", warehouse=warehouse))


@pytest.fixture
def whole(tmp_path: Path) -> Iterator[tuple[Workspace, object]]:
    """The export imported in one chunk, on DuckDB."""
    folder = write_export(tmp_path / "export")
    ws = open_ws(tmp_path / "whole")
    prepared = ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=1_000_000)
    yield ws, prepared
    ws.close()


def test_a_file_imported_in_chunks_loads_and_quarantines_what_it_does_whole(
        whole: tuple[Workspace, object], tmp_path: Path, warehouse_url: str | None,
        monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "export"
    counting = Counting()
    monkeypatch.setattr(Preparer, "add", lambda self, batch: counting(self, batch))
    ws = open_ws(tmp_path / "chunked", warehouse_url)
    try:
        prepared = ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL)
        assert counting.calls >= 10  # it was read in chunks
        whole_ws, whole_prepared = whole
        assert prepared.summary() == whole_prepared.summary()  # type: ignore[attr-defined]
        assert_same(snapshot(ws), snapshot(whole_ws))
    finally:
        ws.close()


@pytest.mark.slow
def test_wherever_the_chunks_end_the_warehouse_holds_the_same(whole: tuple[Workspace, object],
                                                             tmp_path: Path) -> None:
    """Every chunk size from 2 to 12 rows: a lone value, a blank line or a record over two lines falls at the
    end of some chunk, and is judged as in the whole file."""
    folder = tmp_path / "export"
    whole_ws, whole_prepared = whole
    expected = snapshot(whole_ws)
    with open_ws(tmp_path / "ws") as ws:
        for rows in range(2, 13):
            prepared = ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=rows)
            assert prepared.summary() == whole_prepared.summary(), rows  # type: ignore[attr-defined]
            assert_same(snapshot(ws), expected)


def test_a_file_with_windows_line_ends_reads_in_chunks_as_it_reads_whole(tmp_path: Path) -> None:
    """Each chunk's first line is counted from the line ends before it: \\r\\n counts once, a lone \\r inside a
    quoted value counts as its own line end, as when the file is read whole."""
    folder = write_export(tmp_path / "export")
    lines = export_lines()
    fields = lines[40].split(",")
    lines[40] = ",".join([*fields[:2], f'"{fields[2]}\rEMEA"', *fields[3:]])  # a lone \r in a quoted value
    (folder / "activities.csv").write_bytes(("\r\n".join(lines) + "\r\n").encode("utf-8"))
    with open_ws(tmp_path / "whole") as whole_ws, open_ws(tmp_path / "chunked") as chunked_ws:
        whole = whole_ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=1_000_000)
        chunked = chunked_ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL)
        assert chunked.summary() == whole.summary()
        assert_same(snapshot(chunked_ws), snapshot(whole_ws))
        refused = "SELECT line, target_table, column_name, value FROM quarantine ORDER BY ALL"
        pd.testing.assert_frame_equal(chunked_ws.warehouse.read_frame(refused), whole_ws.warehouse.read_frame(refused))


@pytest.mark.parametrize("keys_held", ["in memory", "in files"])
def test_the_chunks_find_every_duplicate_and_broken_line_the_csv_module_finds(
        tmp_path: Path, keys_held: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Also with the keys seen mostly in files (past 10 keys here, past two million by default), as in an
    import of tens of millions of activities."""
    written: list[int] = []
    if keys_held == "in files":
        monkeypatch.setattr(key_ledger, "IN_MEMORY_AT_MOST", 10)
        monkeypatch.setattr(key_ledger, "BLOCK", 8)
        original = key_ledger._WrittenRun.__init__

        def counted(run: key_ledger._WrittenRun, *args: object, **kwargs: object) -> None:
            original(run, *args, **kwargs)  # type: ignore[arg-type]
            written.append(run.size)

        monkeypatch.setattr(key_ledger._WrittenRun, "__init__", counted)
    folder = write_export(tmp_path / "export")
    with open_ws(tmp_path / "ws") as ws:
        prepared = ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL)
        quarantine = ws.warehouse.read_frame(
            "SELECT line, column_name, reason FROM quarantine WHERE target_table = 'activities'")
    # the records and the line each starts on, as the csv module reads them
    reader = csv.reader(io.StringIO((folder / "activities.csv").read_text(encoding="utf-8"), newline=""))
    next(reader)
    starts: list[tuple[int, list[str]]] = []
    line = reader.line_num + 1
    for record in reader:
        starts.append((line, record))
        line = reader.line_num + 1
    first: dict[str, int] = {}
    duplicates = {}
    for start, record in starts:
        if len(record) != len(HEADER) or not record[0]:
            continue
        if record[0] in first:
            duplicates[start] = f"duplicate activity_id: first seen on line {first[record[0]]}"
        first.setdefault(record[0], start)
    found = {int(r.line): r.reason for r in quarantine.itertuples() if str(r.reason).startswith("duplicate")}
    assert found == duplicates and len(found) == 3
    broken = {start for start, record in starts if 1 < len(record) != len(HEADER) or record == ["just one value"]}
    assert broken <= set(quarantine["line"].astype(int))
    assert prepared.read == len(starts) == prepared.loaded + prepared.quarantined
    assert (len(written) >= 5) == (keys_held == "in files")
    assert not list((tmp_path / "ws").glob("*cadence-keys*"))  # the files are gone with the import


def test_an_import_failing_midway_leaves_every_table_as_it_was(tmp_path: Path, warehouse_url: str | None,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ws = open_ws(tmp_path / "ws", warehouse_url)
    try:
        first = write_export(tmp_path / "v1")
        ws.ingest(first, "csv", mapping=mapping_of(first), chunk_rows=SMALL)
        before = snapshot(ws)
        second = write_export(tmp_path / "v2", version=2)
        failing = Counting(fail_at=4)
        monkeypatch.setattr(Preparer, "add", lambda self, batch: failing(self, batch))
        with pytest.raises(RuntimeError, match="disk went away"):
            ws.ingest(second, "csv", mapping=mapping_of(second), chunk_rows=SMALL)
        assert failing.calls == 4  # three chunks were written before the failure
        assert_same(snapshot(ws), before)
    finally:
        ws.close()


def test_importing_the_same_file_again_in_chunks_changes_nothing(tmp_path: Path) -> None:
    folder = write_export(tmp_path / "export")
    with open_ws(tmp_path / "ws") as ws:
        ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL)
        once = snapshot(ws)
        again = ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL // 2)
        assert_same(snapshot(ws), once)
        logged = ws.warehouse.read_frame("SELECT read, loaded, quarantined FROM imports")
    assert logged.values.tolist() == [[again.read, again.loaded, again.quarantined]]


def test_the_chunk_size_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_export(tmp_path / "export")
    counting = Counting()
    monkeypatch.setattr(Preparer, "add", lambda self, batch: counting(self, batch))
    monkeypatch.setenv("CADENCE_IMPORT_CHUNK_ROWS", "10")
    with open_ws(tmp_path / "ws") as ws:
        ws.ingest(folder, "csv", mapping=mapping_of(folder))
    records = len(export_lines()) - 2  # the header, and line 23's record over two lines
    assert counting.calls == pytest.approx(records / 10, abs=3)


@pytest.mark.spark
@pytest.mark.slow
def test_on_spark_a_chunked_import_is_all_or_nothing_and_loads_what_duckdb_loads_whole(
        whole: tuple[Workspace, object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.spark_env import require_spark

    require_spark()
    folder = tmp_path / "export"
    ws = open_ws(tmp_path / "spark", "spark://local")
    try:
        before = snapshot(ws)
        failing = Counting(fail_at=3)
        monkeypatch.setattr(Preparer, "add", lambda self, batch: failing(self, batch))
        with pytest.raises(RuntimeError, match="disk went away"):
            ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL * 3)
        assert_same(snapshot(ws), before)
        monkeypatch.undo()
        prepared = ws.ingest(folder, "csv", mapping=mapping_of(folder), chunk_rows=SMALL * 3)
        whole_ws, whole_prepared = whole
        assert prepared.summary() == whole_prepared.summary()  # type: ignore[attr-defined]
        assert_same(snapshot(ws), snapshot(whole_ws))
    finally:
        ws.close()
