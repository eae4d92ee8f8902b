"""Files mapped by a mapping file: the shipped examples on the real Olist and MRR data, the same
mapping through Excel and Parquet, and every way a mapping or a file can be wrong."""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.errors import CadenceError, InputError, UnknownNameError
from cadence.ingest.generic import MappingError, load_mapping
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset

REPO = Path(__file__).resolve().parents[1]
OLIST_MAPPING = REPO / "examples" / "olist-funnel.mapping.yml"
MRR_MAPPING = REPO / "examples" / "mrr-subscriptions.mapping.yml"
LEADS_FILE = "olist_marketing_qualified_leads_dataset.csv"
DEALS_FILE = "olist_closed_deals_dataset.csv"


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.sort_values(list(frame.columns)).reset_index(drop=True)


# -- the real Olist funnel -------------------------------------------------------------------------

@pytest.fixture(scope="module")
def olist(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[tuple[Workspace, list[object]]]:
    """Olist imported twice with the shipped mapping; the prepared imports of both runs."""
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("olist") / "ws"))
    folder = dataset("olist-marketing-funnel")
    first = ws.ingest(folder, "csv", mapping=OLIST_MAPPING)
    tables = {name: sorted_frame(ws.table(name).to_pandas()) for name in ("leads", "opportunities")}
    second = ws.ingest(folder, "csv", mapping=OLIST_MAPPING)
    yield ws, [first, second, tables]
    ws.close()


@pytest.fixture(scope="module")
def olist_rows(dataset: Dataset) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    folder = dataset("olist-marketing-funnel")
    return rows_of(folder / LEADS_FILE), rows_of(folder / DEALS_FILE)


def _won_before_contact(olist_rows: tuple[list[dict[str, str]], list[dict[str, str]]]) -> set[str]:
    leads, deals = olist_rows
    contact = {r["mql_id"]: r["first_contact_date"] for r in leads}
    return {d["mql_id"] for d in deals if d["won_date"][:10] < contact[d["mql_id"]]}


def test_olist_reconciles_and_loses_nothing(olist: tuple[Workspace, list[object]],
                                            olist_rows: tuple[list[dict[str, str]], list[dict[str, str]]]) -> None:
    ws, (first, *_rest) = olist
    leads, deals = olist_rows
    impossible = _won_before_contact(olist_rows)  # a deal won two days before its lead first made contact
    assert len(impossible) == 1
    summary = first.summary()  # type: ignore[attr-defined]
    by_file = {Path(f["path"]).name: (f["read"], f["loaded"], f["quarantined"]) for f in summary["files"]}
    assert by_file == {LEADS_FILE: (len(leads), len(leads) - 1, 1), DEALS_FILE: (len(deals), len(deals) - 1, 1)}
    assert (len(leads), len(deals)) == (8000, 842)
    assert summary["skipped"] == []
    problems = ws.table("quarantine").to_pandas()
    assert set(problems["reason"]) == {"closed_at is before created_at", "converted_at is before created_at"}


def test_olist_leads_and_conversions_match_an_independent_count(
        olist: tuple[Workspace, list[object]], olist_rows: tuple[list[dict[str, str]], list[dict[str, str]]]) -> None:
    ws, _ = olist
    leads, deals = olist_rows
    impossible = _won_before_contact(olist_rows)
    loaded = ws.table("leads").to_pandas().set_index("lead_id")
    assert loaded["channel"].isna().sum() == sum(not r["origin"] for r in leads) == 60
    converted = loaded[loaded["status"] == "converted"]
    assert set(converted.index) == {d["mql_id"] for d in deals} - impossible
    assert (converted["opportunity_id"] == converted.index).all()
    assert (loaded["status"] == "qualified").sum() == len(leads) - len(deals)
    won = {d["mql_id"]: d["won_date"] for d in deals}
    assert all(str(at) == won[lead] for lead, at in converted["converted_at"].items())


def test_olist_deals_are_won_with_their_lead_dates_and_no_invented_amount(
        olist: tuple[Workspace, list[object]], olist_rows: tuple[list[dict[str, str]], list[dict[str, str]]]) -> None:
    ws, _ = olist
    leads, deals = olist_rows
    contact = {r["mql_id"]: r for r in leads}
    loaded = ws.table("opportunities").to_pandas().set_index("opportunity_id")
    assert len(loaded) == len(deals) - 1
    assert loaded["is_won"].all() and set(loaded["stage"]) == {"Closed Won"} and set(loaded["kind"]) == {"new"}
    assert loaded["amount"].isna().all()
    for deal in deals:
        if deal["mql_id"] in loaded.index:
            row = loaded.loc[deal["mql_id"]]
            assert row["account_id"] == deal["seller_id"] and row["owner_id"] == deal["sr_id"]
            assert str(row["created_at"].date()) == contact[deal["mql_id"]]["first_contact_date"]
            source = row["lead_source"] if isinstance(row["lead_source"], str) else ""
            assert source == contact[deal["mql_id"]]["origin"]


