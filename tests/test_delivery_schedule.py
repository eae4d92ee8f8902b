"""Schedules: cadence.yml's `delivery:` block refused with the key named when it is wrong, and slots that fall
on the schedule's own wall clock — across daylight-saving changes, in a skipped hour and in a repeated one.

Expected instants are worked by hand from the time zones' rules: Mexico City is UTC-6 all year (no daylight
saving since 2022); New York is UTC-5 in winter and UTC-4 from 2026-03-08 02:00 (clocks jump to 03:00) until
2026-11-01 02:00 (clocks go back to 01:00); Berlin is UTC+1 in winter and UTC+2 from 2026-03-29 02:00.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
import yaml

from cadence.config.company import validate_config
from cadence.config.delivery import Schedule
from cadence.delivery.schedule import due_slots, latest_slot, slots_between
from cadence.errors import ConfigError
from cadence.workspace import init_workspace, open_workspace


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def schedule(cron: str, zone: str) -> Schedule:
    return Schedule(name="s", cron=cron, timezone=zone, recipients=["cro"])


GOOD: dict[str, Any] = {
    "smtp": {"host": "smtp.acme.test", "port": 587, "sender": "revops@acme.test", "starttls": True},
    "slack": {"webhook_env": "CADENCE_SLACK_WEBHOOK"},
    "schedules": [{"name": "weekly", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                   "recipients": ["cro", "mm_manager"], "channels": ["email", "slack"]}],
}


def delivery(**changes: Any) -> dict[str, Any]:
    block = yaml.safe_load(yaml.safe_dump(GOOD))
    schedule_changes = changes.pop("schedule", {})
    block["schedules"][0].update(schedule_changes)
    block.update(changes)
    return {"delivery": block}


# -- cadence.yml --------------------------------------------------------------------------------------------
def test_the_issue_example_is_valid_with_its_defaults() -> None:
    config = validate_config(delivery()).delivery
    assert config is not None
    assert config.stale_after_days == 7 and config.schedules[0].when_stale == "notice"
    assert config.smtp is not None and config.smtp.starttls and not config.smtp.ssl


@pytest.mark.parametrize(("changes", "key", "words"), [
    ({"schedule": {"cron": "0 8 * * FUNDAY"}}, "delivery.schedules.0.cron", "cron"),
    ({"schedule": {"cron": "every monday"}}, "delivery.schedules.0.cron", "cron"),
    ({"schedule": {"timezone": "Mars/Olympus"}}, "delivery.schedules.0.timezone", "Mars/Olympus"),
    ({"schedule": {"channels": ["email", "fax"]}}, "delivery.schedules.0.channels.1", "'email' or 'slack'"),
    ({"slack": None}, "delivery", "slack needs a `slack:` block"),
    ({"smtp": None}, "delivery", "email needs an `smtp:` block"),
    ({"schedules": [GOOD["schedules"][0], GOOD["schedules"][0]]}, "delivery", "duplicate name 'weekly'"),
    ({"slack": {"webhook_env": "A", "token_env": "B", "channel": "#x"}}, "delivery.slack", "either"),
    ({"slack": {"token_env": "CADENCE_SLACK_TOKEN"}}, "delivery.slack", "channel"),
    ({"slack": {"webhook_env": "https://hooks.slack.com/services/T/B/x"}}, "delivery.slack.webhook_env", "pattern"),
    ({"smtp": {"host": "h", "sender": "nobody"}}, "delivery.smtp.sender", "pattern"),
    ({"stale_after_days": -1}, "delivery.stale_after_days", "greater than or equal"),
    ({"schedule": {"when_stale": "later"}}, "delivery.schedules.0.when_stale", "notice"),
])
def test_a_wrong_delivery_block_is_refused_naming_the_key(changes: dict[str, Any], key: str, words: str) -> None:
    with pytest.raises(ConfigError) as refused:
        validate_config(delivery(**changes))
    message = refused.value.one_line()
    assert f"{key}:" in message or f"{key}." in message
    assert words in message


def test_the_block_is_validated_when_the_workspace_opens(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws", company="Acme")
    config = yaml.safe_load((root / "cadence.yml").read_text())
    config.update(delivery(schedule={"timezone": "Europe/Atlantis"}))
    (root / "cadence.yml").write_text(yaml.safe_dump(config))
    with pytest.raises(ConfigError, match="delivery.schedules.0.timezone"):
        open_workspace(root)
    config.update(delivery())
    (root / "cadence.yml").write_text(yaml.safe_dump(config))
    with open_workspace(root) as ws:
        assert ws.config.delivery is not None and ws.config.delivery.schedules[0].name == "weekly"


# -- slots ------------------------------------------------------------------------------------------------------
def test_mexico_city_monday_eight_is_fourteen_utc_every_week() -> None:
    weekly = schedule("0 8 * * MON", "America/Mexico_City")
    found = slots_between(weekly, utc(2026, 3, 1), utc(2026, 4, 30))
    mondays = [utc(2026, 3, 2, 14) + timedelta(weeks=n) for n in range(9)]
    assert found == mondays  # no daylight saving: 8:00 local is 14:00 UTC before and after New York's change


def test_eight_local_stays_eight_local_across_the_spring_change() -> None:
    daily = schedule("0 8 * * *", "America/New_York")
    assert slots_between(daily, utc(2026, 3, 6), utc(2026, 3, 10)) == [
        utc(2026, 3, 6, 13), utc(2026, 3, 7, 13), utc(2026, 3, 8, 12), utc(2026, 3, 9, 12)]


def test_eight_local_stays_eight_local_across_the_autumn_change() -> None:
    daily = schedule("0 8 * * *", "America/New_York")
    assert slots_between(daily, utc(2026, 10, 30), utc(2026, 11, 3)) == [
        utc(2026, 10, 30, 12), utc(2026, 10, 31, 12), utc(2026, 11, 1, 13), utc(2026, 11, 2, 13)]


def test_a_slot_in_the_skipped_hour_happens_once() -> None:
    nightly = schedule("30 2 * * *", "America/New_York")
    # 2:30 does not exist on 2026-03-08; it is sent once, at 3:30 EDT (07:30 UTC)
    assert slots_between(nightly, utc(2026, 3, 8), utc(2026, 3, 9)) == [utc(2026, 3, 8, 7, 30)]
    assert slots_between(nightly, utc(2026, 3, 7), utc(2026, 3, 10)) == [
        utc(2026, 3, 7, 7, 30), utc(2026, 3, 8, 7, 30), utc(2026, 3, 9, 6, 30)]


def test_a_slot_in_the_repeated_hour_happens_once() -> None:
    nightly = schedule("30 1 * * *", "America/New_York")
    # 1:30 happens twice on 2026-11-01 (EDT 05:30 UTC, then EST 06:30 UTC): sent once, at the first
    assert slots_between(nightly, utc(2026, 11, 1), utc(2026, 11, 2)) == [utc(2026, 11, 1, 5, 30)]
    assert latest_slot(nightly, utc(2026, 11, 1, 6, 45)) == utc(2026, 11, 1, 5, 30)


def test_due_is_the_latest_slot_within_the_look_back() -> None:
    weekly = schedule("0 8 * * MON", "America/Mexico_City")
    assert due_slots(weekly, utc(2026, 11, 30, 13, 59)) == []  # 7:59 local: last Monday is a week old
    assert due_slots(weekly, utc(2026, 11, 30, 14)) == [utc(2026, 11, 30, 14)]
    assert due_slots(weekly, utc(2026, 12, 2, 14)) == [utc(2026, 11, 30, 14)]  # two days late: still sent
    assert due_slots(weekly, utc(2026, 12, 2, 14, 1)) == []
    assert due_slots(weekly, utc(2026, 12, 2, 14, 1), lookback=timedelta(days=3)) == [utc(2026, 11, 30, 14)]


def test_a_clock_running_through_berlins_change_sees_each_monday_once_at_eight_local() -> None:
    weekly = schedule("0 8 * * MON", "Europe/Berlin")
    seen: dict[datetime, datetime] = {}
    moment = utc(2026, 3, 22)
    while moment < utc(2026, 4, 1):
        with time_machine.travel(moment, tick=False):
            for slot in due_slots(weekly):  # now read from the (travelled) clock
                seen.setdefault(slot, moment)
        moment += timedelta(minutes=15)
    # 2026-03-23 08:00 CET = 07:00 UTC; 2026-03-30 08:00 CEST = 06:00 UTC; each first due on the dot
    assert seen == {utc(2026, 3, 23, 7): utc(2026, 3, 23, 7), utc(2026, 3, 30, 6): utc(2026, 3, 30, 6)}
