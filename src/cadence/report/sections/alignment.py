"""The KPI tree on the scorecard: does each team's KPI move the mission metric?"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence.analysis.alignment import METHOD, PER_DAY, RULE, KpiAlignment, alignment_report
from cadence.report.model import ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.workspace import Workspace


def alignment_row(result: KpiAlignment) -> dict[str, Any]:
    """One line of the KPI tree: who, what, the verdict and the evidence behind it."""
    return {"team": result.team, "kpi": result.kpi, "verdict": result.verdict,
            "r": None if result.r is None else round(result.r, 2),
            "best_lag": result.best_lag, "points": result.points}


class AlignmentSection:
    key = "alignment"
    title = "KPI tree: does each team's KPI move the mission metric?"
    order = 15

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        if ws.config.mission is None or not any(team.kpis for team in ws.config.teams):
            return None
        results = alignment_report(ws, as_of=context.as_of)
        grain = ws.config.mission.grain
        notes = [f"Method — {METHOD}; {PER_DAY}; best lag in {grain}s.", f"Verdict rule — {RULE}."]
        notes += [f"{r.team} · {r.kpi}: {r.reason}." for r in results if r.verdict != "aligned"]
        return Section(self.key, self.title, rows=[alignment_row(r) for r in results], notes=notes)
