"""Coaching: each rep's activity funnel against the model rep, and the one step to coach (`coach`), from the
counts per rep, quarter and step (`counts`). The intervals come from `cadence.analysis.stats`."""

from cadence.analysis.coaching.coach import (
    MIN_MODEL_DAYS,
    MODEL_QUARTERS,
    STEP_TRIALS,
    Coaching,
    CoachingSettings,
    RepCoaching,
    StepComparison,
    coach,
    method_text,
    model_groups,
    model_person,
    ramp_curve,
)
from cadence.analysis.coaching.counts import CONVERSIONS, VOLUMES, step_counts, working_days

__all__ = ["CONVERSIONS", "MIN_MODEL_DAYS", "MODEL_QUARTERS", "STEP_TRIALS", "VOLUMES", "Coaching", "CoachingSettings",
           "RepCoaching", "StepComparison", "coach", "method_text", "model_groups", "model_person", "ramp_curve",
           "step_counts", "working_days"]
