"""The deliveries pages: the archive (admins only) equal to `cadence deliver log`, one message shown exactly as
sent in a sandboxed frame, "send me a test" through a real SMTP server on loopback, and the scheduler inside
`cadence serve` sending what is due. Rows are checked with plain SQL on the warehouse."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

import pytest
import yaml
from aiosmtpd.controller import Controller
from fastapi.testclient import TestClient

from cadence.config.delivery import DeliveryConfig
from cadence.delivery.archive import get_delivery, list_deliveries
from tests.test_delivery_send import Inbox, free_port, text_part
from tests.web.conftest import MANAGER_TEAM, ORIGIN, PASSWORD, WebCompany, sign_in


@pytest.fixture
def mail(web: WebCompany) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server, and the workspace's delivery block pointing at it for the test's duration."""
    inbox, port = Inbox(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    before = web.ws.config
    block = DeliveryConfig.model_validate({"smtp": {"host": "127.0.0.1", "port": port, "sender": "revops@acme.test",
                                                    "starttls": False}, "stale_after_days": 100000})
    web.ws.config = before.model_copy(update={"delivery": block})
    try:
        yield inbox, port
    finally:
        web.ws.config = before
        controller.stop()


def _iframes(page: str) -> list[dict[str, str | None]]:
    found: list[dict[str, str | None]] = []

    class Frames(HTMLParser):
        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "iframe":
                found.append(dict(attrs))

    Frames().feed(page)
    return found


def sql(web: WebCompany, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return web.ws.warehouse.query(query, params)


def insert(web: WebCompany, delivery_id: str, body_html: str, body_text: str = "plain\n", *, day: int = 5) -> None:
    sql(web, "INSERT INTO deliveries (delivery_id, schedule, recipient, channel, slot, status, attempts, subject, "
             "body_text, body_html, created_at) VALUES ($1, 'pages', 'eve', 'email', $2, 'sent', 1, 'Weekly', $3, "
             "$4, $2)", (delivery_id, datetime(2026, 1, day, 14), body_text, body_html))


def test_send_me_a_test_mails_my_own_scope_and_is_audited(web: WebCompany, client: Any,
                                                          mail: tuple[Inbox, int]) -> None:
    inbox, _ = mail
    manager = client("manager")
    page = manager.get("/scorecard")
    assert 'action="/deliveries/test"' in page.text
    answer = manager.post("/deliveries/test", data={"channel": "email"}, headers=ORIGIN)
    assert answer.status_code == 200, answer.text
    assert "Sent to max@example.test" in answer.text
    assert [rcpt for _, rcpt in inbox.envelopes] == [["max@example.test"]]
    row = sql(web, "SELECT delivery_id, schedule, scope, status, body_text FROM deliveries WHERE recipient = 'max' "
                   "AND schedule = 'test' ORDER BY created_at DESC LIMIT 1")[0]
    assert row[1:4] == ("test", f"team:{MANAGER_TEAM}", "sent")
    assert row[4] == text_part(inbox.messages[0])
    audited = sql(web, "SELECT actor, action, target FROM audit_log WHERE action = 'send_test' AND actor = 'max'")
    assert ("max", "send_test", f"deliveries/{row[0]}") in audited


def test_a_person_without_an_address_is_answered_beside_the_form(web: WebCompany, web_app: object,
                                                                 mail: tuple[Inbox, int]) -> None:
    from cadence.accounts.users import add_user, get_user

    if get_user(web.ws, "noah") is None:
        add_user(web.ws, "noah", "executive", password=PASSWORD)
    before = sql(web, "SELECT count(*) FROM deliveries")
    with sign_in(web_app, "noah") as person:
        assert 'action="/deliveries/test"' not in person.get("/scorecard").text
        answer = person.post("/deliveries/test", data={"channel": "email"}, headers=ORIGIN)
        assert answer.status_code == 400
        assert 'class="field-error"' in answer.text and "no email address" in answer.text
        sneaky = person.post("/deliveries/test", data={"channel": "<script>x</script>"}, headers=ORIGIN)
        assert sneaky.status_code == 400 and "<script>x" not in sneaky.text and "&lt;script&gt;" in sneaky.text
    assert sql(web, "SELECT count(*) FROM deliveries") == before
    assert mail[0].messages == []


def test_a_recruiter_is_not_sent_a_scorecard(client: Any, mail: tuple[Inbox, int]) -> None:
    answer = client("recruiter").post("/deliveries/test", data={"channel": "email"}, headers=ORIGIN)
    assert answer.status_code == 403
    assert mail[0].messages == []


def test_the_archive_is_for_admins_and_equals_the_cli(web: WebCompany, client: Any) -> None:
    insert(web, "pg-list-1", "<p>one</p>")
    listed = client("admin").get("/admin/deliveries.json")
    assert listed.status_code == 200
    assert listed.json() == json.loads(json.dumps(list_deliveries(web.ws, limit=100), default=lambda v: v.isoformat()))
    total = sql(web, "SELECT count(*) FROM deliveries")[0][0]
    assert len(listed.json()) == min(total, 100)
    page = client("admin").get("/admin/deliveries?schedule=pages")
    assert "/admin/deliveries/pg-list-1" in page.text
    for role in ("manager", "executive", "rep"):
        assert client(role).get("/admin/deliveries.json").status_code == 403


def test_a_message_is_shown_exactly_as_sent_in_a_sandboxed_frame(web: WebCompany, client: Any) -> None:
    body = '<table><tr><td style="color:red">Bookings &amp; "more"</td></tr></table><script>alert(1)</script>'
    insert(web, "pg-show-1", body, "Bookings & more\n", day=6)
    page = client("admin").get("/admin/deliveries/pg-show-1")
    assert page.status_code == 200
    assert "<iframe sandbox " in page.text
    frames = _iframes(page.text)
    assert len(frames) == 1 and "sandbox" in frames[0] and frames[0]["sandbox"] in (None, "")
    assert frames[0]["srcdoc"] == body  # what a browser reads from the attribute: the body exactly as sent
    assert "<script>alert(1)</script>" not in page.text
    assert "Bookings &amp; more" in page.text  # the plain-text part, escaped
    as_json = client("admin").get("/admin/deliveries/pg-show-1.json").json()
    assert as_json["body_html"] == body == get_delivery(web.ws, "pg-show-1")["body_html"]
    assert client("admin").get("/admin/deliveries/nope.json").status_code == 404
    assert client("manager").get("/admin/deliveries/pg-show-1").status_code == 403


def test_the_scheduler_inside_serve_sends_what_is_due_once(web: WebCompany, web_app: Any,
                                                          mail: tuple[Inbox, int]) -> None:
    from cadence.web.scheduler import DeliveryScheduler

    inbox, port = mail
    holder = web_app.state.holder
    scheduler = DeliveryScheduler(holder)
    assert scheduler.run_once() == []  # cadence.yml on disk has no delivery block: nothing is sent
    path = web.root / "cadence.yml"
    saved = path.read_text()
    schedule = {"name": "every-minute", "cron": "* * * * *", "timezone": "UTC", "recipients": ["eve"],
                "channels": ["email"]}
    block = {"smtp": {"host": "127.0.0.1", "port": port, "sender": "revops@acme.test", "starttls": False},
             "stale_after_days": 100000, "schedules": [schedule]}
    before = web.ws.config
    try:
        path.write_text(saved + "\n" + yaml.safe_dump({"delivery": block}))
        web.ws.config = before.model_copy(update={"delivery": DeliveryConfig.model_validate(block)})
        first = scheduler.run_once()
        minute = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
        second = scheduler.run_once()
    finally:
        path.write_text(saved)
        web.ws.config = before
    assert [r["status"] for r in first] == ["sent"]
    assert [r["status"] for r in second] in (["duplicate"], ["sent"])  # "sent" only when a minute turned between
    slots = sql(web, "SELECT slot FROM deliveries WHERE schedule = 'every-minute' AND recipient = 'eve'")
    assert len(slots) == len({s for (s,) in slots}) == len(inbox.messages)
    assert max(s for (s,) in slots) <= minute


def test_the_scheduler_thread_starts_with_the_app_and_stops(web_app: Any) -> None:
    with TestClient(web_app) as running:
        assert running.get("/login").status_code == 200
        import threading

        assert any(t.name == "cadence-delivery" and t.daemon for t in threading.enumerate())
