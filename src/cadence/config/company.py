"""The company's configuration: `cadence.yml`, as a typed tree.

Loaded once per workspace and passed explicitly; environment variables named
`CADENCE__SECTION__KEY` override single values (e.g. `CADENCE__WAREHOUSE=postgresql://…`).
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from cadence.config.delivery import DeliveryConfig
from cadence.config.hiring import HiringConfig
from cadence.config.sources import Import as Source  # noqa: F401  (re-exported by cadence.config)
from cadence.config.sources import SourcesConfig
from cadence.config.web import WebConfig
from cadence.errors import ConfigError, Location

CONFIG_FILE = "cadence.yml"
DEFAULT_WAREHOUSE = "cadence.duckdb"


class Stage(BaseModel):
    """One stage of the sales pipeline, in order; closed stages carry `won` or `lost`."""

    model_config = ConfigDict(extra="forbid")
    name: str
    probability: float = Field(default=0.0, ge=0, le=1, description="CRM default win probability")
    won: bool = False
    lost: bool = False

    @model_validator(mode="after")
    def _not_both(self) -> Stage:
        if self.won and self.lost:
            raise ValueError(f"stage {self.name!r} cannot be both won and lost")
        return self


PeriodName = Literal["week", "month", "quarter", "year"]


class Kpi(BaseModel):
    """A team's KPI: a metric from the registry, a target per period, optionally narrowed by a filter."""

    model_config = ConfigDict(extra="forbid")
    metric: str
    label: str | None = None
    target: float | None = Field(default=None, description="target per period")
    period: PeriodName = "quarter"
    targets: dict[str, float] = Field(default_factory=dict, description="targets for named periods, e.g. 2026-Q3")
    where: str | None = Field(default=None, description="filter, e.g. segment = 'enterprise'")

    def target_for(self, period: str) -> float | None:
        return self.targets.get(period, self.target)

    @property
    def name(self) -> str:
        return self.label or self.metric


