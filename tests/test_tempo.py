"""Tempo: the pace rule on cases with a known answer, versioned targets, the organisational-or-individual
rule, the hand-entry write path, the CLI and the scorecard section — and the demo's planted under-resourced team."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cadence.analysis.tempo import (
    DIAGNOSIS_RULE,
    PACE_RULE,
    Track,
    chance_to_reach,
    diagnose,
    load_tempo,
    tempo_board,
    track_status,
)
from cadence.analysis.tempo.status import pace
from cadence.entries import close_review, record_review, record_shipment, set_target
from cadence.errors import InputError, UnknownNameError
from cadence.metrics.calendar import FiscalCalendar
from cadence.report.charts import to_svg
from cadence.report.html import render_html
from cadence.report.model import Scorecard, ScorecardContext
from cadence.report.sections.tempo import TempoSection
from cadence.schema.tables import table_named
from cadence.workspace import Workspace

CALENDAR = FiscalCalendar(1)
STATUSES = {"on_pace", "at_risk", "missed", "met"}


# -- a table source built from rows, for the pure analysis -----------------------------------------------------

class Tables:
    """Anything with `table(name)`: canonical tables from a few rows, as the analysis reads them."""

    def __init__(self, **rows: list[dict[str, Any]]):
        self.frames = {}
        for name in ("tempo_targets", "shipments", "people", "gap_reviews"):
            columns = table_named(name).column_names
            frame = pd.DataFrame(rows.get(name, []), columns=columns)
            for column in table_named(name).columns:
                if column.type.value in ("date", "timestamp"):
                    frame[column.name] = pd.to_datetime(frame[column.name])
                elif column.type.value == "integer":
                    frame[column.name] = frame[column.name].astype("int64")
                elif column.type.value == "float":
                    frame[column.name] = frame[column.name].astype("float64")
            self.frames[name] = frame

    def table(self, name: str) -> Any:
        return ibis.memtable(self.frames[name])


def weekdays(start: date, end: date) -> list[date]:
    return [d.date() for d in pd.bdate_range(start, end - timedelta(days=1))]


def shipping(team: str, person: str, per_week: int, start: date, end: date, kind: str = "qualified_demo") \
        -> list[dict[str, Any]]:
    """`per_week` shipments a week, spread Monday to Friday, at mid-day."""
    rows = []
    for day in weekdays(start, end):
        monday = day - timedelta(days=day.weekday())
        slots = [(i * 5) // per_week for i in range(per_week)]  # which weekday each of the week's shipments falls on
        for index, slot in enumerate(slots):
            if slot == day.weekday():
                rows.append({"shipment_id": f"{person}-{monday}-{index}", "team": team, "deliverable": kind,
                             "title": "demo", "owner_id": person, "unplanned": False, "source": "test",
                             "shipped_at": datetime.combine(day, datetime.min.time()) + timedelta(hours=12)})
    return rows


def person(person_id: str, team: str, *, hired: str = "2023-01-02", left: str | None = None,
           role: str = "sdr") -> dict[str, Any]:
    return {"person_id": person_id, "name": f"Person {person_id}", "team": team, "role": role, "hired_at": hired,
            "left_at": left, "source": "test"}


def target(team: str, kind: str, count: int, period: str, valid_from: str, size: str | None = None) -> dict[str, Any]:
    return {"team": team, "deliverable": kind, "count": count, "period": period, "size": size,
            "valid_from": valid_from, "source": "test"}


# -- the pace rule ----------------------------------------------------------------------------------------------

def simulated_chance(actual: int, target_count: int, elapsed: float, totals: list[int], draws: int = 400_000) -> float:
    """The same question answered by simulation, without the module's prior: each period's total is one of the
    past totals, or (one time in n + 1) a Poisson draw around their mean; shipments land anywhere in the period."""
    rng = np.random.default_rng(11)
    from_poisson = rng.random(draws) < 1 / (len(totals) + 1)
    total = np.where(from_poisson, rng.poisson(float(np.mean(totals)), draws), rng.choice(totals, draws))
    so_far = rng.binomial(total, elapsed)
    keep = so_far == actual
    return float((total[keep] >= target_count).mean())


@pytest.mark.parametrize(("actual", "target_count", "elapsed", "totals"), [
    (10, 32, 0.4, [24, 26, 22, 27, 25, 23, 28, 24, 26, 22, 25, 27, 24]),  # an under-staffed team
    (20, 40, 0.4, [48, 52, 45, 50, 47, 49, 51, 46, 53, 48, 50, 47, 49]),  # a team well above its target
    (0, 1, 0.5, [1, 1, 1, 1, 1, 1]),  # one case study a month, not shipped by mid-month
    (2, 4, 0.7, [4, 5, 4, 4, 3, 4]),
])
def test_the_chance_of_reaching_the_target_matches_a_simulation(actual: int, target_count: int, elapsed: float,
                                                                 totals: list[int]) -> None:
    chance, _ = chance_to_reach(actual, target_count, elapsed, totals)
    assert chance == pytest.approx(simulated_chance(actual, target_count, elapsed, totals), abs=0.02)


def test_a_team_that_ships_to_plan_is_not_at_risk_before_its_usual_day() -> None:
    regular = [1, 1, 1, 1, 1, 1]  # one case study every month
    assert pace(0, 1, 0.5, regular)[0] == "on_pace"  # a Poisson projection would call this a coin flip
    assert pace(0, 1, 0.97, regular)[0] == "at_risk"  # the last day and still nothing: now it is
    assert pace(1, 1, 0.1, regular)[0] == "met"


def test_a_team_below_its_target_is_at_risk_from_the_first_day_and_one_above_is_on_pace() -> None:
    below = [24, 26, 22, 27, 25, 23, 28, 24, 26, 22, 25, 27, 24]
    above = [48, 52, 45, 50, 47, 49, 51, 46, 53, 48, 50, 47, 49]
    status, chance, expected = pace(0, 32, 0.0, below)
    assert status == "at_risk" and chance < 0.05
    assert expected == pytest.approx(np.mean(below), rel=0.05)
    assert pace(0, 40, 0.0, above)[0] == "on_pace"
    assert pace(30, 40, 0.8, above)[0] == "on_pace"  # 30 by Thursday evening, usual pace 49 a week
    assert pace(10, 40, 0.8, above)[0] == "at_risk"  # 10 by Thursday evening


def test_without_history_the_target_is_the_pace() -> None:
    chance, expected = chance_to_reach(0, 4, 0.0, [])
    poisson_below = sum(np.exp(-4) * 4**k / np.prod(range(1, k + 1)) for k in range(4))
    assert chance == pytest.approx(1 - poisson_below)
    assert expected == pytest.approx(4)


def test_a_period_is_met_missed_on_pace_or_at_risk_with_a_streak() -> None:
    rows = shipping("Podcast", "P1", 1, date(2025, 1, 1), date(2025, 6, 1), kind="episode")
    rows = [r for r in rows if not (date(2025, 4, 1) <= r["shipped_at"].date() < date(2025, 5, 1))]  # April: none
    data = load_tempo(Tables(tempo_targets=[target("Podcast", "episode", 4, "month", "2025-01-01")], shipments=rows,
                             people=[person("P1", "Podcast")]))
    status = track_status(data, Track("Podcast", "episode"), CALENDAR, date(2025, 6, 4))
    by_label = {p.label: p for p in status.periods}
    assert [by_label[m].status for m in ("2025-01", "2025-02", "2025-03", "2025-04", "2025-05")] == \
        ["met", "met", "met", "missed", "met"]
    assert by_label["2025-04"].actual == 0 and by_label["2025-03"].actual == sum(
        1 for r in rows if r["shipped_at"].strftime("%Y-%m") == "2025-03")
    assert by_label["2025-06"].status == "on_pace" and not by_label["2025-06"].complete
    assert str(status.streak) == "met 1 in a row"
    assert "Poisson" in PACE_RULE or "chance" in PACE_RULE


def test_a_sized_target_counts_its_own_shipments_and_the_plain_target_the_rest() -> None:
    launches = [{"shipment_id": f"L{i}", "team": "Product", "deliverable": "launch", "title": f"L{i}",
                 "shipped_at": datetime(2025, 2, 3 + i), "size": "big" if i == 0 else None, "source": "t"}
                for i in range(3)]
    data = load_tempo(Tables(tempo_targets=[target("Product", "launch", 2, "month", "2025-02-01"),
                                            target("Product", "launch", 1, "quarter", "2025-02-01", "big")],
                             shipments=launches))
    board = tempo_board(data, FiscalCalendar(2), date(2025, 3, 1))
    assert board.rows_for("Product", "launch")[0].current.actual == 2
    assert board.rows_for("Product", "big launch")[0].current.actual == 1
    assert board.rows_for("Product", "big launch")[0].current.label == "2026-Q1"  # fiscal year from February


# -- organisational or individual --------------------------------------------------------------------------------

START, AS_OF = date(2025, 1, 6), date(2025, 6, 2)


def two_teams(alpha: dict[str, int], *, alpha_people: list[dict[str, Any]] | None = None,
              alpha_target: int = 30) -> Tables:
    """Alpha and Beta both promise qualified demos every week; Beta's four SDRs ship eight a week each."""
    shipments = [row for who, n in alpha.items() for row in shipping("Alpha", who, n, START, AS_OF)]
    shipments += [row for who in ("B1", "B2", "B3", "B4") for row in shipping("Beta", who, 8, START, AS_OF)]
    people = alpha_people or [person(who, "Alpha") for who in alpha]
    people += [person(who, "Beta") for who in ("B1", "B2", "B3", "B4")]
    people += [person("AM", "Alpha", role="manager"), person("BM", "Beta", role="manager")]
    return Tables(tempo_targets=[target("Alpha", "qualified_demo", alpha_target, "week", "2025-01-06"),
                                 target("Beta", "qualified_demo", 30, "week", "2025-01-06")],
                  shipments=shipments, people=people)


