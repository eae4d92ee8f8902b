"""A saved hiring formula as rows of the `hiring_fits` table, and back.

One row per criterion of the fit, in its ranking order; what belongs to the whole fit (its measure,
cross-validated quality, intercept) is repeated on each row, so any single row reads on its own in SQL.
What has no column (warnings, notes, the hires fitted on, the covariance, the calibration offsets) is kept
as JSON in `details`. Reading the rows back gives the same `HiringFit`, number for number.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd

from cadence.analysis.hiring.fit import CriterionWeight, HiringFit

DETAILS = ("warnings", "notes", "hires", "unscaled_covariance", "context")
FIT_COLUMNS = ("measure", "direction", "n_hires", "cv_r2", "cv_rank_correlation", "cv_folds", "r2", "reliable",
               "confidence", "residual_sd", "residual_df", "outcome_mean", "outcome_sd")


@dataclass
class SavedFit:
    """One saved version of the hiring formula."""

    fit_id: str
    version: int
    fitted_at: datetime
    as_of: date  # the last day the fit knew
    fiscal_year: int | None
    fit: HiringFit

    def as_dict(self) -> dict[str, Any]:
        return {"fit_id": self.fit_id, "version": self.version, "fitted_at": self.fitted_at.isoformat(),
                "as_of": self.as_of.isoformat(), "fiscal_year": self.fiscal_year, "fit": self.fit.as_dict()}


def fit_rows(saved: SavedFit, source: str) -> pd.DataFrame:
    """The `hiring_fits` rows of a saved fit (untyped: the caller validates them against the table)."""
    fit = saved.fit
    shared = {"fit_id": saved.fit_id, "version": saved.version, "fitted_at": saved.fitted_at,
              "as_of": saved.as_of, "fiscal_year": saved.fiscal_year,
              "intercept": fit.coefficients[0] if fit.coefficients else None,
              "details": json.dumps({k: getattr(fit, k) for k in DETAILS}, default=str), "source": source,
              **{k: getattr(fit, k) for k in FIT_COLUMNS}}
    rows = []
    for rank, weight in enumerate(fit.criteria, start=1):
        position = fit.order.index(weight.criterion) + 1 if weight.criterion in fit.order else None
        rows.append({**shared, "criterion": weight.criterion, "rank": rank, "coef_std": weight.coef_std,
                     "ci_low": weight.ci_low, "ci_high": weight.ci_high, "p_value": weight.p_value,
                     "formula_position": position, "score_mean": fit.means.get(weight.criterion),
                     "score_sd": fit.sds.get(weight.criterion)})
    return pd.DataFrame(rows)


def saved_fits(rows: pd.DataFrame) -> list[SavedFit]:
    """Every fit in `hiring_fits` rows, oldest version first."""
    return [_saved_fit(group.sort_values("rank")) for _, group in rows.groupby("version", sort=True)]


def _saved_fit(rows: pd.DataFrame) -> SavedFit:
    first = rows.iloc[0]
    in_formula = rows[rows["formula_position"].notna()].sort_values("formula_position")
    order = in_formula["criterion"].astype(str).tolist()
    intercept = _value(first["intercept"])
    fit = HiringFit(
        **{k: _value(first[k]) for k in FIT_COLUMNS},
        criteria=[CriterionWeight(str(r.criterion), _value(r.coef_std), _value(r.ci_low), _value(r.ci_high),
                                  _value(r.p_value)) for r in rows.itertuples()],
        **json.loads(str(first["details"])),
        order=order,
        means=dict(zip(order, in_formula["score_mean"].astype(float).tolist(), strict=True)),
        sds=dict(zip(order, in_formula["score_sd"].astype(float).tolist(), strict=True)),
        coefficients=[] if intercept is None else [intercept, *in_formula["coef_std"].astype(float).tolist()],
    )
    return SavedFit(str(first["fit_id"]), int(first["version"]), pd.Timestamp(first["fitted_at"]).to_pydatetime(),
                    pd.Timestamp(first["as_of"]).date(), _value(first["fiscal_year"]), fit)


def _value(value: Any) -> Any:
    """A plain Python value (None for a missing one) from a warehouse cell."""
    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    return value.item() if hasattr(value, "item") else value
