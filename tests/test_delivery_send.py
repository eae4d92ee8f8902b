"""Scheduled delivery end to end, with real parts: a real SMTP server (aiosmtpd) on loopback, a real HTTP server
(pytest-httpserver) standing in for Slack's webhook and Web API, a copy of the demo company's warehouse.

What a user relies on: one message per recipient per slot however often the run is repeated or raced; each
recipient's message for their own scope; the archive holding exactly what the mail server received; retries on
4xx/429/5xx; after the last try a failed message and one email to the admins; no credential anywhere; stale data
said first (or the message skipped). Expectations come from the SMTP server's inbox, the HTTP server's log and
plain SQL on the warehouse.
"""

from __future__ import annotations

import email
import email.policy
import json
import logging
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from cadence.config.delivery import DeliveryConfig
from cadence.delivery.run import Transports, deliver_due, deliver_now, send_test
from cadence.delivery.transport import Retry
from cadence.workspace import Workspace, open_workspace

TEAM = "Mid-Market Sales"
SMTP_USER, SMTP_PASSWORD = "relay-user", "pw-Zq81-never-shown"
SLACK_TOKEN = "xoxb-1111-2222-secret-token"
NOW = datetime(2026, 12, 7, 14, 5, tzinfo=UTC)  # Monday 8:05 in Mexico City (UTC-6, no daylight saving)
SLOT = datetime(2026, 12, 7, 14, 0)  # 8:00 local, as the warehouse keeps it (naive UTC)


# -- real servers ---------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """What the SMTP server accepted; `refuse` answers the next N DATA commands with `answer`."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: int = 0
    answer: str = "451 4.3.0 Try again later"
    tries: int = 0
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.tries += 1
        if self.refuse > 0:
            self.refuse -= 1
            return self.answer
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m, (_, rcpt) in zip(self.messages, self.envelopes, strict=True) if address in rcpt]


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    from aiosmtpd.smtp import AuthResult, LoginPassword

    inbox = Inbox()

    def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and data.login == SMTP_USER.encode() \
            and data.password == SMTP_PASSWORD.encode()
        if ok:
            inbox.logins.append((data.login, data.password))
        return AuthResult(success=ok)

    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_require_tls=False)
    controller.start()
    yield inbox, port
    controller.stop()


def text_part(message: EmailMessage) -> str:
    """The plain-text part as received, with SMTP's CRLF line ends read as the newlines they stand for."""
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


def html_part(message: EmailMessage) -> str:
    body = message.get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


# -- the company ------------------------------------------------------------------------------------------------
@dataclass
class Company:
    ws: Workspace
    root: Path
    users: dict[str, str]  # key -> user_id
    emails: dict[str, str]
    other_teams: set[str]  # multi-word names only: "Product" is also a word of the scorecard's titles
    team_deals: set[str]  # opportunity ids owned by the manager's team
    other_deal_names: set[str]


