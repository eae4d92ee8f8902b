"""Interviewer calibration: does one interviewer score systematically high or low?

A lenient interviewer inflates every candidate they see, and candidates are not shared out at random,
so their hires would look better on paper than they were. The comparison that is fair to everyone is
on the same candidates: each score is read as

    score = level of the candidate on the criterion + the interviewer's offset + noise,

and the offsets are estimated by least squares over every (candidate, criterion) that two or more
interviewers scored. That is each interviewer's mean difference from the others on the same
candidates, corrected for who those others were (a harsh colleague does not make a fair interviewer
look lenient). Offsets are measured from the median interviewer: the typical colleague scores 0, and one
very lenient interviewer does not make everyone else look harsh, as centring on the average would.

The interval is that of the interviewer's own estimate (the median it is measured from is taken as
fixed). It allows for a candidate's scores being related to one another — an interviewer who liked a
candidate tends to like them on every criterion — by treating each candidate as one independent unit
(a cluster-robust sandwich estimate), with Student's t on (shared candidates − 1) degrees of freedom.

Calibrated scores are the raw scores minus the interviewer's offset; a candidate's score on a criterion
is the mean of the calibrated scores over their interviewers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

Verdict = Literal["lenient", "harsh", "in line", "too few shared candidates"]
MATERIAL_POINTS = 1.0  # a full point on the 1–10 scale: smaller offsets are corrected, not called out
MIN_SHARED_CANDIDATES = 5
CONFIDENCE = 0.95
SCORE_COLUMNS = ["candidate_id", "interviewer_id", "criterion", "score"]

METHOD = ("each interviewer's offset is their mean difference from the other interviewers on the same candidates "
          "and criteria, estimated jointly by least squares (score = candidate's level on the criterion + "
          "interviewer offset) and measured from the median interviewer; the interval treats each candidate as "
          "one unit; calibrated score = score − offset, averaged over a candidate's interviewers")


@dataclass(frozen=True)
class InterviewerCalibration:
    """One interviewer against the others who saw the same candidates."""

    interviewer_id: str
    candidates: int  # candidates they scored
    shared_candidates: int  # of those, scored by someone else too
    mean_score: float
    raw_difference: float | None  # plain mean of (their score − the others' mean) on shared candidates
    offset: float | None  # the joint least-squares estimate used to calibrate
    ci_low: float | None
    ci_high: float | None
    verdict: Verdict

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Calibration:
    interviewers: list[InterviewerCalibration]
    confidence: float
    method: str = METHOD

    @property
    def offsets(self) -> dict[str, float]:
        return {i.interviewer_id: i.offset for i in self.interviewers if i.offset is not None}

    def flagged(self) -> list[InterviewerCalibration]:
        return [i for i in self.interviewers if i.verdict in ("lenient", "harsh")]


def calibrate_interviewers(scores: pd.DataFrame, *, confidence: float = CONFIDENCE,
                           material: float = MATERIAL_POINTS,
                           min_shared: int = MIN_SHARED_CANDIDATES) -> Calibration:
    """Offsets of every interviewer in `scores` (candidate_id, interviewer_id, criterion, score)."""
    frame = _clean(scores)
    ids = sorted(frame["interviewer_id"].unique())
    if not ids:
        return Calibration([], confidence)
    frame["cell"] = frame.groupby(["candidate_id", "criterion"]).ngroup()
    frame["size"] = frame.groupby("cell")["score"].transform("size")
    shared = frame[frame["size"] >= 2].copy()
    offsets, errors = _offsets(shared, ids)
    counts = shared.groupby("interviewer_id")["candidate_id"].nunique().reindex(ids, fill_value=0).to_numpy()
    known = offsets[np.isfinite(offsets) & (counts > 0)]
    offsets = offsets - (float(np.median(known)) if len(known) else 0.0)
    raw = _raw_differences(shared)
    rows = []
    for k, interviewer in enumerate(ids):
        mine = frame[frame["interviewer_id"] == interviewer]
        n_shared = int(counts[k])
        offset = None if np.isnan(offsets[k]) else float(offsets[k])
        low = high = None
        if offset is not None and n_shared >= min_shared and np.isfinite(errors[k]):
            half = _t_quantile(confidence, n_shared - 1) * float(errors[k])
            low, high = offset - half, offset + half
        rows.append(InterviewerCalibration(
            interviewer, int(mine["candidate_id"].nunique()), n_shared, float(mine["score"].mean()),
            raw.get(interviewer), offset if n_shared else None, low, high, _verdict(low, high, offset, material)))
    return Calibration(rows, confidence)


def calibrated_scores(scores: pd.DataFrame, offsets: dict[str, float] | None = None) -> pd.DataFrame:
    """One row per candidate, one column per criterion: the mean over interviewers of score − offset."""
    frame = _clean(scores)
    if offsets:
        frame["score"] = frame["score"] - frame["interviewer_id"].map(offsets).fillna(0.0)
    wide = frame.pivot_table(index="candidate_id", columns="criterion", values="score", aggfunc="mean")
    wide.columns.name = None
    return wide


def _clean(scores: pd.DataFrame) -> pd.DataFrame:
    frame = scores[SCORE_COLUMNS].dropna().copy()
    frame["score"] = frame["score"].astype("float64")
    for column in ("candidate_id", "interviewer_id", "criterion"):
        frame[column] = frame[column].astype(str)
    return frame.reset_index(drop=True)


def _offsets(shared: pd.DataFrame, ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares offsets (centred on the scores' weighted mean) and their cluster-robust standard errors.

    Eliminating each cell's level leaves the normal equations A·b = r with A = Σ_cells (I − 11ᵀ/m) over the
    cell's m interviewers; A is singular along the all-ones direction, so the centring Σ nᵢ·bᵢ = 0 is
    added as a bordering row and column.
    """
    k = len(ids)
    nan = np.full(k, np.nan)
    if shared.empty:
        return nan, nan
    index = shared["interviewer_id"].map({name: i for i, name in enumerate(ids)}).to_numpy()
    size = shared["size"].to_numpy(dtype="float64")
    cells = shared["cell"].to_numpy()
    y = shared["score"].to_numpy()
    demeaned = y - shared.groupby("cell")["score"].transform("mean").to_numpy()
    a = np.zeros((k, k))
    np.add.at(a, (index, index), 1.0)
    pair = pd.DataFrame({"cell": cells, "i": index, "w": 1.0 / size})
    both = pair.merge(pair[["cell", "i"]], on="cell", suffixes=("", "_other"))
    np.add.at(a, (both["i"].to_numpy(), both["i_other"].to_numpy()), -both["w"].to_numpy())
    r = np.bincount(index, weights=demeaned, minlength=k)
    counts = np.bincount(index, minlength=k).astype("float64")
    present = counts > 0
    bordered = np.zeros((k + 1, k + 1))
    bordered[:k, :k] = a
    bordered[:k, k] = bordered[k, :k] = counts / counts.sum()
    bordered[~np.append(present, True), :] = 0.0
    bordered[:, ~np.append(present, True)] = 0.0
    bordered[np.where(~present)[0], np.where(~present)[0]] = 1.0
    inverse = np.linalg.pinv(bordered)[:k, :k]
    b = inverse @ r  # the bordering row's right-hand side is 0
    fitted_cell = _cell_levels(cells, y - b[index])
    residual = y - fitted_cell - b[index]
    scores_by = np.zeros((shared["candidate_id"].nunique(), k))
    candidate = shared["candidate_id"].astype("category").cat.codes.to_numpy()
    np.add.at(scores_by, (candidate, index), residual)
    meat = scores_by.T @ scores_by
    covariance = inverse @ meat @ inverse.T
    b[~present] = np.nan
    return b, np.sqrt(np.clip(np.diag(covariance), 0.0, None))


def _cell_levels(cells: np.ndarray, values: np.ndarray) -> np.ndarray:
    sums = np.bincount(cells, weights=values)
    counts = np.bincount(cells)
    return (sums / np.maximum(counts, 1))[cells]


def _raw_differences(shared: pd.DataFrame) -> dict[str, float]:
    """Each interviewer's score minus the mean of the others in the same cell, averaged per candidate, then overall."""
    total = shared.groupby("cell")["score"].transform("sum")
    others = (total - shared["score"]) / (shared["size"] - 1)
    diff = shared.assign(diff=shared["score"] - others)
    per_candidate = diff.groupby(["interviewer_id", "candidate_id"])["diff"].mean()
    return {str(k): float(v) for k, v in per_candidate.groupby(level=0).mean().items()}


def _t_quantile(confidence: float, df: int) -> float:
    from scipy import stats

    return float(stats.t.ppf(0.5 + confidence / 2, max(df, 1)))


def _verdict(low: float | None, high: float | None, offset: float | None, material: float) -> Verdict:
    if low is None or high is None or offset is None:
        return "too few shared candidates"
    if low > 0 and offset >= material:
        return "lenient"
    if high < 0 and offset <= -material:
        return "harsh"
    return "in line"
