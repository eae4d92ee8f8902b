"""Hiring on the weekly scorecard: open roles, the candidate pipeline, and how good this year's hiring formula is.

The formula is refitted on what was known by the end of the week under review, so the figure moves only
when hires' records or scores do; saved yearly versions are for `cadence hiring history`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from cadence.report.model import Figure, ScorecardContext, Section

if TYPE_CHECKING:
    from cadence.analysis.hiring import HiringData, HiringFit, Pipeline
    from cadence.workspace import Workspace


class HiringSection:
    key = "hiring"
    title = "Hiring"
    order = 70

    def build(self, ws: Workspace, context: ScorecardContext) -> Section | None:
        from cadence.analysis.hiring import fit_from_data, hiring_pipeline, read_hiring_data
        from cadence.config.hiring import HiringConfig

        candidates = ws.table("candidates").to_pandas()
        if candidates.empty and ws.table("interview_scores").count().execute() == 0:
            return None
        year_start = ws.calendar.start_of(context.as_of - timedelta(days=1), "year")
        pipeline = hiring_pipeline(candidates, as_of=context.as_of, window_start=year_start)
        section = Section(self.key, self.title, figures=_pipeline_figures(pipeline, ws.calendar.label(year_start,
                                                                                                       "year")))
        section.rows = [role.as_dict() for role in pipeline.open_roles]
        if ws.table("interview_scores").count().execute() == 0:
            section.notes.append("No interview scores yet: import them (`--from interview-scores` or "
                                 "`--from greenhouse`) to learn which criteria predict success.")
            return section
        settings = ws.config.hiring or HiringConfig()
        data = read_hiring_data(ws, settings, as_of=context.as_of)
        fit = fit_from_data(data, settings)
        section.figures += _model_figures(fit)
        people = ws.table("people").select("person_id", "name").to_pandas()
        section.notes += _model_notes(fit, data, dict(zip(people["person_id"], people["name"], strict=True)))
        return section


def _pipeline_figures(pipeline: Pipeline, year: str) -> list[Figure]:
    in_play = sum(r.interviewing + r.offered for r in pipeline.open_roles)
    return [
        Figure("Open roles", float(len(pipeline.open_roles)), "count",
               note="roles with candidates interviewing or holding an offer"),
        Figure("Candidates in play", float(in_play), "count", note="interviewing or offered, all open roles"),
        Figure(f"Applied in fiscal {year}", float(pipeline.applied), "count", period=year),
        Figure(f"Hired in fiscal {year}", float(pipeline.hires), "count", period=year,
               note=f"of {pipeline.applied} who applied this fiscal year"),
    ]


def _model_figures(fit: HiringFit) -> list[Figure]:
    measure = fit.measure.replace("_", " ")
    figures = [Figure("Hires behind the hiring formula", float(fit.n_hires), "count",
                      note=f"hires with a track record on {measure} and a score on every criterion")]
    if fit.cv_r2 is None:
        return figures
    top = fit.criteria[0]
    strongest = "" if top.coef_std is None else (
        f"; strongest predictor {top.criterion} ({top.coef_std:+.2f} SD, {fit.confidence:.0%} interval "
        f"{top.ci_low:+.2f} to {top.ci_high:+.2f})")
    figures.append(Figure(
        f"Share of {measure} the formula explains in unseen hires", fit.cv_r2, "ratio",
        note=f"cross-validated R² over {fit.cv_folds} folds{strongest}"
             + ("" if fit.reliable else "; indicative only")))
    return figures


def _model_notes(fit: HiringFit, data: HiringData, people: dict[str, str]) -> list[str]:
    notes = [f"Hiring formula: {w}" for w in fit.warnings]
    for item in data.calibration.flagged():
        who = people.get(item.interviewer_id, item.interviewer_id)
        notes.append(f"Interviewer {who} scores {item.offset:+.1f} points against colleagues on the same candidates "
                     f"({data.calibration.confidence:.0%} interval {item.ci_low:+.1f} to {item.ci_high:+.1f}); "
                     "the formula uses calibrated scores.")
    return notes
