"""The delivery block of cadence.yml: where the weekly scorecard is sent, when, and to whom.

```yaml
delivery:
  smtp: {host: smtp.acme.test, port: 587, sender: revops@acme.test, starttls: true}
  slack: {webhook_env: CADENCE_SLACK_WEBHOOK}         # or {token_env: CADENCE_SLACK_TOKEN, channel: "#exec"}
  stale_after_days: 7
  schedules:
    - name: weekly
      cron: "0 8 * * MON"
      timezone: America/Mexico_City
      recipients: [cro, mm_manager]
      channels: [email, slack]
```

Secrets never go in this file: the SMTP user and password are read from CADENCE_SMTP_USER and
CADENCE_SMTP_PASSWORD, and Slack's webhook URL or bot token from the variable the block names.
"""

from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Channel = Literal["email", "slack"]
ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SMTP_USER_ENV = "CADENCE_SMTP_USER"
SMTP_PASSWORD_ENV = "CADENCE_SMTP_PASSWORD"


class SmtpConfig(BaseModel):
    """The mail server that sends the email (user and password from CADENCE_SMTP_USER / CADENCE_SMTP_PASSWORD)."""

    model_config = ConfigDict(extra="forbid")
    host: str = Field(min_length=1, description="the SMTP server's host name")
    port: int = Field(default=587, ge=1, le=65535, description="its port: 587 with STARTTLS, 465 with ssl, 25 plain")
    sender: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="the From address, e.g. revops@acme.test")
    starttls: bool = Field(default=True, description="upgrade the connection with STARTTLS before signing in")
    ssl: bool = Field(default=False, description="connect over TLS from the start (port 465)")
    timeout_seconds: float = Field(default=30.0, gt=0, description="how long to wait for the server")

    @model_validator(mode="after")
    def _one_tls(self) -> SmtpConfig:
        if self.ssl and self.starttls:
            raise ValueError("choose ssl (TLS from the start, port 465) or starttls, not both")
        return self


class SlackConfig(BaseModel):
    """Slack: an incoming webhook (its URL in `webhook_env`), or a bot token and a channel (charts as images)."""

    model_config = ConfigDict(extra="forbid")
    webhook_env: str | None = Field(default=None, pattern=ENV_NAME, description="the NAME of the environment "
                                    "variable holding the incoming webhook's URL (never the URL itself)")
    token_env: str | None = Field(default=None, pattern=ENV_NAME, description="the NAME of the environment "
                                  "variable holding a bot token (scopes chat:write and files:write)")
    channel: str | None = Field(default=None, description="the channel a bot token posts to, e.g. #exec")
    api_url: str = Field(default="https://slack.com/api/", description="Slack's Web API address (change it only "
                         "for a proxy or a test server)")

    @model_validator(mode="after")
    def _one_way(self) -> SlackConfig:
        if bool(self.webhook_env) == bool(self.token_env):
            raise ValueError("give either webhook_env or token_env (with channel)")
        if self.token_env and not self.channel:
            raise ValueError("a bot token (token_env) needs a channel to post to, e.g. channel: '#exec'")
        return self


def _email_only() -> list[Channel]:
    return ["email"]


class Schedule(BaseModel):
    """One recurring delivery: a cron line read in a time zone, the Cadence users it goes to, the channels."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", description="the schedule's name, used by "
                      "`cadence deliver --schedule NAME` and kept with every message")
    cron: str = Field(description="when, as a five-field cron line read in `timezone`, e.g. '0 8 * * MON'")
    timezone: str = Field(default="UTC", description="the IANA time zone the cron line is read in, e.g. "
                          "America/Mexico_City (8:00 stays 8:00 local across daylight-saving changes)")
    recipients: list[str] = Field(min_length=1, description="Cadence user ids (with an email for the email "
                                  "channel): each gets their own role's scorecard")
    channels: list[Channel] = Field(default_factory=_email_only, min_length=1,
                                    description="email, slack or both")
    when_stale: Literal["notice", "skip"] = Field(default="notice", description="when the newest import is older "
                                                  "than stale_after_days: send with a notice first, or skip")
    require_sync: list[Literal["salesforce", "hubspot"]] = Field(
        default_factory=list, description="CRMs (configured under `sources:`) synced first when their last "
        "successful sync is older than the slot; a failed sync is logged and the message still goes out")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str) -> str:
        from croniter import croniter

        if len(value.split()) != 5 or not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a five-field cron line such as '0 8 * * MON'")
        return value

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as America/Mexico_City") from None
        return value


class DeliveryConfig(BaseModel):
    """Scheduled delivery of the weekly scorecard by email and Slack."""

    model_config = ConfigDict(extra="forbid")
    smtp: SmtpConfig | None = Field(default=None, description="the mail server (needed by the email channel)")
    slack: SlackConfig | None = Field(default=None, description="Slack (needed by the slack channel)")
    stale_after_days: int = Field(default=7, ge=0, description="a message whose newest import is older than this "
                                  "many days says so first (or is skipped, see when_stale)")
    schedules: list[Schedule] = Field(default_factory=list, description="the recurring deliveries")

    @model_validator(mode="after")
    def _consistent(self) -> DeliveryConfig:
        names = [s.name for s in self.schedules]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"schedules: duplicate name {twice[0]!r}")
        for number, schedule in enumerate(self.schedules):
            for channel in schedule.channels:
                if channel == "email" and self.smtp is None:
                    raise ValueError(f"schedules[{number}] ({schedule.name}).channels: email needs an `smtp:` block")
                if channel == "slack" and self.slack is None:
                    raise ValueError(f"schedules[{number}] ({schedule.name}).channels: slack needs a `slack:` block")
        return self

    def schedule(self, name: str) -> Schedule | None:
        """The schedule called `name`, or None."""
        return next((s for s in self.schedules if s.name == name), None)
