"""`cadence ingest --from salesforce` on Salesforce's real sample exports and on exports built here.

Every expected figure is computed from the source files with the csv module, independently of
the importer's pandas code.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from cadence.errors import InputError
from cadence.ingest import ImportOptions
from cadence.ingest.salesforce import SalesforceImporter, salesforce_id18
from cadence.workspace import Workspace
from tests.datasets import Dataset
from tests.ingest_helpers import quarantine, records, table
from tests.ingest_helpers import write_csv as _write_csv


def write_csv(path: Path, header: list[str], rows: list[list[str]], footer: Sequence[str] = ()) -> Path:
    """Data Loader quotes every field."""
    return _write_csv(path, header, rows, footer, quote_all=True)


def snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    """Every canonical table and the quarantine (without its timestamp), sorted: the warehouse's content."""
    out = {}
    for name in ("opportunities", "opportunity_history", "stages", "accounts", "people", "activities"):
        frame = table(ws, name)
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    out["quarantine"] = quarantine(ws).drop(columns=["quarantined_at"])
    return out


# -- the real sample ---------------------------------------------------------------------------


@pytest.fixture
def sample(dataset: Dataset) -> Path:
    return dataset("salesforce-sample")


def test_sample_reconciles_and_matches_an_independent_count(workspace: Workspace, sample: Path) -> None:
    prepared = workspace.ingest(sample, "salesforce")
    source = {p.name: records(p) for p in sample.glob("*.csv")}
    for outcome in prepared.files:
        assert outcome.read == outcome.loaded + outcome.quarantined
        assert outcome.read == len(source[Path(outcome.path).name])

    opps = table(workspace, "opportunities").set_index("opportunity_id")
    deals = source["Opportunity.csv"]
    assert sorted(opps.index) == sorted(d["Id"] for d in deals)
    assert int(opps["is_won"].sum()) == sum(d["IsWon"] == "1" for d in deals)
    assert int(opps["is_closed"].sum()) == sum(d["IsClosed"] == "1" for d in deals)
    won_amount = sum(Decimal(d["Amount"]) for d in deals if d["IsWon"] == "1")
    assert Decimal(str(opps.loc[opps["is_won"], "amount"].sum())) == won_amount
    assert Counter(opps["stage"]) == Counter(d["StageName"] for d in deals)
    assert (opps["pipeline"] == "salesforce").all()
    kinds = Counter(opps["kind"].fillna("none"))
    assert kinds["new"] == sum(d["Type"] == "New Customer" for d in deals)
    assert kinds["expansion"] == sum(d["Type"] == "Existing Customer - Upgrade" for d in deals)
    # every deal of the sample was entered after it closed: close dates kept, no closed_at invented
    assert opps["closed_at"].isna().all()
    assert opps.loc["0064600000J5S5VAAV", "close_date"] == pd.Timestamp("2018-07-06")


def test_sample_history_keeps_the_later_of_two_snapshots_in_one_second(workspace: Workspace, sample: Path) -> None:
    workspace.ingest(sample, "salesforce")
    rows = records(sample / "OpportunityHistory.csv")
    latest: dict[tuple[str, str], dict[str, str]] = {}
    for row in sorted(rows, key=lambda r: r["Id"][:15]):
        latest[(row["OpportunityId"], row["CreatedDate"])] = row
    history = table(workspace, "opportunity_history")
    assert len(history) == len(latest)
    for _, kept in history.iterrows():
        source = latest[(kept["opportunity_id"], kept["changed_at"].strftime("%Y-%m-%d %H:%M:%S"))]
        assert kept["stage"] == source["StageName"]
        assert kept["close_date"] == pd.Timestamp(source["CloseDate"])
    refused = quarantine(workspace)
    refused = refused[refused["column_name"] == "changed_at"]
    assert len(refused) == len(rows) - len(latest)
    assert refused["reason"].str.startswith("superseded by line ").all()


def test_a_second_import_changes_nothing(workspace: Workspace, sample: Path) -> None:
    workspace.ingest(sample, "salesforce")
    before, counts = snapshot(workspace), workspace.counts()
    again = workspace.ingest(sample, "salesforce")
    assert workspace.counts() == counts
    after = snapshot(workspace)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, check_dtype=False)
    assert again.loaded == 31 + 31 and again.quarantined == 31


# -- exports built here with the real column names ------------------------------------------


USER_HEADER = ["Id", "Username", "FirstName", "LastName", "Name", "Email", "Department", "UserRole.Name", "ManagerId",
               "IsActive", "CreatedDate"]
ACCOUNT_HEADER = ["Id", "IsDeleted", "Name", "Type", "ParentId", "BillingCountry", "Website", "Industry",
                  "AnnualRevenue", "NumberOfEmployees", "OwnerId", "CreatedDate"]


