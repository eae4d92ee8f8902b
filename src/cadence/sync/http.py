"""One HTTP client for both CRMs: bearer tokens from the environment, bounded back-off on rate limits, one
token refresh on expiry, and errors that name what to do and never carry a credential.

- HTTP 429 (both CRMs) and Salesforce's `REQUEST_LIMIT_EXCEEDED` (a 403) are retried after `Retry-After`
  seconds when the API says, else 1, 2, 4 … seconds, each wait at most `max_wait`, at most `retries` times;
  then the sync fails with one line saying the CRM's limit was reached.
- HTTP 401 (an expired or revoked token): when an OAuth flow is configured the token is refreshed once and
  the request tried again; otherwise, or when that fails too, the sync fails naming the variable to set.
- Any other error status fails the sync with the API's own error code and message (the URL's query and
  every header are left out, so neither a token nor a SOQL filter reaches a log).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any, Protocol

import httpx

from cadence.errors import CadenceError

__all__ = ["ApiClient", "EnvToken", "SyncAuthError", "SyncError", "TokenSource"]


class SyncError(CadenceError):
    """A sync could not read the CRM (the warehouse is left as it was). `status`: the HTTP status, when one."""

    status: int | None = None


class SyncAuthError(SyncError):
    """The CRM refused the credentials: the message names the environment variable to set."""


class TokenSource(Protocol):
    """Where access tokens come from. `refresh` gets a new one (False when it cannot); `names` says what to set."""

    names: str

    def token(self) -> str: ...

    def refresh(self) -> bool: ...


class EnvToken:
    """An access token read from an environment variable (a HubSpot private app's, a Salesforce session)."""

    def __init__(self, env: str, what: str):
        self.env, self.what, self.names = env, what, env

    def token(self) -> str:
        value = os.environ.get(self.env, "").strip()
        if not value:
            raise SyncAuthError(f"no {self.what} access token: the environment variable {self.env} is not set",
                                hint=f"export {self.env}=… (see docs/sync.md for the scopes it needs)")
        return value

    def refresh(self) -> bool:
        return False


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _error_code(response: httpx.Response) -> tuple[str, str]:
    """The API's error code and message: Salesforce sends a list of {errorCode, message}, HubSpot
    {status, category, message}."""
    try:
        body = response.json()
    except ValueError:
        return "", response.text[:200]
    item = body[0] if isinstance(body, list) and body else body
    if not isinstance(item, dict):
        return "", str(item)[:200]
    code = str(item.get("errorCode") or item.get("category") or item.get("error") or "")
    message = str(item.get("message") or item.get("error_description") or "")
    return code, message[:300]


class ApiClient:
    """GET/POST JSON (or text) against one CRM with the rules in the module's docstring."""

    def __init__(self, crm: str, tokens: TokenSource, *, timeout: float = 60.0, retries: int = 5,
                 max_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None):
        self.crm, self.tokens, self.retries, self.max_wait, self.sleep = crm, tokens, retries, max_wait, sleep
        self.calls = 0
        self.waited = 0.0
        self._http = httpx.Client(timeout=timeout, transport=transport, follow_redirects=False)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_json(self, url: str, params: dict[str, Any] | None = None) -> Any:
        return self.request("GET", url, params=params).json()

    def post_json(self, url: str, body: Any) -> Any:
        return self.request("POST", url, json=body).json()

    def request(self, method: str, url: str, *, params: dict[str, Any] | None = None, json: Any = None,
                accept: str = "application/json") -> httpx.Response:
        """The response to one call, after waiting out rate limits and refreshing an expired token once."""
        refreshed = False
        attempt = 0
        while True:
            headers = {"Authorization": f"Bearer {self.tokens.token()}", "Accept": accept}
            self.calls += 1
            try:
                response = self._http.request(method, url, params=params, json=json, headers=headers)
            except httpx.HTTPError as error:
                raise SyncError(f"{self.crm} could not be reached ({type(error).__name__})",
                                hint="check the address in cadence.yml `sources:` and the network") from None
            if response.status_code == 401:
                if not refreshed and self.tokens.refresh():
                    refreshed = True
                    continue
                code, message = self._said(response, headers)
                raise SyncAuthError(
                    f"{self.crm} refused the access token ({code or 'HTTP 401'}: {message or 'expired or revoked'})",
                    hint=f"set {self.tokens.names} to a valid token (docs/sync.md says how to get one)")
            if self._rate_limited(response):
                attempt += 1
                if attempt > self.retries:
                    raise SyncError(f"{self.crm}'s API rate limit was still reached after {self.retries} waits",
                                    hint="run the sync later, or lower how often it runs (cron:)")
                wait = min(self.max_wait, _retry_after(response) or float(2 ** (attempt - 1)))
                self.waited += wait
                self.sleep(wait)
                continue
            if response.status_code >= 400:
                code, message = self._said(response, headers)
                path = httpx.URL(url).path
                refused = SyncError(f"{self.crm} answered HTTP {response.status_code} to {method} {path}"
                                    f"{f' ({code}: {message})' if code or message else ''}",
                                    hint="check the API user's permissions and cadence.yml `sources:`")
                refused.status = response.status_code
                raise refused
            return response

    @staticmethod
    def _said(response: httpx.Response, headers: dict[str, str]) -> tuple[str, str]:
        """The API's error code and message, with the token cut out should the API have echoed it."""
        code, message = _error_code(response)
        token = headers["Authorization"].removeprefix("Bearer ")
        return code, message.replace(token, "…") if token else message

    @staticmethod
    def _rate_limited(response: httpx.Response) -> bool:
        if response.status_code == 429:
            return True
        return response.status_code == 403 and _error_code(response)[0] == "REQUEST_LIMIT_EXCEEDED"
