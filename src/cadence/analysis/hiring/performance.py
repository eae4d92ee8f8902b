"""How well each hire does on the job, from the warehouse: what the interview scores are judged against.

Three measures, each for every hire (a candidate with a `person_id`) who has a record to judge:

- **attainment** — Σ attained ÷ Σ quota over the hire's periods in `performance` that ended by `as_of`
  (periods without a quota do not count). Quotas are set per team, so attainment compares an SDR with
  an enterprise rep fairly. Needs `min_periods` periods, or it is left empty.
- **bookings per month of tenure** — the registry's `bookings` metric cut by `owner_id` (one definition of
  bookings everywhere), summed and divided by the months the hire worked while bookings were recorded.
  Empty for people who own no deals (SDRs, managers): zero would say they sold nothing.
- **ramp months** — months from the first day to the end of the first period in which the hire attained at
  least `ramp_threshold` × the team's full quota (the largest quota anyone in the team carried that
  period). Empty when the record starts after the hire joined (their ramp was not seen) or when they have
  not ramped yet. Lower is better.

`quota_hit_rate` (share of periods at or above quota) is kept too: managers are judged on consistency.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd

from cadence.analysis.as_of import resolve_as_of

if TYPE_CHECKING:
    from cadence.metrics.calendar import FiscalCalendar

DAYS_PER_MONTH = 365.25 / 12
MEASURES: dict[str, str] = {  # measure -> which way is better
    "attainment": "up", "bookings_per_month": "up", "ramp_months": "down",
}
COLUMNS = ["person_id", "candidate_id", "name", "team", "role", "hired_at", "left_at", "periods", "quota",
           "attained", "attainment", "quota_hit_rate", "bookings", "months", "bookings_per_month", "ramp_months"]


class HiringSource(Protocol):
    """What the hiring analyses read: canonical tables, the metrics layer and the fiscal calendar (a Workspace)."""

    @property
    def calendar(self) -> FiscalCalendar: ...

    def table(self, name: str) -> Any: ...

    def metric(self, name: str, *, by: list[str] | tuple[str, ...] = (), grain: Any = "month",
               start: date | None = None, end: date | None = None, where: str | None = None) -> pd.DataFrame: ...


def hire_performance(source: HiringSource, *, as_of: date | None = None, min_periods: int = 2,
                     ramp_threshold: float = 0.8) -> pd.DataFrame:
    """One row per hire with every measure (COLUMNS); `as_of` is exclusive and defaults to the data's end."""
    hires = _hires(source)
    periods = _periods(source)
    bookings = source.metric("bookings", by=["owner_id"], grain="month", end=as_of)
    as_of = as_of or _data_end(periods, bookings) or resolve_as_of(source).next_day
    periods = periods[periods["end"] <= pd.Timestamp(as_of)]
    out = hires.merge(_attainment(periods, min_periods), on="person_id", how="left")
    out = out.merge(_bookings(source, hires, bookings, as_of), on="person_id", how="left")
    out = out.merge(_ramp(periods, hires, ramp_threshold), on="person_id", how="left")
    return out.reindex(columns=COLUMNS).sort_values("person_id", kind="stable").reset_index(drop=True)


def data_end(source: HiringSource) -> date:
    """The first day after the record: the end of the last performance period or month of bookings (with
    neither, the day after the workspace's one "as of")."""
    record_end = _data_end(_periods(source), source.metric("bookings", by=["owner_id"], grain="month"))
    return record_end or resolve_as_of(source).next_day


def _hires(source: HiringSource) -> pd.DataFrame:
    candidates = source.table("candidates").select("candidate_id", "person_id").to_pandas()
    candidates = candidates.dropna(subset=["person_id"]).drop_duplicates("person_id", keep="last")
    people = source.table("people").select("person_id", "name", "team", "role", "hired_at", "left_at").to_pandas()
    hires = candidates.merge(people, on="person_id", how="inner")
    for column in ("hired_at", "left_at"):
        hires[column] = pd.to_datetime(hires[column])
    return hires