def test_olist_second_run_changes_nothing(olist: tuple[Workspace, list[object]]) -> None:
    ws, (first, second, before) = olist
    assert second.summary()["files"] == first.summary()["files"]  # type: ignore[attr-defined]
    for name, frame in before.items():  # type: ignore[attr-defined]
        pd.testing.assert_frame_equal(frame, sorted_frame(ws.table(name).to_pandas()), obj=name)
    assert ws.warehouse.count("quarantine") == 2


def test_olist_from_the_command_line_prints_the_reconciliation(tmp_path: Path, dataset: Dataset) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    root = init_workspace(tmp_path / "ws")
    folder = dataset("olist-marketing-funnel")
    result = subprocess.run([sys.executable, "-m", "cadence.cli", "-w", str(root), "ingest", str(folder),
                             "--from", "csv", "--mapping", str(OLIST_MAPPING)],
                            capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "read 8,842 = loaded 8,840 + quarantined 2" in " ".join(result.stdout.split())


# -- the real MRR periods, and the same mapping through Excel and Parquet --------------------------

def test_mrr_periods_keep_their_exclusive_end(workspace: Workspace, dataset: Dataset) -> None:
    source = rows_of(dataset("mrr-subscription-periods/subscription_periods.csv"))
    prepared = workspace.ingest(dataset("mrr-subscription-periods"), "csv", mapping=MRR_MAPPING)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (len(source), len(source), 0) == (121, 121, 0)
    subs = workspace.table("subscriptions").to_pandas().set_index("subscription_id")
    assert Decimal(str(subs["mrr"].sum())) == sum(Decimal(r["monthly_amount"]) for r in source)
    for row in source:
        sub = subs.loc[row["subscription_id"]]
        assert (str(sub["started_at"].date()), str(sub["ended_at"].date())) == (row["start_date"], row["end_date"])
        assert sub["account_id"] == row["customer_id"]
    assert set(subs["currency"]) == {workspace.config.currency}


def _mrr_frame(dataset: Dataset) -> pd.DataFrame:
    frame = pd.read_csv(dataset("mrr-subscription-periods/subscription_periods.csv"))
    for column in ("start_date", "end_date"):
        frame[column] = pd.to_datetime(frame[column])
    return frame


@pytest.mark.parametrize("format_name", ["xlsx", "parquet"])
def test_excel_and_parquet_load_the_same_rows_through_the_same_mapping(
        format_name: str, workspace: Workspace, tmp_path: Path, dataset: Dataset) -> None:
    frame = _mrr_frame(dataset)
    path = tmp_path / f"periods.{format_name}"
    if format_name == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.append(list(frame.columns))
        for row in frame.itertuples(index=False):
            sheet.append([v.to_pydatetime() if isinstance(v, pd.Timestamp) else int(v) for v in row])
        book.save(path)
    else:
        import pyarrow as pa
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), path)
    prepared = workspace.ingest(path, format_name, mapping=MRR_MAPPING)  # the only entry applies to any one file
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (121, 121, 0)
    from_file = workspace.table("subscriptions").to_pandas().drop(columns="source")
    workspace.ingest(dataset("mrr-subscription-periods"), "csv", mapping=MRR_MAPPING)
    from_csv = workspace.table("subscriptions").to_pandas().drop(columns="source")
    pd.testing.assert_frame_equal(sorted_frame(from_file), sorted_frame(from_csv))


# -- mapping features ------------------------------------------------------------------------------

DEALS_CSV = """Deal,Stage,Value,Opened,Closed,Lead
D1,Won,"1,200.50",31/01/2024,15/02/2024,L1
D2,Lost,300,01/02/2024,03/02/2024,L2
D3,Talking,,05/02/2024,,L9
"""
LEADS_CSV = "Id,Origin\nL1,webinar\nL2,\nL1,duplicate row: the first match wins\n"
DEALS_MAPPING = """files:
  - file: deals.csv
    table: opportunities
    columns:
      opportunity_id: Deal
      stage: Stage
      amount: Value
      created_at: Opened
      closed_at: Closed
    values:
      stage: {Won: Closed Won, Lost: Closed Lost, Talking: Discovery}
    dates:
      closed_at: "%d/%m/%Y"
    dayfirst: true
    lookups:
      lead_source: {file: leads.csv, key: Lead, on: Id, column: Origin, missing: unknown}
      loss_reason: {file: leads.csv, key: Lead, on: Id, found: had a lead}
"""