def _sql(ws: Workspace, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return ws.warehouse.query(sql, params)


def copy_demo(demo: Workspace, target: Path) -> Path:
    """The demo company copied to `target` (its own warehouse file), so these tests may write to it."""
    demo.warehouse.execute("CHECKPOINT")
    shutil.copytree(demo.root, target, ignore=shutil.ignore_patterns("*.wal", "*.lock", ".cadence*"))
    return target


def add_people(ws: Workspace) -> dict[str, str]:
    from cadence.accounts.users import add_user

    manager = _sql(ws, "SELECT person_id FROM people WHERE team = $1 AND role = 'manager' ORDER BY person_id",
                   (TEAM,))[0][0]
    rep = _sql(ws, "SELECT person_id FROM people WHERE team = $1 AND role = 'rep' ORDER BY person_id", (TEAM,))[0][0]
    wanted = {"cro": ("executive", {}), "mm_manager": ("manager", {"team": TEAM, "person_id": manager}),
              "rep1": ("rep", {"person_id": rep}), "recruit": ("recruiter", {}), "boss": ("admin", {}),
              "nomail": ("executive", {})}
    found = {}
    for name, (role, extra) in wanted.items():
        address = None if name == "nomail" else f"{name}@acme.test"
        add_user(ws, name, role, password=None, email=address, **extra)
        found[name] = address or ""
    return found


@pytest.fixture(scope="module")
def company(demo_workspace: Workspace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    root = copy_demo(demo_workspace, tmp_path_factory.mktemp("deliver") / "acme")
    ws = open_workspace(root)
    emails = add_people(ws)
    manager = _sql(ws, "SELECT person_id FROM users WHERE user_id = 'mm_manager'")[0][0]
    members = {str(p) for (p,) in _sql(ws, "SELECT person_id FROM people WHERE team = $1 OR manager_id = $2 "
                                           "OR person_id = $2", (TEAM, manager))}
    others = {str(t) for (t,) in _sql(ws, "SELECT DISTINCT team FROM people WHERE team IS NOT NULL AND team <> $1",
                                      (TEAM,)) if " " in str(t)}
    deals = _sql(ws, "SELECT opportunity_id, name, owner_id FROM opportunities")
    yield Company(ws, root, {k: k for k in emails}, emails, others,
                  {str(d) for d, _, owner in deals if owner in members},
                  {str(n) for _, n, owner in deals if owner not in members and n})
    ws.close()


def configure(ws: Workspace, smtp_port: int | None = None, *, slack: dict[str, Any] | None = None,
              schedules: list[dict[str, Any]], stale_after_days: int = 100_000) -> DeliveryConfig:
    """Give the open workspace a delivery block (as cadence.yml would, validated the same way)."""
    block: dict[str, Any] = {"stale_after_days": stale_after_days, "schedules": schedules}
    if smtp_port is not None:
        block["smtp"] = {"host": "127.0.0.1", "port": smtp_port, "sender": "revops@acme.test", "starttls": False,
                         "timeout_seconds": 5}
    if slack is not None:
        block["slack"] = slack
    config = DeliveryConfig.model_validate(block)
    ws.config = ws.config.model_copy(update={"delivery": config})
    return config


ENV = {"CADENCE_SMTP_USER": SMTP_USER, "CADENCE_SMTP_PASSWORD": SMTP_PASSWORD}


def fast(ws: Workspace, environ: dict[str, str] | None = None) -> tuple[Transports, list[float]]:
    """Transports built from the workspace's delivery block with recorded, instant back-off."""
    waits: list[float] = []
    config = ws.config.delivery
    assert config is not None
    return Transports.from_config(config, environ=environ or ENV, retry=Retry(sleep=waits.append)), waits


def rows(ws: Workspace, schedule: str) -> pd.DataFrame:
    return ws.warehouse.read_frame(f"SELECT * FROM deliveries WHERE schedule = '{schedule}' ORDER BY recipient, "
                                   "channel")


# -- tests ----------------------------------------------------------------------------------------------------
def test_one_message_per_recipient_per_slot_and_a_repeat_sends_nothing(company: Company, smtp: tuple[Inbox, int]
                                                                       ) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "weekly", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["cro", "mm_manager", "rep1"], "channels": ["email"]}])
    transports, _ = fast(ws)
    first = deliver_due(ws, now=NOW, transports=transports)
    assert [(r["recipient"], r["status"]) for r in first] == [("cro", "sent"), ("mm_manager", "sent"),
                                                              ("rep1", "sent")]
    again = deliver_due(ws, now=NOW + timedelta(minutes=1), transports=transports)
    assert {r["status"] for r in again} == {"duplicate"}
    assert [r["delivery_id"] for r in again] == [r["delivery_id"] for r in first]
    # the SMTP server got exactly one message per recipient, signed in with the environment's user
    assert sorted(rcpt[0] for _, rcpt in inbox.envelopes) == ["cro@acme.test", "mm_manager@acme.test",
                                                             "rep1@acme.test"]
    assert inbox.logins and inbox.logins[0][0] == SMTP_USER.encode()
    table = rows(ws, "weekly")
    assert len(table) == 3 and set(table["status"]) == {"sent"}
    assert set(pd.to_datetime(table["slot"])) == {pd.Timestamp(SLOT)}
    # three days on, the slot is older than the look-back: a late run sends nothing
    assert deliver_due(ws, now=NOW + timedelta(days=3), transports=transports) == []


