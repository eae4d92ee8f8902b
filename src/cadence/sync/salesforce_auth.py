"""Salesforce access tokens: from an environment variable, or from one of the OAuth flows Salesforce documents
for server-to-server integrations (a connected app's refresh token, or the JWT bearer flow).

Every secret (consumer key and secret, refresh token, private key) is read from the environment variable
cadence.yml names; none is ever written to a log, an error or `sync_runs`.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import httpx

from cadence.config.sources import SalesforceAuth, SalesforceSource
from cadence.sync.http import EnvToken, SyncAuthError, TokenSource

__all__ = ["OAuthToken", "salesforce_tokens"]


def _secret(env: str | None) -> str:
    value = os.environ.get(env or "", "").strip()
    if not env or not value:
        raise SyncAuthError(f"the environment variable {env} is not set", hint=f"export {env}=… (docs/sync.md)")
    return value


class OAuthToken:
    """Tokens from Salesforce's OAuth token endpoint (`/services/oauth2/token`); `refresh` asks for a new one."""

    def __init__(self, auth: SalesforceAuth, *, transport: httpx.BaseTransport | None = None):
        self.auth = auth
        self.transport = transport
        envs = [auth.client_id_env, auth.client_secret_env, auth.refresh_token_env, auth.private_key_env]
        self.names = " and ".join(e for e in envs if e)
        self._token: str | None = None

    def token(self) -> str:
        if self._token is None:
            self.refresh()
        assert self._token is not None
        return self._token

    def refresh(self) -> bool:
        form = self._refresh_form() if self.auth.flow == "refresh_token" else self._jwt_form()
        url = f"{self.auth.login_url.rstrip('/')}/services/oauth2/token"
        try:
            with httpx.Client(timeout=30.0, transport=self.transport) as http:
                response = http.post(url, data=form)
        except httpx.HTTPError as error:
            raise SyncAuthError(f"Salesforce's token endpoint could not be reached ({type(error).__name__})",
                                hint="check sources.salesforce.auth.login_url") from None
        if response.status_code != 200:
            try:
                said = response.json().get("error", "")
            except ValueError:
                said = ""
            raise SyncAuthError(f"Salesforce refused the {self.auth.flow} sign-in ({said or response.status_code})",
                                hint=f"check {self.names} and the connected app (docs/sync.md)")
        self._token = str(response.json()["access_token"])
        return True

    def _refresh_form(self) -> dict[str, str]:
        form = {"grant_type": "refresh_token", "client_id": _secret(self.auth.client_id_env),
                "refresh_token": _secret(self.auth.refresh_token_env)}
        if self.auth.client_secret_env:
            form["client_secret"] = _secret(self.auth.client_secret_env)
        return form

    def _jwt_form(self) -> dict[str, str]:
        from joserfc import jwt
        from joserfc.jwk import RSAKey

        key = _secret(self.auth.private_key_env)
        if not key.startswith("-----BEGIN") and Path(key).is_file():
            key = Path(key).read_text(encoding="utf-8")
        try:
            signing = RSAKey.import_key(key)
        except Exception:  # joserfc raises several kinds for a key it cannot read; never show the key
            raise SyncAuthError(f"the private key in {self.auth.private_key_env} is not a PEM RSA key",
                                hint="give the connected app certificate's private key (or a path to it)") from None
        claims = {"iss": _secret(self.auth.client_id_env), "sub": self.auth.username,
                  "aud": self.auth.login_url.rstrip("/"), "exp": int(time.time()) + 180}
        return {"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                "assertion": jwt.encode({"alg": "RS256"}, claims, signing)}


def salesforce_tokens(source: SalesforceSource, *, transport: httpx.BaseTransport | None = None) -> TokenSource:
    """The token source cadence.yml's salesforce block configures."""
    if source.auth is not None:
        return OAuthToken(source.auth, transport=transport)
    return EnvToken(str(source.token_env), "Salesforce")