def _periods(source: HiringSource) -> pd.DataFrame:
    """`performance` with each period's first day and end (exclusive), and the person's team."""
    frame = source.table("performance").to_pandas()
    calendar = source.calendar
    starts, ends = [], []
    for label in frame["period"].astype(str):
        first, grain = calendar.parse(label)
        starts.append(pd.Timestamp(first))
        ends.append(pd.Timestamp(calendar.next_start(first, grain) if grain != "day" else first + timedelta(days=1)))
    frame["start"], frame["end"] = starts, ends
    teams = source.table("people").select("person_id", "team").to_pandas()
    frame = frame.merge(teams, on="person_id", how="left")
    for column in ("quota", "attained"):
        frame[column] = frame[column].astype("float64")
    return frame


def _data_end(periods: pd.DataFrame, bookings: pd.DataFrame) -> date | None:
    ends = [periods["end"].max()] if len(periods) else []
    if len(bookings):
        last = pd.Timestamp(max(bookings["period_start"]))
        ends.append(last + pd.offsets.MonthBegin(1))
    return max(ends).date() if ends else None


def _attainment(periods: pd.DataFrame, min_periods: int) -> pd.DataFrame:
    rated = periods[periods["quota"] > 0].assign(hit=lambda f: (f["attained"] >= f["quota"]).astype("float64"))
    grouped = rated.groupby("person_id")
    out = pd.DataFrame({
        "periods": grouped.size(),
        "quota": grouped["quota"].sum(),
        "attained": grouped["attained"].sum(),
        "quota_hit_rate": grouped["hit"].mean(),
    })
    out["attainment"] = (out["attained"] / out["quota"]).where(out["periods"] >= min_periods)
    out["quota_hit_rate"] = out["quota_hit_rate"].where(out["periods"] >= min_periods)
    return out.reset_index()


def _bookings(source: HiringSource, hires: pd.DataFrame, bookings: pd.DataFrame, as_of: date) -> pd.DataFrame:
    """Bookings ÷ months worked while bookings were recorded, for people who own deals."""
    if bookings.empty:
        return pd.DataFrame(columns=["person_id", "bookings", "months", "bookings_per_month"])
    first = pd.Timestamp(min(bookings["period_start"]))
    owners = set(source.table("opportunities").select("owner_id").distinct().to_pandas()["owner_id"].dropna())
    totals = bookings.groupby("owner_id")["value"].sum()
    last = pd.Timestamp(as_of)
    start = hires["hired_at"].fillna(first)
    start = start.where(start > first, first)
    end = hires["left_at"].fillna(last)
    end = end.where(end < last, last)
    months = ((end - start).dt.days / DAYS_PER_MONTH).clip(lower=0)
    sold = hires["person_id"].map(totals).fillna(0.0)
    owns = hires["person_id"].isin(owners) & (months > 0)
    return pd.DataFrame({
        "person_id": hires["person_id"],
        "bookings": sold.where(owns),
        "months": months.where(owns),
        "bookings_per_month": (sold / months.where(months > 0)).where(owns),
    })


def _ramp(periods: pd.DataFrame, hires: pd.DataFrame, threshold: float) -> pd.DataFrame:
    """Months from the first day to the end of the first period at `threshold` × the team's full quota."""
    if periods.empty:
        return pd.DataFrame(columns=["person_id", "ramp_months"])
    record_start = periods["start"].min()
    full = periods.groupby(["team", "start"])["quota"].transform("max")
    ramped = periods[(full > 0) & (periods["attained"] >= threshold * full)]
    first_end = ramped.groupby("person_id")["end"].min()
    hired = hires.set_index("person_id")["hired_at"]
    seen = hired[hired >= record_start]
    months = (first_end.reindex(seen.index) - seen).dt.days / DAYS_PER_MONTH
    return pd.DataFrame({"person_id": seen.index, "ramp_months": months.to_numpy(dtype="float64")}) \
        .replace({np.inf: np.nan})