class Team(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    kind: str = Field(default="other", description="sales, marketing, product, success, executive, other")
    horizon: str | None = Field(default=None, description="e.g. 'long-cycle' for a task force")
    task_force: bool = False
    kpis: list[Kpi] = Field(default_factory=list)


class Mission(BaseModel):
    """Why the company exists, the one number that says whether it is working, and how we behave."""

    model_config = ConfigDict(extra="forbid")
    statement: str
    metric: str
    grain: Literal["month", "quarter"] = "month"
    target: float | None = None
    principles: list[str] = Field(default_factory=list)


class CustomMetric(BaseModel):
    """A company's own metric: an aggregate over one of the registry's relations."""

    model_config = ConfigDict(extra="forbid")
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str | None = None
    description: str = ""
    relation: str = "deals"
    time_column: str
    aggregate: Literal["count", "sum", "mean", "median", "min", "max", "count_distinct"] = "count"
    column: str | None = None
    where: str | None = None
    unit: Literal["currency", "count", "ratio", "days", "score", "per_day", "percent"] = "count"
    direction: Literal["up", "down"] = "up"
    owner: str = ""

    @model_validator(mode="after")
    def _column_needed(self) -> CustomMetric:
        if self.aggregate != "count" and not self.column:
            raise ValueError(f"metric {self.name!r}: aggregate {self.aggregate!r} needs a `column`")
        return self


class ExchangeRate(BaseModel):
    """A rate, Salesforce's convention: `rate` units of `currency` buy one unit of the corporate currency.

    With `from`, a dated rate that applies from that day until the next dated rate of the currency;
    without it, the static rate used where no dated rate covers a day.
    """

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    currency: str = Field(description="three-letter ISO code, e.g. MXN")
    rate: float = Field(gt=0, description="units of `currency` per one unit of the corporate currency")
    valid_from: date | None = Field(default=None, alias="from", description="first day it applies; "
                                    "leave out for a static rate")

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("currency must be a three-letter ISO code such as MXN or EUR")
        return value.upper()


DealDating = Literal["close_date", "closed_at"]


DEFAULT_STAGES = [
    Stage(name="Prospecting", probability=0.05),
    Stage(name="Discovery", probability=0.10),
    Stage(name="Demo", probability=0.25),
    Stage(name="Proposal", probability=0.50),
    Stage(name="Negotiation", probability=0.75),
    Stage(name="Closed Won", probability=1.0, won=True),
    Stage(name="Closed Lost", probability=0.0, lost=True),
]


class CompanyConfig(BaseModel):
    """Everything in cadence.yml. Unknown keys are errors, so a typo never goes unnoticed."""

    model_config = ConfigDict(extra="forbid")
    company: str = "My Company"
    currency: str = Field(default="USD", description="the corporate currency every money figure is shown in")
    exchange_rates: list[ExchangeRate] = Field(
        default_factory=list, description="rates to the corporate currency (also imported from Salesforce's "
        "CurrencyType/DatedConversionRate or a CSV)")
    timezone: str = Field(default="UTC", description="the company's time zone (IANA name, e.g. "
                          "America/Mexico_City): which day a timestamp falls on")
    deal_dating: DealDating = Field(
        default="close_date", description="what dates a closed deal: the CRM's close date (as Salesforce, "
        "HubSpot and Clari reports do) or `closed_at`, when it really closed (in `timezone`)")
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)
    warehouse: str = DEFAULT_WAREHOUSE
    segments: list[str] = Field(default_factory=lambda: ["enterprise", "mid_market", "smb"])
    stages: list[Stage] = Field(default_factory=lambda: list(DEFAULT_STAGES))
    pipelines: dict[str, list[Stage]] = Field(
        default_factory=dict, description="stages of the pipelines imports declare (e.g. hubspot), in order, "
        "with `won`/`lost`: what an import inferred, for you to correct")
    teams: list[Team] = Field(default_factory=list)
    sources: SourcesConfig = Field(default_factory=SourcesConfig, description="where data comes from: the "
                                   "CRMs `cadence sync` reads (salesforce, hubspot), recurring imports")
    mission: Mission | None = None
    metrics: list[CustomMetric] = Field(default_factory=list)
    hiring: HiringConfig | None = None
    web: WebConfig | None = None
    delivery: DeliveryConfig | None = Field(default=None, description="the weekly scorecard by email and Slack")

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str) -> str:
        if len(value) != 3 or not value.isalpha():
            raise ValueError("currency must be a three-letter ISO code such as USD or EUR")
        return value.upper()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}: use an IANA name such as America/Mexico_City, "
                             "Europe/Madrid or UTC") from None
        return value

    @model_validator(mode="after")
    def _stages_make_sense(self) -> CompanyConfig:
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError("stage names must be unique")
        if not any(s.won for s in self.stages) or not any(s.lost for s in self.stages):
            raise ValueError("stages need at least one stage marked `won: true` and one `lost: true`")
        return self

    @model_validator(mode="after")
    def _synced_sources_exist(self) -> CompanyConfig:
        for number, schedule in enumerate(self.delivery.schedules if self.delivery else []):
            for source in schedule.require_sync:
                if getattr(self.sources, source) is None:
                    raise ValueError(f"delivery.schedules[{number}] ({schedule.name}).require_sync: {source} is not "
                                     f"configured under `sources:`")
        return self

    @property
    def won_stages(self) -> list[str]:
        return [s.name for s in self.stages if s.won]

    @property
    def lost_stages(self) -> list[str]:
        return [s.name for s in self.stages if s.lost]


def load_config(directory: Path) -> CompanyConfig:
    """Read `cadence.yml` in `directory`, apply environment overrides, validate everything at once."""
    path = directory / CONFIG_FILE
    if not path.exists():
        raise ConfigError(
            "no cadence.yml here", location=Location(str(directory)), hint="run `cadence init DIR` first"
        )
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        problem = getattr(exc, "problem", exc)
        raise ConfigError(f"not valid YAML ({problem})", location=Location(str(path), line)) from None
    if not isinstance(raw, dict):
        raise ConfigError("expected a mapping of settings at the top level", location=Location(str(path)))
    apply_env_overrides(raw, os.environ)
    return validate_config(raw, source=str(path))


def validate_config(raw: dict[str, Any], *, source: str = CONFIG_FILE) -> CompanyConfig:
    try:
        return CompanyConfig.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(problems, location=Location(source)) from None


def apply_env_overrides(raw: dict[str, Any], environ: dict[str, str] | os._Environ[str]) -> None:
    """`CADENCE__A__B=v` sets raw['a']['b'] = v (YAML-parsed, so numbers and lists work)."""
    for key, value in environ.items():
        if not key.startswith("CADENCE__"):
            continue
        path = [part.lower() for part in key.split("__")[1:] if part]
        if not path:
            continue
        node = raw
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = yaml.safe_load(value)