def diagnosis_of(tables: Tables, team: str = "Alpha") -> Any:
    data = load_tempo(tables)
    status = track_status(data, Track(team, "qualified_demo"), CALENDAR, AS_OF)
    return status, diagnose(data, status, CALENDAR, AS_OF)


def test_one_member_far_below_peers_who_are_on_par_is_individual_and_named() -> None:
    status, found = diagnosis_of(two_teams({"A1": 8, "A2": 8, "A3": 8, "A4": 2}))
    assert status.current.status == "missed" and status.current.actual == 26
    assert found.verdict == "individual"
    assert found.singled_out == ["A4"]
    assert any("Person A4" in line and "every other member is on par" in line for line in found.evidence)
    assert found.norm_from == "Beta members"
    assert "AM" not in {m.person_id for m in found.members}  # managers are not counted as contributors


def test_a_team_that_lost_people_is_organisational_and_no_one_is_named() -> None:
    people = [person(f"A{i}", "Alpha") for i in range(1, 4)]
    people += [person("A4", "Alpha", left="2025-02-28"), person("A5", "Alpha", left="2025-02-28")]
    rows = {"A1": 8, "A2": 8, "A3": 8}
    tables = two_teams(rows, alpha_people=people)
    leavers = [r for who in ("A4", "A5") for r in shipping("Alpha", who, 8, START, date(2025, 3, 1))]
    tables.frames["shipments"] = pd.concat([tables.frames["shipments"],
                                            Tables(shipments=leavers).frames["shipments"]], ignore_index=True)
    status, found = diagnosis_of(tables)
    assert status.current.status == "missed"
    assert found.verdict == "organisational" and found.reason.startswith("capacity")
    assert found.singled_out == []
    assert found.headcount_now == 3 and found.headcount_year_before == 5
    assert found.needed == pytest.approx(30 / 8)  # at eight a week each, thirty a week needs 3.75 people
    assert any("2 left and 0 joined" in line for line in found.evidence)


