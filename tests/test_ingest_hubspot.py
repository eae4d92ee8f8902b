"""`cadence ingest --from hubspot` on a real HubSpot deals export and on exports built here.

Every expected figure is computed from the source files with the csv module, independently of
the importer's pandas code.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from cadence.errors import InputError
from cadence.ingest import ImportOptions
from cadence.ingest.hubspot import HubSpotImporter, duration_seconds
from cadence.workspace import Workspace
from tests.datasets import Dataset
from tests.ingest_helpers import quarantine, records, table, write_csv


def snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    out = {}
    for name in ("opportunities", "opportunity_history", "stages", "accounts", "leads"):
        frame = table(ws, name)
        out[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    out["quarantine"] = quarantine(ws).drop(columns=["quarantined_at"])
    return out


# -- the real deals export -------------------------------------------------------------------


@pytest.fixture
def deals_folder(dataset: Dataset) -> Path:
    return dataset("hubspot-deals")


@pytest.fixture
def deals_file(deals_folder: Path) -> Path:
    return deals_folder / "anonymized_hubspot_deals.csv"


def test_real_deals_reconcile_and_match_an_independent_count(workspace: Workspace, deals_file: Path) -> None:
    prepared = workspace.ingest(deals_file, "hubspot")
    deals = records(deals_file)
    [outcome] = prepared.files
    assert outcome.read == len(deals) == outcome.loaded + outcome.quarantined

    opps = table(workspace, "opportunities").set_index("opportunity_id")
    assert sorted(opps.index) == sorted(d["Record ID"] for d in deals)
    won = [d for d in deals if d["Is Closed Won"] == "True"]
    assert int(opps["is_won"].sum()) == len(won)
    assert int(opps["is_closed"].sum()) == sum(d["Is Deal Closed?"] == "True" for d in deals)
    assert Decimal(str(opps.loc[opps["is_won"], "amount"].sum())) == sum(Decimal(d["Amount"] or "0") for d in won)
    assert Counter(opps["stage"]) == Counter(d["Deal Stage"].strip() for d in deals)
    assert set(opps["pipeline"]) == {d["Pipeline"] for d in deals}
    assert Counter(opps["kind"].fillna("none")) == Counter(
        {"New": "new", "Renewal": "renewal", "Growth": "expansion"}.get(d["Deal Type"], "none") for d in deals)

    # closed_at is the close date of closed deals, except those entered after they closed
    for deal in deals:
        row = opps.loc[deal["Record ID"]]
        closed_after_creation = deal["Close Date"] >= deal["Create Date"]
        if deal["Is Deal Closed?"] == "True" and closed_after_creation:
            assert row["closed_at"] == pd.Timestamp(deal["Close Date"])
        else:
            assert pd.isna(row["closed_at"])

    stages = table(workspace, "stages")
    pipeline = stages[stages["pipeline"] == "Sales Pipeline"].sort_values("position")
    assert list(pipeline["stage"][-2:]) == ["Closed Won", "Closed Lost"]
    assert set(pipeline["stage"]) >= set(opps["stage"])
    assert pipeline.set_index("stage").loc["Closed Trial", ["is_won", "is_lost"]].tolist() == [False, False]


def test_real_deals_history_rebuilt_from_cumulative_times(workspace: Workspace, deals_file: Path) -> None:
    workspace.ingest(deals_file, "hubspot")
    deals = {d["Record ID"]: d for d in records(deals_file)}
    history = table(workspace, "opportunity_history").sort_values(["opportunity_id", "changed_at"])
    assert set(history["opportunity_id"]) == set(deals)
    for opp, rows in history.groupby("opportunity_id"):
        deal = deals[str(opp)]
        assert rows["stage"].iloc[-1] == deal["Deal Stage"].strip()  # the current stage comes last
        assert rows["changed_at"].min() >= pd.Timestamp(deal["Create Date"])
        if deal["Is Deal Closed?"] == "True" and deal["Close Date"] >= deal["Create Date"]:
            assert rows["changed_at"].iloc[-1] == pd.Timestamp(deal["Close Date"])
    # each stage was entered its cumulative time before the next (unless moved up to the creation)
    checked = 0
    for opp, rows in history.groupby("opportunity_id"):
        deal = deals[str(opp)]
        spent = {column.split('"')[1].rsplit(" (", 1)[0].strip(): value for column, value in deal.items()
                 if column.startswith("Cumulative time in") and value}
        entered = list(zip(rows["stage"], rows["changed_at"], strict=True))
        for (stage, at), (_, following) in zip(entered, entered[1:], strict=False):
            if at > pd.Timestamp(deal["Create Date"]):
                hours, minutes, seconds = (int(x) for x in spent[stage].split(":"))
                assert following - at == timedelta(hours=hours, minutes=minutes, seconds=seconds)
                checked += 1
    assert checked > 300


def test_a_second_import_changes_nothing(workspace: Workspace, deals_file: Path) -> None:
    workspace.ingest(deals_file, "hubspot")
    before, counts = snapshot(workspace), workspace.counts()
    workspace.ingest(deals_file, "hubspot")
    assert workspace.counts() == counts
    after = snapshot(workspace)
    for name, frame in before.items():
        pd.testing.assert_frame_equal(after[name], frame, check_dtype=False)


def test_the_tickets_export_is_listed_not_imported(deals_folder: Path) -> None:
    batch = HubSpotImporter("hubspot").read(deals_folder, ImportOptions())
    assert [Path(f.path).name for f in batch.files] == ["anonymized_hubspot_deals.csv"]
    [(file, reason)] = batch.skipped
    assert Path(file).name == "anonymized_hubspot_tickets.csv" and "tickets" in reason
    with pytest.raises(InputError) as info:
        HubSpotImporter("hubspot").read(deals_folder / "anonymized_hubspot_tickets.csv", ImportOptions())
    assert "anonymized_hubspot_tickets.csv" in str(info.value) and "deals" in str(info.value)


# -- exports built here with the real column names ------------------------------------------


COMPANY_HEADER = ["Record ID", "Company name", "Company owner", "Create Date", "Phone Number", "Last Activity Date",
                  "City", "Country/Region", "Industry", "Company Domain Name", "Number of Employees",
                  "Annual Revenue", "Lifecycle Stage"]
CONTACT_HEADER = ["Record ID", "First Name", "Last Name", "Email", "Phone Number", "Contact owner",
                  "Associated Company", "Lifecycle Stage", "Lead Status", "Original Source", "Create Date",
                  "Became a Marketing Qualified Lead Date", "Became a Sales Qualified Lead Date",
                  "Became an Opportunity Date", "Became a Customer Date"]
ENTERED = ['Date entered "Appointment Scheduled (Sales Pipeline)"', 'Date exited "Appointment Scheduled (Sales '
           'Pipeline)"', 'Date entered "Contract Sent (Sales Pipeline)"', 'Date entered "Closed Won (Sales Pipeline)"',
           'Date entered "Closed Lost (Sales Pipeline)"']
DEAL_HEADER = ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date",
               "Deal owner", "Associated Company", "Deal Type", *ENTERED]


def test_companies_contacts_and_deals_with_date_entered(workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "portal"
    write_csv(folder / "hubspot-crm-exports-all-companies-2025-02-20.csv", COMPANY_HEADER, [
        ["101", "Acme", "Dana Sales", "2024-01-02 10:00", "", "", "Berlin", "Germany", "COMPUTER_SOFTWARE",
         "www.acme.io", "40", "1000000", "Customer"],
        ["102", "Beta", "Dana Sales", "2024-01-03 10:00", "", "", "Paris", "France", "", "https://beta.fr/", "", "",
         "Lead"],
    ])
    write_csv(folder / "hubspot-crm-exports-all-contacts-2025-02-20.csv", CONTACT_HEADER, [
        ["201", "Ann", "Lee", "ann@acme.io", "", "Dana Sales", "Acme", "Customer", "", "Organic Search",
         "2024-01-05 09:00", "2024-01-10 09:00", "2024-01-08 09:00", "2024-02-01 09:00", "2024-03-01 09:00"],
        ["202", "Bo", "Ng", "bo@beta.fr", "", "", "Beta", "Lead", "Unqualified", "Paid Search",
         "2024-01-06 09:00", "", "", "", ""],
        ["203", "Cy", "Oz", "cy@x.io", "", "", "", "", "", "", "2024-01-07 09:00", "2024-01-09 09:00", "", "", ""],
    ])
    write_csv(folder / "hubspot-crm-exports-all-deals-2025-02-20.csv", DEAL_HEADER, [
        ["301", "Acme deal", "Closed Won", "Sales Pipeline", "12000", "2024-03-01 12:00", "2024-01-10 09:00",
         "Dana Sales", "Acme", "New", "2024-01-10 09:00", "2024-02-01 10:00", "2024-02-01 10:00",
         "2024-03-01 12:00", ""],
        ["302", "Beta deal", "Contract Sent", "Sales Pipeline", "5000", "2024-06-30 00:00", "2024-01-11 09:00",
         "Dana Sales", "Beta", "Existing Business", "2024-01-11 09:00", "2024-01-11 09:00", "2024-01-11 09:00", "",
         ""],
    ])
    prepared = workspace.ingest(folder, "hubspot")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (7, 7, 0)

    accounts = table(workspace, "accounts").set_index("account_id").sort_index()
    assert list(accounts["domain"]) == ["acme.io", "beta.fr"]
    assert list(accounts["region"]) == ["Germany", "France"]

    leads = table(workspace, "leads").set_index("lead_id").sort_index()
    assert list(leads["account_id"].fillna("")) == ["101", "102", ""]  # company names found among the companies
    assert list(leads["status"]) == ["converted", "disqualified", "qualified"]
    assert list(leads["channel"].fillna("")) == ["organic_search", "paid_search", ""]
    assert leads.loc["201", "qualified_at"] == pd.Timestamp("2024-01-08 09:00")  # the SQL date came first
    assert leads.loc["201", "converted_at"] == pd.Timestamp("2024-02-01 09:00")

    opps = table(workspace, "opportunities").set_index("opportunity_id").sort_index()
    assert list(opps["account_id"]) == ["101", "102"]
    assert list(opps["kind"]) == ["new", "expansion"]
    assert list(opps["is_won"]) == [True, False] and list(opps["is_closed"]) == [True, False]
    history = table(workspace, "opportunity_history").sort_values(["opportunity_id", "changed_at"])
    assert [(o, s, str(t)) for o, s, t in zip(history["opportunity_id"], history["stage"], history["changed_at"],
                                               strict=True)] == [
        ("301", "Appointment Scheduled", "2024-01-10 09:00:00"), ("301", "Contract Sent", "2024-02-01 10:00:00"),
        ("301", "Closed Won", "2024-03-01 12:00:00"),
        ("302", "Contract Sent", "2024-01-11 09:00:00"),  # entered two stages at once: the later one holds
    ]
    stages = table(workspace, "stages")
    order = stages[stages["pipeline"] == "Sales Pipeline"].sort_values("position")
    assert list(order["stage"]) == ["Appointment Scheduled", "Contract Sent", "Closed Won", "Closed Lost"]
    assert list(order["is_won"]) == [False, False, True, False] and list(order["is_lost"]) == [False] * 3 + [True]


CUMULATIVE = ['Cumulative time in "Discovery (Sales Pipeline)" (HH:mm:ss)',
              'Cumulative time in "Proposal (Sales Pipeline)" (HH:mm:ss)']


def test_unreadable_cumulative_time_quarantines_that_deals_history(workspace: Workspace, tmp_path: Path) -> None:
    header = ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount", "Close Date", "Create Date",
              "Last Modified Date", "Is Deal Closed?", "Is Closed Won", *CUMULATIVE]
    path = write_csv(tmp_path / "deals.csv", header, [
        ["1", "Fine", "closedwon", "Sales Pipeline", "100", "2024-03-01 12:00", "2024-01-01 12:00",
         "2024-03-02 12:00", "True", "True", "24:00:00", "48:30:00"],
        ["2", "Broken", "Proposal", "Sales Pipeline", "100", "2024-06-01 12:00", "2024-01-01 12:00",
         "2024-03-02 12:00", "False", "False", "12 hours", ""],
    ])
    prepared = workspace.ingest(path, "hubspot")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (2, 2, 0)  # the deals themselves load
    history = table(workspace, "opportunity_history").sort_values("changed_at")
    close = datetime(2024, 3, 1, 12)
    assert list(zip(history["stage"], history["changed_at"], strict=True)) == [
        ("Discovery", close - timedelta(hours=72, minutes=30)), ("Proposal", close - timedelta(hours=48, minutes=30)),
        ("closedwon", close)]
    [refused] = quarantine(workspace).to_dict("records")
    assert (refused["line"], refused["target_table"], refused["column_name"]) == (3, "opportunity_history",
                                                                                 "changed_at")
    assert "'12 hours' is not a time in HH:mm:ss" in refused["reason"] and "Discovery" in refused["reason"]
    stages = table(workspace, "stages").set_index("stage")
    assert bool(stages.loc["closedwon", "is_won"])


def test_missing_required_column_is_one_line_naming_file_and_column(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "deals.csv", ["Record ID", "Deal Name", "Deal Stage", "Amount"],
                     [["1", "Deal", "Closed Won", "10"]])
    with pytest.raises(InputError) as info:
        workspace.ingest(path, "hubspot")
    message = str(info.value)
    assert "\n" not in message and str(path) in message and "'Create Date'" in message


def test_bad_amount_is_quarantined_with_file_line_column_and_reason(workspace: Workspace, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "deals.csv", ["Record ID", "Deal Name", "Deal Stage", "Pipeline", "Amount",
                                              "Create Date"], [
        ["1", "Good", "Closed Won", "Sales Pipeline", "1,200.50", "2024-01-01 10:00"],
        ["2", "Bad", "Closed Won", "Sales Pipeline", "n/a", "2024-01-01 10:00"],
    ])
    prepared = workspace.ingest(path, "hubspot")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (2, 1, 1)
    [refused] = quarantine(workspace).to_dict("records")
    assert (refused["file"], refused["line"], refused["column_name"], refused["value"], refused["reason"]) == (
        str(path), 3, "amount", "n/a", "not a valid money")


def test_durations_read_hours_past_a_day() -> None:
    assert duration_seconds("2705:47:48") == 2705 * 3600 + 47 * 60 + 48
    assert duration_seconds("00:00:42") == 42
    assert duration_seconds("12:75:00") is None
