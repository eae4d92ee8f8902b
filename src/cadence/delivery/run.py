"""A delivery run: what is due, claimed once, rendered for each recipient's own scope, sent, and archived.

`deliver_due(ws)` is what system cron, a Kubernetes CronJob (`cadence deliver --due`) and the scheduler inside
`cadence serve` call; `deliver_now(ws, "weekly")` sends a schedule's latest slot on demand; `send_test(ws, user)`
sends one person their own scorecard now. Each returns one entry per message:

    {"recipient": "cro", "channel": "email", "status": "sent", "delivery_id": "…"}

status: `sent`; `failed` (after the last try; `error` says why, and the admins get an email); `skipped` (stale
data on a schedule set to skip, a recipient with no email or unknown); `duplicate` (another run has this slot —
nothing was sent); `no_scorecard` (the recipient's role sees no go-to-market figures, e.g. a recruiter).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

from cadence.accounts.records import User, get_user, list_users
from cadence.config.delivery import DeliveryConfig, Schedule
from cadence.delivery import archive
from cadence.delivery.schedule import due_slots, latest_slot
from cadence.delivery.transport import DeliveryFailed, Retry, SlackTransport, SmtpTransport, scrub
from cadence.errors import AccessDenied, CadenceError, ConfigError, UnknownNameError

if TYPE_CHECKING:
    from cadence.delivery.briefing import Briefing
    from cadence.workspace import Workspace

__all__ = ["Outcome", "Transports", "deliver_due", "deliver_now", "delivery_config", "send_test"]

log = logging.getLogger("cadence.delivery")
TEST_SCHEDULE = "test"


@dataclass
class Outcome:
    """One message of a run, as the CLI and the web print it."""

    recipient: str
    channel: str
    status: str
    delivery_id: str | None
    error: str | None = None
    schedule: str = ""
    slot: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        found: dict[str, Any] = {"recipient": self.recipient, "channel": self.channel, "status": self.status,
                                 "delivery_id": self.delivery_id, "schedule": self.schedule,
                                 "slot": self.slot.isoformat() if self.slot else None}
        if self.error:
            found["error"] = self.error
        return found


@dataclass
class Transports:
    """How messages leave: built from cadence.yml and the environment; tests hand in their own retry timing."""

    email: SmtpTransport | None = None
    slack: SlackTransport | None = None
    retry: Retry = field(default_factory=Retry)

    @classmethod
    def from_config(cls, config: DeliveryConfig, *, environ: Mapping[str, str] | None = None,
                    retry: Retry | None = None) -> Transports:
        return cls(SmtpTransport(config.smtp, environ) if config.smtp else None,
                   SlackTransport(config.slack, environ) if config.slack else None, retry or Retry())

    @property
    def secrets(self) -> list[str | None]:
        return [*(self.email.secrets if self.email else []), *(self.slack.secrets if self.slack else [])]


def delivery_config(ws: Workspace) -> DeliveryConfig:
    """cadence.yml's `delivery:` block, or a one-line refusal saying how to add one."""
    config = ws.config.delivery
    if config is None:
        raise ConfigError("cadence.yml has no `delivery:` block", hint="add smtp/slack and schedules; see "
                          "docs/delivery.md")
    return config


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC).replace(microsecond=0)
    return (now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)).replace(microsecond=0)


def deliver_due(ws: Workspace, *, now: datetime | None = None, transports: Transports | None = None,
                environ: Mapping[str, str] | None = None) -> list[dict[str, Any]]:
    """Send every schedule's due slot (the latest at or before now, at most two days old) that no run has
    claimed yet. Repeating it — or two schedulers racing — sends nothing twice."""
    config = delivery_config(ws)
    moment = _now(now)
    sending = transports or Transports.from_config(config, environ=environ)
    outcomes = [o for schedule in config.schedules for slot in due_slots(schedule, moment)
                for o in _deliver_slot(ws, config, _synced_first(ws, schedule, slot), slot, sending, today=moment)]
    _tell_admins(ws, config, outcomes, sending)
    return [o.as_dict() for o in outcomes]


def deliver_now(ws: Workspace, schedule_name: str, *, now: datetime | None = None,
                transports: Transports | None = None, environ: Mapping[str, str] | None = None
                ) -> list[dict[str, Any]]:
    """Send the schedule's latest slot at or before now, however old: asking twice for the same slot sends
    nothing the second time (every message answers `duplicate`)."""
    config = delivery_config(ws)
    schedule = config.schedule(schedule_name)
    if schedule is None:
        raise UnknownNameError("schedule", schedule_name, [s.name for s in config.schedules] or ["(none)"])
    moment = _now(now)
    sending = transports or Transports.from_config(config, environ=environ)
    outcomes = _deliver_slot(ws, config, schedule, latest_slot(schedule, moment), sending, today=moment)
    _tell_admins(ws, config, outcomes, sending)
    return [o.as_dict() for o in outcomes]


