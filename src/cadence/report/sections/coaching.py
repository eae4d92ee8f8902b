"""Coaching on the weekly scorecard: the reps with a confident coaching focus, one row each."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cadence.analysis.coaching import RepCoaching, coach
from cadence.errors import MissingDataError
from cadence.report.model import ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.workspace import Workspace


def focus_row(rep: RepCoaching) -> dict[str, Any]:
    """One rep's coaching focus: the step, how far below the model, and the evidence."""
    step = next(s for s in rep.steps if s.step == rep.focus_step)
    ratio = rep.ratio_to_model
    return {"rep": rep.name, "team": rep.team, "focus": step.label,
            "ratio_to_model": None if ratio is None else round(ratio, 2),
            "interval": f"{step.ratio_low:.0%}–{step.ratio_high:.0%}",
            "evidence": f"{step.trials:,.0f} {step.unit} {step.window_text()}"}


class CoachingSection:
    key = "coaching"
    title = "Coaching focus"
    order = 40

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        try:
            result = coach(ws, ws.calendar, as_of=context.as_of)
        except MissingDataError:
            return None  # no activities or no deals: nothing to coach on
        focused = [r for r in result.reps if r.focus_step is not None]
        section = Section(self.key, self.title, rows=[focus_row(r) for r in focused])
        if not focused:
            section.notes.append(f"No rep of {len(result.reps)} has a confident coaching focus in {result.quarter}.")
        section.notes.append(f"{len(focused)} of {len(result.reps)} reps with a confident focus; evidence up to "
                             f"{context.as_of:%Y-%m-%d} ({result.quarter}). Method — {result.method}.")
        return section
