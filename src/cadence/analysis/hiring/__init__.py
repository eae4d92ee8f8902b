"""Hiring and leadership science: which interview criteria predict success, and who should lead.

Pure, like every analysis: tables in (through anything with `table(name)`, `metric(…)` and `calendar`,
e.g. a Workspace), dataclasses and frames out; settings are passed in, never read here.

- `performance` — each hire's on-the-job record (attainment, bookings per month of tenure, ramp time)
- `calibration` — each interviewer's offset against colleagues on the same candidates
- `fit` — performance regressed on calibrated scores: standardised weights, intervals, cross-validated R²
- `dataset` — from the warehouse to the table a fit learns from
- `index` — a candidate's predicted performance under the formula, with its uncertainty
- `managers` — breadth-of-competence ranking beside the top-seller ranking; the leadership course
- `pipeline` — open roles and candidates by status
- `saved` — a saved formula as rows of the `hiring_fits` table, and back
- `versions` — how the formula changed between saved versions
"""

from cadence.analysis.hiring.calibration import Calibration, InterviewerCalibration, calibrate_interviewers
from cadence.analysis.hiring.dataset import HiringData, NoHiringDataError, fit_from_data, fit_hiring, read_hiring_data
from cadence.analysis.hiring.fit import CriterionWeight, HiringFit, fit_hiring_model
from cadence.analysis.hiring.index import CandidateIndex, index_candidate, index_open_candidates, predict_index
from cadence.analysis.hiring.managers import course_progress, manager_candidates, rank_managers
from cadence.analysis.hiring.performance import MEASURES, hire_performance
from cadence.analysis.hiring.pipeline import Pipeline, hiring_pipeline
from cadence.analysis.hiring.saved import SavedFit, fit_rows, saved_fits
from cadence.analysis.hiring.versions import formula_history

__all__ = [
    "MEASURES", "CandidateIndex", "Calibration", "CriterionWeight", "HiringData", "HiringFit",
    "InterviewerCalibration", "NoHiringDataError", "Pipeline", "SavedFit", "calibrate_interviewers",
    "course_progress", "fit_from_data", "fit_hiring", "fit_hiring_model", "fit_rows", "formula_history",
    "hire_performance", "hiring_pipeline", "index_candidate", "index_open_candidates", "manager_candidates",
    "predict_index", "rank_managers", "read_hiring_data", "saved_fits",
]
