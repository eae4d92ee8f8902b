"""The sources block of cadence.yml: the CRMs `cadence sync` reads through their APIs, and recurring imports.

```yaml
sources:
  salesforce: {instance_url: https://acme.my.salesforce.com, api_version: "60.0",
               token_env: CADENCE_SALESFORCE_TOKEN, cron: "0 2 * * *"}
  hubspot: {token_env: CADENCE_HUBSPOT_TOKEN, cron: "30 2 * * *"}
```

Secrets never go in this file: each block names the environment variables that hold them. Salesforce takes
an access token (`token_env`), or an OAuth flow (`auth:`) that gets one and, when it expires, a new one:
`refresh_token` (a connected app's refresh token) or `jwt` (the JWT bearer flow, with a private key file).
An older cadence.yml's list of recurring imports (`sources: [{name, format, path}]`) still reads, as
`sources.imports`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ENV_NAME = r"^[A-Z_][A-Z0-9_]*$"
SalesforceObject = Literal["User", "Account", "Opportunity", "OpportunityHistory", "Task", "Event", "OpportunityStage",
                           "CurrencyType", "DatedConversionRate", "FiscalYearSettings", "Period"]
HubSpotObject = Literal["owners", "pipelines", "companies", "contacts", "deals"]


def _check_cron(value: str | None) -> str | None:
    from croniter import croniter

    if value is not None and (len(value.split()) != 5 or not croniter.is_valid(value)):
        raise ValueError(f"{value!r} is not a five-field cron line such as '0 2 * * *'")
    return value


def _check_zone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}: use an IANA name such as Europe/Berlin") from None
    return value


class Import(BaseModel):
    """A recurring import: where the export lands and which format reads it."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(description="a name for the import (kept with every row it brings)")
    format: str = Field(description="the import format (`cadence formats` lists them)")
    path: str = Field(description="the export's file or folder, relative to the workspace")
    mapping: str | None = Field(default=None, description="the mapping file for csv, xlsx and parquet formats")


class SalesforceAuth(BaseModel):
    """An OAuth flow that gets Salesforce access tokens (and a new one when the old one expires)."""

    model_config = ConfigDict(extra="forbid")
    flow: Literal["refresh_token", "jwt"] = Field(description="refresh_token (a connected app's refresh token) or "
                                                   "jwt (the JWT bearer flow: a certificate's private key)")
    client_id_env: str = Field(pattern=ENV_NAME, description="the NAME of the variable holding the connected app's "
                               "consumer key")
    client_secret_env: str | None = Field(default=None, pattern=ENV_NAME, description="the NAME of the variable "
                                          "holding its consumer secret (refresh_token flow, when the app needs it)")
    refresh_token_env: str | None = Field(default=None, pattern=ENV_NAME, description="the NAME of the variable "
                                          "holding the refresh token (refresh_token flow)")
    username: str | None = Field(default=None, description="the integration user's username (jwt flow)")
    private_key_env: str | None = Field(default=None, pattern=ENV_NAME, description="the NAME of the variable "
                                        "holding the PEM private key, or a path to it (jwt flow)")
    login_url: str = Field(default="https://login.salesforce.com", description="where tokens come from: "
                           "https://test.salesforce.com for a sandbox, or your My Domain")

    @model_validator(mode="after")
    def _complete(self) -> SalesforceAuth:
        if self.flow == "refresh_token" and not self.refresh_token_env:
            raise ValueError("the refresh_token flow needs refresh_token_env")
        if self.flow == "jwt" and not (self.username and self.private_key_env):
            raise ValueError("the jwt flow needs username and private_key_env")
        return self


class SalesforceSource(BaseModel):
    """Salesforce through its REST API (and Bulk API 2.0 for large orgs)."""

    model_config = ConfigDict(extra="forbid")
    instance_url: str = Field(pattern=r"^https?://", description="the org's address, e.g. "
                              "https://acme.my.salesforce.com")
    api_version: str = Field(default="60.0", pattern=r"^\d+\.\d$", description="the REST API version, e.g. '60.0'")
    token_env: str | None = Field(default=None, pattern=ENV_NAME, description="the NAME of the variable holding an "
                                  "access token (or give `auth:`)")
    auth: SalesforceAuth | None = Field(default=None, description="an OAuth flow that gets (and renews) tokens")
    cron: str | None = Field(default=None, description="when `cadence sync --due` and `cadence serve` sync, as a "
                             "five-field cron line read in `timezone`, e.g. '0 2 * * *'")
    timezone: str = Field(default="UTC", description="the IANA time zone the cron line is read in")
    bulk: bool = Field(default=False, description="read through Bulk API 2.0 query jobs (large orgs)")
    objects: list[SalesforceObject] | None = Field(default=None, description="the objects to read (default: all: "
                                                   "User, Account, Opportunity, OpportunityHistory, Task, Event, "
                                                   "OpportunityStage and the currency and fiscal objects)")
    timeout_seconds: float = Field(default=60.0, gt=0, description="how long to wait for one response")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return _check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)

    @model_validator(mode="after")
    def _one_credential(self) -> SalesforceSource:
        if bool(self.token_env) == bool(self.auth):
            raise ValueError("give either token_env or auth (an OAuth flow), not both")
        return self

    @property
    def base(self) -> str:
        """The REST API's root, e.g. https://acme.my.salesforce.com/services/data/v60.0."""
        return f"{self.instance_url.rstrip('/')}/services/data/v{self.api_version}"


class HubSpotSource(BaseModel):
    """HubSpot through its CRM v3 API (a private app's access token)."""

    model_config = ConfigDict(extra="forbid")
    token_env: str = Field(pattern=ENV_NAME, description="the NAME of the variable holding the private app's access "
                           "token")
    api_base: str = Field(default="https://api.hubapi.com", pattern=r"^https?://", description="HubSpot's API "
                          "address (change it only for a proxy or a test server)")
    cron: str | None = Field(default=None, description="when `cadence sync --due` and `cadence serve` sync, as a "
                             "five-field cron line read in `timezone`")
    timezone: str = Field(default="UTC", description="the IANA time zone the cron line is read in")
    objects: list[HubSpotObject] | None = Field(default=None, description="the objects to read (default: all: "
                                                "owners, pipelines, companies, contacts, deals)")
    timeout_seconds: float = Field(default=60.0, gt=0, description="how long to wait for one response")

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return _check_cron(value)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        return _check_zone(value)


class SourcesConfig(BaseModel):
    """Where data comes from: the CRMs `cadence sync` reads through their APIs, and recurring imports."""

    model_config = ConfigDict(extra="forbid")
    salesforce: SalesforceSource | None = Field(default=None, description="Salesforce, synced by `cadence sync "
                                                "salesforce`")
    hubspot: HubSpotSource | None = Field(default=None, description="HubSpot, synced by `cadence sync hubspot`")
    imports: list[Import] = Field(default_factory=list, description="recurring imports of export files")

    @model_validator(mode="before")
    @classmethod
    def _list_is_imports(cls, value: Any) -> Any:
        """`sources: [...]` (an older cadence.yml) is the list of recurring imports."""
        return {"imports": value} if isinstance(value, list) else value

    def configured(self) -> list[str]:
        """The CRMs configured, in the order `cadence sync` runs them."""
        return [name for name in ("salesforce", "hubspot") if getattr(self, name) is not None]
