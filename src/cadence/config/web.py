"""The web block of cadence.yml: where `cadence serve` is reached and, optionally, sign-in through OpenID Connect.

```yaml
web:
  base_url: https://cadence.acme.test
  oidc:
    issuer: https://login.acme.test/realms/acme   # discovery at {issuer}/.well-known/openid-configuration
    client_id: cadence
    client_secret_env: CADENCE_OIDC_SECRET      # the NAME of the variable; the secret never goes in this file
    label: Acme SSO
    scopes: [openid, email, profile]
```
"""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


def _web_address(value: str, what: str) -> str:
    """`value` without its trailing slash, when it is an https URL (plain http only on this machine)."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be a full URL such as https://login.example.com, not {value!r}")
    if parts.scheme == "http" and parts.hostname not in LOOPBACK:
        raise ValueError(f"{what} must use https (plain http is accepted only for localhost)")
    return value.rstrip("/")


class OidcConfig(BaseModel):
    """Sign-in through your identity provider (OpenID Connect); people still need a Cadence user to get in."""

    model_config = ConfigDict(extra="forbid")
    issuer: str = Field(description="the provider's issuer URL; discovery is read from "
                        "{issuer}/.well-known/openid-configuration")
    client_id: str = Field(min_length=1, description="Cadence's client id at the provider")
    client_secret_env: str | None = Field(
        default=None, pattern=r"^[A-Z_][A-Z0-9_]*$", description="the NAME of the environment variable holding "
        "the client secret (the secret itself never goes in cadence.yml); leave out for a public client")
    label: str = Field(default="single sign-on", min_length=1, description="the sign-in button's text: "
                       "Sign in with LABEL")
    scopes: list[str] = Field(default_factory=lambda: ["openid", "email", "profile"],
                              description="scopes asked for; must include openid")

    @field_validator("issuer")
    @classmethod
    def _issuer_url(cls, value: str) -> str:
        return _web_address(value, "issuer")

    @field_validator("scopes")
    @classmethod
    def _openid_scope(cls, value: list[str]) -> list[str]:
        if "openid" not in value:
            raise ValueError("scopes must include openid")
        return value


class WebConfig(BaseModel):
    """`cadence serve`: where people reach it and how they may sign in."""

    model_config = ConfigDict(extra="forbid")
    base_url: str | None = Field(default=None, description="where people reach the app, e.g. "
                                 "https://cadence.acme.test (the sign-in callback is built from it)")
    oidc: OidcConfig | None = Field(default=None, description="sign-in through an OpenID Connect provider, "
                                    "beside passwords")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, value: str | None) -> str | None:
        return None if value is None else _web_address(value, "base_url")