def test_report_export_with_labels_footer_and_short_ids(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "report"
    write_csv(folder / "users.csv", USER_HEADER, [
        ["005460000012abcAAA", "ann@acme.test", "Ann", "Lee", "Ann Lee", "ann@acme.test", "Sales", "AE", "", "1",
         "2020-01-01T09:00:00.000Z"],
    ])
    write_csv(folder / "accounts.csv", ACCOUNT_HEADER, [
        ["0014600001TvgfZAAR", "0", "Dickenson plc", "Customer", "", "US", "https://www.Dickenson.com/x", "Energy",
         "50000000", "120", "005460000012abcAAA", "2018-10-13T17:16:45.000Z"],
    ])
    header = ["Opportunity Owner", "Account Name", "Opportunity Name", "Stage", "Amount", "Probability (%)",
              "Close Date", "Created Date", "Type", "Lead Source", "Opportunity ID", "Won", "Closed"]
    write_csv(folder / "Opportunities report.csv", header, [
        ["Ann Lee", "Dickenson plc", "Generators", "Closed Won", "USD 15,000.00", "100", "3/1/2024", "1/15/2024",
         "New Business", "Web", "0064600000J5S5T", "1", "1"],
        ["Ann Lee", "Nobody Inc", "Pilot", "Value Proposition", "EUR 2,500.50", "50", "6/30/2024", "2/1/2024",
         "Existing Customer - Renewal", "", "0064600000J5S5U", "0", "0"],
        ["Bob Roe", "Dickenson plc", "Stretch", "Verbal Commit", "USD 900.00", "95", "7/30/2024", "2/2/2024",
         "Existing Business", "", "0064600000J5S5V", "0", "0"],
    ], footer=["", "", "Confidential Information - Do Not Distribute",
               "Copyright (c) 2000-2024 salesforce.com, inc. All rights reserved."])
    prepared = workspace.ingest(folder, "salesforce")
    report = next(f for f in prepared.files if f.path.endswith("Opportunities report.csv"))
    assert (report.read, report.loaded, report.quarantined) == (3, 3, 0)

    opps = table(workspace, "opportunities").set_index("opportunity_id").sort_index()
    assert list(opps.index) == ["0064600000J5S5TAAV", "0064600000J5S5UAAV", "0064600000J5S5VAAV"]
    first, second, third = (opps.iloc[i] for i in range(3))
    assert (first["owner_id"], first["account_id"]) == ("005460000012abcAAA", "0014600001TvgfZAAR")
    assert second["account_id"] == "Nobody Inc"  # no account of that name imported: the name stays
    assert third["owner_id"] == "Bob Roe"
    assert (first["amount"], first["currency"], second["amount"], second["currency"]) == (15000, "USD", 2500.5, "EUR")
    assert list(opps["kind"]) == ["new", "renewal", "expansion"]
    assert first["is_won"] and first["closed_at"] == pd.Timestamp("2024-03-01")
    assert not second["is_closed"] and pd.isna(second["closed_at"])
    stages = table(workspace, "stages").set_index(["pipeline", "stage"])
    assert stages.loc[("salesforce", "Verbal Commit"), "probability"] == pytest.approx(0.95)
    order = stages.loc["salesforce"].sort_values("position").index
    # only the stages the report's deals use (no standard stages it never shows), open ones by probability
    assert list(order) == ["Value Proposition", "Verbal Commit", "Closed Won"]
    account = table(workspace, "accounts").iloc[0]
    assert (account["domain"], account["region"], account["employees"]) == ("dickenson.com", "US", 120)


def test_opportunity_field_history_folds_changes_into_states(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "org"
    write_csv(folder / "Opportunity.csv",
              ["Id", "IsDeleted", "Name", "StageName", "Amount", "CloseDate", "IsClosed", "IsWon", "CreatedDate"],
              [["006000000000001AAA", "0", "Deal", "Closed Won", "1200", "2024-03-31", "1", "1",
                "2024-01-02T10:00:00.000Z"]])
    header = ["Id", "IsDeleted", "OpportunityId", "CreatedById", "CreatedDate", "Field", "DataType", "OldValue",
              "NewValue"]
    write_csv(folder / "OpportunityFieldHistory.csv", header, [
        ["017000000000001AAA", "0", "006000000000001AAA", "005", "2024-01-02T10:00:00.000Z", "created", "Text", "", ""],
        ["017000000000002AAA", "0", "006000000000001AAA", "005", "2024-02-01T09:00:00.000Z", "StageName", "Text",
         "Prospecting", "Proposal/Price Quote"],
        ["017000000000003AAA", "0", "006000000000001AAA", "005", "2024-02-01T09:00:00.000Z", "Amount", "Currency",
         "1000", "1500"],
        ["017000000000004AAA", "0", "006000000000001AAA", "005", "2024-03-20T12:00:00.000Z", "Amount", "Currency",
         "1500", "1200"],
        ["017000000000005AAA", "1", "006000000000001AAA", "005", "2024-03-25T12:00:00.000Z", "Owner", "EntityId",
         "x", "y"],
        ["017000000000006AAA", "0", "006000000000001AAA", "005", "2024-03-31T16:00:00.000Z", "StageName", "Text",
         "Proposal/Price Quote", "Closed Won"],
    ])
    prepared = workspace.ingest(folder, "salesforce")
    outcome = next(f for f in prepared.files if f.path.endswith("OpportunityFieldHistory.csv"))
    assert (outcome.read, outcome.loaded, outcome.quarantined) == (6, 4, 2)
    history = table(workspace, "opportunity_history").sort_values("changed_at")
    assert [(str(t), s, a) for t, s, a in zip(history["changed_at"], history["stage"], history["amount"],
                                               strict=True)] == [
        ("2024-01-02 10:00:00", "Prospecting", 1000), ("2024-02-01 09:00:00", "Proposal/Price Quote", 1500),
        ("2024-03-20 12:00:00", "Proposal/Price Quote", 1200), ("2024-03-31 16:00:00", "Closed Won", 1200)]
    assert (history["close_date"] == pd.Timestamp("2024-03-31")).all()
    reasons = quarantine(workspace).set_index(["line", "column_name"])["reason"]
    assert reasons[(3, "changed_at")].startswith("folded into line 4")
    assert reasons[(6, "IsDeleted")] == "deleted in Salesforce"


def test_users_tasks_events_and_accounts(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "dataloader"
    write_csv(folder / "extract (1).csv", USER_HEADER, [
        ["005000000000001AAA", "boss@acme.test", "Kim", "Park", "", "boss@acme.test", "Sales", "VP Sales", "", "1",
         "2019-01-01T00:00:00.000Z"],
        ["005000000000002", "rep@acme.test", "Ravi", "Shah", "", "rep@acme.test", "Sales", "AE",
         "005000000000001", "0", "2019-06-01T00:00:00.000Z"],
    ])
    write_csv(folder / "extract (2).csv", ACCOUNT_HEADER, [
        ["001000000000001AAA", "0", "Acme", "Customer", "", "Germany", "acme.de", "Retail", "1000000", "50",
         "005000000000002AAA", "2020-01-01T00:00:00.000Z"],
        ["001000000000002AAA", "0", "Acme Sub", "Customer", "001000000000001AAA", "Austria", "http://sub.acme.at",
         "", "", "", "005000000000002AAA", "2020-02-01T00:00:00.000Z"],
        ["001000000000003AAA", "1", "Gone", "", "", "", "", "", "", "", "", "2020-03-01T00:00:00.000Z"],
    ])
    write_csv(folder / "extract (3).csv",
              ["Id", "WhoId", "WhatId", "Subject", "ActivityDate", "Status", "Priority", "OwnerId", "Type",
               "AccountId", "IsDeleted", "CreatedDate", "TaskSubtype", "CompletedDateTime"], [
        ["00T000000000001AAA", "", "006000000000001AAA", "Call back", "2024-05-02", "Completed", "Normal",
         "005000000000002AAA", "", "001000000000001AAA", "0", "2024-05-01T08:00:00.000Z", "Call",
         "2024-05-02T10:30:00.000Z"],
        ["00T000000000002AAA", "", "001000000000001AAA", "Send deck", "2024-05-03", "Open", "High",
         "005000000000002AAA", "Email", "", "0", "2024-05-01T08:00:00.000Z", "Task", ""],
        ["00T000000000003AAA", "", "", "Follow up", "", "Open", "Normal", "005000000000002AAA", "Other", "",
         "0", "2024-05-04T08:00:00.000Z", "Task", ""],
    ])
    write_csv(folder / "extract (4).csv",
              ["Id", "WhatId", "Subject", "StartDateTime", "EndDateTime", "DurationInMinutes", "IsAllDayEvent",
               "OwnerId", "Type", "AccountId", "IsDeleted", "CreatedDate", "EventSubtype"], [
        ["00U000000000001AAA", "006000000000001AAA", "Product demo", "2024-05-06T14:00:00.000Z",
         "2024-05-06T15:00:00.000Z", "60", "0", "005000000000002AAA", "Demo", "001000000000001AAA", "0",
         "2024-05-01T08:00:00.000Z", "Event"],
        ["00U000000000002AAA", "", "Lunch", "2024-05-07T12:00:00.000Z", "", "60", "0", "005000000000002AAA",
         "Other", "", "0", "2024-05-01T08:00:00.000Z", "Event"],
    ])
    prepared = workspace.ingest(folder, "salesforce")
    assert prepared.read == 2 + 3 + 3 + 2 and prepared.quarantined == 1 and not prepared.skipped

    people = table(workspace, "people").set_index("person_id").sort_index()
    rep = people.loc["005000000000002AAA"]  # 15-character ids extended to 18
    assert (rep["name"], rep["team"], rep["role"], rep["manager_id"]) == ("Ravi Shah", "Sales", "AE",
                                                                            "005000000000001AAA")
    assert people["hired_at"].isna().all() and people["left_at"].isna().all()

    accounts = table(workspace, "accounts").set_index("account_id").sort_index()
    assert list(accounts.index) == ["001000000000001AAA", "001000000000002AAA"]
    assert list(accounts["domain"]) == ["acme.de", "sub.acme.at"]
    assert accounts.loc["001000000000002AAA", "parent_account_id"] == "001000000000001AAA"
    assert quarantine(workspace).iloc[0]["reason"] == "deleted in Salesforce"

    acts = table(workspace, "activities").set_index("activity_id").sort_index()
    assert list(acts["kind"]) == ["call", "email", "task", "demo", "meeting"]
    assert list(acts["opportunity_id"].fillna("")) == ["006000000000001AAA", "", "", "006000000000001AAA", ""]
    assert acts.loc["00T000000000002AAA", "account_id"] == "001000000000001AAA"  # WhatId of an account
    assert str(acts.loc["00T000000000001AAA", "occurred_at"]) == "2024-05-02 10:30:00"
    assert str(acts.loc["00T000000000003AAA", "occurred_at"]) == "2024-05-04 08:00:00"
    assert str(acts.loc["00U000000000001AAA", "occurred_at"]) == "2024-05-06 14:00:00"


# -- bad inputs --------------------------------------------------------------------------------


OPPORTUNITY_HEADER = ["Id", "Name", "StageName", "Amount", "CloseDate", "CreatedDate"]


def test_missing_required_column_is_one_line_naming_file_and_column(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "Opportunity.csv", ["Id", "Name", "StageName", "Amount"],
                     [["006000000000001AAA", "Deal", "Prospecting", "10"]])
    with pytest.raises(InputError) as info:
        workspace.ingest(path, "salesforce")
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "'CreatedDate'" in message
    assert workspace.counts()["opportunities"] == 0


def test_bad_amount_is_quarantined_with_file_line_column_and_reason(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "Opportunity.csv", OPPORTUNITY_HEADER, [
        ["006000000000001AAA", "Good", "Prospecting", "10", "2024-03-01", "2024-01-01"],
        ["006000000000002AAA", "Bad", "Prospecting", "ten", "2024-03-01", "2024-01-01"],
        ["006000000000003AAA", "Negative", "Prospecting", "-5", "2024-03-01", "2024-01-01"],
    ])
    prepared = workspace.ingest(path, "salesforce")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 1, 2)
    refused = quarantine(workspace)
    assert list(refused["file"]) == [str(path)] * 2
    assert list(refused["line"]) == [3, 4]
    assert list(refused["column_name"]) == ["amount", "amount"]
    assert list(refused["reason"]) == ["not a valid money", "must be at least 0"]


def test_unknown_files_in_a_folder_are_listed_and_refused_when_named(tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    write_csv(folder / "Opportunity.csv", OPPORTUNITY_HEADER,
              [["006000000000001AAA", "Deal", "Prospecting", "10", "2024-03-01", "2024-01-01"]])
    leads = write_csv(folder / "Lead.csv", ["Id", "Name", "Company", "Industry", "Email", "Status", "IsConverted"],
                      [["00Q000000000001AAA", "Ann Lee", "Acme", "Energy", "ann@acme.test", "Open", "0"]])
    notes = write_csv(folder / "notes.csv", ["Title", "Body"], [["a", "b"]])
    importer = SalesforceImporter("salesforce")
    batch = importer.read(folder, ImportOptions())
    assert [Path(f.path).name for f in batch.files] == ["Opportunity.csv"]
    assert [file for file, _ in batch.skipped] == [str(leads), str(notes)]
    assert all("not a Salesforce export of " in reason and "Opportunity" in reason for _, reason in batch.skipped)
    with pytest.raises(InputError, match=r"notes\.csv.*not a Salesforce export"):
        importer.read(notes, ImportOptions())


def test_a_hubspot_file_is_named_as_such(dataset: Dataset) -> None:
    with pytest.raises(InputError, match="--from hubspot"):
        SalesforceImporter("salesforce").read(dataset("hubspot-deals/anonymized_hubspot_deals.csv"),
                                              ImportOptions())


def test_fifteen_character_ids_get_their_checksum() -> None:
    assert salesforce_id18("0064600000J5S5T") == "0064600000J5S5TAAV"
    assert salesforce_id18("0014600001Tvgfb") == "0014600001TvgfbAAB"