def test_the_archive_holds_exactly_what_the_mail_server_received(company: Company, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "archive", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["cro", "mm_manager"], "channels": ["email"]}])
    transports, _ = fast(ws)
    deliver_now(ws, "archive", now=NOW, transports=transports)
    for recipient in ("cro", "mm_manager"):
        (received,) = inbox.to(f"{recipient}@acme.test")
        stored = _sql(ws, "SELECT body_text, body_html, subject, address, status, attempts FROM deliveries "
                          "WHERE schedule = 'archive' AND recipient = $1", (recipient,))
        body_text, body_html, subject, address, status, attempts = stored[0]
        assert body_text == text_part(received)
        assert body_html == html_part(received)
        assert subject == received["Subject"] and address == f"{recipient}@acme.test"
        assert (status, attempts) == ("sent", 1)
        # multipart: text and HTML alternatives, inline images named by the HTML, the scorecard attached
        assert received.get_content_type() == "multipart/mixed"
        cids = [p["Content-ID"].strip("<>") for p in received.walk() if p.get_content_type() == "image/png"]
        assert all(f"cid:{cid}" in body_html for cid in cids)
        attachments = [p.get_filename() for p in received.iter_attachments()]
        assert any(str(name).startswith("scorecard-") for name in attachments)


def test_a_manager_gets_their_own_team_only(company: Company, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "scope", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["mm_manager", "cro"], "channels": ["email"]}])
    transports, _ = fast(ws)
    deliver_now(ws, "scope", now=NOW, transports=transports)
    stored = dict(_sql(ws, "SELECT recipient, scope FROM deliveries WHERE schedule = 'scope'"))
    assert stored["mm_manager"] == f"team:{TEAM}"
    assert stored["cro"] == "company"
    snapshot_scope = _sql(ws, "SELECT s.scope FROM deliveries d JOIN snapshots s ON s.snapshot_id = d.snapshot_id "
                              "WHERE d.schedule = 'scope' AND d.recipient = 'mm_manager'")
    assert snapshot_scope == [(f"team:{TEAM}",)]
    (mail,) = inbox.to("mm_manager@acme.test")
    whole = "".join(str(p.get_content()) for p in mail.walk() if p.get_content_maintype() == "text")
    assert TEAM in whole
    assert company.other_teams and not [t for t in company.other_teams if t in whole]
    assert not [n for n in company.other_deal_names if n in whole]
    assert set(re.findall(r"\bO\d{6}\b", whole)) <= company.team_deals


def test_smtp_4xx_is_retried_with_back_off(company: Company, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "retry", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["cro"], "channels": ["email"]}])
    transports, waits = fast(ws)
    inbox.refuse = 1
    (result,) = deliver_now(ws, "retry", now=NOW, transports=transports)
    assert result["status"] == "sent"
    assert inbox.tries == 2 and len(inbox.messages) == 1
    assert waits == [2.0]
    assert _sql(ws, "SELECT status, attempts FROM deliveries WHERE schedule = 'retry'") == [("sent", 2)]


def test_smtp_5xx_is_permanent_and_failures_reach_the_admins(company: Company, smtp: tuple[Inbox, int],
                                                             caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "refused", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["cro"], "channels": ["email"]}])
    transports, waits = fast(ws)
    inbox.refuse, inbox.answer = 1, "554 5.7.1 Message rejected"
    caplog.set_level(logging.DEBUG)
    (result,) = deliver_now(ws, "refused", now=NOW, transports=transports)
    assert result["status"] == "failed" and "554" in result["error"]
    assert waits == []  # no retry after a permanent refusal
    assert _sql(ws, "SELECT status, attempts FROM deliveries WHERE schedule = 'refused'") == [("failed", 1)]
    (alert,) = inbox.to("boss@acme.test")
    assert "refused" in str(alert["Subject"]) and "cro" in text_part(alert)


