"""Getting a rendered message out: SMTP for email, a webhook or a bot token for Slack — with retries, and never a
credential in an error.

A try that fails for a reason that may pass (an SMTP 4xx answer or a dropped connection, Slack's 429 "slow
down" or a 5xx) is retried with exponential back-off, three tries in all; Slack's Retry-After is honoured. A
permanent refusal (SMTP 5xx, a bad webhook, a revoked token) ends at once. Every error text is scrubbed of the
SMTP password, the Slack token and the webhook URL before it is logged or archived.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
import ssl
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any, TypeVar
from urllib.parse import urlsplit

from cadence.config.delivery import SMTP_PASSWORD_ENV, SMTP_USER_ENV, SlackConfig, SmtpConfig
from cadence.errors import CadenceError

__all__ = ["DeliveryFailed", "Retry", "SlackTransport", "SmtpTransport", "TryFailed", "scrub"]

log = logging.getLogger("cadence.delivery")
T = TypeVar("T")
HIDDEN = "[credential hidden]"


class TryFailed(Exception):
    """One try failed: `transient` says whether another try may succeed; `retry_after` is the server's wish."""

    def __init__(self, message: str, *, transient: bool, retry_after: float | None = None):
        super().__init__(message)
        self.message = message
        self.transient = transient
        self.retry_after = retry_after


class DeliveryFailed(CadenceError):
    """A message could not be sent after its last try; `attempts` is how many were made."""

    def __init__(self, message: str, *, attempts: int):
        super().__init__(message)
        self.attempts = attempts


def scrub(text: str, secrets: Iterable[str | None]) -> str:
    """`text` with every secret (and, for a URL, its path alone) replaced by a placeholder."""
    for secret in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        text = text.replace(secret, HIDDEN)
        path = urlsplit(secret).path if "://" in secret else ""
        if len(path) > 8:
            text = text.replace(path, HIDDEN)
    return text


