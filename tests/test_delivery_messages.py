"""What one recipient receives: their own week by email and by Slack, checked against the warehouse read by SQL.

Users are added to the session's demo company under names no other test uses (mail_*). Expectations — which teams,
people and deals a scope holds, how old the newest import is, how many figures are off track — come from plain SQL
on the warehouse or from the stored snapshot's payload, never from the functions under test.
"""

from __future__ import annotations

import base64
import dataclasses
import os
import re
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from cadence.access.scope import scoped
from cadence.accounts.records import User
from cadence.delivery.briefing import Briefing, briefing_for
from cadence.delivery.email_message import render_email
from cadence.delivery.images import headline_png
from cadence.delivery.slack_message import render_slack
from cadence.errors import AccessDenied
from cadence.review.actions import Action
from cadence.review.snapshots import get_snapshot, parse_week, take_snapshot, week_label
from cadence.workspace import Workspace

TEAM = "Mid-Market Sales"
BASE_URL = "https://cadence.acme.test"
LIMIT = 7  # days a delivery tolerates since the newest import
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SCREENSHOT = Path(__file__).resolve().parents[1] / "docs" / "screenshots" / "email.png"


@dataclasses.dataclass
class Mail:
    ws: Workspace
    users: dict[str, User]
    newest_import: date
    briefings: dict[str, Briefing]
    emails: dict[str, EmailMessage]


