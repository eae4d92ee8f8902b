"""Thin data said out loud: a backtest over too few quarters names no best method, a missing method says
why (with the volumes Einstein and Gong ask for), every rate carries its counts, and a lead whose status
says converted counts as converted."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pandas as pd
import pytest
from typer.testing import CliRunner

import cadence
from cadence.cli.main import app, register_commands
from cadence.workspace import Workspace, init_workspace
from tests.latam_org import build_org

register_commands()


@pytest.fixture(scope="module")
def org_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("thin")
    org = build_org(root / "org")  # one year of deals: two complete quarters can be replayed
    ws = cadence.open(init_workspace(root / "ws", company="Andes SA"))
    ws.ingest(org.folder, "salesforce")
    yield ws
    ws.close()


def cli(ws: Workspace, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(ws.root), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_short_backtest_ranks_nothing_and_says_why(org_ws: Workspace) -> None:
    data = json.loads(cli(org_ws, "forecast", "backtest", "--format", "json"))
    quarters = {r["quarter"] for r in data["rows"]}
    assert 0 < len(quarters) < 4
    assert data["headline"] is None
    assert "too few to rank" in data["not_ranked"]
    for score in data["summary"]:  # coverage is a share of a handful of quarters: its counts come with it
        rows = [r for r in data["rows"] if r["method"] == score["method"] and r["checkpoint"] == score["checkpoint"]]
        judged = [r for r in rows if r["inside"] is not None]
        assert score["with_interval"] == len(judged)
        assert score["inside"] == sum(bool(r["inside"]) for r in judged)
    table = cli(org_ws, "forecast", "backtest")
    assert "No best method" in table and "best method," not in table


def test_a_missing_method_says_why_with_the_industry_thresholds(org_ws: Workspace) -> None:
    data = json.loads(cli(org_ws, "forecast", "backtest", "--format", "json"))
    assert "win_model" not in {r["method"] for r in data["rows"]}
    reason = data["missing_methods"]["win_model"]
    assert "won" in reason and "200 won and 200 lost" in reason and "50 won and 150 lost" in reason
    text = " ".join(cli(org_ws, "forecast", "backtest").split())
    assert "win_model is missing" in text and "Einstein" in text and "Gong" in text


def test_win_rate_by_quarter_shows_its_counts(org_ws: Workspace) -> None:
    deals = org_ws.table("opportunities").to_pandas()
    closed = deals[deals["is_closed"].astype(bool)].copy()
    closed["quarter"] = org_ws.calendar.labels(pd.to_datetime(closed["close_date"]).dt.date, "quarter")
    table = cli(org_ws, "metric", "win_rate", "--grain", "quarter")
    for quarter, group in closed.groupby("quarter"):
        won, total = int(group["is_won"].astype(bool).sum()), len(group)
        assert f"{won / total:.1%} ({won:,} of {total:,})" in table, quarter


def test_funnel_rates_carry_their_counts(org_ws: Workspace) -> None:
    table = cli(org_ws, "funnel")
    for stage in json.loads(cli(org_ws, "funnel", "--format", "json"))["stages"]:
        if stage["conversion"] is not None:
            assert f"({stage['advanced']:,} of {stage['decided']:,})" in table
        if stage["win_rate"] is not None:
            assert f"({stage['won']:,} of {stage['closed']:,})" in table


def test_status_converted_counts_and_undated_leads_stay_out(tmp_path_factory: pytest.TempPathFactory) -> None:
    root = tmp_path_factory.mktemp("leads")
    rows = [("L1", "2024-01-05", "Converted"), ("L2", "2024-01-09", "open"), ("L3", "2024-01-12", "converted"),
            ("L4", "2024-02-02", "Disqualified"), ("L5", "2024-02-20", "CONVERTED"), ("L6", "", "converted"),
            ("L7", "2024-02-21", "open"), ("L8", "", "open")]
    leads = pd.DataFrame(rows, columns=["Lead ID", "Created", "Lead Status"])
    leads.to_csv(root / "leads.csv", index=False)
    (root / "leads.yml").write_text("files:\n  - file: leads.csv\n    table: leads\n    columns:\n"
                                    "      lead_id: Lead ID\n      created_at: Created\n      status: Lead Status\n",
                                    encoding="utf-8")
    ws = cadence.open(init_workspace(root / "ws"))
    try:
        ws.ingest(root / "leads.csv", "csv", mapping=root / "leads.yml")
        frame = ws.metric("lead_conversion", grain="month")
        dated = leads[leads["Created"] != ""].copy()
        dated["month"] = dated["Created"].str[:7]
        dated["converted"] = dated["Lead Status"].str.lower() == "converted"
        expected = dated.groupby("month")["converted"].mean()
        got = dict(zip(frame["period"].astype(str), frame["value"], strict=True))
        assert got == pytest.approx(expected.to_dict())
        assert int(ws.metric("leads", grain="year")["value"].sum()) == len(dated)  # undated leads left out
    finally:
        ws.close()
