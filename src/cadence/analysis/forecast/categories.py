"""The CRM's forecast categories under one set of names: pipeline, best case, commit, closed, omitted.

Salesforce's `ForecastCategoryName` says Pipeline, Best Case, Commit, Closed, Omitted (its API field
`ForecastCategory` says BestCase and Forecast for the middle two); HubSpot's "Forecast category" export
column says Pipeline, Best case, Commit, Closed won and Not forecasted (its internal values PIPELINE,
BEST_CASE, COMMIT, CLOSED, OMIT), and its older forecast tool's "Most likely" is a best case. Anything
else is not guessed: `normalise_category` returns None and the roll-up lists the raw name it met.
"""

from __future__ import annotations

import re

CATEGORIES = ("closed", "commit", "best_case", "pipeline")  # what a roll-up adds up, surest first
OMITTED = "omitted"
LABELS = {"closed": "Closed", "commit": "Commit", "best_case": "Best case", "pipeline": "Pipeline",
          OMITTED: "Omitted"}

ALIASES = {
    "pipeline": "pipeline",
    "best case": "best_case", "bestcase": "best_case", "most likely": "best_case", "mostlikely": "best_case",
    "commit": "commit", "forecast": "commit",
    "closed": "closed", "closed won": "closed",
    "omitted": OMITTED, "omit": OMITTED, "not forecasted": OMITTED,
}


def normalise_category(raw: object) -> str | None:
    """One of pipeline / best_case / commit / closed / omitted for a CRM's category name; None when empty
    or unknown (the caller reports unknown names rather than placing them)."""
    if raw is None or not isinstance(raw, str):
        return None
    key = re.sub(r"[\s_\-]+", " ", raw.strip().lower())
    return ALIASES.get(key)