def test_a_new_joiner_ramping_up_is_not_singled_out() -> None:
    people = [person(f"A{i}", "Alpha") for i in range(1, 5)] + [person("A5", "Alpha", hired="2025-05-01")]
    tables = two_teams({"A1": 8, "A2": 8, "A3": 8, "A4": 8}, alpha_people=people, alpha_target=34)
    ramp = Tables(shipments=shipping("Alpha", "A5", 1, date(2025, 5, 1), AS_OF)).frames["shipments"]
    tables.frames["shipments"] = pd.concat([tables.frames["shipments"], ramp], ignore_index=True)
    status, found = diagnosis_of(tables)
    assert status.current.status == "missed"
    assert found.verdict == "organisational" and found.singled_out == []
    assert next(m for m in found.members if m.person_id == "A5").rate is None  # not judged in the first 90 days


def test_a_quiet_member_on_a_deliverable_of_a_few_a_year_is_chance_not_a_verdict() -> None:
    episodes = [{"shipment_id": f"C{i}", "team": "Marketing", "deliverable": "case_study", "title": f"C{i}",
                 "owner_id": who, "shipped_at": day, "source": "t"}
                for i, (who, day) in enumerate([("M1", datetime(2025, 1, 15)), ("M2", datetime(2025, 2, 14)),
                                                ("M1", datetime(2025, 3, 14)), ("M2", datetime(2025, 4, 15))])]
    data = load_tempo(Tables(tempo_targets=[target("Marketing", "case_study", 2, "month", "2025-01-01")],
                             shipments=episodes, people=[person(p, "Marketing", role="marketing")
                                                         for p in ("M1", "M2", "M3")]))
    status = track_status(data, Track("Marketing", "case_study"), CALENDAR, date(2025, 5, 1))
    found = diagnose(data, status, CALENDAR, date(2025, 5, 1))
    assert status.current.status == "missed"
    assert found.singled_out == []  # M3 shipped none of four: at two each, that happens by chance one time in seven
    assert found.verdict == "organisational"
    assert "chance" in DIAGNOSIS_RULE


