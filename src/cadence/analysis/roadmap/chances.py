"""How likely a deal is to close once nothing blocks it, and how often a lost deal comes back.

- **Chance to close once unblocked**: a blocked deal, once the feature ships, is an ordinary deal at
  its stage again, so its chance is the win rate from its current stage — of the deals of its segment
  created in the last two years that reached that stage and closed, the share won (the funnel's "win
  rate from stage", `cadence.analysis.funnel`). A segment and stage reached by fewer than
  `MIN_REACHED` deals uses the CRM's default probability for the stage instead, and a deal whose
  stage has neither uses the win rate of all closed deals of those two years.
- **Win-back rate** of a lost deal: of the deals lost between two and one `lookback` ago (so a full
  `lookback` can be seen after each), the share whose account won a deal created after the loss,
  within `lookback` of it, of the same kind (a lost new-business deal comes back as new business, not
  as the customer's later expansion).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from cadence.metrics.relations import TableSource

MIN_REACHED = 30
FUNNEL_YEARS = 2


@dataclass
class Chances:
    by_deal: pd.Series  # opportunity_id → chance to close won from the deal's current stage
    basis: pd.Series  # opportunity_id → how that chance was estimated
    winback: float
    winback_basis: str


def estimate_chances(tables: TableSource, deals: pd.DataFrame, as_of: date, lookback_days: int) -> Chances:
    """Chance to close for every open deal, and the win-back rate of lost deals."""
    open_deals = deals[~deals["is_closed"]]
    rates = _stage_win_rates(tables, as_of)
    defaults = _stage_probabilities(tables)
    closed = deals[deals["is_closed"] & (deals["closed_on"] >= pd.Timestamp(as_of - timedelta(
        days=365 * FUNNEL_YEARS))) & (deals["closed_on"] < pd.Timestamp(as_of))]
    overall = float(closed["is_won"].mean()) if len(closed) else 0.0
    chances, basis = [], []
    for segment, pipeline, stage in zip(open_deals["segment"], open_deals["pipeline"], open_deals["stage"],
                                        strict=True):
        found = rates.get((segment, stage))
        if found is not None:
            chances.append(found[0])
            basis.append(f"win rate from {stage} in {segment} ({found[1]} deals reached it)")
        elif (pipeline, stage) in defaults:
            chances.append(defaults[(pipeline, stage)])
            basis.append(f"CRM probability of {stage}")
        else:
            chances.append(overall)
            basis.append("win rate of all deals closed in two years")
    ids = open_deals["opportunity_id"].to_numpy()
    winback, winback_basis = _winback(deals, as_of, lookback_days)
    return Chances(pd.Series(chances, index=ids, dtype="float64"), pd.Series(basis, index=ids, dtype="object"),
                   winback, winback_basis)


def _stage_win_rates(tables: TableSource, as_of: date) -> dict[tuple[object, str], tuple[float, int]]:
    from cadence.analysis.funnel import MissingDataError, win_rates_from_stage

    try:
        rates = win_rates_from_stage(tables, by="segment", start=as_of - timedelta(days=365 * FUNNEL_YEARS),
                                     end=as_of, as_of=as_of)
    except MissingDataError:  # no stage history: the CRM's probabilities are all there is
        return {}
    return {key: found for key, found in rates.items() if found[1] >= MIN_REACHED}


def _stage_probabilities(tables: TableSource) -> dict[tuple[str, str], float]:
    stages = tables.table("stages").to_pandas()
    stages = stages[stages["probability"].notna()]
    return {(p, s): float(v) for p, s, v in zip(stages["pipeline"], stages["stage"], stages["probability"],
                                                 strict=True)}


def _winback(deals: pd.DataFrame, as_of: date, lookback_days: int) -> tuple[float, str]:
    window = pd.Timedelta(days=lookback_days)
    end = pd.Timestamp(as_of) - window
    lost = deals[deals["is_closed"] & ~deals["is_won"] & deals["account_id"].notna()
                 & (deals["closed_on"] >= end - window) & (deals["closed_on"] < end)]
    if lost.empty:
        return 0.0, f"no deal lost between {(end - window).date()} and {end.date()}: no win-back counted"
    won = deals[deals["is_won"] & deals["account_id"].notna()][["account_id", "kind", "created_at", "closed_on"]]
    pairs = lost[["opportunity_id", "account_id", "kind", "closed_on"]].fillna({"kind": ""}) \
        .merge(won.fillna({"kind": ""}), on=["account_id", "kind"], suffixes=("", "_won"))
    back = pairs[(pairs["created_at"] > pairs["closed_on"]) & (pairs["closed_on_won"] <= pairs["closed_on"] + window)]
    # a hash lookup: numpy's isin sorts object arrays of ids, which takes seconds on a large CRM
    rate = float(lost["opportunity_id"].isin(set(back["opportunity_id"])).mean())
    return rate, (f"{rate:.1%} of the {len(lost):,} deals lost between {(end - window).date()} and {end.date()} "
                  f"won a later deal of the same kind within {lookback_days} days")