def test_three_failed_tries_fail_the_message_and_email_the_admins(company: Company, smtp: tuple[Inbox, int],
                                                                   httpserver: HTTPServer) -> None:
    inbox, port = smtp
    ws = company.ws
    hook = "/services/T000/B000/webhooksecretpath"
    httpserver.expect_request(hook, method="POST").respond_with_data("boom", status=500)
    env = {**ENV, "CADENCE_SLACK_WEBHOOK": httpserver.url_for(hook)}
    configure(ws, port, slack={"webhook_env": "CADENCE_SLACK_WEBHOOK"},
              schedules=[{"name": "down", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                          "recipients": ["cro"], "channels": ["slack"]}])
    transports, waits = fast(ws, env)
    (result,) = deliver_now(ws, "down", now=NOW, transports=transports)
    assert result["status"] == "failed" and "500" in result["error"]
    assert len(httpserver.log) == 3 and waits == [2.0, 4.0]
    assert _sql(ws, "SELECT status, attempts FROM deliveries WHERE schedule = 'down'") == [("failed", 3)]
    alerts = inbox.to("boss@acme.test")
    assert len(alerts) == 1
    body = text_part(alerts[0])
    assert "down" in body and "cro" in body and "slack" in body
    assert env["CADENCE_SLACK_WEBHOOK"] not in body and hook not in body


def test_slack_webhook_429_honours_retry_after_and_posts_the_archived_json(company: Company,
                                                                           httpserver: HTTPServer) -> None:
    ws = company.ws
    hook = "/services/T111/B111/anotherwebhooksecret"
    answers = iter([Response("rate limited", status=429, headers={"Retry-After": "7"}), Response("ok", status=200)])
    httpserver.expect_request(hook, method="POST").respond_with_handler(lambda request: next(answers))
    env = {"CADENCE_SLACK_WEBHOOK": httpserver.url_for(hook)}
    configure(ws, None, slack={"webhook_env": "CADENCE_SLACK_WEBHOOK"},
              schedules=[{"name": "slack", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                          "recipients": ["mm_manager"], "channels": ["slack"]}])
    transports, waits = fast(ws, env)
    (result,) = deliver_now(ws, "slack", now=NOW, transports=transports)
    assert result["status"] == "sent"
    assert waits == [7.0]
    posted = [json.loads(request.get_data(as_text=True)) for request, _ in httpserver.log]
    assert len(posted) == 2 and posted[0] == posted[1]
    (stored,) = _sql(ws, "SELECT payload_json, attempts FROM deliveries WHERE schedule = 'slack'")
    assert json.loads(stored[0]) == posted[1] and stored[1] == 2
    assert not [t for t in company.other_teams if t in stored[0]]


def test_slack_bot_token_posts_then_uploads_the_chart(company: Company, httpserver: HTTPServer) -> None:
    ws = company.ws
    calls: list[str] = []

    def api(request: Request) -> Response:
        calls.append(request.path)
        assert request.headers.get("Authorization") == f"Bearer {SLACK_TOKEN}"
        if request.path.endswith("chat.postMessage"):
            if calls.count(request.path) == 1:
                return Response(json.dumps({"ok": False, "error": "ratelimited"}), status=429,
                                headers={"Retry-After": "3", "Content-Type": "application/json"})
            return Response(json.dumps({"ok": True, "channel": "C0EXEC", "ts": "1700000000.0001"}),
                            content_type="application/json")
        if request.path.endswith("files.getUploadURLExternal"):
            return Response(json.dumps({"ok": True, "upload_url": httpserver.url_for("/upload/F1"),
                                        "file_id": "F1"}), content_type="application/json")
        if request.path.endswith("files.completeUploadExternal"):
            return Response(json.dumps({"ok": True, "files": [{"id": "F1", "title": "chart"}]}),
                            content_type="application/json")
        return Response(json.dumps({"ok": False, "error": "unknown_method"}), content_type="application/json")

    uploads: list[bytes] = []

    def upload(request: Request) -> Response:
        uploads.append(request.get_data())
        calls.append(request.path)
        return Response("OK - 123", status=200)

    httpserver.expect_request("/upload/F1", method="POST").respond_with_handler(upload)
    httpserver.expect_request(re.compile("^/api/.*"), method="POST").respond_with_handler(api)
    configure(ws, None, slack={"token_env": "CADENCE_SLACK_TOKEN", "channel": "#exec",
                               "api_url": httpserver.url_for("/api/")},
              schedules=[{"name": "bot", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                          "recipients": ["cro"], "channels": ["slack"]}])
    transports, waits = fast(ws, {"CADENCE_SLACK_TOKEN": SLACK_TOKEN})
    (result,) = deliver_now(ws, "bot", now=NOW, transports=transports)
    assert result["status"] == "sent", result
    assert waits == [3.0]
    assert calls == ["/api/chat.postMessage", "/api/chat.postMessage", "/api/files.getUploadURLExternal",
                     "/upload/F1", "/api/files.completeUploadExternal"]
    assert uploads and uploads[0].startswith(b"\x89PNG")
    (payload,) = _sql(ws, "SELECT payload_json FROM deliveries WHERE schedule = 'bot'")[0]
    assert json.loads(payload)["channel"] == "#exec"


