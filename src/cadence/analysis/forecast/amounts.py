"""What an open deal is likely worth when the CRM does not say (Maven's open deals carry no amount).

Estimated from deals won before the as-of date only: the median won amount of the same product,
else of everything won. A known amount is always kept as the rep entered it.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

MIN_WON = 5  # won deals of a product before its own median is trusted


@dataclass(frozen=True)
class AmountEstimate:
    by_product: dict[str, float]
    overall: float

    def fill(self, deals: pd.DataFrame) -> pd.Series:
        """`deals.amount` where known, else the product's (or overall) median won amount."""
        estimate = deals["product"].map(self.by_product).astype("float64").fillna(self.overall)
        return deals["amount"].astype("float64").fillna(estimate)


def estimate_amounts(won: pd.DataFrame, deals: pd.DataFrame) -> AmountEstimate:
    """From `won` (closings won before the as-of date: opportunity_id, amount, and product unless `deals` is to
    say it) and the deals' products."""
    amounts = won[["opportunity_id", "amount", "product"]] if "product" in won else \
        won[["opportunity_id", "amount"]].assign(product=won["opportunity_id"].map(deals["product"]))
    amounts = amounts[amounts["amount"].notna()]
    counts = amounts.groupby("product")["amount"].agg(["median", "size"])
    trusted = counts[counts["size"] >= MIN_WON]["median"]
    overall = float(amounts["amount"].median()) if len(amounts) else 0.0
    return AmountEstimate({str(k): float(v) for k, v in trusted.items()}, overall)