# -- targets, shipments and reviews written by hand ---------------------------------------------------------------

def test_changing_a_target_does_not_change_the_status_of_periods_already_begun(any_workspace: Workspace) -> None:
    ws = any_workspace
    set_target(ws, "Podcast", "episode", 4, "month", valid_from=date(2025, 1, 1))
    for month, count in ((1, 4), (2, 3), (3, 5), (4, 5)):
        for index in range(count):
            record_shipment(ws, "Podcast", "episode", f"Episode {month}.{index}",
                            shipped_at=datetime(2025, month, 3 + 5 * index, 9))

    def statuses() -> dict[str, tuple[int, int, str]]:
        status = track_status(load_tempo(ws), Track("Podcast", "episode"), ws.calendar, date(2025, 5, 1))
        return {p.label: (p.target, p.actual, p.status) for p in status.periods}

    before = statuses()
    assert before == {"2025-01": (4, 4, "met"), "2025-02": (4, 3, "missed"), "2025-03": (4, 5, "met"),
                      "2025-04": (4, 5, "met")}
    set_target(ws, "Podcast", "episode", 6, "month", valid_from=date(2025, 3, 15))  # agreed mid-March
    after = statuses()
    assert {k: after[k] for k in ("2025-01", "2025-02", "2025-03")} == \
        {k: before[k] for k in ("2025-01", "2025-02", "2025-03")}  # March had begun: it keeps its target
    assert after["2025-04"] == (6, 5, "missed")
    set_target(ws, "Podcast", "episode", 6, "month", valid_from=date(2025, 3, 15))  # the same version again
    assert ws.warehouse.count("tempo_targets") == 2  # both versions kept, the repeat not duplicated
    assert {r[0] for r in ws.warehouse.query("SELECT format FROM imports")} == {"tempo-target", "tempo-ship"}


