"""The predictive index: a new candidate's expected performance under the hiring formula, and how unsure it is.

The index is the formula's prediction in standard deviations of performance among past hires: 0 is the
average hire, +1 a hire one standard deviation better. Its interval is a prediction interval for one person
— the uncertainty of the weights plus the spread of hires the scores do not explain — so with a weak
formula it is wide, as it should be. The same prediction is also given in the measure's own units
(e.g. attainment 1.15). Scores are calibrated for the interviewers who gave them, as in the fit; a
candidate not scored on every criterion of the formula gets no index rather than a guessed one.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from cadence.analysis.hiring.dataset import HiringData
from cadence.analysis.hiring.fit import HiringFit
from cadence.errors import CadenceError

LEVEL = 0.8  # a likely range for one person, not a 95% band that would span most of the hires
OPEN_STATUSES = ("interviewing", "offered")


class UnknownCandidateError(CadenceError, ValueError):
    """No candidate has that id or name."""


@dataclass(frozen=True)
class CandidateIndex:
    candidate_id: str
    index: float | None
    low: float | None
    high: float | None
    level: float
    measure: str
    predicted: float | None = None
    predicted_low: float | None = None
    predicted_high: float | None = None
    scores: dict[str, float] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def predict_index(fit: HiringFit, scores: Mapping[str, float], *, candidate_id: str = "",
                  level: float = LEVEL) -> CandidateIndex:
    """The index of a candidate with these calibrated criterion scores."""
    used = {c: float(scores[c]) for c in fit.order if c in scores and _finite(scores[c])}
    missing = [c for c in fit.order if c not in used]
    empty = CandidateIndex(candidate_id, None, None, None, level, fit.measure, scores=used, missing=missing,
                           warnings=list(fit.warnings))
    if not fit.estimated:
        return _with(empty, "no hiring formula to apply: the fit had too few hires")
    if missing:
        return _with(empty, f"not scored on {', '.join(missing)}: no index without every criterion of the formula")
    x0 = np.array([1.0] + [(used[c] - fit.means[c]) / fit.sds[c] for c in fit.order])
    index = float(x0 @ np.array(fit.coefficients))
    spread = float(fit.residual_sd or 0.0) * math.sqrt(1.0 + float(x0 @ np.array(fit.unscaled_covariance) @ x0))
    half = _t_quantile(level, fit.residual_df or 1) * spread
    low, high = index - half, index + half
    sign = -1.0 if fit.direction == "down" else 1.0
    mean, sd = float(fit.outcome_mean or 0.0), float(fit.outcome_sd or 0.0)
    in_units = sorted(sign * (mean + z * sd) for z in (low, high))
    return CandidateIndex(candidate_id, index, low, high, level, fit.measure, sign * (mean + index * sd),
                          in_units[0], in_units[1], used, [], list(fit.warnings))


def index_candidate(data: HiringData, fit: HiringFit, candidate: str, *, level: float = LEVEL) -> CandidateIndex:
    """The index of one candidate, named by id or by exact name."""
    candidate_id = _resolve(data, candidate)
    row: dict[str, float] = {}
    if candidate_id in data.candidate_scores.index:
        values = data.candidate_scores.loc[candidate_id].dropna().astype("float64")
        row = {str(k): float(v) for k, v in zip(values.index, values.to_numpy(), strict=True)}
    return predict_index(fit, row, candidate_id=candidate_id, level=level)


def index_open_candidates(data: HiringData, fit: HiringFit, *, statuses: tuple[str, ...] = OPEN_STATUSES,
                          level: float = LEVEL) -> list[CandidateIndex]:
    """Every candidate still in the pipeline, best index first (those without an index last)."""
    open_ids = data.candidates.loc[data.candidates["status"].isin(statuses), "candidate_id"].astype(str)
    results = [index_candidate(data, fit, c, level=level) for c in open_ids]
    return sorted(results, key=lambda r: (r.index is None, -(r.index or 0.0), r.candidate_id))


def _resolve(data: HiringData, candidate: str) -> str:
    ids = data.candidates["candidate_id"].astype(str)
    if candidate in set(ids) or candidate in data.candidate_scores.index:
        return candidate
    by_name = data.candidates[data.candidates["name"].astype(str).str.casefold() == candidate.casefold()]
    if len(by_name) == 1:
        return str(by_name["candidate_id"].iloc[0])
    known = sorted(set(ids) | set(data.candidates["name"].astype(str)))
    close = difflib.get_close_matches(candidate, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else "`cadence hiring index` lists the candidates in play"
    raise UnknownCandidateError(f"no candidate {candidate!r} (by id or name) among {len(ids):,}", hint=hint)


def _with(result: CandidateIndex, warning: str) -> CandidateIndex:
    return CandidateIndex(**{**asdict(result), "warnings": [warning, *result.warnings]})


def _finite(value: object) -> bool:
    return isinstance(value, (int, float)) and math.isfinite(float(value))


def _t_quantile(level: float, df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + level / 2, max(df, 1)))
