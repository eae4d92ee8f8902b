"""A briefing as a Slack message: a short summary in Block Kit, with a plain-text fallback.

The stale-data notice comes first when there is one; then the mission metric, the KPIs off track, the past-due
gap actions and a button to the page. Slack reads `&`, `<` and `>` in mrkdwn as markup (links, mentions), so
every text from the warehouse is escaped; a message holds at most 50 blocks, and each text at most 3000
characters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence.report.format import status_label

if TYPE_CHECKING:
    from cadence.delivery.briefing import Briefing

__all__ = ["MAX_BLOCKS", "render_slack", "slack_escape"]

MAX_BLOCKS = 50
MAX_TEXT = 3000
MAX_LINES = 10  # list items per section block: a summary, the email and the page hold the rest


def slack_escape(text: Any) -> str:
    """Text safe inside Slack mrkdwn or plain_text: `&`, `<`, `>` as entities (Slack's only three)."""
    return str("" if text is None else text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def render_slack(b: Briefing) -> dict[str, Any]:
    """The message for `chat.postMessage` or an incoming webhook: {"text": fallback, "blocks": [...]}."""
    title = f"{b.company} scorecard {b.week}"
    header = {"type": "plain_text", "text": _clip(slack_escape(title), 150), "emoji": False}
    blocks: list[dict[str, Any]] = [{"type": "header", "text": header}]
    if b.stale:
        blocks.insert(0, _section(f":warning: *{slack_escape(b.stale)}*"))
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(
        f"For {slack_escape(b.audience)} · amounts in {slack_escape(b.currency)}")}]})
    mission = b.mission()
    if mission is not None:
        blocks.append(_section(f"*Mission metric — {slack_escape(mission['label'])}:* {_figure(b, mission)}"))
    off = b.off_track()
    lines = [f"• {slack_escape(f['label'])}{_team(f)}: {_figure(b, f)}" for f in off if f != mission]
    blocks.append(_section(f"*{len(off)} off track*" + ("\n" + "\n".join(_first(lines)) if lines else "")))
    past = b.past_due()
    if past:
        items = [f"• {slack_escape(a.team)} · {slack_escape(a.metric)}: {slack_escape(a.action or a.gap or '')} — "
                 f"{slack_escape(b.owner(a))}, due {a.due.isoformat() if a.due else '—'}"
                 + (f"\n    _{slack_escape(_clip(comment, 300))}_" if (comment := b.latest_comment(a)) else "")
                 for a in past]
        blocks.append(_section(f"*{len(past)} past-due gap action{'s' if len(past) != 1 else ''}*\n"
                               + "\n".join(_first(items))))
    else:
        blocks.append(_section(f"*No past-due gap actions* ({len(b.open_actions())} open)"))
    if b.page_url:
        blocks.append({"type": "actions", "elements": [{
            "type": "button", "text": {"type": "plain_text", "text": f"Open the scorecard {b.week}"},
            "url": b.page_url, "action_id": "open_scorecard"}]})
    text = (f"{b.stale} " if b.stale else "") + f"{title}: {len(off)} off track, {len(past)} past-due actions"
    return {"text": slack_escape(text) + (f" <{b.page_url}|open>" if b.page_url else ""),
            "blocks": blocks[:MAX_BLOCKS]}


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _figure(b: Briefing, figure: dict[str, Any]) -> str:
    target = f" (target {slack_escape(b.value(figure, 'target'))})" if figure.get("target") is not None else ""
    status = status_label(figure.get("status"))
    return f"*{slack_escape(b.value(figure))}*{target}" + (f" — {slack_escape(status)}" if status else "")


def _team(figure: dict[str, Any]) -> str:
    return f" · {slack_escape(figure['team'])}" if figure.get("team") else ""


def _first(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_LINES:
        return lines
    return [*lines[:MAX_LINES], f"… and {len(lines) - MAX_LINES} more"]


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