def test_a_gap_review_takes_its_gap_from_the_data_and_is_followed_up(workspace: Workspace) -> None:
    ws = workspace
    set_target(ws, "Podcast", "episode", 2, "week", valid_from=date(2025, 3, 3))
    record_shipment(ws, "Podcast", "episode", "Only one", shipped_at=datetime(2025, 3, 4, 10))  # week 10: 1 of 2
    review_id = record_review(ws, "Podcast", "episode", cause="scope", action="Keep an episode in reserve",
                              owner=None, due=date(2025, 3, 14), today=date(2025, 3, 9)).review_id
    stored = ws.table("gap_reviews").to_pandas().iloc[0]
    assert (stored["review_id"], stored["period"], stored["target"], stored["actual"], stored["status"]) == \
        (review_id, "2025-W10", 2.0, 1.0, "open")
    for day in (11, 12):
        record_shipment(ws, "Podcast", "episode", f"Back on track {day}", shipped_at=datetime(2025, 3, day, 10))
    board = tempo_board(load_tempo(ws), ws.calendar, date(2025, 3, 17))
    review = board.reviews[0]
    assert review.gap_closed is True and review.checked_in == "2025-W11"
    assert review.past_due  # due on the 14th, still open on the 17th
    close_review(ws, review_id)
    board = tempo_board(load_tempo(ws), ws.calendar, date(2025, 3, 17))
    assert board.reviews[0].done and not board.past_due
    with pytest.raises(UnknownNameError, match="did you mean"):
        close_review(ws, review_id[:-1] + "x")


def test_hand_entries_are_checked_before_anything_is_written(workspace: Workspace) -> None:
    ws = workspace
    set_target(ws, "Podcast", "episode", 4, "month", valid_from=date(2025, 1, 1))
    with pytest.raises(UnknownNameError, match="did you mean 'Podcast'"):
        record_shipment(ws, "Podcst", "episode", "Typo", shipped_at=datetime(2025, 1, 2))
    with pytest.raises(UnknownNameError, match="did you mean 'episode'"):
        record_shipment(ws, "Podcast", "episdoe", "Typo", shipped_at=datetime(2025, 1, 2))
    with pytest.raises(InputError, match="no tempo target for 'webinar'"):
        record_shipment(ws, "Podcast", "webinar", "Unplanned kind", shipped_at=datetime(2025, 1, 2))
    with pytest.raises(InputError, match="count .*must be at least 0"):
        set_target(ws, "Podcast", "episode", -1, "month", valid_from=date(2025, 2, 1))
    with pytest.raises(InputError, match="must be one of: resources"):
        record_review(ws, "Podcast", "episode", cause="bad luck", action="x", owner=None, due=date(2025, 2, 1),
                      period="2025-01", today=date(2025, 2, 1))
    assert ws.warehouse.count("shipments") == 0 and ws.warehouse.count("gap_reviews") == 0
    record_shipment(ws, "podcast", "episode", "Case does not matter", shipped_at=datetime(2025, 1, 2))
    record_shipment(ws, "podcast", "episode", "Case does not matter", shipped_at=datetime(2025, 1, 2))
    assert ws.table("shipments").team.to_pandas().tolist() == ["Podcast"]  # the same entry twice: one shipment


# -- the command line ---------------------------------------------------------------------------------------------

def cli(root: Path, *args: str) -> Any:
    import cadence.cli.tempo_commands  # noqa: F401 - registers `tempo`
    from cadence.cli.main import app

    return CliRunner().invoke(app, ["-w", str(root), "tempo", *args], catch_exceptions=False)


