"""Rows the source does not date stay undated, and every figure that needs a date says how many it left out.

A lead list with no date column, and Maven's Prospecting deals (the sample gives them no date at all), are
loaded with created_at empty — nothing made up. Counts are recomputed here from the files with pandas.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import cadence
from cadence.analysis.forecast import forecast_quarter
from cadence.analysis.forecast.data import load_forecast_data
from cadence.analysis.forecast.snapshot import pipeline_as_of
from cadence.cli.main import app, register_commands, state
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset

register_commands()

# A trade-show list exported with no date column, and a web-form export with one (HubSpot-like headers)
SHOW_LEADS = [("TS-1", "ana.gomez@andina.mx", "converted"), ("TS-2", "joao@saopaulo.br", "open"),
              ("TS-3", "lena@zuerich.ch", "open"), ("TS-4", "pedro.nunez@lima.pe", "converted"),
              ("TS-5", "sofia@bogota.co", "Disqualified")]
WEB_LEADS = [("W-1", "2024-01-08 09:15", "Web form", "open"), ("W-2", "2024-01-30 17:02", "Web form", "converted"),
             ("W-3", "2024-02-11 11:40", "Webinar", "open"), ("W-4", "", "Webinar", "open")]


def cli(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(root), *args])
    state.today = None
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def leads_root(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("undated-leads")
    pd.DataFrame(SHOW_LEADS, columns=["Lead ID", "Email", "Lead Status"]).to_csv(folder / "show.csv", index=False)
    pd.DataFrame(WEB_LEADS, columns=["Record ID", "Create Date", "Original Source", "Lead Status"]).to_csv(
        folder / "web.csv", index=False)
    (folder / "show.yml").write_text(  # no created_at: the list does not say when anyone was met
        "files:\n  - file: show.csv\n    table: leads\n    columns:\n"
        "      lead_id: Lead ID\n      email: Email\n      status: Lead Status\n", encoding="utf-8")
    (folder / "web.yml").write_text(
        "files:\n  - file: web.csv\n    table: leads\n    columns:\n      lead_id: Record ID\n"
        "      created_at: Create Date\n      channel: Original Source\n      status: Lead Status\n",
        encoding="utf-8")
    root = init_workspace(folder / "ws")
    with cadence.open(root) as ws:
        ws.ingest(folder / "show.csv", "csv", mapping=folder / "show.yml")
        ws.ingest(folder / "web.csv", "csv", mapping=folder / "web.yml")
    yield root


def test_undated_leads_load_with_no_date_made_up(leads_root: Path) -> None:
    with cadence.open(leads_root) as ws:
        leads = ws.table("leads").to_pandas().set_index("lead_id")
    assert len(leads) == len(SHOW_LEADS) + len(WEB_LEADS)
    undated = {lead for lead, *_ in SHOW_LEADS} | {lead for lead, created, *_ in WEB_LEADS if not created}
    assert set(leads.index[leads["created_at"].isna()]) == undated


def test_metric_table_says_how_many_leads_it_leaves_out(leads_root: Path) -> None:
    undated = len(SHOW_LEADS) + sum(not created for _, created, *_ in WEB_LEADS)  # 5 + 1
    dated = pd.Series([pd.Timestamp(created) for _, created, *_ in WEB_LEADS if created])
    by_month = dated.dt.strftime("%Y-%m").value_counts().sort_index()
    data = json.loads(cli(leads_root, "metric", "leads", "--format", "json"))
    assert data["undated"] == undated == 6
    assert {r["period"]: r["value"] for r in data["rows"]} == {str(m): float(n) for m, n in by_month.items()}
    table = cli(leads_root, "metric", "leads")
    assert "6 leads have no created_at and are left out" in " ".join(table.split())


def test_the_where_filter_counts_only_the_undated_rows_it_would_keep(leads_root: Path) -> None:
    data = json.loads(cli(leads_root, "metric", "leads", "--where", "channel = 'Webinar'", "--format", "json"))
    assert data["undated"] == sum(src == "Webinar" and not created for _, created, src, _ in WEB_LEADS) == 1
    assert "1 lead has no created_at and is left out" in " ".join(
        cli(leads_root, "metric", "leads", "--where", "channel = 'Webinar'").split())


def test_a_fully_dated_figure_says_nothing(leads_root: Path) -> None:
    data = json.loads(cli(leads_root, "metric", "leads", "--where", "channel = 'Web form'", "--format", "json"))
    assert data["undated"] == 0
    assert "left out" not in cli(leads_root, "metric", "leads", "--where", "channel = 'Web form'")


# -- Maven's Prospecting deals ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    root = init_workspace(tmp_path_factory.mktemp("maven-undated") / "ws")
    with cadence.open(root) as ws:
        ws.ingest(dataset("maven-crm"), "maven")
    ws = cadence.open(root)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def pipeline_csv(dataset: Dataset) -> pd.DataFrame:
    return pd.read_csv(dataset("maven-crm/sales_pipeline.csv"), parse_dates=["engage_date", "close_date"])


def test_prospecting_deals_are_created_nowhere_in_time(maven: Workspace, pipeline_csv: pd.DataFrame) -> None:
    undated = int(pipeline_csv["engage_date"].isna().sum())
    assert undated == int((pipeline_csv["deal_stage"] == "Prospecting").sum())
    created = json.loads(cli(maven.root, "metric", "opportunities_created", "--grain", "quarter", "--format", "json"))
    assert created["undated"] == undated
    by_quarter = pipeline_csv["engage_date"].dropna().dt.to_period("Q").value_counts()
    assert {r["period"]: r["value"] for r in created["rows"]} == {
        f"{p.year}-Q{p.quarter}": float(n) for p, n in by_quarter.items()}
    # the last quarter used to gain every Prospecting deal on the file's last day
    amounts = json.loads(cli(maven.root, "metric", "pipeline_created", "--grain", "quarter", "--format", "json"))
    assert amounts["undated"] == undated
    assert f"{undated} deals have no created_at and are left out" in " ".join(
        cli(maven.root, "metric", "opportunities_created", "--grain", "quarter").split())


def test_dated_by_close_figures_are_untouched(maven: Workspace, pipeline_csv: pd.DataFrame) -> None:
    won = pipeline_csv[pipeline_csv["deal_stage"] == "Won"]
    cycle = json.loads(cli(maven.root, "metric", "sales_cycle", "--grain", "year", "--format", "json"))
    assert cycle["undated"] == 0  # every won deal has its close date
    expected = (won["close_date"] - won["engage_date"]).dt.days.groupby(won["close_date"].dt.year).median()
    assert {r["period"]: r["value"] for r in cycle["rows"]} == pytest.approx(
        {str(y): float(v) for y, v in expected.items()})


def test_the_forecast_leaves_undated_deals_out_of_every_pipeline_and_says_so(maven: Workspace,
                                                                            pipeline_csv: pd.DataFrame) -> None:
    data = load_forecast_data(maven)
    undated = int(pipeline_csv["engage_date"].isna().sum())
    assert data.undated == undated
    snapshot = pipeline_as_of(data, data.end)
    engaged = pipeline_csv.dropna(subset=["engage_date"])
    still_open = engaged["close_date"].isna()
    assert len(snapshot.open) == int(still_open.sum())
    assert not set(snapshot.deals["opportunity_id"]) & set(pipeline_csv.loc[pipeline_csv["engage_date"].isna(),
                                                                               "opportunity_id"])
    result = forecast_quarter(maven, maven.calendar)
    assert any(note.startswith(f"{undated} deals have no created_at and no history") for note in result.notes)


def test_quality_checks_skip_the_undated(maven: Workspace, pipeline_csv: pd.DataFrame) -> None:
    check = json.loads(cli(maven.root, "check", "--format", "json"))
    found = {f["check"]: f["count"] for f in check["findings"]}
    closed = pipeline_csv[pipeline_csv["deal_stage"].isin(["Won", "Lost"])]
    before = int((closed["close_date"] < closed["engage_date"]).sum())  # NaT compares False: undated skipped
    same_day = int(((closed["deal_stage"] == "Won") & (closed["close_date"] == closed["engage_date"])).sum())
    assert found.get("closed_before_created", 0) == before
    assert found.get("won_on_creation_day", 0) == same_day


def test_funnel_cohorts_hold_only_deals_created_in_them(maven: Workspace, pipeline_csv: pd.DataFrame) -> None:
    from cadence.analysis.funnel import funnel

    start, end = date(2017, 4, 1), date(2017, 7, 1)
    quarter = funnel(maven, start=start, end=end).as_dict()
    cohort = pipeline_csv[(pipeline_csv["engage_date"] >= pd.Timestamp(start))
                          & (pipeline_csv["engage_date"] < pd.Timestamp(end))]
    assert (quarter["deals"], quarter["without_history"]) == (len(cohort), 0)
    # over all time the undated deals belong to the cohort, and are named as having no history to follow
    everything = funnel(maven).as_dict()
    undated = int(pipeline_csv["engage_date"].isna().sum())
    assert (everything["deals"], everything["without_history"]) == (len(pipeline_csv) - undated, undated)
