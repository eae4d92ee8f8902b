"""What predicts success: on-the-job performance regressed on interview scores.

The method, stated once:

1. **Data.** One row per hire with a track record: their calibrated score on each criterion (see
   `calibration.py`) and their performance (see `performance.py`). A measure where lower is better
   (ramp months) is negated first, so a positive weight always means "predicts success".
2. **Standardised coefficients.** Scores and performance are each turned into z-scores (mean 0, standard
   deviation 1, over the hires in the fit) and performance is regressed on all criteria at once by ordinary
   least squares. A coefficient of 0.4 reads: one standard deviation more on this criterion, others equal,
   goes with 0.4 standard deviations more performance. Intervals and p-values use Student's t on
   n − k − 1 degrees of freedom. Criteria are ranked by their coefficient, strongest predictor of success
   first; a negative one, if real, predicts the opposite.
3. **Honest out-of-sample quality.** The same regression is refitted on k − 1 folds and scored on the fold it
   did not see (scikit-learn's KFold, shuffled with a fixed seed, repeated so one lucky split does not decide
   it). `cv_r2` is 1 − Σ(held-out error²) ÷ Σ(performance − mean)², averaged over repeats: 0 means no better
   than predicting the average hire, below 0 worse. `cv_rank_correlation` is Spearman's ρ between held-out
   predictions and performance — whether the formula puts better hires above worse ones, which is what a
   hiring decision uses.
4. **Too little data.** With fewer than `min_per_criterion` hires per criterion the coefficients are
   indicative only and the fit says so; with fewer than k + 3 hires nothing is estimated at all.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

CONFIDENCE = 0.95
FOLDS = 5
REPEATS = 20
SEED = 0
MIN_PER_CRITERION = 10
WEAK_CV_R2 = 0.1
OUTCOME = "performance"


@dataclass(frozen=True)
class CriterionWeight:
    criterion: str
    coef_std: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None = None


@dataclass
class HiringFit:
    """A fitted hiring formula, what it was fitted on, and how much to trust it."""

    measure: str
    direction: str
    n_hires: int
    criteria: list[CriterionWeight]
    cv_r2: float | None
    cv_rank_correlation: float | None
    cv_folds: int | None
    r2: float | None
    reliable: bool
    warnings: list[str]
    confidence: float = CONFIDENCE
    notes: list[str] = field(default_factory=list)  # what the fit was made of, not a reason for caution
    hires: list[str] = field(default_factory=list)
    # the formula itself, for the predictive index: z-scores of `order`, intercept first in `coefficients`
    order: list[str] = field(default_factory=list)
    means: dict[str, float] = field(default_factory=dict)
    sds: dict[str, float] = field(default_factory=dict)
    coefficients: list[float] = field(default_factory=list)
    unscaled_covariance: list[list[float]] = field(default_factory=list)  # (AᵀA)⁻¹ of the standardised design
    residual_sd: float | None = None
    residual_df: int | None = None
    outcome_mean: float | None = None
    outcome_sd: float | None = None
    context: dict[str, Any] = field(default_factory=dict)  # as_of, scorecard version, calibration offsets…

    @property
    def estimated(self) -> bool:
        return bool(self.coefficients)

    def summary(self) -> dict[str, Any]:
        """The interface later work relies on: `cadence hiring fit --format json`."""
        return {"n_hires": self.n_hires, "cv_r2": _round(self.cv_r2),
                "criteria": [{"criterion": c.criterion, "coef_std": _round(c.coef_std), "ci_low": _round(c.ci_low),
                              "ci_high": _round(c.ci_high)} for c in self.criteria],
                "warnings": list(self.warnings)}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HiringFit:
        values = dict(data)
        values["criteria"] = [CriterionWeight(**c) for c in data.get("criteria", [])]
        return cls(**values)


def fit_hiring_model(data: pd.DataFrame, criteria: list[str], *, measure: str = "attainment", direction: str = "up",
                     min_per_criterion: int = MIN_PER_CRITERION, folds: int = FOLDS, repeats: int = REPEATS,
                     seed: int = SEED, confidence: float = CONFIDENCE, warnings: list[str] | None = None) -> HiringFit:
    """Regress `data[OUTCOME]` on `data[criteria]` (one row per hire, indexed by person); `warnings` come first."""
    warnings = list(warnings or [])
    frame = data.dropna(subset=[*criteria, OUTCOME])
    constant = [c for c in criteria if frame[c].nunique() < 2]
    if constant:
        warnings.append(f"{', '.join(constant)}: every hire in the fit has the same score, so "
                        f"{'it says' if len(constant) == 1 else 'they say'} nothing about performance; left out")
    used = [c for c in criteria if c not in constant]
    n, k = len(frame), len(used)
    y = frame[OUTCOME].to_numpy(dtype="float64") * (-1.0 if direction == "down" else 1.0)
    base = HiringFit(measure, direction, n, [CriterionWeight(c, None, None, None) for c in criteria], None, None,
                     None, None, False, warnings, confidence, hires=[str(h) for h in frame.index])
    if n < k + 3 or k == 0 or np.std(y) == 0:
        warnings.append(f"too few hires to learn from: {n} with a track record and scores on {k} criteria; at least "
                        f"{k + 3} are needed to estimate anything, and {min_per_criterion * k} to rely on it — "
                        "no weights are shown")
        return base
    x = frame[used].to_numpy(dtype="float64")
    means, sds = x.mean(axis=0), x.std(axis=0, ddof=1)
    z = (x - means) / sds
    y_mean, y_sd = float(y.mean()), float(y.std(ddof=1))
    yz = (y - y_mean) / y_sd
    design = np.column_stack([np.ones(n), z])
    beta, *_ = np.linalg.lstsq(design, yz, rcond=None)
    residual = yz - design @ beta
    df = n - k - 1
    sigma2 = float(residual @ residual) / df
    unscaled = np.linalg.pinv(design.T @ design)
    se = np.sqrt(np.clip(np.diag(unscaled) * sigma2, 0.0, None))
    t_crit, p_values = _t_stats(beta, se, df, confidence)
    weights = [CriterionWeight(c, float(beta[i + 1]), float(beta[i + 1] - t_crit * se[i + 1]),
                               float(beta[i + 1] + t_crit * se[i + 1]), p_values[i + 1]) for i, c in enumerate(used)]
    weights.sort(key=lambda w: -(w.coef_std or 0.0))
    cv_r2, cv_rho, used_folds = cross_validate(z, yz, folds=folds, repeats=repeats, seed=seed)
    reliable = n >= min_per_criterion * k and cv_r2 is not None and cv_r2 > 0
    warnings += _quality_warnings(n, k, min_per_criterion, cv_r2, cv_rho)
    return HiringFit(
        measure, direction, n, weights + [CriterionWeight(c, None, None, None) for c in constant], cv_r2, cv_rho,
        used_folds, 1.0 - float(residual @ residual) / float(yz @ yz), reliable, warnings, confidence,
        hires=base.hires, order=used, means=dict(zip(used, means.tolist(), strict=True)),
        sds=dict(zip(used, sds.tolist(), strict=True)), coefficients=beta.tolist(),
        unscaled_covariance=unscaled.tolist(), residual_sd=math.sqrt(sigma2), residual_df=df,
        outcome_mean=y_mean, outcome_sd=y_sd)


def cross_validate(z: np.ndarray, y: np.ndarray, *, folds: int = FOLDS, repeats: int = REPEATS,
                   seed: int = SEED) -> tuple[float | None, float | None, int | None]:
    """Mean over repeats of the pooled held-out R² and Spearman's ρ, and the folds used.

    Each training part must hold at least k + 2 hires for its own least-squares fit to be determined;
    when `folds` leaves too few, more folds are used, up to leaving one hire out at a time.
    """
    from sklearn.model_selection import KFold

    n, k = z.shape
    use = next((f for f in range(max(folds, 2), n + 1) if n - math.ceil(n / f) >= k + 2), None)
    if use is None:
        return None, None, None
    rounds = 1 if use == n else repeats
    r2s, rhos = [], []
    total = float(((y - y.mean()) ** 2).sum())
    for r in range(rounds):
        predicted = np.empty(n)
        for train, test in KFold(use, shuffle=True, random_state=seed + r).split(z):
            design = np.column_stack([np.ones(len(train)), z[train]])
            beta, *_ = np.linalg.lstsq(design, y[train], rcond=None)
            predicted[test] = np.column_stack([np.ones(len(test)), z[test]]) @ beta
        r2s.append(1.0 - float(((y - predicted) ** 2).sum()) / total)
        rhos.append(spearman(predicted, y))
    return float(np.mean(r2s)), float(np.nanmean(rhos)) if not all(np.isnan(rhos)) else None, use


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    ra, rb = pd.Series(a).rank().to_numpy(), pd.Series(b).rank().to_numpy()
    if ra.std() == 0 or rb.std() == 0:
        return float("nan")
    return float(np.corrcoef(ra, rb)[0, 1])


def _t_stats(beta: np.ndarray, se: np.ndarray, df: int, confidence: float) -> tuple[float, list[float | None]]:
    from scipy import stats

    t_crit = float(stats.t.ppf(0.5 + confidence / 2, df))
    p_values: list[float | None] = [float(2 * stats.t.sf(abs(b / s), df)) if s > 0 else None
                                    for b, s in zip(beta, se, strict=True)]
    return t_crit, p_values


def _quality_warnings(n: int, k: int, min_per_criterion: int, cv_r2: float | None, cv_rho: float | None) -> list[str]:
    out = []
    if n < min_per_criterion * k:
        out.append(f"{n} hires for {k} criteria (fewer than {min_per_criterion} per criterion): the weights and "
                   "their intervals are indicative, not reliable — do not drop or reweight a criterion on them alone")
    if cv_r2 is None:
        out.append("too few hires to cross-validate: how well the formula predicts new hires is unknown")
    elif cv_r2 <= 0:
        rank = f"; it does rank held-out hires (Spearman ρ {cv_rho:.2f})" if cv_rho is not None and cv_rho > 0 else ""
        than = "no better than" if cv_r2 > -0.05 else "worse than"
        out.append(f"cross-validated R² is {cv_r2:.2f}: on hires it has not seen, the formula predicts performance "
                   f"{than} the average hire does{rank}")
    elif cv_r2 < WEAK_CV_R2:
        out.append(f"cross-validated R² is only {cv_r2:.2f}: the scores explain little of how new hires perform")
    return out


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)