def test_tempo_json_is_exactly_the_interface(demo_workspace: Workspace) -> None:
    result = cli(demo_workspace.root, "--format", "json", "--as-of", "2026-01-26")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["teams"] and data["teams"]
    for row in data["teams"]:
        assert list(row) == ["team", "deliverable", "period", "target", "actual", "status", "diagnosis", "evidence"]
        assert isinstance(row["target"], int) and isinstance(row["actual"], int)
        assert row["status"] in STATUSES and row["diagnosis"] in (None, "organisational", "individual")
        assert all(isinstance(line, str) for line in row["evidence"]) and row["evidence"]
    shipped = demo_workspace.table("shipments").to_pandas()
    for row in data["teams"]:
        if row["period"] == "2026-W04":  # an independent count of the week's shipments
            week = shipped[(shipped["team"] == row["team"]) & (shipped["deliverable"] == row["deliverable"])
                           & (shipped["shipped_at"] >= "2026-01-19") & (shipped["shipped_at"] < "2026-01-26")]
            assert row["actual"] == len(week)


def test_the_tempo_commands_write_and_show(workspace: Workspace) -> None:
    root = workspace.root
    workspace.close()
    assert cli(root, "target", "set", "Podcast", "episode", "4", "--per", "month", "--from", "2025-01-01") \
        .exit_code == 0
    for day in ("2025-01-06", "2025-01-13", "2025-01-20"):
        assert cli(root, "ship", "Podcast", "episode", f"Episode of {day}", "--date", day).exit_code == 0
    added = cli(root, "review", "add", "Podcast", "episode", "--cause", "scope", "--action", "Record ahead",
                "--owner", "Maya", "--due", "2025-02-07", "--period", "2025-01")
    assert added.exit_code == 0, added.output
    listed = json.loads(cli(root, "review", "--format", "json").stdout)["reviews"]  # as of today: long past due
    assert [(r["period"], r["target"], r["actual"], r["past_due"]) for r in listed] == [("2025-01", 4.0, 3.0, True)]
    assert cli(root, "review", "done", listed[0]["review_id"]).exit_code == 0
    board = json.loads(cli(root, "--format", "json", "--as-of", "2025-02-01").stdout)["teams"]
    assert [(r["period"], r["actual"], r["target"], r["status"]) for r in board] == [("2025-01", 3, 4, "missed")]
    assert board[0]["diagnosis"] is None  # no people and no owners: nothing to compare, and it says so
    assert any(line.startswith("no diagnosis: nothing to compare") for line in board[0]["evidence"])
    assert json.loads(cli(root, "target", "--format", "json").stdout)["targets"][0]["count"] == 4