def test_values_dates_lookups_and_skipped_files(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "deals.csv", DEALS_CSV)
    write(folder / "leads.csv", LEADS_CSV)
    write(folder / "notes.csv", "a\n1\n")
    mapping = write(tmp_path / "deals.yml", DEALS_MAPPING)
    prepared = workspace.ingest(folder, "csv", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 3, 0)
    assert dict(prepared.skipped) == {str(folder / "leads.csv"): "only read for lookups",
                                      str(folder / "notes.csv"): "no entry of deals.yml names it"}
    deals = workspace.table("opportunities").to_pandas().set_index("opportunity_id")
    assert list(deals["stage"]) == ["Closed Won", "Closed Lost", "Discovery"]
    assert list(deals["is_won"]) == [True, False, False] and list(deals["is_closed"]) == [True, True, False]
    assert [str(d.date()) for d in deals["created_at"]] == ["2024-01-31", "2024-02-01", "2024-02-05"]
    assert str(deals.loc["D2", "closed_at"].date()) == "2024-02-03"  # 03/02 read day first, by the format
    assert float(deals.loc["D1", "amount"]) == 1200.50 and deals.loc["D1", "currency"] == "USD"
    assert list(deals["lead_source"].fillna("")) == ["webinar", "", "unknown"]
    assert list(deals["loss_reason"].fillna("")) == ["had a lead", "had a lead", ""]


