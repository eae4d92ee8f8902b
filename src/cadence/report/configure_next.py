"""The scorecard of a company that has not configured it yet: what to add to cadence.yml next, and why.

A scorecard with no mission and no team KPIs would be empty columns; this section says instead which
keys turn it on (docs/config.md documents each, `cadence init` writes commented examples).
"""

from __future__ import annotations

from cadence.config import CompanyConfig
from cadence.report.model import Section

KEY = "configure"


def configure_next(config: CompanyConfig) -> Section | None:
    """A section listing the missing keys, or None when the mission and at least one KPI are set."""
    rows = []
    if config.mission is None:
        rows.append({"add to cadence.yml": "mission: (statement, metric, target)",
                     "why": "the scorecard opens with the one number that says whether the company is working, "
                            "and checks that each team's KPI moves it"})
    if not any(team.kpis for team in config.teams):
        rows.append({"add to cadence.yml": "teams: → kpis: (metric, period, target)",
                     "why": "each team's KPI is shown against its target as on track, at risk or off track"})
    if not rows:
        return None
    return Section(KEY, "Configure next", rows=rows, notes=[
        "cadence.yml has commented examples of each (written by `cadence init`); docs/config.md documents "
        "every key. Metric names come from `cadence metrics`."])