@dataclass(frozen=True)
class Retry:
    """Three tries, waiting 2 s then 4 s between them (tests inject `sleep` and smaller delays)."""

    tries: int = 3
    first_delay: float = 2.0
    factor: float = 2.0
    max_delay: float = 300.0
    sleep: Callable[[float], None] = field(default=time.sleep)

    def delay(self, attempt: int, asked: float | None) -> float:
        """The wait after failed try number `attempt` (1-based): the server's Retry-After when it gave one."""
        wait = self.first_delay * self.factor ** (attempt - 1) if asked is None else asked
        return min(max(wait, 0.0), self.max_delay)

    def run(self, attempt: Callable[[], T], *, secrets: Sequence[str | None] = ()) -> tuple[T, int]:
        """Call `attempt` until it succeeds or fails for good; its result and the number of tries made.
        Raises DeliveryFailed (scrubbed) after the last try or a permanent failure."""
        for number in range(1, self.tries + 1):
            try:
                return attempt(), number
            except TryFailed as failed:
                message = scrub(failed.message, secrets)
                if not failed.transient or number == self.tries:
                    raise DeliveryFailed(message, attempts=number) from None
                wait = self.delay(number, failed.retry_after)
                log.warning("try %d of %d failed (%s); again in %.1f s", number, self.tries, message, wait)
                self.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _smtp_failure(error: BaseException) -> TryFailed:
    """An smtplib or socket error as a try that may or may not be worth repeating."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        detail = "; ".join(f"{address}: {code} {reason!r}" for address, (code, reason) in error.recipients.items())
        return TryFailed(f"recipient refused ({detail})", transient=all(400 <= c < 500 for c in codes))
    if isinstance(error, smtplib.SMTPResponseException):
        reason = error.smtp_error.decode("utf-8", "replace") if isinstance(error.smtp_error, bytes) \
            else str(error.smtp_error)
        return TryFailed(f"mail server answered {error.smtp_code} {reason}".strip(),
                         transient=400 <= error.smtp_code < 500)
    if isinstance(error, smtplib.SMTPServerDisconnected | ConnectionError | TimeoutError | OSError):
        return TryFailed(f"mail server unreachable ({type(error).__name__}: {error})", transient=True)
    return TryFailed(f"mail not sent ({type(error).__name__}: {error})", transient=False)


class SmtpTransport:
    """Email through the configured server; the user and password come from the environment at send time."""

    def __init__(self, config: SmtpConfig, environ: Mapping[str, str] | None = None):
        self.config = config
        self._environ = os.environ if environ is None else environ

    @property
    def secrets(self) -> list[str | None]:
        return [self._environ.get(SMTP_PASSWORD_ENV)]

    def send_once(self, message: EmailMessage) -> None:
        """One try: connect, STARTTLS when set, sign in when CADENCE_SMTP_USER is set, send."""
        config = self.config
        user, password = self._environ.get(SMTP_USER_ENV), self._environ.get(SMTP_PASSWORD_ENV)
        try:
            server: smtplib.SMTP
            if config.ssl:
                server = smtplib.SMTP_SSL(config.host, config.port, timeout=config.timeout_seconds,
                                          context=ssl.create_default_context())
            else:
                server = smtplib.SMTP(config.host, config.port, timeout=config.timeout_seconds)
            with server:
                if config.starttls and not config.ssl:
                    server.starttls(context=ssl.create_default_context())
                if user:
                    server.login(user, password or "")
                server.send_message(message)
        except (smtplib.SMTPException, OSError) as error:
            raise _smtp_failure(error) from None

    def send(self, message: EmailMessage, retry: Retry) -> int:
        """Send with retries; the number of tries it took."""
        _, attempts = retry.run(lambda: self.send_once(message), secrets=self.secrets)
        return attempts


def _retry_after(headers: Mapping[str, str] | None) -> float | None:
    value = (headers or {}).get("Retry-After") or (headers or {}).get("retry-after")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _http_failure(status: int, body: str, headers: Mapping[str, str] | None, what: str) -> TryFailed:
    transient = status == 429 or status >= 500
    return TryFailed(f"{what} answered {status} {body[:200]}".strip(), transient=transient,
                     retry_after=_retry_after(headers) if status == 429 else None)


@dataclass
class SlackSent:
    """Where a Slack message went (the channel id and timestamp a bot token gets back; none for a webhook)."""

    channel: str | None = None
    ts: str | None = None
    image_error: str | None = None


class SlackTransport:
    """Slack: an incoming webhook (a plain HTTP POST of the JSON), or a bot token posting with chat.postMessage
    and uploading the headline chart with files_upload_v2 into the message's thread."""

    def __init__(self, config: SlackConfig, environ: Mapping[str, str] | None = None):
        self.config = config
        self._environ = os.environ if environ is None else environ

    @property
    def secrets(self) -> list[str | None]:
        names = [self.config.webhook_env, self.config.token_env]
        return [self._environ.get(name) for name in names if name]

    @property
    def address(self) -> str:
        """Where messages go, safe to show: the bot's channel, or "webhook"."""
        return self.config.channel or "webhook (its channel)"

    def _credential(self, name: str | None) -> str:
        value = self._environ.get(name or "")
        if not value:
            raise DeliveryFailed(f"Slack is not set up: the environment variable {name} is empty", attempts=0)
        return value

    def body(self, payload: dict[str, Any]) -> str:
        """The JSON actually sent: for a bot token, with the channel added."""
        sent = {"channel": self.config.channel, **payload} if self.config.token_env else payload
        return json.dumps(sent, ensure_ascii=False)

    def send(self, body: str, retry: Retry, *, image: bytes | None = None, title: str = "chart") -> tuple[
            SlackSent, int]:
        """Post `body` (from `body()`) with retries; with a bot token, then the image in the message's thread.
        A failed image does not resend the message: it is reported in `image_error`."""
        if self.config.webhook_env:
            url = self._credential(self.config.webhook_env)
            _, attempts = retry.run(lambda: self._post_webhook(url, body), secrets=self.secrets)
            return SlackSent(), attempts
        token = self._credential(self.config.token_env)
        from slack_sdk import WebClient

        client = WebClient(token=token, base_url=self.config.api_url, timeout=30)
        posted, attempts = retry.run(lambda: self._call(lambda: client.api_call(
            "chat.postMessage", json=json.loads(body))), secrets=self.secrets)
        sent = SlackSent(posted.get("channel"), posted.get("ts"))
        if image:
            try:
                retry.run(lambda: self._call(lambda: client.files_upload_v2(
                    channel=sent.channel, thread_ts=sent.ts, file=image, filename="scorecard.png",
                    title=title)), secrets=self.secrets)
            except DeliveryFailed as failed:
                sent.image_error = failed.message
        return sent, attempts

    @staticmethod
    def _post_webhook(url: str, body: str) -> None:
        """One plain HTTP POST of the JSON (urllib: no HTTP client that logs the URL, which is the secret)."""
        from urllib.error import HTTPError, URLError
        from urllib.request import Request, urlopen

        request = Request(url, data=body.encode("utf-8"), method="POST",
                          headers={"Content-Type": "application/json; charset=utf-8"})
        try:
            with urlopen(request, timeout=30) as response:
                response.read()
        except HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            raise _http_failure(error.code, text, dict(error.headers.items()), "Slack webhook") from None
        except (URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise TryFailed(f"Slack webhook unreachable ({type(error).__name__}: {reason})", transient=True) from None

    @staticmethod
    def _call(call: Callable[[], Any]) -> dict[str, Any]:
        from slack_sdk.errors import SlackApiError, SlackRequestError

        try:
            response = call()
        except SlackApiError as error:
            answer = error.response
            status = int(getattr(answer, "status_code", 0) or 0)
            reason = (answer.data or {}).get("error") if isinstance(answer.data, dict) else str(answer.data)
            if status >= 300 or status == 0:
                raise _http_failure(status, str(reason or ""), answer.headers, "Slack") from None
            raise TryFailed(f"Slack refused the message ({reason})", transient=False) from None
        except (SlackRequestError, OSError) as error:
            raise TryFailed(f"Slack unreachable ({type(error).__name__}: {error})", transient=True) from None
        data = response.data if hasattr(response, "data") else response
        return dict(data) if isinstance(data, dict) else {}
