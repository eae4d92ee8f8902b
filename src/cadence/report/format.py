"""How numbers read on a scorecard: one place, so the terminal and the HTML agree."""

from __future__ import annotations

import math

STATUS_LABELS = {"on_track": "on track", "at_risk": "at risk", "off_track": "off track", "no_target": "no target",
                 "no_data": "no data"}


def format_value(value: float | None, unit: str, currency: str = "USD") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit == "ratio":
        return f"{value:.1%}"
    if unit == "multiple":
        return f"{value:.1f}×"
    if unit == "currency":  # always the ISO code: "$" is also the peso's sign, and MXN, COP and USD sit side by side
        for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
            if abs(value) >= size:
                return f"{value / size:,.1f}{suffix} {currency}"
        return f"{value:,.0f} {currency}"
    if unit in ("days",):
        return f"{value:,.0f} days"
    if unit in ("score", "per_day"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def format_change(change: float | None) -> str:
    if change is None or math.isnan(change):
        return "–"
    arrow = "▲" if change > 0 else "▼" if change < 0 else "■"
    return f"{arrow} {abs(change):.0%}"


def status_label(status: str | None) -> str:
    return STATUS_LABELS.get(status or "", "")
