"""Does growth come all year long, from customers who grow? SaaS MRR movements by month and quarter.

Every figure is a registry metric (`metrics.revenue`: ChartMogul's movements and 12-month net
revenue retention), asked for through the metric source, so it is the number the metric catalogue
defines. Per quarter, the flows are the sums of their months and NRR is the quarter's last month's;
the *expansion share* is expansion ÷ (new + expansion + reactivation): how much of the MRR added came
from customers who were already paying — product-led growth — rather than from new logos.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd

from cadence.analysis.incentives.data import MetricSource, MissingDataError
from cadence.metrics.calendar import FiscalCalendar

FLOWS = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr")
ADDED = ("new_mrr", "expansion_mrr", "reactivation_mrr")
RETENTION = "net_revenue_retention"


@dataclass
class Movements:
    months: list[dict[str, Any]]  # month, each flow, net_new_mrr, net_revenue_retention
    quarters: list[dict[str, Any]]  # quarter, each flow, net_new_mrr, expansion_share, net_revenue_retention

    def as_dict(self) -> dict[str, Any]:
        return {"months": self.months, "quarters": self.quarters}


def _clean(value: Any) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def monthly_movements(source: MetricSource, *, through: date | None = None) -> pd.DataFrame:
    """One row per month (period, period_start) with every flow, net new MRR and NRR."""
    if source.table("subscriptions").count().execute() == 0:
        raise MissingDataError("revenue movements need subscriptions: the subscriptions table is empty",
                               hint="import billing or subscription periods")
    end = through + timedelta(days=1) if through else None
    frame: pd.DataFrame | None = None
    for name in (*FLOWS, RETENTION):
        values = source.metric(name, grain="month", end=end)[["period", "period_start", "value"]]
        values = values.rename(columns={"value": name})
        frame = values if frame is None else frame.merge(values, on=["period", "period_start"], how="outer")
    assert frame is not None
    frame = frame.sort_values("period_start").reset_index(drop=True)
    frame[list(FLOWS)] = frame[list(FLOWS)].fillna(0.0)
    frame["net_new_mrr"] = frame[list(ADDED)].sum(axis=1) - frame["contraction_mrr"] - frame["churned_mrr"]
    return frame


def revenue_movements(source: MetricSource, calendar: FiscalCalendar, *, through: date | None = None) -> Movements:
    """MRR movements by month and by fiscal quarter, with NRR and the expansion share of MRR added."""
    monthly = monthly_movements(source, through=through)
    quarter_start = monthly["period_start"].map(lambda d: calendar.start_of(d, "quarter"))
    flows = [*FLOWS, "net_new_mrr"]
    quarterly = monthly.groupby(quarter_start)[flows].sum()
    quarterly[RETENTION] = monthly.groupby(quarter_start)[RETENTION].last()
    added = quarterly[list(ADDED)].sum(axis=1)
    quarterly["expansion_share"] = (quarterly["expansion_mrr"] / added.where(added > 0)).astype("float64")
    months = [{"month": row["period"], **{k: _clean(row[k]) for k in (*flows, RETENTION)}}
              for row in monthly.to_dict("records")]
    quarters = [{"quarter": calendar.label(start, "quarter"),
                 **{k: _clean(row[k]) for k in (*flows, "expansion_share", RETENTION)}}
                for start, row in zip(quarterly.index, quarterly.to_dict("records"), strict=True)]
    return Movements(months, quarters)
