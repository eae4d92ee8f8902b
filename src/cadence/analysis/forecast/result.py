"""What a forecast is: per method, the expected bookings of a quarter, its parts, and an interval."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

METHODS = ("stage_weighted", "historical", "win_model")
LABELS = {"stage_weighted": "Stage-weighted (CRM default)", "historical": "Historical conversion by stage and age",
          "win_model": "Win-probability model (gradient boosting)"}


@dataclass
class MethodForecast:
    method: str
    forecast: float  # expected bookings of the quarter: booked + from open deals + from new deals
    p10: float | None
    p50: float | None
    p90: float | None
    booked: float  # won in the quarter before the as-of date
    from_open: float  # expected from deals open on the as-of date
    from_new: float  # expected from deals not created yet

    @property
    def label(self) -> str:
        return LABELS[self.method]


@dataclass
class QuarterForecast:
    quarter: str
    start: date
    end: date  # exclusive
    as_of: date  # the forecast knows everything recorded before this day
    open_deals: int
    methods: list[MethodForecast]
    notes: list[str] = field(default_factory=list)

    def method(self, name: str) -> MethodForecast:
        return next(m for m in self.methods if m.method == name)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("start", "end", "as_of"):
            data[key] = data[key].isoformat()
        for entry in data["methods"]:
            entry["label"] = LABELS[entry["method"]]
        return data
