"""The Maven CRM sample, imported from the real files: every row, reconciled, idempotent, and the
figures equal to an independent reading of the same CSVs with the csv module."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.errors import InputError
from cadence.ingest.maven import slug
from cadence.ingest.prepare import PreparedImport
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset

TABLES = ["accounts", "people", "products", "stages", "opportunities", "opportunity_history"]


def rows_of(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@dataclass
class Imported:
    ws: Workspace
    folder: Path
    first: PreparedImport
    second: PreparedImport
    before: dict[str, pd.DataFrame]


def snapshot(ws: Workspace) -> dict[str, pd.DataFrame]:
    frames = {}
    for name in TABLES:
        frame = ws.table(name).to_pandas()
        frames[name] = frame.sort_values(list(frame.columns)).reset_index(drop=True)
    return frames


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Imported]:
    """The sample imported twice into one workspace, with the tables as they were after the first run."""
    folder = dataset("maven-crm")
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("maven") / "ws", company="Maven"))
    first = ws.ingest(folder, "maven")
    before = snapshot(ws)
    second = ws.ingest(folder, "maven")
    yield Imported(ws, folder, first, second, before)
    ws.close()


@pytest.fixture(scope="module")
def pipeline(dataset: Dataset) -> list[dict[str, str]]:
    return rows_of(dataset("maven-crm/sales_pipeline.csv"))


def test_every_record_of_every_file_is_loaded(maven: Imported) -> None:
    files = {Path(f["path"]).name: f for f in maven.first.summary()["files"]}
    expected = {name: len(rows_of(maven.folder / name))
                for name in ("accounts.csv", "products.csv", "sales_teams.csv", "sales_pipeline.csv")}
    assert expected == {"accounts.csv": 85, "products.csv": 7, "sales_teams.csv": 35, "sales_pipeline.csv": 8800}
    for name, count in expected.items():
        assert files[name] == {"path": str(maven.folder / name), "read": count, "loaded": count, "quarantined": 0,
                               "encoding": "utf-8"}
    assert maven.first.read == maven.first.loaded + maven.first.quarantined == sum(expected.values())
    counts = maven.ws.counts()
    assert (counts["accounts"], counts["products"], counts["opportunities"]) == (85, 7, 8800)


def test_the_data_dictionary_is_listed_as_skipped_not_ignored(maven: Imported) -> None:
    skipped = dict(maven.first.skipped)
    assert list(skipped) == [str(maven.folder / "data_dictionary.csv")]
    assert "documentation" in skipped[str(maven.folder / "data_dictionary.csv")]


def test_a_second_run_changes_nothing(maven: Imported) -> None:
    after = snapshot(maven.ws)
    for name in TABLES:
        pd.testing.assert_frame_equal(maven.before[name], after[name], obj=name)
    assert maven.second.summary()["files"] == maven.first.summary()["files"]
    assert maven.ws.warehouse.count("quarantine") == 0


def test_reps_and_their_managers(maven: Imported) -> None:
    teams = rows_of(maven.folder / "sales_teams.csv")
    people = maven.ws.table("people").to_pandas().set_index("person_id")
    reps = people[people["role"] == "rep"]
    managers = people[people["role"] == "manager"]
    assert len(reps) == len(teams) == 35
    assert set(managers.index) == {slug(r["manager"]) for r in teams}
    assert set(reps["manager_id"]) == set(managers.index)
    assert {(slug(r["sales_agent"]), r["regional_office"]) for r in teams} == set(zip(reps.index, reps["team"],
                                                                                     strict=True))


def test_accounts_revenue_in_dollars_sector_spelling_and_parents(maven: Imported) -> None:
    source = rows_of(maven.folder / "accounts.csv")
    accounts = maven.ws.table("accounts").to_pandas().set_index("account_id")
    for row in source:
        account = accounts.loc[slug(row["account"])]
        assert Decimal(str(account["annual_revenue"])) == Decimal(row["revenue"]) * 1_000_000
        assert account["employees"] == int(row["employees"])
    assert "technolgy" not in set(accounts["industry"])
    assert (accounts["industry"] == "technology").sum() == sum(r["sector"] == "technolgy" for r in source) > 0
    parents = accounts["parent_account_id"].dropna()
    assert len(parents) == sum(bool(r["subsidiary_of"]) for r in source) and set(parents) <= set(accounts.index)


def test_won_deals_count_and_amount_match_the_csv(maven: Imported, pipeline: list[dict[str, str]]) -> None:
    won = [r for r in pipeline if r["deal_stage"] == "Won"]
    deals = maven.ws.table("opportunities")
    won_deals = deals.filter(deals.is_won)
    assert won_deals.count().execute() == len(won) == 4238
    assert Decimal(str(won_deals.amount.sum().execute())) == sum(Decimal(r["close_value"]) for r in won)
    closed = deals.filter(deals.is_closed).count().execute()
    assert closed == sum(r["deal_stage"] in {"Won", "Lost"} for r in pipeline)


def test_gtxpro_is_read_as_the_product_the_catalogue_names(maven: Imported, pipeline: list[dict[str, str]]) -> None:
    deals = maven.ws.table("opportunities").to_pandas()
    products = set(maven.ws.table("products").to_pandas()["name"])
    by_product = Counter(deals["product"])
    assert "GTXPro" not in by_product
    assert by_product["GTX Pro"] == sum(r["product"] in {"GTXPro", "GTX Pro"} for r in pipeline) == 1480
    assert set(by_product) <= products


def test_open_deals_without_an_account_are_kept(maven: Imported, pipeline: list[dict[str, str]]) -> None:
    deals = maven.ws.table("opportunities").to_pandas()
    no_account = deals[deals["account_id"].isna()]
    assert len(no_account) == sum(not r["account"] for r in pipeline) == 1425
    assert not no_account["is_closed"].any()


def test_history_and_the_undated_prospecting_deals(maven: Imported, pipeline: list[dict[str, str]]) -> None:
    history = maven.ws.table("opportunity_history").to_pandas()
    closed = sum(r["deal_stage"] in {"Won", "Lost"} for r in pipeline)
    undated = sum(not r["engage_date"] for r in pipeline)
    # one opening row per dated deal, one closing row per closed deal; an undated deal has no moment to record
    assert len(history) == len(pipeline) - undated + closed
    deals = maven.ws.table("opportunities").to_pandas()
    prospecting = deals[deals["stage"] == "Prospecting"]
    assert len(prospecting) == sum(r["deal_stage"] == "Prospecting" for r in pipeline) == undated == 500
    assert prospecting["created_at"].isna().all()  # no date made up for them
    assert deals.loc[deals["stage"] != "Prospecting", "created_at"].notna().all()
    assert not set(history["opportunity_id"]) & set(prospecting["opportunity_id"])
    dated = deals[deals["created_at"].notna()]
    last = history.sort_values("changed_at").groupby("opportunity_id").last()
    assert (last.loc[dated["opportunity_id"], "stage"].to_numpy() == dated["stage"].to_numpy()).all()


def test_a_closed_deal_without_its_close_date_is_quarantined(tmp_path: Path, dataset: Dataset,
                                                             workspace: Workspace) -> None:
    folder = tmp_path / "maven"
    folder.mkdir()
    shutil.copy(dataset("maven-crm/products.csv"), folder)
    (folder / "sales_pipeline.csv").write_bytes(
        b"opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value\r\n"
        b"A1,Moses Frase,GTXPro,Cancity,Won,2017-01-02,2017-02-01,4500\r\n"
        b"A2,Moses Frase,GTX Basic,Cancity,Won,2017-01-02,,500\r\n"
        b"A3,Moses Frase,GTX Basic,,Lost,2017-01-05,2017-01-09,lots\r\n")
    prepared = workspace.ingest(folder, "maven")
    assert prepared.summary()["files"][1] == {"path": str(folder / "sales_pipeline.csv"), "read": 3, "loaded": 1,
                                              "quarantined": 2, "encoding": "utf-8"}
    quarantine = workspace.table("quarantine").to_pandas()
    problems = quarantine[quarantine["target_table"] == "opportunities"].set_index("line")
    assert problems.loc[3, "column_name"] == "closed_at" and "close_date" in problems.loc[3, "reason"]
    assert (problems.loc[4, "column_name"], problems.loc[4, "value"]) == ("amount", "lots")
    history = workspace.table("opportunity_history").to_pandas()
    assert list(history[history["opportunity_id"] == "A1"]["stage"]) == ["Engaging", "Won"]
    assert "A2" not in set(history["opportunity_id"])


def test_a_missing_column_names_the_file_and_the_column(tmp_path: Path, workspace: Workspace) -> None:
    teams = tmp_path / "sales_teams.csv"
    teams.write_bytes(b"sales_agent,regional_office\r\nAnna Snelling,Central\r\n")
    with pytest.raises(InputError) as caught:
        workspace.ingest(teams, "maven")
    assert str(caught.value).startswith(f"{teams}, line 1: missing required column 'manager'")
