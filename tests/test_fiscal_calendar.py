"""The company's fiscal calendar from Salesforce's FiscalYearSettings and Period exports.

Two orgs, built here with Salesforce's own column names: a standard fiscal year starting in February
(fiscal 2024 = 2023-02-01 … 2024-01-31, named by its ending year) and a custom 4-4-5 year starting on
Sunday 2023-01-01 (quarters of 13 weeks, months of 4, 4 and 5 weeks). Every quarter a date falls in
is worked out by hand in the tables below, not by the calendar under test.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

from cadence.analysis.quality import check_data_quality
from cadence.metrics.calendar import FiscalCalendar, FiscalPeriod
from cadence.workspace import Workspace
from tests.ingest_helpers import reopened, write_csv

SETTINGS = ["Id", "Name", "StartDate", "EndDate", "PeriodId", "YearType", "QuarterLabelScheme", "PeriodLabelScheme",
            "WeekLabelScheme", "QuarterPrefix", "PeriodPrefix", "WeekStartDay", "Description", "IsStandardYear"]
PERIOD = ["Id", "FiscalYearSettingsId", "Type", "StartDate", "EndDate", "Number", "PeriodLabel", "QuarterLabel",
          "FullyQualifiedLabel", "IsForecastPeriod"]
OPPORTUNITY = ["Id", "AccountId", "OwnerId", "Name", "StageName", "Amount", "CurrencyIsoCode", "CloseDate",
               "CreatedDate", "LastStageChangeDate", "IsClosed", "IsWon"]
FY_ID = "022Hs0000000001AAA"

# the standard year: quarters of calendar months from February, written out by hand
FEBRUARY_QUARTERS = [("2023-02-01", "2023-04-30"), ("2023-05-01", "2023-07-31"), ("2023-08-01", "2023-10-31"),
                     ("2023-11-01", "2024-01-31")]
# the 4-4-5 year: 13-week quarters from Sunday 2023-01-01, written out by hand
CUSTOM_QUARTERS = [("2023-01-01", "2023-04-01"), ("2023-04-02", "2023-07-01"), ("2023-07-02", "2023-09-30"),
                   ("2023-10-01", "2023-12-30")]


def _period(n: int, kind: str, start: str | date, end: str | date, number: int, label: str = "") -> list[str]:
    return [f"026Hs{n:013d}"[:18], FY_ID, kind, f"{start} 00:00:00" if n % 2 else str(start), str(end), str(number),
            label if kind == "Month" else "", label if kind == "Quarter" else "", label, "true"]


def standard_february_org(folder: Path) -> Path:
    write_csv(folder / "FiscalYearSettings.csv", SETTINGS, [
        [FY_ID, "2024", "2023-02-01", "2024-01-31", "026Hs0000000000001", "Standard", "NumberByYear",
         "NumberByYear", "", "FQ", "FP", "1", "", "true"]])
    rows = [_period(1, "Year", "2023-02-01", "2024-01-31", 1, "FY 2024")]
    rows += [_period(2 + q, "Quarter", s, e, q + 1, f"Q{q + 1}") for q, (s, e) in enumerate(FEBRUARY_QUARTERS)]
    for m in range(12):  # calendar months, February 2023 to January 2024
        first = pd.Timestamp("2023-02-01") + pd.DateOffset(months=m)
        last = first + pd.offsets.MonthEnd(0)
        rows.append(_period(10 + m, "Month", first.date(), last.date(), m + 1, first.strftime("%B")))
    write_csv(folder / "Period.csv", PERIOD, rows)
    return folder


def custom_445_org(folder: Path, weeks: bool = True) -> Path:
    write_csv(folder / "FiscalYearSettings.csv", SETTINGS, [
        [FY_ID, "2023", "2023-01-01", "2023-12-30", "026Hs0000000000001", "Custom", "NumberByYear", "NumberByYear",
         "NumberByYear", "Q", "P", "1", "4-4-5", "false"]])
    rows = [_period(1, "Year", "2023-01-01", "2023-12-30", 1, "FY 2023")]
    rows += [_period(2 + q, "Quarter", s, e, q + 1, f"Q{q + 1}") for q, (s, e) in enumerate(CUSTOM_QUARTERS)]
    start = date(2023, 1, 1)
    for m in range(12):  # months of 4, 4 and 5 weeks, as Salesforce lays out a 4-4-5 year
        length = 35 if m % 3 == 2 else 28
        rows.append(_period(10 + m, "Month", start, start + timedelta(days=length - 1), m + 1, f"P{m + 1}"))
        start += timedelta(days=length)
    for w in range(52 if weeks else 0):
        first = date(2023, 1, 1) + timedelta(weeks=w)
        rows.append(_period(30 + w, "Week", first, first + timedelta(days=6), w + 1, f"W{w + 1}"))
    write_csv(folder / "Period.csv", PERIOD, rows)
    return folder


def won_deals(folder: Path, days: list[str]) -> Path:
    rows = [[f"006Hs0000000{i:03d}AAA", "001Hs0000000001AAA", "005Hs00000AbCdE1AA", f"Deal {i}", "Closed Won", "100",
             "USD", f"{day} 00:00:00", "2022-11-01T15:00:00.000Z", f"{day}T18:00:00.000Z", "true", "true"]
            for i, day in enumerate(days, start=1)]
    write_csv(folder / "Opportunity.csv", OPPORTUNITY, rows)
    return folder


def quarter_of(calendar: FiscalCalendar, day: str) -> str:
    return calendar.label(calendar.start_of(date.fromisoformat(day), "quarter"), "quarter")


def by_period(ws: Workspace, grain: str) -> dict[str, float]:
    frame = ws.metric("won_deals", grain=grain)  # type: ignore[arg-type]
    return dict(zip(frame["period"], frame["value"], strict=True))


def test_standard_year_from_february(any_workspace: Workspace, tmp_path: Path) -> None:
    summary = any_workspace.ingest(standard_february_org(tmp_path / "org"), "salesforce", encoding="utf-8").summary()
    assert summary["read"] == summary["loaded"] + summary["quarantined"] and summary["quarantined"] == 0
    assert not summary["skipped"]
    periods = any_workspace.table("fiscal_periods").to_pandas()
    assert periods.groupby("kind").size().to_dict() == {"month": 12, "quarter": 4, "year": 1}
    assert set(periods["fiscal_year"]) == {2024}
    calendar = any_workspace.calendar
    hand = {"2023-02-01": "2024-Q1", "2023-04-30": "2024-Q1", "2023-05-01": "2024-Q2", "2023-10-31": "2024-Q3",
            "2023-11-01": "2024-Q4", "2024-01-31": "2024-Q4"}
    assert {day: quarter_of(calendar, day) for day in hand} == hand
    assert calendar.parse("2024-Q3") == (date(2023, 8, 1), "quarter")
    assert calendar.label(calendar.start_of(date(2023, 3, 15), "month"), "month") == "2023-03"
    assert calendar.fiscal_year(date(2023, 12, 1)) == 2024


def test_cadence_yml_disagreeing_with_the_imported_year_is_named(any_workspace: Workspace, tmp_path: Path) -> None:
    any_workspace.ingest(standard_february_org(tmp_path / "org"), "salesforce", encoding="utf-8")
    found = [f for f in check_data_quality(any_workspace, today=date(2024, 2, 1))
             if f.check == "fiscal_start_disagrees"]
    assert len(found) == 1 and "February" in found[0].message and "fiscal_year_start_month: 2" in found[0].message
    with reopened(any_workspace, fiscal_year_start_month=2) as ws:
        assert not [f for f in check_data_quality(ws, today=date(2024, 2, 1)) if f.check == "fiscal_start_disagrees"]


def test_bookings_by_quarter_on_the_february_calendar(any_workspace: Workspace, tmp_path: Path) -> None:
    folder = won_deals(standard_february_org(tmp_path / "org"),
                       ["2023-02-01", "2023-04-30", "2023-05-01", "2024-01-31", "2024-02-01"])
    with reopened(any_workspace, fiscal_year_start_month=2) as ws:
        ws.ingest(folder, "salesforce", encoding="utf-8")
        # 2024-02-01 is past the imported year: cadence.yml's rule (February) makes it 2025-Q1
        assert by_period(ws, "quarter") == {"2024-Q1": 2, "2024-Q2": 1, "2024-Q4": 1, "2025-Q1": 1}
        assert by_period(ws, "year") == {"2024": 4, "2025": 1}


def test_a_445_year(any_workspace: Workspace, tmp_path: Path) -> None:
    summary = any_workspace.ingest(custom_445_org(tmp_path / "org"), "salesforce", encoding="utf-8").summary()
    assert summary["read"] == summary["loaded"] + summary["quarantined"]
    assert summary["tables"]["fiscal_periods"]["quarantined"] == 52  # the weeks: Cadence's weeks are ISO weeks
    reasons = set(any_workspace.table("quarantine").to_pandas()["reason"])
    assert len(reasons) == 1 and "ISO weeks" in reasons.pop()
    calendar = any_workspace.calendar
    hand = {"2023-01-01": "2023-Q1", "2023-04-01": "2023-Q1", "2023-04-02": "2023-Q2", "2023-07-01": "2023-Q2",
            "2023-07-02": "2023-Q3", "2023-09-30": "2023-Q3", "2023-10-01": "2023-Q4", "2023-12-30": "2023-Q4",
            "2023-12-31": "2024-Q1", "2024-03-31": "2024-Q1", "2024-04-01": "2024-Q2", "2022-12-31": "2022-Q4"}
    assert {day: quarter_of(calendar, day) for day in hand} == hand
    # fiscal months of 4, 4 and 5 weeks: P3 is 2023-02-26 … 2023-04-01, P6 2023-05-28 … 2023-07-01
    months = {"2023-01-28": "2023-M01", "2023-01-29": "2023-M02", "2023-03-31": "2023-M03", "2023-04-01": "2023-M03",
              "2023-04-02": "2023-M04", "2023-07-01": "2023-M06", "2023-12-30": "2023-M12", "2023-12-31": "2024-01"}
    assert {d: calendar.label(calendar.start_of(date.fromisoformat(d), "month"), "month") for d in months} == months
    assert calendar.parse("2023-Q2") == (date(2023, 4, 2), "quarter")
    assert calendar.next_start(date(2023, 4, 2), "quarter") == date(2023, 7, 2)
    assert calendar.parse("2024-Q1") == (date(2023, 12, 31), "quarter")
    assert calendar.next_start(date(2023, 12, 31), "quarter") == date(2024, 4, 1)
    assert calendar.parse("2023-M03") == (date(2023, 2, 26), "month")
    assert not [f for f in check_data_quality(any_workspace, today=date(2024, 2, 1))
                if f.check == "fiscal_start_disagrees"]  # a custom year is not what cadence.yml can say


def test_won_deals_by_quarter_and_month_on_a_445_year(any_workspace: Workspace, tmp_path: Path) -> None:
    folder = won_deals(custom_445_org(tmp_path / "org", weeks=False),
                       ["2023-04-01", "2023-04-02", "2023-06-30", "2023-07-01", "2023-12-30", "2023-12-31",
                        "2024-02-15"])
    any_workspace.ingest(folder, "salesforce", encoding="utf-8")
    assert by_period(any_workspace, "quarter") == {"2023-Q1": 1, "2023-Q2": 3, "2023-Q4": 1, "2024-Q1": 2}
    assert by_period(any_workspace, "month") == {"2023-M03": 1, "2023-M04": 1, "2023-M06": 2, "2023-M12": 1,
                                                 "2024-01": 1, "2024-02": 1}
    frame = any_workspace.metric("won_deals", grain="quarter")
    assert dict(zip(frame["period"], frame["period_start"], strict=True))["2024-Q1"] == date(2023, 12, 31)
    q2 = any_workspace.metric("won_deals", grain="quarter", start=date(2023, 4, 2), end=date(2023, 7, 2))
    assert q2["value"].tolist() == [3]


def _calendar(ws: Workspace, tmp_path: Path, which: str) -> FiscalCalendar:
    """A calendar imported into `ws` (the 4-4-5 or the February org), or one built by hand."""
    if which == "one custom quarter":  # 2023-Q1 of a 4-4-5 year, nothing else: cadence.yml's rule around it
        return FiscalCalendar(1, (FiscalPeriod("quarter", date(2023, 1, 1), date(2023, 4, 1), 2023, 1),
                                  FiscalPeriod("month", date(2023, 1, 1), date(2023, 1, 28), 2023, 1)))
    org = custom_445_org(tmp_path / "org", weeks=False) if which == "4-4-5" else standard_february_org(tmp_path / "o")
    ws.ingest(org, "salesforce", encoding="utf-8")
    return FiscalCalendar(2 if which == "february" else 1, ws.calendar.periods)


@pytest.mark.parametrize("which", ["4-4-5", "february", "one custom quarter"])
def test_the_warehouse_and_python_agree_on_every_day(any_workspace: Workspace, tmp_path: Path, which: str) -> None:
    """period_start (in the warehouse), start_of, next_start, label and parse describe the same periods."""
    import ibis

    calendar = _calendar(any_workspace, tmp_path, which)
    days = pd.DataFrame({"day": pd.date_range("2022-10-01", "2024-06-30", freq="D")})
    table = ibis.memtable(days)
    for grain in ("month", "quarter", "year"):
        starts = any_workspace.warehouse.ibis.execute(table.mutate(start=calendar.period_start(table.day, grain)))
        got = {pd.Timestamp(d).date(): pd.Timestamp(s).date() for d, s in zip(starts["day"], starts["start"],
                                                                                strict=True)}
        assert got == {d.date(): calendar.start_of(d.date(), grain) for d in days["day"]}, grain
        seen = sorted(set(got.values()))
        for first, second in zip(seen, seen[1:], strict=False):
            assert calendar.next_start(first, grain) == second, (grain, first)
            assert calendar.parse(calendar.label(first, grain))[0] == first, (grain, first)
        assert len({calendar.label(s, grain) for s in seen}) == len(seen), grain  # no two periods share a name


def test_the_calendar_without_a_workspace() -> None:
    plain = FiscalCalendar(2)
    assert plain.label(plain.start_of(date(2016, 2, 1), "quarter"), "quarter") == "2017-Q1"
    assert plain.label(date(2025, 11, 1), "year") == "2026"  # any day names the period holding it
    assert plain.next_start(date(2025, 11, 1), "year") == date(2026, 2, 1)
    assert plain.parse("2017") == (date(2016, 2, 1), "year")
    q1 = FiscalPeriod("quarter", date(2023, 1, 1), date(2023, 4, 1), 2023, 1)
    custom = FiscalCalendar(1, (q1,))
    assert custom.label(custom.start_of(date(2023, 4, 1), "quarter"), "quarter") == "2023-Q1"
    assert custom.start_of(date(2023, 4, 2), "quarter") == date(2023, 4, 2)
    assert custom.label(date(2023, 4, 2), "quarter") == "2023-Q2"  # most of April to June: a period of its own
    assert custom.next_start(date(2023, 4, 2), "quarter") == date(2023, 7, 1)
    assert custom.label(date(2023, 2, 10), "year") == "2023" and custom.label(date(2023, 5, 1), "quarter") == "2023-Q2"