def test_bad_date_and_amount_are_quarantined_with_file_line_column_value_and_reason(
        workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "export"
    folder.mkdir()
    write(folder / "deals.csv", DEALS_CSV + "D4,Won,12 euros,06/02/2024,2024-02-07,L1\nD5,Won,5,31/02/2024,,L1\n")
    write(folder / "leads.csv", LEADS_CSV)
    prepared = workspace.ingest(folder, "csv", mapping=write(tmp_path / "deals.yml", DEALS_MAPPING))
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (5, 3, 2)
    problems = workspace.table("quarantine").to_pandas().sort_values(["line", "column_name"])
    found = {(row.line, row.column_name, row.value, row.reason) for row in problems.itertuples()}
    assert {(5, "amount", "12 euros", "not a valid money"),
            (5, "closed_at", "2024-02-07", "not a date in the format '%d/%m/%Y' the mapping gives"),
            (6, "created_at", "31/02/2024", "not a date (read day first, as the mapping says)")} <= found
    assert set(problems["file"]) == {str(folder / "deals.csv")}


# -- wrong files and wrong mappings ----------------------------------------------------------------

def test_a_wrong_encoding_given_is_one_line_naming_the_file_and_line(workspace: Workspace, tmp_path: Path) -> None:
    """Left out, the encoding is detected (cp1252); given wrongly, the import stops naming file and line."""
    data = tmp_path / "subscription_periods.csv"
    data.write_bytes("subscription_id,customer_id,start_date,end_date,monthly_amount\n1,Zoë,2024-01-01,,5\n"
                     "2,Zoë,2024-01-01,,5\n".encode("latin-1"))
    with pytest.raises(InputError) as caught:
        workspace.ingest(data, "csv", mapping=MRR_MAPPING, encoding="utf-8")
    message = str(caught.value)
    assert "\n" not in message and str(data) in message and "line 2" in message and "--encoding" in message
    prepared = workspace.ingest(data, "csv", mapping=MRR_MAPPING)
    assert (prepared.loaded, prepared.encoding) == (2, "cp1252")


def test_a_missing_source_column_names_the_mapping_the_file_and_the_column(
        workspace: Workspace, tmp_path: Path) -> None:
    data = write(tmp_path / "subscription_periods.csv", "subscription_id,customer_id,start,end_date,amount\n")
    with pytest.raises(MappingError) as caught:
        workspace.ingest(data, "csv", mapping=MRR_MAPPING)
    message = str(caught.value)
    assert str(MRR_MAPPING) in message and str(data) in message
    assert "'start_date'" in message and "'monthly_amount'" in message and "line 18" in message
    assert len(caught.value.issues) == 2


def test_unknown_table_and_columns_are_all_reported_with_lines_and_suggestions(tmp_path: Path) -> None:
    mapping = write(tmp_path / "bad.yml", """files:
  - file: leads.csv
    table: lead
    columns: {lead_id: Id}
  - file: deals.csv
    table: opportunities
    colums: {}
    columns:
      opportunity_id: Deal
      acount_id: Account
      stage: Stage
      created_at: Opened
""")
    with pytest.raises(MappingError) as caught:
        load_mapping(mapping)
    issues = caught.value.issues
    assert all(isinstance(i, UnknownNameError) for i in issues)
    found = [(i.location.line if i.location else None, i.name, i.hint) for i in issues]  # type: ignore[attr-defined]
    assert found == [(3, "lead", "did you mean 'leads'?"), (7, "colums", "did you mean 'columns'?"),
                     (10, "acount_id", "did you mean 'account_id'?")]
    assert str(mapping) in str(caught.value) and "\n" not in str(caught.value)


def test_a_single_problem_is_raised_as_itself(tmp_path: Path) -> None:
    mapping = write(tmp_path / "one.yml", "files:\n  - file: a.csv\n    table: oportunities\n")
    with pytest.raises(UnknownNameError) as caught:
        load_mapping(mapping)
    assert str(caught.value) == f"{mapping}, line 3: unknown table 'oportunities' — did you mean 'opportunities'?"


@pytest.mark.parametrize(("text", "expected"), [
    ("files:\n  - file: a.csv\n    table: activities\n    columns: {activity_id: Id}\n",
     "line 3: table activities needs person_id, kind, occurred_at"),
    ("files:\n  - file: a.csv\n    table: leads\n    columns: {lead_id: Id, created_at: C}\n"
     "    constants: {created_at: '2024-01-01'}\n", "line 5: created_at is set by both `columns` and `constants`"),
    ("files:\n  - file: a.csv\n    table: leads\n    columns: {lead_id: Id, created_at: C}\n"
     "    dates: {lead_id: '%Y'}\n", "line 5: dates.lead_id: lead_id is a string, not a date"),
    ("files:\n  - file: a.csv\n    table: leads\n    columns: {lead_id: Id, created_at: C}\n"
     "  - file: a.csv\n    table: leads\n    columns: {lead_id: Id, created_at: D}\n",
     "line 5: a.csv is mapped to leads twice"),
    ("files: [\n", "not valid YAML"),
    ("tables: []\n", "a mapping file is a `files:` list"),
])
def test_mapping_mistakes_are_caught_before_any_data_is_read(tmp_path: Path, text: str, expected: str) -> None:
    with pytest.raises(CadenceError) as caught:
        load_mapping(write(tmp_path / "m.yml", text))
    assert expected in str(caught.value)


def test_an_entry_that_matches_no_file_suggests_the_closest(workspace: Workspace, tmp_path: Path,
                                                            dataset: Dataset) -> None:
    mapping = write(tmp_path / "m.yml", MRR_MAPPING.read_text().replace("subscription_periods.csv",
                                                                         "subscription_period.csv"))
    with pytest.raises(UnknownNameError, match="did you mean 'subscription_periods.csv'"):
        workspace.ingest(dataset("mrr-subscription-periods"), "csv", mapping=mapping)


def test_the_mapping_file_is_required(workspace: Workspace, dataset: Dataset) -> None:
    with pytest.raises(InputError, match="needs a mapping file"):
        workspace.ingest(dataset("mrr-subscription-periods"), "csv")


def _yaml_blocks(text: str) -> list[str]:
    return re.findall(r"```yaml\n(.*?)```", text, flags=re.DOTALL)


def test_the_documented_mapping_examples_are_valid(tmp_path: Path) -> None:
    import cadence.ingest.generic as generic

    blocks = _yaml_blocks((REPO / "docs" / "mapping.md").read_text()) + _yaml_blocks(generic.__doc__ or "")
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        mapping = load_mapping(write(tmp_path / f"example{i}.yml", block))
        assert mapping.files[0].table == "opportunities" and mapping.files[0].lookups


def test_a_mapping_can_name_the_source_so_two_csv_sources_stay_apart(workspace: Workspace, tmp_path: Path) -> None:
    """Marketing's and the CRM's lead files both come through `csv`; `constants: source` keeps them apart."""
    for source, ids in (("marketing", ["m1", "m2"]), ("crm", ["c1"])):
        folder = tmp_path / source
        folder.mkdir()
        rows = "".join(f"{lead},2025-03-0{n + 1}\n" for n, lead in enumerate(ids))
        (folder / "leads.csv").write_text("Id,Created\n" + rows)
        (folder / "map.yml").write_text("files:\n  - file: leads.csv\n    table: leads\n    columns:\n"
                                        "      lead_id: Id\n      created_at: Created\n"
                                        f"    constants:\n      source: {source}\n")
        workspace.ingest(folder / "leads.csv", "csv", mapping=folder / "map.yml")
    leads = workspace.table("leads").to_pandas().sort_values("lead_id")
    assert leads["source"].tolist() == ["crm", "marketing", "marketing"]
