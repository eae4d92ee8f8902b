"""A win-probability model: gradient boosting on what was known about each open deal at past points of past quarters.

Features: stage, age, time in stage, amount, expected close date against the quarter's end, days left in
the quarter, segment, kind, product, the owner's win rate on deals closed before then, and the activity
logged on the deal in the last 30 days (see `features.py`). The label is whether the deal was won before
that quarter ended. scikit-learn's histogram gradient boosting handles missing values (no close date, no
amount) and categories natively. A large CRM's replayed points are sampled to at most 25,000 (`_sample`):
the fit then takes a second, not tens of seconds, and learns the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.forecast.conversion import OpenDealOutlook, closing_ratio
from cadence.analysis.forecast.features import CATEGORICAL, NUMERIC

MIN_WINS = 20  # won examples needed before a model is fitted at all
WIN_MODEL_GUIDE = ("for comparison, Salesforce Einstein Opportunity Scoring asks for at least 200 won and 200 lost "
                   "opportunities, and Gong's deal likelihood for at least 50 won and 150 lost, before scoring deals")
SEED = 0
THREADS = 1
MAX_TRAINING_ROWS = 25_000  # replayed points the model is fitted on; a larger CRM is sampled, won and not alike


def _sample(training: pd.DataFrame) -> pd.DataFrame:
    """At most MAX_TRAINING_ROWS rows, drawn (seeded) in the same share from won and not-won points.

    Boosted trees on a dozen features learn nothing more from a million replayed points than from twenty-five
    thousand, and fitting on all of them made a large company's weekly forecast wait tens of seconds."""
    if len(training) <= MAX_TRAINING_ROWS:
        return training
    share = MAX_TRAINING_ROWS / len(training)
    return training.groupby("won", group_keys=False).sample(frac=share, random_state=SEED).sort_index()


class WinModel:
    """A fitted classifier and the category codes it was fitted with."""

    def __init__(self, training: pd.DataFrame):
        # a feature the data never fills (Maven has no expected close dates) carries nothing: zero it
        self.blank = [c for c in NUMERIC if training[c].isna().all()]
        self.categories = {c: {v: i for i, v in enumerate(sorted(training[c].dropna().astype(str).unique()))}
                           for c in CATEGORICAL}
        self.classifier = self._fit(training)
        self.ratio = closing_ratio(training)
        won = training["won"].astype(bool) if "won" in training else pd.Series(dtype=bool)
        ids = training["opportunity_id"] if "opportunity_id" in training else pd.Series(dtype=object)
        self.won_deals = int(ids[won].nunique())
        self.other_deals = int(ids[~won].nunique())

    def why_not_fitted(self) -> str:
        """Why a forecast has no win-model line, with the volumes it had and the ones others ask for."""
        return (f"win_model left out: too few won deals to learn from — the quarters before this one hold "
                f"{self.won_deals:,} deals won and {self.other_deals:,} open but not won at the replayed points; "
                f"the model needs at least {MIN_WINS} won examples ({WIN_MODEL_GUIDE})")

    def _matrix(self, deals: pd.DataFrame) -> np.ndarray:
        codes = [self._codes(deals[c], self.categories[c]) for c in CATEGORICAL]
        numeric = deals[NUMERIC].astype("float64").assign(**{c: 0.0 for c in self.blank})
        return np.column_stack([numeric.to_numpy(dtype="float64"), *codes])

    @staticmethod
    def _codes(values: pd.Series, categories: dict[str, int]) -> np.ndarray:
        """Each value's category code as the model was fitted with it; NaN for missing or unseen values."""
        text = values.astype("object")
        text = text.where(text.isna(), text.astype(str))
        codes = pd.Categorical(text, categories=list(categories)).codes.astype("float64")
        codes[codes < 0] = np.nan
        return codes

    def _fit(self, training: pd.DataFrame) -> Any:
        from sklearn.ensemble import HistGradientBoostingClassifier

        labels = training["won"].to_numpy(dtype=bool)
        if labels.sum() < MIN_WINS or labels.all():
            return None
        from threadpoolctl import threadpool_limits

        categorical = [False] * len(NUMERIC) + [True] * len(CATEGORICAL)
        model = HistGradientBoostingClassifier(max_iter=100, learning_rate=0.1, max_leaf_nodes=31,
                                               min_samples_leaf=40, l2_regularization=1.0,
                                               categorical_features=categorical, random_state=SEED)
        sample = _sample(training)
        with threadpool_limits(THREADS):  # one thread: steadier and no slower on a busy two-core machine
            return model.fit(self._matrix(sample), sample["won"].to_numpy(dtype=bool))

    @property
    def fitted(self) -> bool:
        return self.classifier is not None

    def outlook(self, open_deals: pd.DataFrame) -> OpenDealOutlook:
        """Probability and value per open deal (requires a fitted model)."""
        from threadpoolctl import threadpool_limits

        with threadpool_limits(THREADS):  # as in fitting: OpenMP threads fighting over a busy machine are slower
            probability = self.classifier.predict_proba(self._matrix(open_deals))[:, 1] if len(open_deals) else \
                np.zeros(0)
        value = open_deals["value"].to_numpy(dtype="float64") * self.ratio.of(open_deals)
        return OpenDealOutlook(open_deals["opportunity_id"].to_numpy(), probability, value)