def send_test(ws: Workspace, user: User, channel: str = "email", *, now: datetime | None = None,
              transports: Transports | None = None, environ: Mapping[str, str] | None = None
              ) -> list[dict[str, Any]]:
    """Send `user` their own scorecard now on `channel` (schedule "test", slot = now to the second)."""
    config = delivery_config(ws)
    if channel not in ("email", "slack"):
        raise UnknownNameError("channel", channel, ["email", "slack"])
    if (config.smtp if channel == "email" else config.slack) is None:
        raise ConfigError(f"cadence.yml's delivery block has no {'smtp' if channel == 'email' else 'slack'} "
                          "transport", hint="see docs/delivery.md")
    moment = _now(now)
    schedule = Schedule.model_validate({"name": TEST_SCHEDULE, "cron": "* * * * *", "recipients": [user.user_id],
                                        "channels": [channel]})
    sending = transports or Transports.from_config(config, environ=environ)
    outcomes = _deliver_slot(ws, config, schedule, moment, sending, today=moment)
    return [o.as_dict() for o in outcomes]


def _synced_first(ws: Workspace, schedule: Schedule, slot: datetime) -> Schedule:
    """Sync the CRMs the schedule requires when their last successful sync started before the slot (a failure is
    logged: the message still goes out, with the stale-data notice when the data is old)."""
    from cadence.sync import sync_source
    from cadence.sync.run import last_started

    for source in schedule.require_sync:
        started = last_started(ws, source)
        if started is not None and started.replace(tzinfo=UTC) >= slot:
            continue
        try:
            sync_source(ws, source)
        except CadenceError as error:
            log.warning("sync of %s before delivery %s failed: %s", source, schedule.name, error.one_line())
    return schedule


def _address(user: User | None, channel: str, sending: Transports) -> str | None:
    if channel == "email":
        return user.email if user else None
    return sending.slack.address if sending.slack else None


def _deliver_slot(ws: Workspace, config: DeliveryConfig, schedule: Schedule, slot: datetime,
                  sending: Transports, *, today: datetime) -> list[Outcome]:
    """Every message of one schedule's slot: claim each, then render once per recipient and send."""
    outcomes: list[Outcome] = []
    for recipient in schedule.recipients:
        with archive.warehouse_lock(ws.warehouse):
            user = get_user(ws, recipient)
        mine: dict[str, str] = {}
        for channel in schedule.channels:
            won = archive.claim(ws, schedule=schedule.name, recipient=recipient, channel=channel, slot=slot,
                                address=_address(user, channel, sending))
            if won.won and won.delivery_id:
                mine[channel] = won.delivery_id
            else:
                outcomes.append(Outcome(recipient, channel, "duplicate", won.delivery_id, None, schedule.name, slot))
        if mine:
            outcomes += _deliver_claimed(ws, config, schedule, slot, user, recipient, mine, sending, today)
    return outcomes


def _finish(ws: Workspace, outcome: Outcome, stored: str, **values: Any) -> Outcome:
    """Archive how the message ended (`stored`: the table's status) and return the run's entry."""
    assert outcome.delivery_id is not None
    archive.update(ws, outcome.delivery_id, status=stored, error=outcome.error, **values)
    return outcome


def _deliver_claimed(ws: Workspace, config: DeliveryConfig, schedule: Schedule, slot: datetime, user: User | None,
                     recipient: str, mine: dict[str, str], sending: Transports, today: datetime) -> list[Outcome]:
    def outcome(channel: str, status: str, error: str | None = None) -> Outcome:
        return Outcome(recipient, channel, status, mine[channel], error, schedule.name, slot)

    if user is None:
        return [_finish(ws, outcome(c, "skipped", f"no Cadence user {recipient!r}"), "skipped") for c in mine]
    if user.disabled:
        return [_finish(ws, outcome(c, "skipped", f"{recipient} is disabled"), "skipped") for c in mine]
    done: list[Outcome] = []
    if "email" in mine and not user.email:
        done.append(_finish(ws, outcome("email", "skipped", f"{recipient} has no email address (cadence users "
                                        "add … --email)"), "skipped"))
        mine = {c: d for c, d in mine.items() if c != "email"}
    if not mine:
        return done
    from cadence.delivery.briefing import briefing_for

    web = ws.config.web
    try:
        with archive.warehouse_lock(ws.warehouse):
            briefing = briefing_for(ws, user, base_url=web.base_url if web else None,
                                    stale_after_days=config.stale_after_days, today=today.date())
    except AccessDenied as denied:
        return done + [_finish(ws, outcome(c, "no_scorecard", denied.one_line()), "skipped") for c in mine]
    except CadenceError as error:
        return done + [_finish(ws, outcome(c, "failed", error.one_line()), "failed") for c in mine]
    if briefing.stale and schedule.when_stale == "skip":
        return done + [_finish(ws, outcome(c, "skipped", f"stale data: {briefing.stale}"), "skipped", scope=briefing
                               .scope.key, snapshot_id=briefing.snapshot.snapshot_id) for c in mine]
    for channel in mine:
        sender = _send_email if channel == "email" else _send_slack
        done.append(sender(ws, briefing, outcome(channel, "sent"), sending, config))
    return done