def _sql(ws: Workspace, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    return ws.warehouse.query(sql, params)


@pytest.fixture(scope="module")
def mail(demo_workspace: Workspace) -> Mail:
    from cadence.accounts.users import add_user, get_user

    ws = demo_workspace
    manager = _sql(ws, "SELECT person_id FROM people WHERE team = $1 AND role = 'manager' ORDER BY person_id",
                   (TEAM,))[0][0]
    rep = _sql(ws, "SELECT person_id FROM people WHERE team = $1 AND role = 'rep' ORDER BY person_id", (TEAM,))[0][0]
    wanted = {"executive": ("mail_exec", {}), "manager": ("mail_mgr", {"team": TEAM, "person_id": manager}),
              "rep": ("mail_rep", {"person_id": rep}), "recruiter": ("mail_rec", {})}
    users = {}
    for role, (name, extra) in wanted.items():
        users[role] = get_user(ws, name) or add_user(ws, name, role, password=None, email=f"{name}@example.test",
                                                     display_name=f"Mail {role.title()}", **extra)
    # last week's company snapshot, so the executive's email has something to say under "what changed"
    executive = briefing_for(ws, users["executive"])
    previous = parse_week(executive.week) - timedelta(days=7)
    if get_snapshot(ws, previous, "company") is None:
        take_snapshot(scoped(ws, executive.scope), week_label(previous), scope="company", computed_by="test")
    newest = pd.Timestamp(_sql(ws, "SELECT max(imported_at) FROM imports")[0][0]).date()
    fresh_day = newest + timedelta(days=LIMIT)  # exactly at the limit: still fresh
    briefings = {role: briefing_for(ws, user, base_url=BASE_URL, stale_after_days=LIMIT, today=fresh_day)
                 for role, user in users.items() if role != "recruiter"}
    emails = {role: render_email(b, sender="revops@acme.test", to=str(b.recipient.email))
              for role, b in briefings.items()}
    return Mail(ws, users, newest, briefings, emails)


def _decoded(message: EmailMessage) -> dict[str, str]:
    """Every text part, decoded: "text", "html" (the body) and "attachment"."""
    found = {}
    for part in message.walk():
        if part.get_content_maintype() != "text":
            continue
        key = "attachment" if part.get_filename() else part.get_content_subtype().replace("plain", "text")
        found[key] = part.get_content()
    return found


def _children(part: Any) -> list[Any]:
    """The sub-parts of a multipart part, in order."""
    return list(part.iter_parts())


def _everything(message: EmailMessage) -> str:
    return "\n".join([str(message["Subject"]), *_decoded(message).values()])


class _Visible(HTMLParser):
    """The text a reader sees in an HTML body, chunk by chunk (nothing of <head>)."""

    def __init__(self) -> None:
        super().__init__()
        self.chunks: list[str] = []
        self.in_head = False
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.in_head = self.in_head or tag == "head"
        if tag == "img":
            self.sources.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.in_head = False

    def handle_data(self, data: str) -> None:
        if not self.in_head and data.strip():
            self.chunks.append(data.strip())


def _visible(html: str) -> _Visible:
    parser = _Visible()
    parser.feed(html)
    return parser


def _team_members(ws: Workspace, manager: str) -> set[str]:
    rows = _sql(ws, "SELECT person_id FROM people WHERE team = $1 OR manager_id = $2 OR person_id = $2",
                (TEAM, manager))
    return {r[0] for r in rows}


def test_manager_email_holds_their_team_and_no_other_team_person_or_deal(mail: Mail) -> None:
    ws, manager = mail.ws, mail.users["manager"]
    text = _everything(mail.emails["manager"])
    assert TEAM in text
    # multi-word team names only: single words ("Product", "Marketing") are also words of the scorecard's titles
    others = [t for (t,) in _sql(ws, "SELECT DISTINCT team FROM people WHERE team IS NOT NULL AND team <> $1",
                                 (TEAM,)) if " " in t]
    assert others and not [t for t in others if t in text]
    members = _team_members(ws, str(manager.person_id))
    outsiders = [n for (p, n) in _sql(ws, "SELECT person_id, name FROM people") if p not in members]
    assert not [n for n in outsiders if n in text]
    deals = _sql(ws, "SELECT opportunity_id, name, owner_id FROM opportunities")
    foreign_deals = {name for (_, name, owner) in deals if owner not in members}
    assert not [n for n in foreign_deals if n in text]
    ours = {oid for (oid, _, owner) in deals if owner in members}
    assert set(re.findall(r"\bO\d{6}\b", text)) <= ours


def test_executive_email_names_every_sales_team(mail: Mail) -> None:
    text = _everything(mail.emails["executive"])
    selling = [t for (t,) in _sql(mail.ws, "SELECT DISTINCT p.team FROM opportunities o JOIN people p "
                                           "ON o.owner_id = p.person_id WHERE p.team IS NOT NULL")]
    assert len(selling) >= 3
    assert [t for t in selling if t not in _decoded(mail.emails["executive"])["attachment"]] == []
    assert [t for t in selling if t not in text] == []


def test_rep_email_names_no_other_rep(mail: Mail) -> None:
    rep = mail.users["rep"]
    text = _everything(mail.emails["rep"])
    reps = dict(_sql(mail.ws, "SELECT person_id, name FROM people WHERE role = 'rep'"))
    assert reps[rep.person_id] in text
    assert [n for p, n in reps.items() if p != rep.person_id and n in text] == []


def test_email_structure_inline_images_and_attachment(mail: Mail) -> None:
    for role, message in mail.emails.items():
        assert message.get_content_type() == "multipart/mixed", role
        related, attachment = _children(message)
        assert related.get_content_type() == "multipart/related"
        alternative, *images = _children(related)
        assert alternative.get_content_type() == "multipart/alternative"
        assert [p.get_content_type() for p in _children(alternative)] == ["text/plain", "text/html"]
        assert images and all(i.get_content_type() == "image/png" for i in images)
        assert len(images) <= 6
        assert all(i.get_content_disposition() == "inline" for i in images)
        assert all(i.get_payload(decode=True).startswith(PNG_MAGIC) for i in images)
        cids = {str(i["Content-ID"]).strip("<>") for i in images}
        sources = _visible(_children(alternative)[1].get_content()).sources
        assert {s.removeprefix("cid:") for s in sources if s.startswith("cid:")} == cids
        assert all(s.startswith("cid:") for s in sources)  # nothing fetched from the network
        assert attachment.get_content_type() == "text/html"
        assert attachment.get_content_disposition() == "attachment"
        assert attachment.get_filename() == f"scorecard-{mail.briefings[role].week}.html"


def test_no_script_anywhere_and_styles_are_inline(mail: Mail) -> None:
    for message in mail.emails.values():
        raw = bytes(message).decode("ascii", "replace")
        parts = _decoded(message)
        for text in (raw, *parts.values()):
            assert "<script" not in text.lower()
        body = parts["html"]
        assert "<style" not in body.lower() and "class=" not in body.lower()
        assert "<table" in body and 'style="' in body


def test_page_link_when_base_url_is_set(mail: Mail) -> None:
    b = mail.briefings["manager"]
    url = f"{BASE_URL}/scorecard?week={b.week}"
    parts = _decoded(mail.emails["manager"])
    assert url in parts["text"] and f'href="{url}"' in parts["html"]
    assert any(e.get("url") == url for block in render_slack(b)["blocks"] for e in block.get("elements", []))
    unlinked = dataclasses.replace(b, base_url=None)
    assert "/scorecard?week=" not in _everything(render_email(unlinked, sender="a@b.test", to="c@d.test"))


def test_markup_in_an_action_or_its_comment_is_escaped(mail: Mail) -> None:
    b = mail.briefings["manager"]
    hostile = "<script>alert('x')</script> & <b>bold</b>"
    action = Action("GA-test", "kpi", TEAM, "bookings", b.week, hostile, "capacity", hostile,
                    str(b.recipient.person_id), b.snapshot.week_start, "open", "mail_mgr", datetime(2026, 1, 1),
                    None, past_due=True)
    comment = {"author": "mail_mgr", "body": "<script>steal()</script> & more"}
    tainted = dataclasses.replace(b, actions=[action], comments={"GA-test": comment})
    message = render_email(tainted, sender="revops@acme.test", to="m@example.test")
    parts = _decoded(message)
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in parts["html"]
    assert "&lt;script&gt;steal()&lt;/script&gt; &amp; more" in parts["html"]
    assert "<script" not in parts["html"] and "<b>bold" not in parts["html"]
    assert hostile in parts["text"]  # plain text carries it as typed
    slack = render_slack(tainted)
    texts = _slack_texts(slack)
    assert any("&lt;script&gt;alert('x')&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in t for t in texts)
    assert any("&lt;script&gt;steal()&lt;/script&gt; &amp; more" in t for t in texts)
    assert not any("<script" in t or "<b>" in t for t in texts)


def _slack_texts(message: dict[str, Any]) -> list[str]:
    texts = []
    for block in message["blocks"]:
        if "text" in block:
            texts.append(block["text"]["text"])
        texts.extend(e["text"]["text"] if isinstance(e.get("text"), dict) else e.get("text", "")
                     for e in block.get("elements", []))
    return texts


def test_stale_notice_first_in_every_part_only_when_data_is_old(mail: Mail) -> None:
    ws, user = mail.ws, mail.users["manager"]
    age = LIMIT + 3
    late = mail.newest_import + timedelta(days=age)
    stale = briefing_for(ws, user, base_url=BASE_URL, stale_after_days=LIMIT, today=late)
    expected = f"Data is {age} days old: the newest import was on {mail.newest_import.isoformat()}."
    parts = _decoded(render_email(stale, sender="revops@acme.test", to="m@example.test"))
    assert parts["text"].splitlines()[0] == expected
    assert _visible(parts["html"]).chunks[0] == expected
    assert expected in _visible(parts["attachment"]).chunks[0]
    first = render_slack(stale)["blocks"][0]
    assert expected in first["text"]["text"]
    fresh = _decoded(mail.emails["manager"])  # built at exactly the limit
    assert "days old" not in fresh["text"] + fresh["html"]
    assert fresh["text"].splitlines()[0].startswith(mail.briefings["manager"].company)
    assert "days old" not in str(render_slack(mail.briefings["manager"]))


def test_slack_blocks_have_a_valid_shape(mail: Mail) -> None:
    kinds = {"header", "section", "context", "actions", "divider", "image"}
    for b in mail.briefings.values():
        message = render_slack(b)
        assert message["text"] and 1 <= len(message["blocks"]) <= 50
        for block in message["blocks"]:
            assert block["type"] in kinds
            if block["type"] in ("header", "section"):
                assert block["text"]["type"] in ("plain_text", "mrkdwn") and 0 < len(block["text"]["text"]) <= 3000
            if block["type"] == "header":
                assert block["text"]["type"] == "plain_text" and len(block["text"]["text"]) <= 150
        assert message["blocks"][0]["type"] == "header"  # fresh data: no notice ahead of it


def test_subject_counts_off_track_figures_in_scope(mail: Mail) -> None:
    for role, b in mail.briefings.items():
        payload = get_snapshot(mail.ws, b.snapshot.week_start, b.scope.key).payload  # type: ignore[union-attr]
        teams = None if role == "executive" else {
            t for (t,) in _sql(mail.ws, "SELECT team FROM people WHERE person_id = $1",
                               (mail.users[role].person_id,))}
        count = sum(1 for s in payload["sections"] for f in s.get("figures", [])
                    if f.get("status") == "off_track" and (teams is None or f.get("team") in (None, *teams)))
        assert mail.emails[role]["Subject"] == f"{b.company} scorecard {b.week} — {count} off track"


def test_what_changed_and_actions_lead_the_executive_email(mail: Mail) -> None:
    b = mail.briefings["executive"]
    text = _decoded(mail.emails["executive"])["text"]
    headings = [line for line in text.splitlines() if line.isupper() and line.strip()]
    assert headings[:3] == ["WHAT CHANGED SINCE LAST WEEK", "OPEN GAP ACTIONS", "OFF TRACK AND AT RISK"]
    block = text.split("WHAT CHANGED SINCE LAST WEEK")[1].split("OPEN GAP ACTIONS")[0]
    # by hand from the two stored payloads: the figures whose judged status changed lead the list
    judged = {"on_track", "at_risk", "off_track"}

    def statuses(week_start: date) -> dict[tuple[str, str, str | None], str]:
        payload = get_snapshot(mail.ws, week_start, "company").payload  # type: ignore[union-attr]
        return {(s["key"], f["label"], f.get("team")): f.get("status") for s in payload["sections"]
                for f in s.get("figures", [])}

    now, before = statuses(b.snapshot.week_start), statuses(b.snapshot.week_start - timedelta(days=7))
    flipped = [k for k in now if k in before and now[k] != before[k] and {now[k], before[k]} <= judged]
    assert flipped, "the demo's two weeks differ in at least one status"
    for _, label, team in flipped[:8]:
        assert any(line.startswith(f"- {label}{f' ({team})' if team else ''}:") for line in block.splitlines())


def test_recruiter_gets_no_scorecard(mail: Mail) -> None:
    with pytest.raises(AccessDenied):
        briefing_for(mail.ws, mail.users["recruiter"])


def test_headline_png_is_the_mission_chart(mail: Mail) -> None:
    png = headline_png(mail.briefings["executive"])
    assert png is not None and png.startswith(PNG_MAGIC)


@pytest.mark.skipif(os.environ.get("CADENCE_SCREENSHOTS") != "1", reason="screenshots only on request")
def test_email_screenshot(mail: Mail) -> None:
    from tests.browser import chromium_page

    message = mail.emails["executive"]
    html = _decoded(message)["html"]
    part: Any
    for part in message.walk():
        if part.get_content_type() == "image/png":
            cid = str(part["Content-ID"]).strip("<>")
            data = base64.b64encode(part.get_payload(decode=True)).decode("ascii")
            html = html.replace(f"cid:{cid}", f"data:image/png;base64,{data}")
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    with chromium_page(width=1000, height=900) as page:
        page.set_content(html)
        height = min(1900, page.evaluate("document.body.scrollHeight"))  # the top: what a reader sees first
        page.screenshot(path=str(SCREENSHOT), full_page=True, clip={"x": 0, "y": 0, "width": 1000, "height": height})
    assert SCREENSHOT.read_bytes().startswith(PNG_MAGIC)
