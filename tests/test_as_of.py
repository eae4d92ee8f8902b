"""One "as of": check, forecast and scorecard count from the same day — the data's last day, or --today —
and say which in their header. Checked on a Salesforce-shaped org whose export ends weeks before today."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import cadence
from cadence.cli.main import app, register_commands, state
from cadence.workspace import Workspace, init_workspace
from tests.latam_org import build_org

register_commands()


@pytest.fixture(scope="module")
def org_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    root = tmp_path_factory.mktemp("as_of")
    org = build_org(root / "org")
    ws = cadence.open(init_workspace(root / "ws", company="Andes SA"))
    ws.ingest(org.folder, "salesforce")
    ws.close()
    yield cadence.open(root / "ws")


def cli(ws: Workspace, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(ws.root), *args])
    state.today = None  # the global option lives on the app's state between in-process runs
    assert result.exit_code == 0, result.output
    return result.output


def last_day(ws: Workspace) -> date:
    """The data's last day, by hand: the latest deal creation, close, stage change or activity."""
    days = []
    for table, column in (("opportunities", "created_at"), ("opportunities", "closed_at"),
                          ("opportunity_history", "changed_at"), ("activities", "occurred_at")):
        values = pd.to_datetime(ws.table(table).to_pandas()[column]).dropna()
        days.append(values.max().date())
    return max(days)


def open_past_close(ws: Workspace, day: date) -> int:
    deals = ws.table("opportunities").to_pandas()
    close = pd.to_datetime(deals["close_date"]).dt.date
    return int(((~deals["is_closed"].astype(bool)) & close.notna() & (close < day)).sum())


def test_every_command_counts_from_the_data_last_day(org_ws: Workspace) -> None:
    day = last_day(org_ws)
    assert day < date.today() - timedelta(days=30)  # an old export: today's date would be the wrong "now"
    header = f"as of {day.isoformat()} (the data's last day)"
    check = json.loads(cli(org_ws, "check", "--format", "json"))
    assert check["as_of"] == day.isoformat() and check["as_of_source"] == "data"
    assert header in cli(org_ws, "check")
    assert header in cli(org_ws, "forecast")
    assert header in " ".join(cli(org_ws, "scorecard").replace("│", " ").split())  # the panel wraps it
    forecast = json.loads(cli(org_ws, "forecast", "--format", "json"))
    assert forecast["as_of"] == (day + timedelta(days=1)).isoformat()  # knows everything up to the last day
    card = json.loads(cli(org_ws, "scorecard", "--format", "json"))
    assert card["today"] == day.isoformat()


def test_past_close_date_is_counted_as_of_the_data_not_the_calendar(org_ws: Workspace) -> None:
    day = last_day(org_ws)
    findings = {f["check"]: f for f in json.loads(cli(org_ws, "check", "--format", "json"))["findings"]}
    expected = open_past_close(org_ws, day)
    found = findings.get("open_past_close_date", {"count": 0})["count"]
    assert found == expected
    assert expected < open_past_close(org_ws, date.today())  # what counting from today's date would claim


def test_today_option_moves_every_command(org_ws: Workspace) -> None:
    given = date(2023, 11, 15)
    check = json.loads(cli(org_ws, "--today", given.isoformat(), "check", "--format", "json"))
    assert check["as_of"] == given.isoformat() and check["as_of_source"] == "--today"
    found = {f["check"]: f["count"] for f in check["findings"]}.get("open_past_close_date", 0)
    assert found == open_past_close(org_ws, given)
    forecast = json.loads(cli(org_ws, "--today", given.isoformat(), "forecast", "--format", "json"))
    assert forecast["as_of"] == (given + timedelta(days=1)).isoformat()
    card = json.loads(cli(org_ws, "--today", given.isoformat(), "scorecard", "--format", "json"))
    assert card["today"] == given.isoformat()
    assert date.fromisoformat(card["as_of"]) <= given + timedelta(days=1)  # the week reviewed ends by then
    assert "as of 2023-11-15 (given with --today)" in cli(org_ws, "--today", "2023-11-15", "check")


def test_a_bad_today_is_one_line(org_ws: Workspace) -> None:
    result = CliRunner().invoke(app, ["-w", str(org_ws.root), "--today", "yesterday", "check"])
    state.today = None
    assert result.exit_code != 0
    assert "YYYY-MM-DD" in str(result.exception)


def test_owners_without_a_user_export_show_their_id(org_ws: Workspace) -> None:
    table = cli(org_ws, "metric", "won_deals", "--by", "owner_name", "--grain", "year")
    deals = org_ws.table("opportunities").to_pandas()
    for owner in deals.loc[deals["is_won"].astype(bool), "owner_id"].dropna().unique():
        assert owner in table
    coach = cli(org_ws, "coach")
    assert "import a User export to see names" in coach
    assert "owns a deal" not in coach


def test_org_folder_has_no_user_export(org_ws: Workspace) -> None:
    assert org_ws.table("people").count().execute() == 0  # the premise of the test above


def test_today_reaches_incentives(org_ws: Workspace) -> None:
    day = last_day(org_ws)
    data = json.loads(cli(org_ws, "incentives", "--format", "json"))
    assert (data["through"], data["as_of_source"]) == (day.isoformat(), "data")
    assert f"as of {day.isoformat()} (the data's last day)" in cli(org_ws, "incentives")
    given = date(2023, 11, 15)
    moved = json.loads(cli(org_ws, "--today", given.isoformat(), "incentives", "--format", "json"))
    assert (moved["through"], moved["as_of_source"]) == (given.isoformat(), "--today")
    # a calendar quarter is complete when it ended by the day given (the org's fiscal year is the calendar's)
    for quarter in moved["quarters"]:
        year, number = int(quarter["quarter"][:4]), int(quarter["quarter"][-1])
        end = date(year + number // 4, number % 4 * 3 + 1, 1)
        assert quarter["complete"] == (end <= given + timedelta(days=1)), quarter["quarter"]
    assert "as of 2023-11-15 (given with --today)" in cli(org_ws, "--today", "2023-11-15", "incentives")


def test_today_reaches_the_leadership_course(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    config = yaml.safe_load((root / "cadence.yml").read_text(encoding="utf-8"))
    config["hiring"] = {"leadership_course": {"modules": 12, "weeks_per_module": 1, "participants": [
        {"person_id": "mgr-1", "started": "2024-01-01", "completed": [1, 2]}]}}
    (root / "cadence.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
    given = date(2024, 1, 29)
    data = json.loads(cli_at(root, "--today", given.isoformat(), "hiring", "course", "--format", "json"))
    assert (data["as_of"], data["as_of_source"]) == (given.isoformat(), "--today")
    weeks = (given - date(2024, 1, 1)).days // 7  # one module a week: 4 due, 2 done
    assert data["participants"][0]["expected"] == weeks == 4
    # the course lives in cadence.yml, kept by hand: without --today it is judged on today's date
    plain = json.loads(cli_at(root, "hiring", "course", "--format", "json"))
    assert (plain["as_of"], plain["as_of_source"]) == (date.today().isoformat(), "clock")
    assert "as of 2024-01-29 (given with --today)" in cli_at(root, "--today", "2024-01-29", "hiring", "course")


def cli_at(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["-w", str(root), *args])
    state.today = None
    assert result.exit_code == 0, result.output
    return result.output
