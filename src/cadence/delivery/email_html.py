"""A briefing as HTML: the email's body, made to survive mail clients, and the full scorecard to attach.

The body is what Gmail, Outlook and Apple Mail all render alike: tables for layout, inline styles only, no
script, no stylesheet, every text escaped, charts as images referred to by `cid:`. The attachment is the whole
scorecard as one self-contained page (a stylesheet and inline SVG charts are fine there: a browser opens it).
Both are filled into templates in `delivery/templates/` with `string.Template` — the core renders no Jinja.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from functools import cache
from importlib.resources import files
from string import Template
from typing import TYPE_CHECKING, Any

from cadence.report.format import format_change, status_label

if TYPE_CHECKING:
    from cadence.delivery.briefing import Briefing
    from cadence.delivery.images import Image

__all__ = ["email_html", "scorecard_html"]

COLOURS = {"off_track": "#cf222e", "at_risk": "#9a6700", "on_track": "#1a7f37"}
KIND_WORDS = {"worse": "worse", "better": "better", "new": "new", "gone": "gone", "moved": "moved"}
ROWS_PER_TABLE = 8
CELL_CHARS = 90  # a cell longer than this is cut in the email; the attachment holds it whole
LEADING_COLUMNS = ("team", "rep", "kpi", "theme", "check", "role", "method", "fiscal_year", "deliverable")
CELL = "padding:4px 8px;border-bottom:1px solid #eaeef2;text-align:left;vertical-align:top;"
HEAD = CELL + "font-weight:bold;color:#57606a;font-size:12px;"
H2 = "margin:0 0 8px 0;font-size:16px;line-height:22px;color:#1f2328;"


def esc(value: Any) -> str:
    """Any value as HTML text: `&`, `<`, `>` and quotes escaped; None as empty."""
    return html.escape("" if value is None else str(value), quote=True)


@cache
def _template(name: str) -> Template:
    return Template(files("cadence.delivery").joinpath(f"templates/{name}").read_text("utf-8"))


def email_html(b: Briefing, images: Sequence[Image]) -> str:
    """The email's HTML body: stale notice, what changed, open gap actions, the figures off track and at risk
    (with their charts), then the rest of the scorecard in compact tables."""
    blocks = [_stale(b), _header(b), _changes(b), _actions(b), _attention(b, images), *_rest(b), _footer(b)]
    return _template("email.html").substitute(title=esc(subject_line(b)), body="\n".join(x for x in blocks if x))


def subject_line(b: Briefing) -> str:
    """`<Company> scorecard <week> — N off track`."""
    return f"{b.company} scorecard {b.week} — {len(b.off_track())} off track"


def _row(content: str, *, padding: str = "16px 24px", style: str = "") -> str:
    return f'<tr><td style="padding:{padding};{style}">{content}</td></tr>'


def _table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """A compact table; `rows` hold HTML already escaped."""
    head = "".join(f'<th style="{HEAD}">{esc(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f'<td style="{CELL}">{c}</td>' for c in row) + "</tr>" for row in rows)
    return (f'<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" '
            f'style="border-collapse:collapse;font-size:13px;line-height:18px;"><tr>{head}</tr>{body}</table>')


def _status(status: str | None) -> str:
    if not status:
        return ""
    colour = COLOURS.get(status, "#57606a")
    return (f'<span style="color:{colour};font-weight:bold;white-space:nowrap;">'
            f'{esc(status_label(status) or status)}</span>')


def _stale(b: Briefing) -> str:
    if not b.stale:
        return ""
    return _row(f'<strong>{esc(b.stale)}</strong>', padding="12px 24px",
                style="background-color:#fff8c5;border-bottom:1px solid #d4a72c;color:#4d2d00;")


def _header(b: Briefing) -> str:
    link = (f'<br><a href="{esc(b.page_url)}" style="color:#ffffff;text-decoration:underline;">Open the scorecard '
            f'for {esc(b.week)}</a>' if b.page_url else "")
    return _row(f'<div style="font-size:20px;line-height:26px;font-weight:bold;">{esc(b.company)} — weekly '
                f'scorecard {esc(b.week)}</div><div style="color:#d0d7de;">For {esc(_who(b))}: '
                f'{esc(b.audience)} · amounts in {esc(b.currency)}{link}</div>',
                padding="18px 24px", style="background-color:#24292f;color:#ffffff;")


def _who(b: Briefing) -> str:
    return b.recipient.display_name or b.recipient.user_id


def _changes(b: Briefing) -> str:
    changes = b.top_changes()
    if not changes:
        since = f" ({esc(b.changes.previous_week)})" if b.changes.previous_week else ""
        text = ("Nothing moved since last week" + since + "." if b.changes.previous_week
                else "No snapshot of last week to compare with.")
        return _row(f'<h2 style="{H2}">What changed since last week</h2><div style="color:#57606a;">{text}</div>')
    rows = [(f"{esc(c.label)}" + (f' <span style="color:#57606a;">· {esc(c.team)}</span>' if c.team else ""),
             esc(b.change_value(c, "before")), esc(b.change_value(c, "after")),
             _status(c.status_after) or esc(KIND_WORDS.get(c.kind, c.kind)))
            for c in changes]
    note = f'<div style="color:#57606a;font-size:12px;">Note: {esc(b.changes.note)}.</div>' if b.changes.note else ""
    return _row(f'<h2 style="{H2}">What changed since last week</h2>'
                + _table(("Figure", b.changes.previous_week or "last week", b.week, "Now"), rows) + note)


def _actions(b: Briefing) -> str:
    actions = b.open_actions()
    if not actions:
        return _row(f'<h2 style="{H2}">Open gap actions</h2><div style="color:#57606a;">No open gap actions.</div>')
    rows = [(esc(f"{a.team} · {a.metric}"), esc(a.action or a.gap or "") + _comment(b.latest_comment(a)),
             esc(b.owner(a)),
             '<span style="white-space:nowrap;">' + esc(a.due.isoformat() if a.due else "—") + "</span>"
             + ('<br><span style="color:#cf222e;font-weight:bold;white-space:nowrap;">PAST DUE</span>'
                if a.past_due else ""))
            for a in actions]
    past = len(b.past_due())
    lead = f'<div style="color:#cf222e;font-weight:bold;">{past} past due</div>' if past else ""
    return _row(f'<h2 style="{H2}">Open gap actions</h2>{lead}' + _table(("KPI", "Action", "Owner", "Due"), rows))


def _comment(text: str | None) -> str:
    return f'<br><span style="color:#57606a;font-size:12px;">Latest comment — {esc(text)}</span>' if text else ""


def _attention(b: Briefing, images: Sequence[Image]) -> str:
    """The mission metric, then every figure off track or at risk, with the charts sent as images."""
    rows = [(esc(f["label"]) + (f' <span style="color:#57606a;">· {esc(f["team"])}</span>' if f.get("team") else ""),
             f'<strong>{esc(b.value(f))}</strong>', esc(b.value(f, "target")) if f.get("target") is not None else "",
             _status(f.get("status"))) for f in b.attention()]
    pictures = "".join(f'<img src="cid:{esc(i.content_id)}" alt="{esc(i.title)}" width="300" '
                       f'style="display:inline-block;width:300px;max-width:100%;height:auto;margin:4px 8px 4px 0;'
                       f'border:0;">' for i in images)
    if not rows and not pictures:
        return ""
    return _row(f'<h2 style="{H2}">Off track and at risk</h2>' + _table(("Figure", "Value", "Target", "Status"), rows)
                + (f'<div style="padding-top:8px;">{pictures}</div>' if pictures else ""))


def _rest(b: Briefing) -> list[str]:
    """Every other section of the scorecard as a compact table of its figures and its first rows."""
    flagged = {"off_track", "at_risk"}
    blocks = []
    for section in b.sections():
        if section.get("key") == "mission":
            continue
        figures = [f for f in section["figures"] if f.get("status") not in flagged]
        parts = []
        if figures:
            parts.append(_table(("Figure", "Value", "Status"), [
                (esc(f["label"]) + (f' <span style="color:#57606a;">· {esc(f["team"])}</span>' if f.get("team")
                                    else ""), esc(b.value(f)), _status(f.get("status"))) for f in figures]))
        if section["rows"]:
            rows = section["rows"]
            columns = ordered_columns(rows[0])
            parts.append(_table([c.replace("_", " ") for c in columns],
                                [[esc(_clip(_cell(r.get(c)))) for c in columns] for r in rows[:ROWS_PER_TABLE]]))
            if len(rows) > ROWS_PER_TABLE:
                parts.append(f'<div style="color:#57606a;font-size:12px;">and {len(rows) - ROWS_PER_TABLE} more '
                             'rows in the attached scorecard</div>')
        if not parts:
            parts = [f'<div style="color:#57606a;font-size:12px;">{esc(n)}</div>' for n in section["notes"][:1]]
        if parts:
            blocks.append(_row(f'<h2 style="{H2}">{esc(section.get("title"))}</h2>' + "".join(parts),
                               padding="12px 24px", style="border-top:1px solid #eaeef2;"))
    return blocks


def ordered_columns(row: dict[str, Any]) -> list[str]:
    """A row's columns with the ones that name what the row is about (team, rep, KPI…) first."""
    return sorted(row, key=lambda c: (LEADING_COLUMNS.index(c) if c in LEADING_COLUMNS else len(LEADING_COLUMNS)))


