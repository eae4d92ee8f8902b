"""`cadence deliver …` end to end through Typer's runner, against a real SMTP server on loopback and a copy of the
demo company: users given an address with `cadence users add … --email`, the schedule in cadence.yml, the
credentials in the environment. What was sent is read from the SMTP server's inbox and plain SQL."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from typer.testing import CliRunner, Result

from cadence.cli.main import app, register_commands
from cadence.errors import CadenceError
from cadence.workspace import Workspace, open_workspace
from tests.test_delivery_send import SMTP_PASSWORD, SMTP_USER, TEAM, Inbox, copy_demo, free_port, text_part

register_commands()

ENV = {"CADENCE_SMTP_USER": SMTP_USER, "CADENCE_SMTP_PASSWORD": SMTP_PASSWORD}


@dataclass
class Setup:
    root: Path
    inbox: Inbox


@pytest.fixture(scope="module")
def setup(demo_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    from aiosmtpd.smtp import AuthResult

    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, auth_require_tls=False,
                            authenticator=lambda *args: AuthResult(success=True))
    controller.start()
    root = copy_demo(demo_workspace, tmp_path_factory.mktemp("cli") / "acme")
    with open_workspace(root) as ws:
        manager = ws.warehouse.query("SELECT person_id FROM people WHERE team = $1 AND role = 'manager' "
                                     "ORDER BY person_id", (TEAM,))[0][0]
    for args in (["cro", "--role", "executive"], ["mm_manager", "--role", "manager", "--team", TEAM,
                                                  "--person-id", manager], ["boss", "--role", "admin"]):
        run(root, "users", "add", *args, "--email", f"{args[0]}@acme.test", "--password-stdin",
            input="a-long-enough-password-42\n")
    config = yaml.safe_load((root / "cadence.yml").read_text())
    config["delivery"] = {
        "smtp": {"host": "127.0.0.1", "port": port, "sender": "revops@acme.test", "starttls": False},
        "stale_after_days": 100000,
        "schedules": [{"name": "weekly", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                       "recipients": ["cro", "mm_manager"], "channels": ["email"]},
                      {"name": "nightly", "cron": "0 2 * * *", "timezone": "Europe/Berlin",
                       "recipients": ["cro"], "channels": ["email"]}]}
    (root / "cadence.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    yield Setup(root, inbox)
    controller.stop()


def invoke(root: Path, *args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, ["-w", str(root), *args], input=input, env=ENV)


def run(root: Path, *args: str, input: str | None = None) -> str:
    result = invoke(root, *args, input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def sql(root: Path, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with open_workspace(root) as ws:
        return ws.warehouse.query(query, params)


def test_schedule_now_sends_once_and_prints_one_entry_per_message(setup: Setup) -> None:
    first = json.loads(run(setup.root, "deliver", "--schedule", "weekly", "--now", "--format", "json"))
    assert [(r["recipient"], r["channel"], r["status"]) for r in first] == [
        ("cro", "email", "sent"), ("mm_manager", "email", "sent")]
    again = json.loads(run(setup.root, "deliver", "--schedule", "weekly", "--now", "--format", "json"))
    assert [r["status"] for r in again] == ["duplicate", "duplicate"]
    assert [r["delivery_id"] for r in again] == [r["delivery_id"] for r in first]
    weekly = [rcpt for _, rcpt in setup.inbox.envelopes if rcpt[0] in ("cro@acme.test", "mm_manager@acme.test")]
    assert sorted(r[0] for r in weekly) == ["cro@acme.test", "mm_manager@acme.test"]
    assert sql(setup.root, "SELECT count(*) FROM deliveries WHERE schedule = 'weekly'") == [(2,)]


def test_due_sends_what_is_due_at_the_given_moment(setup: Setup) -> None:
    # Thursday 2026-12-10 01:30 UTC is 02:30 in Berlin: the nightly slot of 01:00 UTC is due; Monday's weekly
    # (14:00 UTC, 8:00 in Mexico City) is more than two days old
    out = json.loads(run(setup.root, "deliver", "--due", "--at", "2026-12-10T01:30:00Z", "--format", "json"))
    assert [(r["schedule"], r["recipient"], r["status"], r["slot"]) for r in out] == [
        ("nightly", "cro", "sent", "2026-12-10T01:00:00+00:00")]
    table = run(setup.root, "deliver", "--due", "--at", "2026-12-10T01:31:00Z")
    assert "duplicate" in table


def test_log_lists_the_archive_as_the_warehouse_holds_it(setup: Setup) -> None:
    run(setup.root, "deliver", "--schedule", "weekly", "--now")
    listed = json.loads(run(setup.root, "deliver", "log", "--format", "json"))
    expected = sql(setup.root, "SELECT delivery_id, recipient, status FROM deliveries ORDER BY delivery_id")
    assert sorted((r["delivery_id"], r["recipient"], r["status"]) for r in listed) == expected
    assert all("body_html" not in r for r in listed)
    rows = list(csv.DictReader(io.StringIO(run(setup.root, "deliver", "log", "--limit", "1", "--format", "csv"))))
    assert len(rows) == 1 and {"delivery_id", "recipient", "status", "slot"} <= set(rows[0])


def test_show_prints_the_message_exactly_as_sent(setup: Setup) -> None:
    run(setup.root, "deliver", "--schedule", "weekly", "--now")
    (delivery_id,) = sql(setup.root, "SELECT delivery_id FROM deliveries WHERE schedule = 'weekly' AND "
                                     "recipient = 'mm_manager'")[0]
    (received,) = setup.inbox.to("mm_manager@acme.test")
    assert run(setup.root, "deliver", "show", delivery_id) == text_part(received)
    html = run(setup.root, "deliver", "show", delivery_id, "--part", "html")
    assert html == sql(setup.root, "SELECT body_html FROM deliveries WHERE delivery_id = $1", (delivery_id,))[0][0]
    refused = invoke(setup.root, "deliver", "show", delivery_id, "--part", "slack")
    assert isinstance(refused.exception, CadenceError) and "no slack part" in refused.exception.one_line()
    unknown = invoke(setup.root, "deliver", "show", "nope")
    assert isinstance(unknown.exception, CadenceError) and "unknown delivery 'nope'" in unknown.exception.one_line()


def test_a_failed_message_exits_1(setup: Setup) -> None:
    setup.inbox.refuse, setup.inbox.answer = 1, "550 5.1.1 mailbox unavailable"
    try:
        result = invoke(setup.root, "deliver", "--due", "--at", "2026-12-11T01:05:00Z", "--format", "json")
    finally:
        setup.inbox.refuse = 0
    assert result.exit_code == 1
    (entry,) = json.loads(result.stdout)
    assert entry["status"] == "failed" and "550" in entry["error"]
    assert SMTP_PASSWORD not in result.output


def test_asking_for_nothing_is_refused_in_one_line(setup: Setup) -> None:
    for args in (["deliver"], ["deliver", "--schedule", "weekly"], ["deliver", "--schedule", "monthly", "--now"]):
        result = invoke(setup.root, *args)
        assert isinstance(result.exception, CadenceError), (args, result.output)
        assert "\n" not in result.exception.one_line()
        assert not sql(setup.root, "SELECT count(*) FROM deliveries WHERE schedule = 'monthly'")[0][0]