def test_no_credential_anywhere_in_the_archive_or_the_logs(company: Company, smtp: tuple[Inbox, int],
                                                           httpserver: HTTPServer,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    inbox, port = smtp
    ws = company.ws
    caplog.set_level(logging.DEBUG)
    hook = "/services/T222/B222/webhookpathsecret99"
    httpserver.expect_request(hook, method="POST").respond_with_data(f"no_service at {hook}", status=503)
    env = {**ENV, "CADENCE_SLACK_WEBHOOK": httpserver.url_for(hook)}
    inbox.refuse, inbox.answer = 5, f"452 4.3.1 busy ({SMTP_PASSWORD})"  # a server echoing a secret
    configure(ws, port, slack={"webhook_env": "CADENCE_SLACK_WEBHOOK"},
              schedules=[{"name": "secrets", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                          "recipients": ["cro"], "channels": ["email", "slack"]}])
    transports, _ = fast(ws, env)
    results = deliver_now(ws, "secrets", now=NOW, transports=transports)
    assert {r["status"] for r in results} == {"failed"}
    columns = [c for c in ws.warehouse.column_names("deliveries")]
    secrets = [SMTP_PASSWORD, env["CADENCE_SLACK_WEBHOOK"], hook]
    for secret in secrets:
        hits = _sql(ws, "SELECT count(*) FROM deliveries WHERE " + " OR ".join(
            f"strpos(CAST({c} AS VARCHAR), $1) > 0" for c in columns), (secret,))
        assert hits == [(0,)], secret
        # what the stand-in servers log of their own traffic (mail.log, werkzeug) is theirs, not Cadence's
        logged = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("mail.log", "werkzeug")))
        assert secret not in logged
        assert not [r for r in results if secret in json.dumps(r)]


def test_stale_data_notice_first_or_skipped(company: Company, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = company.ws
    newest = pd.Timestamp(_sql(ws, "SELECT max(imported_at) FROM imports")[0][0]).date()
    # the Monday 8:05 in Mexico City a week after the first Monday following the newest import (whenever the
    # suite runs), and a limit the newest import is one day past on it
    monday = newest + timedelta(days=7 + (-newest.weekday()) % 7)
    now = datetime(monday.year, monday.month, monday.day, 14, 5, tzinfo=UTC)
    limit = (now.date() - newest).days - 1
    configure(ws, port, stale_after_days=limit, schedules=[
        {"name": "stale-notice", "cron": "0 8 * * MON", "timezone": "America/Mexico_City", "recipients": ["cro"],
         "channels": ["email"]},
        {"name": "stale-skip", "cron": "0 8 * * MON", "timezone": "America/Mexico_City", "recipients": ["cro"],
         "channels": ["email"], "when_stale": "skip"}])
    transports, _ = fast(ws)
    results = {r["schedule"]: r for r in deliver_due(ws, now=now, transports=transports)}
    assert results["stale-notice"]["status"] == "sent"
    assert results["stale-skip"]["status"] == "skipped"
    assert f"{(now.date() - newest).days} days" in results["stale-skip"]["error"]
    (mail,) = inbox.to("cro@acme.test")
    first_line = text_part(mail).splitlines()[0]
    assert newest.isoformat() in first_line and f"{(now.date() - newest).days} days" in first_line
    assert _sql(ws, "SELECT status FROM deliveries WHERE schedule = 'stale-skip'") == [("skipped",)]


def test_unknown_mailless_and_recruiter_recipients_are_reported_not_crashed(company: Company,
                                                                            smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "odd", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["ghost", "nomail", "recruit", "cro"], "channels": ["email"]}])
    transports, _ = fast(ws)
    results = {r["recipient"]: r for r in deliver_now(ws, "odd", now=NOW, transports=transports)}
    assert results["ghost"]["status"] == "skipped" and "ghost" in results["ghost"]["error"]
    assert results["nomail"]["status"] == "skipped" and "email" in results["nomail"]["error"]
    assert results["recruit"]["status"] == "no_scorecard"
    assert results["cro"]["status"] == "sent"
    assert [rcpt for _, rcpt in inbox.envelopes] == [["cro@acme.test"]]