def test_a_mistyped_date_is_one_red_line(workspace: Workspace) -> None:
    root = workspace.root
    set_target(workspace, "Podcast", "episode", 4, "month", valid_from=date(2025, 1, 1))
    workspace.close()
    run = subprocess.run([sys.executable, "-m", "cadence.cli", "-w", str(root), "tempo", "ship", "Podcast", "episode",
                          "Pilot", "--date", "2025-13-01"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert run.stderr.strip().count("\n") == 0 and "--date: not a date: '2025-13-01'" in run.stderr


# -- the scorecard ----------------------------------------------------------------------------------------------

def test_the_scorecard_section_shows_each_team_a_chart_and_past_due_actions(demo_workspace: Workspace) -> None:
    context = ScorecardContext("2026-W05", date(2026, 1, 26), date(2026, 2, 2))
    section = TempoSection().build(demo_workspace, context)
    assert section is not None and section.key == "tempo" and TempoSection.order == 20
    reviews = demo_workspace.table("gap_reviews").to_pandas()
    overdue = reviews[(reviews["status"] != "done") & (pd.to_datetime(reviews["due"]) < "2026-02-02")
                      & (reviews["created_at"] < "2026-02-02")]
    flagged = [n for n in section.notes if n.startswith("⚠ Past due")]
    assert len(flagged) == len(overdue) > 0
    assert all(any(action in note for note in flagged) for action in overdue["action"])
    html = render_html(Scorecard("Northwind", "USD", context, None, [section], []))
    part = html.split('id="section-tempo"', 1)[1].split("</section>", 1)[0]
    assert "<svg" in part and "SDR EMEA" in part and "organisational" in part
    points = section.charts[0].spec["data"]["values"]
    assert {p["track"] for p in points} >= {"SDR EMEA · qualified_demo per week", "Podcast · episode per month"}
    assert to_svg(section.charts[0].spec).startswith("<svg")


def test_no_targets_no_section(workspace: Workspace) -> None:
    assert TempoSection().build(workspace, ScorecardContext("2025-W10", date(2025, 3, 3), date(2025, 3, 10))) is None


# -- the demo company's planted truths ----------------------------------------------------------------------------

def demo_headcount(ws: Workspace, team: str, day: date) -> int:
    """SDRs (not managers) on the payroll on `day`, read straight from people."""
    people = ws.table("people").to_pandas()
    mine = people[(people["team"] == team) & (people["role"] != "manager")]
    hired = pd.to_datetime(mine["hired_at"]) <= pd.Timestamp(day)
    staying = mine["left_at"].isna() | (pd.to_datetime(mine["left_at"]) >= pd.Timestamp(day))
    return int((hired & staying).sum())


def test_the_under_resourced_team_misses_for_organisational_reasons_and_no_member_is_named(
        demo_workspace: Workspace, demo_truths: dict[str, Any], demo_plan: dict[str, Any]) -> None:
    team, comparable = demo_plan["under_resourced_team"], demo_plan["comparable_team"]
    detail = demo_truths["under_resourced"]  # measured on the warehouse
    track = Track(team, demo_plan["under_resourced"]["deliverable"])
    data = load_tempo(demo_workspace)
    end = date.fromisoformat(demo_plan["data_end_exclusive"])
    board = tempo_board(data, demo_workspace.calendar, end)
    rows = board.rows_for(team, track.label)
    assert rows and all(r.current.status in ("missed", "at_risk") for r in rows)
    found = rows[0].diagnosis
    assert found is not None and found.verdict == "organisational" and found.singled_out == []
    assert found.headcount_now == detail["teams"][team]["sdr_headcount"]["end"]
    assert found.headcount_year_before == demo_headcount(demo_workspace, team, end - timedelta(days=364 + 45))
    assert comparable in (found.norm_from or "")
    assert 0.8 <= np.median([m.rate for m in found.members if m.rate]) / (found.norm or 1) <= 1.25  # on par
    assert (found.needed or 0) > (found.headcount_now or 0)
    assert all(r.current.status in ("met", "on_pace") for r in board.rows_for(comparable, track.label))
    # every week the team missed after losing its people: organisational, and never one of its members
    calendar, verdicts = demo_workspace.calendar, []
    monday = date(2025, 6, 2)
    while monday < end:
        status = track_status(data, track, calendar, monday)
        if status.current and status.current.status == "missed":
            diagnosis = diagnose(data, status, calendar, monday)
            verdicts.append((diagnosis.verdict, tuple(diagnosis.singled_out)))
        monday += timedelta(days=7)
    assert len(verdicts) >= 20
    assert set(verdicts) == {("organisational", ())}


def test_the_board_warns_early_in_the_week(demo_workspace: Workspace, demo_plan: dict[str, Any]) -> None:
    team, comparable = demo_plan["under_resourced_team"], demo_plan["comparable_team"]
    board = tempo_board(load_tempo(demo_workspace), demo_workspace.calendar, date(2026, 1, 21))  # Wednesday morning
    under, other = board.rows_for(team, "qualified_demo")[-1], board.rows_for(comparable, "qualified_demo")[-1]
    assert under.current.label == "2026-W04" and not under.current.complete
    assert under.current.status == "at_risk" and (under.current.chance or 1) < 0.5
    assert other.current.status == "on_pace" and (other.current.chance or 0) >= 0.5
