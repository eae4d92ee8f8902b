"""Three weekly "all deals" HubSpot exports of one pipeline with custom stages, imported with --full.

What a company without field history gets: stages inferred from their names (`Closed: abandoned` is
lost, not pipeline) and written into cadence.yml for correction; deals that vanished from the latest
full export kept but never counted; the changes between exports as history, dated by each deal's
Last Modified Date (else the export's date, from its file name). Every expectation is hand-listed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml

import cadence
from cadence.analysis.quality import check_data_quality
from cadence.workspace import Workspace, init_workspace
from tests.ingest_helpers import write_csv
from tests.test_cli import cadence as run_cadence

# HubSpot's own labels, in the order of a real export's header (plus columns it has we do not use)
HEADER = ["Record ID", "Deal Name", "Deal Stage", "Amount", "Close Date", "Create Date", "Last Modified Date",
          "Pipeline", "Deal owner", "Forecast category", "Deal Description"]
PIPELINE = "Sales Pipeline"


def _deal(record: str, stage: str, amount: str, close: str, created: str, modified: str, forecast: str,
          owner: str = "Ana Ruiz") -> list[str]:
    return [record, f"Deal {record}", stage, amount, close, created, modified, PIPELINE, owner, forecast, ""]


# Week 1. Rows deliberately not in stage order: the first row's stage is a late one.
WEEK_1 = [
    _deal("103", "Proposal sent", "5000", "2024-04-30 17:00", "2024-02-10 09:00", "2024-02-28 10:00", "Best case"),
    _deal("101", "Discovery call", "1000", "2024-05-31 17:00", "2024-03-01 09:00", "2024-03-01 09:30", "Pipeline"),
    _deal("102", "Demo given", "2000", "2024-05-15 17:00", "2024-02-20 09:00", "2024-02-26 12:00", "Pipeline"),
    _deal("104", "Contract out", "8000", "2024-03-29 17:00", "2024-02-01 09:00", "2024-02-27 08:00", "Commit"),
    _deal("105", "Closed won", "3000", "2024-02-28 17:00", "2024-01-15 09:00", "2024-02-28 17:05", "Closed won"),
    _deal("106", "Closed lost", "4000", "2024-02-25 17:00", "2024-01-20 09:00", "2024-02-25 17:05", "Omitted"),
    _deal("107", "Closed: abandoned", "1500", "2024-02-15 17:00", "2024-01-05 09:00", "2024-02-15 17:05",
          "Omitted", owner=""),
    _deal("108", "Closed: abandoned", "2500", "2024-02-16 17:00", "2024-01-06 09:00", "2024-02-16 17:05", "Omitted"),
    _deal("109", "Demo given", "700", "2024-05-20 17:00", "2024-02-22 09:00", "2024-02-23 11:00", "Pipeline"),
    _deal("110", "Discovery call", "900", "2024-06-28 17:00", "2024-03-02 09:00", "2024-03-02 09:30", "Pipeline"),
]
# Week 2: 101 and 102 move on (102's amount too), 104 is won, 110's close date moves with no Last Modified
# Date in the export, 109 has been deleted in HubSpot, 111 is new.
WEEK_2 = [
    _deal("101", "Demo given", "1000", "2024-05-31 17:00", "2024-03-01 09:00", "2024-03-06 10:00", "Pipeline"),
    _deal("102", "Proposal sent", "2200", "2024-05-15 17:00", "2024-02-20 09:00", "2024-03-08 15:30", "Best case"),
    WEEK_1[0],
    _deal("104", "Closed won", "8000", "2024-03-09 11:00", "2024-02-01 09:00", "2024-03-09 11:00", "Closed won"),
    *WEEK_1[4:8],
    _deal("110", "Discovery call", "900", "2024-07-31 17:00", "2024-03-02 09:00", "", "Pipeline"),
    _deal("111", "Discovery call", "1200", "2024-06-14 17:00", "2024-03-07 09:00", "2024-03-07 09:10", "Pipeline"),
]
# Week 3: 101 is abandoned, 102 reaches Contract out, 111 gets a demo; 103 and 108 are gone (deleted);
# 109 is back (restored in HubSpot), unchanged; 112 was created and won within the week.
WEEK_3 = [
    _deal("101", "Closed: abandoned", "1000", "2024-03-15 09:00", "2024-03-01 09:00", "2024-03-15 09:00",
          "Omitted"),
    _deal("102", "Contract out", "2200", "2024-05-15 17:00", "2024-02-20 09:00", "2024-03-14 16:45", "Commit"),
    WEEK_2[3], *WEEK_1[4:7], WEEK_1[8], WEEK_2[8],
    _deal("111", "Demo given", "1200", "2024-06-14 17:00", "2024-03-07 09:00", "2024-03-17 08:00", "Pipeline"),
    _deal("112", "Closed won", "6000", "2024-03-16 17:00", "2024-03-12 09:00", "2024-03-16 17:05", "Closed won"),
]

# The stages as a reader of the three files would declare them: open ones by forecast category (then the
# newest deals first: Discovery call's deals are younger than Demo given's), won, then lost.
EXPECTED_STAGES = [("Discovery call", "open"), ("Demo given", "open"), ("Proposal sent", "open"),
                   ("Contract out", "open"), ("Closed won", "won"), ("Closed lost", "lost"),
                   ("Closed: abandoned", "lost")]

# Every history row the three exports imply, by hand: (deal, changed_at, stage, amount, close date)
T = pd.Timestamp
EXPECTED_HISTORY = {
    # first seen open: its state at its Create Date; first seen closed: open in the first stage from its
    # Create Date, then its closed stage at its Close Date
    ("101", T("2024-03-01 09:00"), "Discovery call", 1000.0, "2024-05-31"),
    ("101", T("2024-03-06 10:00"), "Demo given", 1000.0, "2024-05-31"),  # week 2, by Last Modified Date
    ("101", T("2024-03-15 09:00"), "Closed: abandoned", 1000.0, "2024-03-15"),
    ("102", T("2024-02-20 09:00"), "Demo given", 2000.0, "2024-05-15"),
    ("102", T("2024-03-08 15:30"), "Proposal sent", 2200.0, "2024-05-15"),
    ("102", T("2024-03-14 16:45"), "Contract out", 2200.0, "2024-05-15"),
    ("103", T("2024-02-10 09:00"), "Proposal sent", 5000.0, "2024-04-30"),
    ("104", T("2024-02-01 09:00"), "Contract out", 8000.0, "2024-03-29"),
    ("104", T("2024-03-09 11:00"), "Closed won", 8000.0, "2024-03-09"),
    ("105", T("2024-01-15 09:00"), "Discovery call", 3000.0, "2024-02-28"),
    ("105", T("2024-02-28 17:00"), "Closed won", 3000.0, "2024-02-28"),
    ("106", T("2024-01-20 09:00"), "Discovery call", 4000.0, "2024-02-25"),
    ("106", T("2024-02-25 17:00"), "Closed lost", 4000.0, "2024-02-25"),
    ("107", T("2024-01-05 09:00"), "Discovery call", 1500.0, "2024-02-15"),
    ("107", T("2024-02-15 17:00"), "Closed: abandoned", 1500.0, "2024-02-15"),
    ("108", T("2024-01-06 09:00"), "Discovery call", 2500.0, "2024-02-16"),
    ("108", T("2024-02-16 17:00"), "Closed: abandoned", 2500.0, "2024-02-16"),
    ("109", T("2024-02-22 09:00"), "Demo given", 700.0, "2024-05-20"),
    ("110", T("2024-03-02 09:00"), "Discovery call", 900.0, "2024-06-28"),
    ("110", T("2024-03-11 00:00"), "Discovery call", 900.0, "2024-07-31"),  # no Last Modified: the file's date
    ("111", T("2024-03-07 09:00"), "Discovery call", 1200.0, "2024-06-14"),
    ("111", T("2024-03-17 08:00"), "Demo given", 1200.0, "2024-06-14"),
    ("112", T("2024-03-12 09:00"), "Discovery call", 6000.0, "2024-03-16"),
    ("112", T("2024-03-16 17:00"), "Closed won", 6000.0, "2024-03-16"),
}
DELETED = {"103", "108"}  # in week 2, not in week 3 (109 vanished in week 2 but is back in week 3)
OPEN_AMOUNTS = {"102": 2200, "109": 700, "110": 900, "111": 1200}  # open after week 3, not deleted
WON = {"104", "105", "112"}


def _exports(folder: Path) -> list[Path]:
    return [write_csv(folder / f"all-deals-{day}.csv", HEADER, rows)
            for day, rows in (("2024-03-04", WEEK_1), ("2024-03-11", WEEK_2), ("2024-03-18", WEEK_3))]


def _ingest_all(ws: Workspace, files: list[Path], via: str) -> list[dict[str, object]]:
    """Import in date order, through the CLI (its JSON summary) or through the workspace."""
    if via == "api":
        return [ws.ingest(path, "hubspot", full=True).summary() for path in files]
    ws.close()  # the CLI opens the warehouse itself (DuckDB allows one writer)
    out = [json.loads(run_cadence("-w", str(ws.root), "ingest", str(path), "--from", "hubspot", "--full",
                                  *([] if path == files[-1] else ["--no-prepare"]),  # several in a row: the last
                                  "--format", "json", check=True).stdout) for path in files]
    return out


@pytest.fixture(scope="module", params=[
    pytest.param(("api", "duckdb"), id="api-duckdb"),
    pytest.param(("api", "postgres"), id="api-postgres", marks=pytest.mark.postgres),
    pytest.param(("cli", "duckdb"), id="cli-duckdb"),
    pytest.param(("cli", "postgres"), id="cli-postgres", marks=pytest.mark.postgres),
])
def imported(request: pytest.FixtureRequest,
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, list[dict[str, object]]]]:
    """The three exports imported into a fresh workspace (on DuckDB, on a real PostgreSQL), through the workspace
    or the command line: once for the tests below, which only read it."""
    via, engine = request.param
    folder = tmp_path_factory.mktemp(f"hubspot-{via}-{engine}")
    warehouse = None
    if engine == "postgres":
        warehouse = request.getfixturevalue("postgres_server").create_database(f"cadence_hubspot_{via}")
    ws = cadence.open(init_workspace(folder / "ws", company="Test Co", warehouse=warehouse))
    summaries = _ingest_all(ws, _exports(folder / "exports"), via)
    if via == "cli":
        ws = cadence.open(ws.root)
    yield ws, summaries
    ws.close()


def test_deleted_deals_are_kept_but_never_counted(imported: tuple[Workspace, list[dict[str, object]]]) -> None:
    ws, summaries = imported
    everything = ws.table("opportunities", include_deleted=True).to_pandas().set_index("opportunity_id")
    assert set(everything.index) == {str(n) for n in range(101, 113)}
    assert set(everything.index[everything["deleted_at"].notna()]) == DELETED
    # deleted on the day of the export that no longer held them (the date in its file name)
    assert set(everything.loc[sorted(DELETED), "deleted_at"]) == {T("2024-03-18")}
    counted = ws.table("opportunities").to_pandas()
    assert set(counted["opportunity_id"]) == {str(n) for n in range(101, 113)} - DELETED
    assert float(ws.metric("open_pipeline", grain="year")["value"].sum()) == pytest.approx(
        sum(OPEN_AMOUNTS.values()))
    assert float(ws.metric("won_deals", grain="year")["value"].sum()) == len(WON)
    full = summaries[-1]["full"]
    assert isinstance(full, dict)
    assert (full["deleted"], full["undeleted"]) == (2, 1)
    assert full["exports"][0]["dated_by"] == "the date in the file name"  # type: ignore[index]


def test_closed_abandoned_is_lost_not_pipeline(imported: tuple[Workspace, list[dict[str, object]]]) -> None:
    ws, _ = imported
    opps = ws.table("opportunities").to_pandas().set_index("opportunity_id")
    abandoned = opps[opps["stage"] == "Closed: abandoned"]
    assert set(abandoned.index) == {"101", "107"}  # 108 is deleted
    assert abandoned["is_closed"].all() and not abandoned["is_won"].any()


def test_changes_between_exports_become_history(imported: tuple[Workspace, list[dict[str, object]]]) -> None:
    ws, summaries = imported
    history = ws.table("opportunity_history", include_deleted=True).to_pandas()
    rows = {(r.opportunity_id, T(r.changed_at), r.stage, float(r.amount), str(pd.Timestamp(r.close_date).date()))
            for r in history.itertuples()}
    assert rows == EXPECTED_HISTORY
    assert set(history["source"]) == {"hubspot snapshot"}
    counted = ws.table("opportunity_history").to_pandas()  # a deleted deal's history is not counted either
    assert set(counted["opportunity_id"]) == {str(n) for n in range(101, 113)} - DELETED
    changes = [s["full"]["history_rows"] for s in summaries]  # type: ignore[index]
    assert changes == [0, 4, 3]  # week 2: 101, 102, 104, 110; week 3: 101, 102, 111


def test_inferred_stages_in_the_summary_and_in_cadence_yml(
        imported: tuple[Workspace, list[dict[str, object]]]) -> None:
    ws, summaries = imported
    inferred = summaries[0]["inferred"]
    assert isinstance(inferred, list)
    assert [(i["stage"], i["outcome"], i["position"]) for i in inferred] == [
        (stage, outcome, n) for n, (stage, outcome) in enumerate(EXPECTED_STAGES, start=1)]
    why = {i["stage"]: i["why"] for i in inferred}
    assert "name" in why["Closed: abandoned"] and "forecast category" in why["Proposal sent"]
    assert summaries[1]["inferred"] == [] and summaries[2]["inferred"] == []  # cadence.yml's list is used
    written = yaml.safe_load((ws.root / "cadence.yml").read_text(encoding="utf-8"))["pipelines"][PIPELINE]
    assert [(s["name"], "won" if s.get("won") else "lost" if s.get("lost") else "open") for s in written] == \
        EXPECTED_STAGES
    stages = ws.stages()
    mine = stages[stages["pipeline"] == PIPELINE].sort_values("position")
    assert list(mine["stage"]) == [s for s, _ in EXPECTED_STAGES]


def test_cadence_yml_keeps_its_comments_when_the_stages_are_written(workspace: Workspace, tmp_path: Path) -> None:
    path = workspace.root / "cadence.yml"
    before = path.read_text(encoding="utf-8")
    workspace.ingest(_exports(tmp_path / "exports")[0], "hubspot", full=True)
    after = path.read_text(encoding="utf-8")
    kept = [line for line in before.splitlines() if not line.startswith("pipelines:")]
    assert [line for line in after.splitlines() if line in kept] == kept  # every other line, comments included
    assert "# inferred: lost: the name says so" in after
    cadence.open(workspace.root).close()  # and it still loads


def test_cadence_yml_stages_are_used_over_inference_and_check_flags_open_deals_in_closed_stages(
        any_workspace: Workspace, tmp_path: Path) -> None:
    """A user who listed `Closed: abandoned` as open (the mistake of the real case) gets told."""
    path = any_workspace.root / "cadence.yml"
    path.write_text(path.read_text(encoding="utf-8") + "\npipelines:\n  Sales Pipeline:\n"
                    "    - {name: Discovery call}\n    - {name: Demo given}\n    - {name: Proposal sent}\n"
                    "    - {name: Contract out}\n    - {name: 'Closed: abandoned'}\n"
                    "    - {name: Closed won, won: true}\n    - {name: Closed lost, lost: true}\n", encoding="utf-8")
    ws = cadence.open(any_workspace.root)
    try:
        prepared = ws.ingest(_exports(tmp_path / "exports")[0], "hubspot")
        assert prepared.summary()["inferred"] == []
        opps = ws.table("opportunities").to_pandas().set_index("opportunity_id")
        assert not opps.loc[["107", "108"], "is_closed"].any()  # as cadence.yml says, wrongly
        findings = {f.check: f for f in check_data_quality(ws, today=pd.Timestamp("2024-03-04").date())}
        flagged = findings["open_in_closed_stage"]
        assert flagged.count == 2 and set(flagged.examples) == {"107", "108"}
        assert "Closed: abandoned" in flagged.message
    finally:
        ws.close()


def test_without_full_nothing_is_deleted(workspace: Workspace, tmp_path: Path) -> None:
    files = _exports(tmp_path / "exports")
    workspace.ingest(files[0], "hubspot")
    workspace.ingest(files[2], "hubspot")
    opps = workspace.table("opportunities", include_deleted=True).to_pandas()
    assert opps["deleted_at"].isna().all()


def test_the_export_date_comes_from_the_newest_last_modified_date_without_a_date_in_the_name(
        workspace: Workspace, tmp_path: Path) -> None:
    first = write_csv(tmp_path / "deals.csv", HEADER, WEEK_1)
    second = write_csv(tmp_path / "deals (1).csv", HEADER, WEEK_2)
    workspace.ingest(first, "hubspot", full=True)
    summary = workspace.ingest(second, "hubspot", full=True).summary()
    export = summary["full"]["exports"][0]  # type: ignore[index]
    assert export["dated_by"] == "the newest last-modified time in the file"
    assert export["date"] == "2024-03-09 11:00:00"  # 104's, the newest Last Modified Date of week 2
    deleted = workspace.table("opportunities", include_deleted=True).to_pandas().set_index("opportunity_id")
    assert deleted.loc["109", "deleted_at"] == T("2024-03-09 11:00")
    history = workspace.table("opportunity_history").to_pandas().set_index(["opportunity_id", "changed_at"])
    assert history.loc[("110", T("2024-03-09 11:00")), "close_date"] == T("2024-07-31")


# -- Salesforce: the same rules for Opportunity exports ---------------------------------------------------
SF_HEADER = ["Id", "Name", "StageName", "StageSortOrder", "Amount", "CurrencyIsoCode", "IsClosed", "IsWon",
             "CloseDate", "CreatedDate", "LastModifiedDate"]


def test_salesforce_full_exports_without_field_history(any_workspace: Workspace, tmp_path: Path) -> None:
    x, y = "006Hs00000XxXxXAAA", "006Hs00000YyYyYAAA"
    first = write_csv(tmp_path / "week1" / "Opportunity-2024-02-05.csv", SF_HEADER, [
        [x, "Planta Monterrey", "Negociación", "4", "5000", "USD", "false", "false", "2024-03-29",
         "2024-01-10T15:00:00.000Z", "2024-02-01T10:00:00.000Z"],
        [y, "Piloto Lima", "Interés", "2", "800", "USD", "false", "false", "2024-04-30",
         "2024-01-20T15:00:00.000Z", "2024-01-25T10:00:00.000Z"],
    ])
    second = write_csv(tmp_path / "week2" / "Opportunity-2024-02-15.csv", SF_HEADER, [
        [x, "Planta Monterrey", "Ganada", "5", "5200", "USD", "true", "true", "2024-02-10",
         "2024-01-10T15:00:00.000Z", "2024-02-10T16:00:00.000Z"],
    ])
    any_workspace.ingest(first, "salesforce", full=True)
    any_workspace.ingest(second, "salesforce", full=True)
    opps = any_workspace.table("opportunities", include_deleted=True).to_pandas().set_index("opportunity_id")
    assert opps.loc[y, "deleted_at"] == T("2024-02-15") and pd.isna(opps.loc[x, "deleted_at"])
    history = any_workspace.table("opportunity_history", include_deleted=True).to_pandas()
    assert {(r.opportunity_id, T(r.changed_at), r.stage, float(r.amount)) for r in history.itertuples()} == {
        (x, T("2024-01-10 15:00"), "Negociación", 5000.0), (x, T("2024-02-10 16:00"), "Ganada", 5200.0),
        (y, T("2024-01-20 15:00"), "Interés", 800.0)}
    assert set(history["source"]) == {"salesforce snapshot"}


def test_a_full_export_with_its_own_history_adds_none(workspace: Workspace, tmp_path: Path) -> None:
    from tests.test_stages import PATHS, write_org

    workspace.ingest(write_org(tmp_path / "org", PATHS), "salesforce", full=True)
    history = workspace.table("opportunity_history").to_pandas()
    assert set(history["source"]) == {"salesforce"}
    assert len(history) == sum(len(path) for path in PATHS.values())