def test_send_test_goes_to_the_user_now(company: Company, smtp: tuple[Inbox, int]) -> None:
    from cadence.accounts.records import get_user

    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[])
    transports, _ = fast(ws)
    user = get_user(ws, "rep1")
    assert user is not None
    moment = datetime(2026, 12, 4, 18, 30, 15, 123, tzinfo=UTC)
    (result,) = send_test(ws, user, now=moment, transports=transports)
    assert result["status"] == "sent"
    person = _sql(ws, "SELECT person_id FROM users WHERE user_id = 'rep1'")[0][0]
    assert _sql(ws, "SELECT schedule, slot, scope FROM deliveries WHERE delivery_id = $1",
                (result["delivery_id"],)) == [("test", datetime(2026, 12, 4, 18, 30, 15), f"person:{person}")]
    assert len(inbox.to("rep1@acme.test")) == 1


def test_two_threads_racing_on_one_duckdb_send_once(company: Company, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "race", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                    "recipients": ["cro", "mm_manager"], "channels": ["email"]}])
    transports, _ = fast(ws)
    results: list[list[dict[str, Any]]] = []
    start = threading.Barrier(2)

    def run() -> None:
        start.wait()
        results.append(deliver_due(ws, now=NOW, transports=transports))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    statuses = sorted(r["status"] for batch in results for r in batch)
    assert statuses == ["duplicate", "duplicate", "sent", "sent"]
    assert _sql(ws, "SELECT recipient, count(*) FROM deliveries WHERE schedule = 'race' GROUP BY recipient "
                    "ORDER BY recipient") == [("cro", 1), ("mm_manager", 1)]
    assert sorted(rcpt[0] for _, rcpt in inbox.envelopes) == ["cro@acme.test", "mm_manager@acme.test"]


