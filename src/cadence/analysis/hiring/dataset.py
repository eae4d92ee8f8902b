"""From the warehouse to the table a hiring fit learns from: one row per hire, calibrated scores and performance.

Which criteria: the current scorecard's from cadence.yml when it lists them, otherwise every criterion
found in `interview_scores`. A hire who was never asked about a criterion (interviewed before it joined the
scorecard) cannot be scored on it after the fact, so the fit uses hires with a score on every criterion
and says how many it left out and why — it never fills a missing score in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from cadence.analysis.hiring.calibration import METHOD, Calibration, calibrate_interviewers, calibrated_scores
from cadence.analysis.hiring.fit import OUTCOME, HiringFit, fit_hiring_model
from cadence.analysis.hiring.performance import MEASURES, HiringSource, data_end, hire_performance
from cadence.config.hiring import HiringConfig
from cadence.errors import MissingDataError, UnknownNameError


class NoHiringDataError(MissingDataError):
    """The warehouse has no interview scores (or no candidates) to work from."""


@dataclass
class HiringData:
    """Everything the hiring analyses share, read once."""

    scores: pd.DataFrame  # long: candidate_id, interviewer_id, criterion, score, interviewed_at
    candidates: pd.DataFrame
    calibration: Calibration
    candidate_scores: pd.DataFrame  # wide, calibrated: index candidate_id, one column per criterion
    performance: pd.DataFrame  # one row per hire (performance.COLUMNS)
    criteria: list[str]
    warnings: list[str]  # criteria left out of the scorecard's fit, and why
    as_of: date


def read_hiring_data(source: HiringSource, settings: HiringConfig | None = None, *,
                     as_of: date | None = None) -> HiringData:
    """Scores (interviews before `as_of`), calibration, calibrated candidate scores and hire performance.

    `as_of` (exclusive) defaults to the end of the record (`performance.data_end`), so a fit says what it saw.
    """
    settings = settings or HiringConfig()
    as_of = as_of or data_end(source)
    scores = source.table("interview_scores").to_pandas()
    when = pd.to_datetime(scores["interviewed_at"])
    scores = scores[when.isna() | (when < pd.Timestamp(as_of))]
    if scores.empty:
        raise NoHiringDataError("no interview scores in the warehouse",
                                hint="import them with `cadence ingest FILE --from interview-scores` (or "
                                     "--from greenhouse), or enter one with `cadence hiring score`")
    candidates = source.table("candidates").to_pandas()
    calibration = calibrate_interviewers(scores)
    wide = calibrated_scores(scores, calibration.offsets)
    criteria, warnings = _criteria(settings, list(wide.columns))
    perf = hire_performance(source, as_of=as_of, min_periods=settings.performance.min_periods,
                            ramp_threshold=settings.performance.ramp_threshold)
    return HiringData(scores, candidates, calibration, wide, perf, criteria, warnings, as_of)


def training_table(data: HiringData, measure: str) -> tuple[pd.DataFrame, list[str], list[str]]:
    """Hires (index person_id) with a score on every criterion and the measure (column `performance`),
    what the table is made of (notes) and who was left out for a missing score (warnings)."""
    if measure not in MEASURES:
        raise UnknownNameError("performance measure", measure, list(MEASURES))
    perf = data.performance.dropna(subset=["candidate_id"])
    judged = perf[perf[measure].notna()]
    table = judged[["person_id", "candidate_id", measure]].rename(columns={measure: OUTCOME})
    table = table.merge(data.candidate_scores.reindex(columns=data.criteria), left_on="candidate_id",
                        right_index=True, how="left").set_index("person_id")
    notes = [f"{len(judged)} of {len(perf)} hires have a track record on {measure.replace('_', ' ')}; "
             "the others (no quota or deals, too few periods, or ramp not seen) are not in the fit"]
    missing = table[data.criteria].isna()
    warnings = []
    teams = judged["team"].nunique()
    if measure == "bookings_per_month" and teams > 1:
        warnings.append(f"bookings per month compares hires across {teams} teams whose deal sizes differ, so the "
                        "fit partly learns which team someone joined; attainment (against each team's quota) "
                        "compares them fairly")
    if missing.any(axis=None):
        counts = missing.sum()
        what = ", ".join(f"{c} ({int(n)})" for c, n in counts[counts > 0].items())
        warnings.append(f"{int(missing.any(axis=1).sum())} hires with a track record lack a score on some criteria "
                     f"and are left out — missing: {what}")
    return table[~missing.any(axis=1)], notes, warnings


def fit_from_data(data: HiringData, settings: HiringConfig | None = None, *, measure: str | None = None,
                  seed: int = 0) -> HiringFit:
    """The hiring formula for `data`, with the calibration and the scorecard it used in its context."""
    settings = settings or HiringConfig()
    measure = measure or settings.performance.measure
    table, notes, warnings = training_table(data, measure)
    fit = fit_hiring_model(table, data.criteria, measure=measure, direction=MEASURES[measure],
                           min_per_criterion=settings.min_hires_per_criterion, seed=seed,
                           warnings=data.warnings + warnings)
    fit.notes = notes
    fit.context = {"as_of": data.as_of.isoformat(),
                   "scorecard_version": settings.current_version if settings.criteria else None,
                   "calibration": METHOD, "offsets": data.calibration.offsets}
    return fit


def fit_hiring(source: HiringSource, settings: HiringConfig | None = None, *, as_of: date | None = None,
               measure: str | None = None, seed: int = 0) -> HiringFit:
    """Read the warehouse and fit: what `cadence hiring fit` shows."""
    return fit_from_data(read_hiring_data(source, settings, as_of=as_of), settings, measure=measure, seed=seed)


def _criteria(settings: HiringConfig, found: list[str]) -> tuple[list[str], list[str]]:
    configured = settings.criteria_in()
    if not configured:
        return sorted(found), []
    notes = []
    extra = sorted(set(found) - {c.name for c in settings.criteria})
    if extra:
        notes.append(f"scores on {', '.join(extra)} are not criteria of the scorecard in cadence.yml: left out")
    absent = [c for c in configured if c not in found]
    if absent:
        notes.append(f"no one has been scored on {', '.join(absent)} yet: left out")
    return [c for c in configured if c in found], notes