def _parts(message: EmailMessage) -> tuple[str | None, str | None]:
    """The plain-text and HTML bodies of a message, exactly as they go out (attachments left aside)."""
    text = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        if part.get_content_type() == "text/plain" and text is None:
            text = str(part.get_content())
        elif part.get_content_type() == "text/html" and html is None:
            html = str(part.get_content())
    return text, html


def _send_email(ws: Workspace, briefing: Briefing, outcome: Outcome, sending: Transports,
                config: DeliveryConfig) -> Outcome:
    from cadence.delivery.email_message import render_email

    assert sending.email is not None and config.smtp is not None and briefing.recipient.email
    with archive.warehouse_lock(ws.warehouse):
        message = render_email(briefing, sender=config.smtp.sender, to=briefing.recipient.email)
    text, html = _parts(message)
    assert outcome.delivery_id is not None
    archive.update(ws, outcome.delivery_id, scope=briefing.scope.key, snapshot_id=briefing.snapshot.snapshot_id,
                   subject=str(message["Subject"]), body_text=text, body_html=html,
                   address=briefing.recipient.email)
    try:
        attempts = sending.email.send(message, sending.retry)
    except DeliveryFailed as failed:
        outcome.status, outcome.error = "failed", failed.message
        log.warning("email to %s (%s) failed after %d tries: %s", outcome.recipient, outcome.schedule,
                    failed.attempts, failed.message)
        return _finish(ws, outcome, "failed", attempts=failed.attempts)
    return _finish(ws, outcome, "sent", attempts=attempts, sent_at=datetime.now(UTC))


def _send_slack(ws: Workspace, briefing: Briefing, outcome: Outcome, sending: Transports,
                config: DeliveryConfig) -> Outcome:
    from cadence.delivery.images import headline_png
    from cadence.delivery.slack_message import render_slack

    assert sending.slack is not None and outcome.delivery_id is not None
    with archive.warehouse_lock(ws.warehouse):
        payload = render_slack(briefing)
        image = headline_png(briefing) if sending.slack.config.token_env else None
    body = sending.slack.body(payload)
    archive.update(ws, outcome.delivery_id, scope=briefing.scope.key, snapshot_id=briefing.snapshot.snapshot_id,
                   subject=str(payload.get("text") or ""), payload_json=body, address=sending.slack.address)
    try:
        sent, attempts = sending.slack.send(body, sending.retry, image=image, title=f"Scorecard {briefing.week}")
    except DeliveryFailed as failed:
        outcome.status, outcome.error = "failed", failed.message
        log.warning("Slack message to %s (%s) failed after %d tries: %s", outcome.recipient, outcome.schedule,
                    failed.attempts, failed.message)
        return _finish(ws, outcome, "failed", attempts=failed.attempts)
    if sent.image_error:
        outcome.error = f"sent without the chart: {sent.image_error}"
    return _finish(ws, outcome, "sent", attempts=attempts, sent_at=datetime.now(UTC))


def _tell_admins(ws: Workspace, config: DeliveryConfig, outcomes: list[Outcome], sending: Transports) -> None:
    """After a run with failures, one email to the admins (users with role admin and an email) naming each failed
    message's schedule, recipient and channel. Best effort: a failure here is logged, never raised."""
    failed = [o for o in outcomes if o.status == "failed"]
    if not failed or sending.email is None or config.smtp is None:
        return
    with archive.warehouse_lock(ws.warehouse):
        admins = [u for u in list_users(ws) if u.role == "admin" and u.email and not u.disabled]
    if not admins:
        log.warning("%d deliveries failed and no admin has an email to be told", len(failed))
        return
    message = EmailMessage()
    names = sorted({o.schedule for o in failed})
    message["Subject"] = f"Cadence: {len(failed)} scheduled deliver{'y' if len(failed) == 1 else 'ies'} failed " \
                         f"({', '.join(names)})"
    message["From"] = config.smtp.sender
    message["To"] = ", ".join(str(u.email) for u in admins)
    lines = ["These scheduled messages were not delivered after their last try:", ""]
    for o in failed:
        slot = o.slot.isoformat() if o.slot else ""
        lines.append(f"- schedule {o.schedule}, slot {slot}: {o.recipient} by {o.channel} — {o.error or 'failed'} "
                     f"(delivery {o.delivery_id})")
    lines += ["", "`cadence deliver log` lists the archive; `cadence deliver --schedule NAME --now` does not resend "
              "a slot already tried — fix the cause, then send the next one or a test."]
    message.set_content(scrub("\n".join(lines) + "\n", sending.secrets))
    try:
        sending.email.send(message, Retry(tries=1, sleep=sending.retry.sleep))
    except DeliveryFailed as error:
        log.warning("could not tell the admins about %d failed deliveries: %s", len(failed), error.message)