@pytest.mark.postgres
def test_two_workspaces_racing_on_postgresql_send_once(postgres_url: str, tmp_path: Path, smtp: tuple[Inbox, int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Two connections (two servers, or cron and a server) on PostgreSQL: the UNIQUE key lets one claim win."""
    import types

    import cadence.delivery.briefing as briefing_module
    import cadence.delivery.email_message as email_module
    from cadence.accounts.users import add_user
    from cadence.workspace import init_workspace

    inbox, port = smtp
    root = init_workspace(tmp_path / "pg", company="Race Co", warehouse=postgres_url)
    config = yaml.safe_load((root / "cadence.yml").read_text())
    config["delivery"] = {"smtp": {"host": "127.0.0.1", "port": port, "sender": "revops@race.test",
                                   "starttls": False},
                          "schedules": [{"name": "race", "cron": "0 8 * * MON", "timezone": "America/Mexico_City",
                                         "recipients": ["a", "b", "c"], "channels": ["email"]}]}
    (root / "cadence.yml").write_text(yaml.safe_dump(config))
    first, second = open_workspace(root), open_workspace(root)
    for name in ("a", "b", "c"):
        add_user(first, name, "executive", password=None, email=f"{name}@race.test")

    # the warehouse is empty, so what one recipient receives is a stand-in: the race is about the claim
    def fake_briefing(ws: Workspace, user: Any, **_: Any) -> Any:
        time.sleep(0.05)
        return types.SimpleNamespace(stale=None, recipient=user, scope=types.SimpleNamespace(key="company"),
                                     snapshot=types.SimpleNamespace(snapshot_id="snap-1"))

    def fake_email(b: Any, *, sender: str, to: str) -> EmailMessage:
        message = EmailMessage()
        message["Subject"], message["From"], message["To"] = "Scorecard", sender, to
        message.set_content(f"for {to}\n")
        return message

    monkeypatch.setattr(briefing_module, "briefing_for", fake_briefing)
    monkeypatch.setattr(email_module, "render_email", fake_email)
    results: list[dict[str, Any]] = []
    start = threading.Barrier(2)

    def run(ws: Workspace) -> None:
        transports, _ = fast(ws)
        start.wait()
        results.extend(deliver_due(ws, now=NOW, transports=transports))

    threads = [threading.Thread(target=run, args=(w,)) for w in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    try:
        assert sorted(r["status"] for r in results).count("sent") == 3
        assert sorted(r["status"] for r in results).count("duplicate") == 3
        assert first.warehouse.query("SELECT recipient, count(*) FROM deliveries GROUP BY recipient "
                                     "ORDER BY recipient") == [("a", 1), ("b", 1), ("c", 1)]
        assert sorted(rcpt[0] for _, rcpt in inbox.envelopes) == ["a@race.test", "b@race.test", "c@race.test"]
    finally:
        first.close()
        second.close()


def test_a_weekly_schedule_crossing_berlins_change_sends_once_a_week_at_eight_local(company: Company,
                                                                                     smtp: tuple[Inbox, int]) -> None:
    """The clock runs (time-machine) through the week of 2026-03-29, when Berlin moves from UTC+1 to UTC+2, with a
    run every 20 minutes: each Monday's message goes out once, on the first run at or after 8:00 in Berlin."""
    import time_machine

    inbox, port = smtp
    ws = company.ws
    configure(ws, port, schedules=[{"name": "berlin", "cron": "0 8 * * MON", "timezone": "Europe/Berlin",
                                    "recipients": ["cro"], "channels": ["email"]}])
    transports, _ = fast(ws)
    sent_at: list[datetime] = []
    moment = datetime(2026, 3, 22, tzinfo=UTC)
    while moment < datetime(2026, 4, 1, tzinfo=UTC):
        with time_machine.travel(moment, tick=False):
            if [r for r in deliver_due(ws, transports=transports) if r["status"] == "sent"]:
                sent_at.append(moment)
        moment += timedelta(minutes=20)
    # 8:00 CET on 2026-03-23 is 07:00 UTC; 8:00 CEST on 2026-03-30 is 06:00 UTC
    assert sent_at == [datetime(2026, 3, 23, 7, tzinfo=UTC), datetime(2026, 3, 30, 6, tzinfo=UTC)]
    assert _sql(ws, "SELECT slot FROM deliveries WHERE schedule = 'berlin' ORDER BY slot") == [
        (datetime(2026, 3, 23, 7),), (datetime(2026, 3, 30, 6),)]
    assert len(inbox.to("cro@acme.test")) == 2


def test_an_unreachable_mail_server_is_tried_three_times_then_failed(company: Company) -> None:
    ws = company.ws
    configure(ws, free_port(), schedules=[{"name": "unreachable", "cron": "0 8 * * MON",
                                           "timezone": "America/Mexico_City", "recipients": ["cro"],
                                           "channels": ["email"]}])
    transports, waits = fast(ws)
    (result,) = deliver_now(ws, "unreachable", now=NOW, transports=transports)
    assert result["status"] == "failed" and "unreachable" in result["error"]
    assert waits == [2.0, 4.0]
    assert _sql(ws, "SELECT status, attempts FROM deliveries WHERE schedule = 'unreachable'") == [("failed", 3)]
