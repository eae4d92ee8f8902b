"""How the hiring formula changed from one saved version to the next.

Each saved fit is a version (`hiring_ops` stores them in `hiring_fits`; this module only compares them), so a
weight that grows refit after refit can be told from one that jumped once on a handful of new hires.
"""

from __future__ import annotations

import pandas as pd

from cadence.analysis.hiring.fit import HiringFit

HISTORY_COLUMNS = ["version", "criterion", "rank", "coef_std", "ci_low", "ci_high", "change", "n_hires", "cv_r2"]


def formula_history(versions: list[tuple[str, HiringFit]]) -> pd.DataFrame:
    """One row per version and criterion, in version order; `change` is the weight's move since the last version."""
    rows = []
    for label, fit in versions:
        for rank, weight in enumerate(fit.criteria, start=1):
            rows.append({"version": label, "criterion": weight.criterion,
                         "rank": rank if weight.coef_std is not None else None, "coef_std": weight.coef_std,
                         "ci_low": weight.ci_low, "ci_high": weight.ci_high, "n_hires": fit.n_hires,
                         "cv_r2": fit.cv_r2})
    frame = pd.DataFrame(rows, columns=[c for c in HISTORY_COLUMNS if c != "change"])
    if frame.empty:
        return frame.reindex(columns=HISTORY_COLUMNS)
    order = {label: i for i, (label, _) in enumerate(versions)}
    frame = frame.sort_values(["criterion", "version"], key=lambda s: s.map(order) if s.name == "version" else s,
                              kind="stable")
    frame["change"] = frame.groupby("criterion")["coef_std"].diff()
    frame = frame.sort_values(["version", "rank"], key=lambda s: s.map(order) if s.name == "version" else s,
                              kind="stable", na_position="last")
    return frame[HISTORY_COLUMNS].reset_index(drop=True)
