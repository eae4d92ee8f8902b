"""The registry's sales metrics on the real Maven CRM sample equal a plain reading of its CSV files."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest

import cadence
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("maven") / "ws"))
    ws.ingest(dataset("maven-crm"), "maven")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def raw(dataset: Dataset) -> pd.DataFrame:
    """The pipeline file read directly, with each agent's regional office; closed deals only."""
    pipeline = pd.read_csv(dataset("maven-crm/sales_pipeline.csv"), parse_dates=["engage_date", "close_date"])
    teams = pd.read_csv(dataset("maven-crm/sales_teams.csv"))
    frame = pipeline.merge(teams, on="sales_agent", how="left")
    closed = frame[frame["deal_stage"].isin(["Won", "Lost"])].copy()
    closed["quarter"] = closed["close_date"].dt.year.astype(str) + "-Q" + closed["close_date"].dt.quarter.astype(str)
    closed["won"] = closed["deal_stage"] == "Won"
    closed["cycle"] = (closed["close_date"] - closed["engage_date"]).dt.days
    return closed


def _expected(raw: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    won = raw[raw["won"]]
    out = pd.DataFrame({
        "bookings": won.groupby(keys)["close_value"].sum(),
        "win_rate": raw.groupby(keys)["won"].mean(),
        "average_deal_size": won.groupby(keys)["close_value"].mean(),
        "sales_cycle": won.groupby(keys)["cycle"].median(),
    })
    return out.reset_index()


@pytest.mark.parametrize("by", [[], ["team"]])
@pytest.mark.parametrize("name", ["bookings", "win_rate", "average_deal_size", "sales_cycle"])
def test_matches_the_raw_files(maven: Workspace, raw: pd.DataFrame, name: str, by: list[str]) -> None:
    got = maven.metric(name, by=by, grain="quarter").rename(columns={"period": "quarter"})
    keys = ["quarter", *(["regional_office"] if by else [])]
    want = _expected(raw, keys).rename(columns={"regional_office": "team"})[["quarter", *by, name]]
    merged = want.merge(got, on=["quarter", *by], how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    np.testing.assert_allclose(merged["value"].astype(float), merged[name].astype(float), rtol=1e-9)


def test_explain_drills_down_to_the_rows(maven: Workspace, raw: pd.DataFrame) -> None:
    from cadence.metrics.explain import explain_metric

    explanation = explain_metric(maven, "bookings", period="2017-Q2", limit=5)
    won = raw[raw["won"] & (raw["quarter"] == "2017-Q2")]
    assert explanation.row_count == len(won)
    assert explanation.value == pytest.approx(won["close_value"].sum())
    assert "SELECT" in explanation.sql[0] and len(explanation.rows) == 5