def _clip(text: str) -> str:
    return text if len(text) <= CELL_CHARS else text[: CELL_CHARS - 1].rstrip() + "…"


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def _footer(b: Briefing) -> str:
    link = (f' Open it on the web: <a href="{esc(b.page_url)}" style="color:#0969da;">{esc(b.page_url)}</a>.'
            if b.page_url else "")
    return _row(f'The full scorecard is attached (scorecard-{esc(b.week)}.html).{link} Snapshot '
                f'{esc(b.snapshot.snapshot_id)}, computed {esc(b.snapshot.computed_at.isoformat(sep=" "))} UTC.',
                padding="12px 24px", style="border-top:1px solid #d0d7de;color:#57606a;font-size:12px;")


def scorecard_html(b: Briefing) -> str:
    """The full scorecard of the briefing as one self-contained HTML page (every section, every row, SVG charts)."""
    from cadence.report.charts import to_svg

    parts: list[str] = []
    mission = b.snapshot.payload.get("mission") or {}
    if mission.get("statement"):
        parts.append(f'<section><strong>Mission.</strong> {esc(mission["statement"])}</section>')
    for section in b.sections():
        body = [f'<h2>{esc(section.get("title"))}</h2>']
        if section["figures"]:
            body.append(_plain_table(("Figure", "Team", "Value", "Target", "Status", "w/w", "Note"), [
                (esc(f["label"]), esc(f.get("team")), esc(b.value(f)),
                 esc(b.value(f, "target")) if f.get("target") is not None else "",
                 f'<span class="{esc(f.get("status"))}">{esc(status_label(f.get("status")))}</span>',
                 esc(format_change(f.get("change_wow"))) if f.get("change_wow") is not None else "",
                 esc(f.get("note"))) for f in section["figures"]]))
        if section["rows"]:
            columns = ordered_columns(section["rows"][0])
            body.append(_plain_table([c.replace("_", " ") for c in columns],
                                     [[esc(_cell(r.get(c))) for c in columns] for r in section["rows"]]))
        charts = "".join(to_svg(c["spec"]) for c in section["charts"])
        body.append(f'<div class="charts">{charts}</div>' if charts else "")
        body.extend(f'<p class="notes">{esc(n)}</p>' for n in section["notes"])
        parts.append(f'<section id="section-{esc(section.get("key"))}">{"".join(body)}</section>')
    title = f"{b.company} — weekly scorecard {b.week}"
    notice = f'<div class="notice">{esc(b.stale)}</div>' if b.stale else ""
    page = (f'{notice}<header><h1>{esc(title)}</h1><p>{esc(b.audience)} · week starting '
            f'{esc(b.snapshot.week_start.isoformat())} · amounts in {esc(b.currency)}</p></header>'
            f'<main>{"".join(parts)}</main><footer>Snapshot {esc(b.snapshot.snapshot_id)}, computed '
            f'{esc(b.snapshot.computed_at.isoformat(sep=" "))} UTC by Cadence.</footer>')
    return _template("scorecard.html").substitute(title=esc(title), body=page)


def _plain_table(headers: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    return f"<table><tr>{head}</tr>" + "".join(
        "<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows) + "</table>"
