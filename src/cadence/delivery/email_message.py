"""A briefing as an email: plain text and HTML, the charts as inline images, the full scorecard attached.

The structure every mail client understands:

    multipart/mixed
      multipart/related
        multipart/alternative
          text/plain            the same content, readable as text
          text/html             tables and inline styles only; charts as <img src="cid:…">
        image/png ×N            inline, each with the Content-ID the HTML names
      text/html attachment      scorecard-<week>.html, the whole scorecard

When the data is stale, the first line of both the text and the HTML says so.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import TYPE_CHECKING

from cadence.delivery.email_html import ROWS_PER_TABLE, email_html, ordered_columns, scorecard_html, subject_line
from cadence.delivery.images import chart_images
from cadence.report.format import status_label

if TYPE_CHECKING:
    from cadence.delivery.briefing import Briefing

__all__ = ["render_email", "email_text"]


def render_email(b: Briefing, *, sender: str, to: str) -> EmailMessage:
    """The recipient's weekly email, ready for `smtplib.SMTP.send_message`."""
    images = chart_images(b)
    message = EmailMessage()
    message["Subject"] = subject_line(b)
    message["From"] = sender
    message["To"] = to
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    alternative = EmailMessage()
    alternative.set_content(email_text(b))
    alternative.add_alternative(email_html(b, images), subtype="html")
    related = EmailMessage()
    related.make_related()
    related.attach(alternative)
    for image in images:
        picture = EmailMessage()
        picture.set_content(image.png, maintype="image", subtype="png", cid=f"<{image.content_id}>",
                            filename=image.filename, disposition="inline")
        related.attach(picture)
    attachment = EmailMessage()
    attachment.set_content(scorecard_html(b), subtype="html", disposition="attachment",
                           filename=f"scorecard-{b.week}.html")
    message.make_mixed()
    message.attach(related)
    message.attach(attachment)
    return message


def email_text(b: Briefing) -> str:
    """The plain-text part: the same content as the HTML, in the same order, readable in any client."""
    lines = [b.stale, ""] if b.stale else []
    lines += [f"{b.company} — weekly scorecard {b.week}",
              f"For {b.recipient.display_name or b.recipient.user_id}: {b.audience} · amounts in {b.currency}"]
    if b.page_url:
        lines.append(f"Open it on the web: {b.page_url}")
    lines += ["", "WHAT CHANGED SINCE LAST WEEK"]
    changes = b.top_changes()
    if not changes:
        lines.append("Nothing moved since last week." if b.changes.previous_week
                     else "No snapshot of last week to compare with.")
    for c in changes:
        team = f" ({c.team})" if c.team else ""
        now = status_label(c.status_after) or c.kind
        lines.append(f"- {c.label}{team}: {b.change_value(c, 'before')} → {b.change_value(c, 'after')} [{now}]")
    if b.changes.note:
        lines.append(f"Note: {b.changes.note}.")
    lines += ["", "OPEN GAP ACTIONS"]
    actions = b.open_actions()
    if not actions:
        lines.append("No open gap actions.")
    for a in actions:
        due = a.due.isoformat() if a.due else "no due date"
        flag = " — PAST DUE" if a.past_due else ""
        lines.append(f"- {a.team} · {a.metric}: {a.action or a.gap or ''} (owner {b.owner(a)}, due {due}){flag}")
        if (comment := b.latest_comment(a)) is not None:
            lines.append(f"  latest comment — {comment}")
    lines += ["", "OFF TRACK AND AT RISK"]
    for f in b.attention():
        team = f" ({f['team']})" if f.get("team") else ""
        target = f", target {b.value(f, 'target')}" if f.get("target") is not None else ""
        lines.append(f"- {f['label']}{team}: {b.value(f)}{target} [{status_label(f.get('status')) or '—'}]")
    for section in b.sections():
        if section.get("key") == "mission":
            continue
        rest = [f for f in section["figures"] if f.get("status") not in ("off_track", "at_risk")]
        if not rest and not section["rows"]:
            continue
        lines += ["", str(section.get("title") or "").upper()]
        for f in rest:
            team = f" ({f['team']})" if f.get("team") else ""
            lines.append(f"- {f['label']}{team}: {b.value(f)}")
        for row in section["rows"][:ROWS_PER_TABLE]:
            lines.append("- " + " · ".join(f"{c.replace('_', ' ')} {row[c]}" for c in ordered_columns(row)
                                           if row[c] not in (None, "")))
        if len(section["rows"]) > ROWS_PER_TABLE:
            lines.append(f"  and {len(section['rows']) - ROWS_PER_TABLE} more rows in the attached scorecard")
    lines += ["", f"The full scorecard is attached (scorecard-{b.week}.html). Snapshot {b.snapshot.snapshot_id}."]
    return "\n".join(lines) + "\n"
