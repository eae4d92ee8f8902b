"""Closed deals are dated by the CRM's close date, or by when they closed in the company's time zone.

Deals are written as Salesforce's Data Loader writes Opportunity.csv (`CloseDate` as `2023-03-31
00:00:00`, `LastStageChangeDate` as a UTC timestamp). The key deal was won on 31 March at 20:30 in
Mexico City, which is 02:30 UTC on 1 April: it belongs to 2023-Q1 by its close date and by its local
closing day, and to 2023-Q2 only when the company's time zone is UTC. Expected figures are worked
out by hand below, or recomputed from the CSV with plain pandas.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cadence.analysis.quality import check_data_quality
from cadence.analysis.quality.findings import Finding
from cadence.metrics.explain import explain_metric
from cadence.workspace import Workspace
from tests.ingest_helpers import reopened, write_csv

HEADER = ["Id", "AccountId", "OwnerId", "Name", "StageName", "Amount", "CurrencyIsoCode", "Probability",
          "CloseDate", "CreatedDate", "LastStageChangeDate", "IsClosed", "IsWon", "Type"]
OWNER = "005Hs00000AbCdE1AA"
EVENING_WIN = "006Hs0000000001AAA"  # won 2023-03-31 20:30 in Mexico City = 2023-04-01T02:30:00Z


def _id(n: int) -> str:
    return f"006Hs0000000{n:03d}AAA"


def _deal(n: int, stage: str, close: str, created: str, changed: str) -> list[str]:
    won, closed = stage == "Closed Won", stage in ("Closed Won", "Closed Lost")
    return [_id(n), "001Hs0000000001AAA", OWNER, f"Trato {n}", stage, "1000.00", "USD",
            "100" if won else "0" if closed else "10", close, created, changed,
            str(closed).lower(), str(won).lower(), "New Business"]


# n, stage, CloseDate as exported, CreatedDate, LastStageChangeDate (UTC)
DEALS = [
    (1, "Closed Won", "2023-03-31 00:00:00", "2023-02-20T16:00:00.000Z", "2023-04-01T02:30:00.000Z"),
    (2, "Closed Lost", "2023-02-15 00:00:00", "2023-01-10T15:00:00.000Z", "2023-02-15T18:00:00.000Z"),
    (3, "Closed Won", "2023-05-10 00:00:00", "2023-04-03T15:00:00.000Z", "2023-05-10T17:00:00.000Z"),
    (4, "Closed Lost", "2023-06-30 00:00:00", "2023-04-05T15:00:00.000Z", "2023-06-30T23:30:00.000Z"),
    (5, "Prospecting", "2023-09-30 00:00:00", "2023-05-01T15:00:00.000Z", "2023-05-01T15:00:00.000Z"),
]


def _ingest(ws: Workspace, folder: Path, deals: list[list[str]]) -> None:
    write_csv(folder / "Opportunity.csv", HEADER, deals)
    summary = ws.ingest(folder, "salesforce", encoding="utf-8").summary()
    assert summary["read"] == summary["loaded"] == len(deals), summary


def _by_period(ws: Workspace, metric: str, grain: str = "quarter") -> dict[str, float]:
    frame = ws.metric(metric, grain=grain)  # type: ignore[arg-type]
    return dict(zip(frame["period"], frame["value"], strict=True))


def test_an_evening_win_in_mexico_city_stays_in_its_quarter(any_workspace: Workspace, tmp_path: Path) -> None:
    _ingest(any_workspace, tmp_path / "org", [_deal(*d) for d in DEALS])
    # dated by the CRM's close date (the default): Q1 has deals 1 (won) and 2 (lost), Q2 deals 3 (won) and 4 (lost)
    assert _by_period(any_workspace, "won_deals") == {"2023-Q1": 1, "2023-Q2": 1}
    assert _by_period(any_workspace, "win_rate") == {"2023-Q1": 0.5, "2023-Q2": 0.5}
    with reopened(any_workspace, deal_dating="closed_at", timezone="America/Mexico_City") as ws:
        # 2023-04-01T02:30Z is 2023-03-31 20:30 in Mexico City; deal 4 closed 2023-06-30 17:30 there
        assert _by_period(ws, "won_deals") == {"2023-Q1": 1, "2023-Q2": 1}
        assert _by_period(ws, "win_rate") == {"2023-Q1": 0.5, "2023-Q2": 0.5}
    with reopened(any_workspace, deal_dating="closed_at", timezone="UTC") as ws:
        # in UTC deal 1 closed on 1 April: Q1 keeps only the lost deal 2, Q2 has deals 1, 3 (won) and 4 (lost)
        assert _by_period(ws, "won_deals") == {"2023-Q2": 2}
        assert _by_period(ws, "win_rate") == pytest.approx({"2023-Q1": 0.0, "2023-Q2": 2 / 3})


def test_close_date_written_with_a_time_is_that_day(any_workspace: Workspace, tmp_path: Path) -> None:
    with reopened(any_workspace, timezone="America/Mexico_City") as ws:
        no_stage_change = _deal(6, "Closed Won", "2023-03-31 00:00:00", "2023-03-01T15:00:00.000Z", "")
        _ingest(ws, tmp_path / "org", [_deal(*DEALS[0]), no_stage_change])
        rows = ws.table("opportunities").order_by("opportunity_id").to_pandas()
        assert [pd.Timestamp(d).date() for d in rows["close_date"]] == [date(2023, 3, 31)] * 2
        closed = dict(zip(rows["opportunity_id"], rows["closed_at"].map(pd.Timestamp), strict=True))
        assert closed[EVENING_WIN] == pd.Timestamp("2023-04-01 02:30:00")  # stored in UTC, as exported
        # without LastStageChangeDate: the first moment of 31 March in Mexico City (UTC-6), in UTC
        assert closed[_id(6)] == pd.Timestamp("2023-03-31 06:00:00")
        assert _by_period(ws, "won_deals", "day") == {"2023-03-31": 2}


def _spread_org(seed: int, count: int) -> list[list[str]]:
    """Deals across 2023, a share of them won or lost on a quarter's last evening in Mexico City."""
    rng = random.Random(seed)
    rows = []
    for n in range(1, count + 1):
        fate = rng.choice(["Closed Won", "Closed Lost", "Closed Lost", "Prospecting"])
        created = datetime(2023, 1, 2, 15) + timedelta(days=rng.randrange(0, 250))
        if n % 6 == 0:  # the last evening of a quarter, local time: the next day in UTC
            close = [date(2023, 3, 31), date(2023, 6, 30), date(2023, 9, 30)][n // 6 % 3]
            created = min(created, datetime.combine(close, datetime.min.time()) - timedelta(days=20))
            changed = datetime.combine(close + timedelta(days=1), datetime.min.time()) + timedelta(hours=1, minutes=15)
        else:
            close = (created + timedelta(days=rng.randrange(5, 90))).date()
            changed = datetime.combine(close, datetime.min.time()) + timedelta(hours=rng.randrange(14, 23))
        rows.append(_deal(n, fate, f"{close.isoformat()} 00:00:00", created.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
                          changed.strftime("%Y-%m-%dT%H:%M:%S.000Z")))
    return rows


def test_win_rate_per_quarter_matches_the_crm_close_date(any_workspace: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "org"
    _ingest(any_workspace, folder, _spread_org(seed=3, count=90))
    export = pd.read_csv(folder / "Opportunity.csv", dtype=str)
    closed = export[export["IsClosed"] == "true"].copy()
    closed["quarter"] = pd.to_datetime(closed["CloseDate"].str[:10]).dt.to_period("Q").astype(str).str.replace(
        "Q", "-Q")
    expected = closed.groupby("quarter")["IsWon"].apply(lambda won: (won == "true").mean()).to_dict()
    assert _by_period(any_workspace, "win_rate") == pytest.approx(expected)
    utc = pd.to_datetime(closed["LastStageChangeDate"]).dt.tz_convert("UTC").dt.tz_localize(None)
    assert (utc.dt.to_period("Q").astype(str).str.replace("Q", "-Q") != closed["quarter"]).sum() >= 5


def test_every_definition_names_the_dating_rule(any_workspace: Workspace, tmp_path: Path) -> None:
    _ingest(any_workspace, tmp_path / "org", [_deal(*d) for d in DEALS])
    dated = ("bookings", "won_deals", "closed_deals", "win_rate", "win_rate_amount", "average_deal_size",
             "sales_cycle")
    for name in dated:
        assert "dated by the CRM's close date" in any_workspace.registry.get(name).description, name
    explanation = explain_metric(any_workspace, "win_rate", period="2023-Q1")
    assert explanation.dated_by == "dated by the CRM's close date"
    assert explanation.value == 0.5
    with reopened(any_workspace, deal_dating="closed_at", timezone="America/Mexico_City") as ws:
        for name in dated:
            assert "dated by closed_at in America/Mexico_City" in ws.registry.get(name).description, name
        assert explain_metric(ws, "sales_velocity").dated_by == "dated by closed_at in America/Mexico_City"
        assert explain_metric(ws, "pipeline_created").dated_by is None


def _findings(ws: Workspace, check: str) -> list[Finding]:
    return [f for f in check_data_quality(ws, today=date(2024, 1, 1)) if f.check == check]


CHECK_DEALS = [
    DEALS[0],  # UTC day 2023-04-01 ≠ close date 2023-03-31 (next quarter); 2023-03-31 in Mexico City
    (7, "Closed Lost", "2023-06-30 00:00:00", "2023-05-02T15:00:00.000Z", "2023-07-01T04:00:00.000Z"),  # likewise
    (8, "Closed Won", "2023-05-10 00:00:00", "2023-04-03T15:00:00.000Z", "2023-05-11T15:00:00.000Z"),  # a day late
    (9, "Closed Won", "2018-07-06 00:00:00", "2018-10-13T15:00:00.000Z", "2018-07-06T15:00:00.000Z"),  # migrated
    (10, "Closed Won", "2023-05-02 00:00:00", "2023-05-02T15:00:00.000Z", "2023-05-02T20:00:00.000Z"),  # same day
    (11, "Closed Won", "2023-05-02 00:00:00", "2023-05-02T03:00:00.000Z", "2023-05-02T20:00:00.000Z"),  # 1 May there
    DEALS[2],
]


def test_check_reports_close_dates_that_tell_another_story(any_workspace: Workspace, tmp_path: Path) -> None:
    _ingest(any_workspace, tmp_path / "org", [_deal(*d) for d in CHECK_DEALS])
    differs, = _findings(any_workspace, "close_date_differs")  # time zone UTC: deals 1, 7 and 8
    assert differs.count == 3 and differs.severity == "warning"
    assert "2 by 1 quarter" in differs.message and "1 within the same quarter" in differs.message
    assert f"{EVENING_WIN}: close date 2023-03-31, closed 2023-04-01 (1 quarter later)" in differs.examples
    assert f"{_id(8)}: close date 2023-05-10, closed 2023-05-11 (in the same quarter)" in differs.examples
    before, = _findings(any_workspace, "closed_before_created")
    assert before.count == 1 and before.examples == [f"{_id(9)}: created 2018-10-13, close date 2018-07-06"]
    same_day, = _findings(any_workspace, "won_on_creation_day")
    assert same_day.count == 2 and sorted(same_day.examples) == [
        f"{_id(10)}: created and won 2023-05-02", f"{_id(11)}: created and won 2023-05-02"]
    with reopened(any_workspace, timezone="America/Mexico_City") as ws:
        differs, = _findings(ws, "close_date_differs")  # deal 8 was closed at 09:00 on 11 May there
        assert differs.count == 1 and differs.severity == "info"
        assert differs.examples == [f"{_id(8)}: close date 2023-05-10, closed 2023-05-11 (in the same quarter)"]
        assert "America/Mexico_City" in differs.message
        same_day, = _findings(ws, "won_on_creation_day")  # deal 11 was created at 21:00 on 1 May there
        assert same_day.examples == [f"{_id(10)}: created and won 2023-05-02"]
        assert len(_findings(ws, "closed_before_created")) == 1
