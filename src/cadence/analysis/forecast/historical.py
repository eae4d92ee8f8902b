"""Historical conversion: how often deals at the same stage and age, at the same point of past quarters, were won.

For a forecast d days into a quarter, every past quarter is looked at d days in: of the deals open then
in a given stage and age band, the share won before that quarter ended is the rate for an open deal in
that stage and age band now. A band with fewer than `MIN_ROWS` past deals takes its stage's rate, and a
stage without enough its pipeline's overall rate.
"""

from __future__ import annotations

import pandas as pd

from cadence.analysis.forecast.conversion import OpenDealOutlook, closing_ratio, rates_by

LEVELS = [["stage_key", "age_band"], ["stage_key"]]


def historical_conversion(training: pd.DataFrame, open_deals: pd.DataFrame, offset: int) -> OpenDealOutlook:
    """Rates from `training` rows taken `offset` days into past quarters, applied to `open_deals`."""
    same_point = training[training["offset"] == offset] if len(training) else training
    probability = rates_by(same_point, open_deals, LEVELS)
    value = open_deals["value"].to_numpy(dtype="float64") * closing_ratio(same_point).of(open_deals)
    return OpenDealOutlook(open_deals["opportunity_id"].to_numpy(), probability, value)
