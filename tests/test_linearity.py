"""Linearity: each quarter's share of bookings closed in its third month, and the verdict (healthy up to 40%,
back-loaded above, hockey stick from 60%) — computed by hand with pandas from the won deals, on the demo company
and on hand-made quarters, in `cadence incentives` and in the scorecard."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest
from typer.testing import CliRunner

import cadence
from cadence.analysis.incentives.bunching import bookings_bunching, linearity_verdict
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.report.model import ScorecardContext
from cadence.report.sections.incentives import IncentivesSection
from cadence.workspace import Workspace, init_workspace


def by_hand(won: pd.DataFrame, first_month: int) -> pd.DataFrame:
    """Per fiscal quarter (fiscal years starting in `first_month`): bookings and the share closed in its third month."""
    day = pd.to_datetime(won["day"])
    months_in = (day.dt.month - first_month) % 12  # 0 … 11 within the fiscal year
    frame = pd.DataFrame({"amount": won["amount"].astype(float),
                          "year_start": day.dt.year - (day.dt.month < first_month).astype(int),
                          "quarter": months_in // 3 + 1, "month_of_quarter": months_in % 3 + 1})
    totals = frame.groupby(["year_start", "quarter"])["amount"].sum()
    third = frame[frame["month_of_quarter"] == 3].groupby(["year_start", "quarter"])["amount"].sum()
    return pd.DataFrame({"bookings": totals, "share": (third.reindex(totals.index).fillna(0) / totals)})


def test_the_demo_companys_third_month_share_by_hand(demo_workspace: Workspace) -> None:
    won = demo_workspace.warehouse.query(
        "SELECT coalesce(close_date, CAST(closed_at AS DATE)), amount FROM opportunities "
        "WHERE is_won AND deleted_at IS NULL AND coalesce(close_date, CAST(closed_at AS DATE)) IS NOT NULL")
    frame = pd.DataFrame(won, columns=["day", "amount"])
    first_month = demo_workspace.config.fiscal_year_start_month
    expected = by_hand(frame, first_month)
    bunching = bookings_bunching(demo_workspace, demo_workspace.calendar)
    assert len(bunching.quarters) == len(expected)
    for quarter, ((year_start, number), row) in zip(bunching.quarters, expected.iterrows(), strict=True):
        month = (first_month - 1 + 3 * (number - 1)) % 12 + 1
        assert quarter.start == date(year_start + (month < first_month), month, 1)
        assert quarter.bookings == pytest.approx(row["bookings"])
        assert quarter.share_month_three == pytest.approx(row["share"]), quarter.quarter
        share = row["share"]
        assert quarter.linearity == ("hockey stick" if share >= 0.6 else "back-loaded" if share > 0.4 else "healthy")
    # the demo's planted bunching in its early years reads as a hockey stick
    assert bunching.years[0].linearity == "hockey stick"
    for year in bunching.years:  # a year: amount-weighted over its quarters
        mine = [q for q in bunching.quarters if q.year == year.year]
        third = sum(q.bookings * (q.share_month_three or 0) for q in mine)
        assert year.share_month_three == pytest.approx(third / sum(q.bookings for q in mine))


def test_verdict_thresholds() -> None:
    assert [linearity_verdict(s) for s in (None, 0.33, 0.40, 0.41, 0.599, 0.60, 0.9)] == [
        None, "healthy", "healthy", "back-loaded", "back-loaded", "hockey stick", "hockey stick"]


# Won deals of 2024 (fiscal year = calendar year): (close date, amount). Q1: 100 + 100 + 300 in March → 60%;
# Q2: 100 + 100 + 150 in June → 42.9%; Q3: 100 in each month → 33.3%.
WON = [("2024-01-15", 100), ("2024-02-10", 100), ("2024-03-05", 200), ("2024-03-29", 100),
       ("2024-04-02", 100), ("2024-05-20", 100), ("2024-06-30", 150),
       ("2024-07-01", 100), ("2024-08-31", 100), ("2024-09-30", 100)]


@pytest.fixture(scope="module")
def quarters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("linearity") / "ws", company="Even Co"))
    deals = pd.DataFrame([{"opportunity_id": f"w{i}", "owner_id": "p1", "stage": "Closed Won", "amount": str(amount),
                           "currency": "USD", "created_at": "2023-12-01 09:00:00", "close_date": day,
                           "closed_at": f"{day} 09:00:00"} for i, (day, amount) in enumerate(WON)])
    frame = deals.assign(_line=range(2, len(deals) + 2))
    prepared = prepare(ImportBatch("csv", [SourceFile("opportunities.csv", len(frame))],
                                   [CanonicalFrame("opportunities", frame, "opportunities.csv")]), ws.stages())
    assert prepared.quarantined == 0
    ws.load(prepared)
    yield ws
    ws.close()


def test_hand_made_quarters(quarters: Workspace) -> None:
    bunching = bookings_bunching(quarters, quarters.calendar, today=date(2024, 9, 30))
    got = {q.quarter: (q.share_month_three, q.linearity) for q in bunching.quarters}
    assert got == {"2024-Q1": (pytest.approx(300 / 500), "hockey stick"),
                   "2024-Q2": (pytest.approx(150 / 350), "back-loaded"),
                   "2024-Q3": (pytest.approx(100 / 300), "healthy")}
    assert bunching.years[0].share_month_three == pytest.approx((300 + 150 + 100) / (500 + 350 + 300))


def test_the_command_and_the_scorecard_name_the_verdict(quarters: Workspace) -> None:
    from cadence.cli.main import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, ["-w", str(quarters.root), "--today", "2024-09-30", "incentives", "--format",
                                      "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [(q["quarter"], round(q["share_month_three"], 4), q["linearity"]) for q in data["quarters"]] == [
        ("2024-Q1", 0.6, "hockey stick"), ("2024-Q2", round(150 / 350, 4), "back-loaded"),
        ("2024-Q3", round(1 / 3, 4), "healthy")]
    assert data["years"][0]["linearity"] == "back-loaded"  # 550 of 1,150: 47.8%
    table = CliRunner().invoke(app, ["-w", str(quarters.root), "--today", "2024-09-30", "incentives"],
                               env={"COLUMNS": "200"})
    assert "hockey stick" in table.output and "month 3" in table.output
    section = IncentivesSection().build(quarters, ScorecardContext("2024-W40", date(2024, 9, 30), date(2024, 10, 7)))
    assert section is not None
    figure = next(f for f in section.figures if "third month" in f.label)
    assert (figure.period, figure.value) == ("2024-Q3", pytest.approx(1 / 3))
    assert figure.note is not None and figure.note.startswith("linearity: healthy")
    assert [row["linearity"] for row in section.rows] == ["back-loaded"]
