"""Did shipping a feature move the deals that asked for it? Asking deals against comparable deals, with intervals.

The method, stated once (`METHOD` carries it to every report):

- **Asking deals** of a shipped feature: deals with a request linked to it made on or before its ship
  date, and still open on that date (created before it, not closed by it).
- **Comparable deals**: the other deals open on the ship date that never asked for it, in the same
  segment, of the same kind (new, expansion, renewal) and at the same stage on the ship date — the stage
  read from `opportunity_history`, as the pipeline stood that day. Asking deals whose stratum has no
  comparable deal are left out of the comparison (`matched` says how many remain). The engine works out each
  open deal's stage on each ship day (its latest history row before the day) and returns only those rows, never
  the history itself.
- **Measures**: *unblocked* — closed won within `weeks` after the ship date (judged only once those
  weeks have passed); *win rate* — won ÷ closed, over the deals closed by now; *cycle* — days from
  creation to close of the won deals.
- The comparable figure is standardised to the asking deals' mix: each stratum's comparable rate
  weighted by how many asking deals it holds, so a feature asked for mostly by late-stage deals is not
  credited with their higher odds.
- **Uncertainty**: a 95% stratified bootstrap of the difference (asking − comparable): both groups
  resampled with replacement within each stratum, `RESAMPLES` times, seeded. The verdict reads the
  unblocked difference: *positive* when its interval lies above 0, *negative* below, *no clear effect*
  when it spans 0, *not enough data* under `MIN_DEALS` matched asking deals, *too recent* when the
  weeks after shipping have not all passed.
- **Product-influenced bookings**: the amount of deals that asked for a feature before it shipped and
  closed won within `weeks` after it shipped, dated by close like bookings (a deal counts once).

Pure: tables in, a tidy result out; deterministic for a given seed.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.analysis.roadmap.data import RoadmapData, load_roadmap_data, plain
from cadence.analysis.spans import holding, kept_spans
from cadence.analysis.stats import percentile_interval
from cadence.metrics.relations import TableSource

WEEKS = 8
RESAMPLES = 2000
LEVEL = 0.95
MIN_DEALS = 10
STRATA = ("segment", "kind", "stage_then")
METHOD = ("asking deals: asked for the feature on or before it shipped and open that day; comparable: other deals "
          "open that day, same segment, kind and stage (from opportunity history), never asking; comparable rates "
          "weighted to the asking deals' mix; unblocked = closed won within {weeks} weeks of shipping; 95% "
          "stratified bootstrap intervals of asking − comparable")


@dataclass(frozen=True)
class Comparison:
    """One measure for asking and comparable deals, and the difference with its interval."""

    measure: str
    asking: float | None
    comparable: float | None
    difference: float | None
    low: float | None
    high: float | None
    asking_deals: int
    comparable_deals: int

    @property
    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)


@dataclass(frozen=True)
class FeatureInfluence:
    feature_id: str
    title: str
    shipped_on: date
    asking_deals: int  # asked before shipping and open on the ship date
    matched_deals: int  # of those, with comparable deals in their stratum
    comparable_deals: int
    unblocked: Comparison
    win_rate: Comparison
    cycle_days: Comparison
    deals_unblocked: int  # asking deals closed won within the weeks after shipping
    influenced_bookings: float  # their amount
    verdict: str
    extra_deals_unblocked: float | None = None  # matched asking deals × (asking − comparable unblocked rate)

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["shipped_on"] = self.shipped_on.isoformat()
        return out


@dataclass
class InfluenceReport:
    features: list[FeatureInfluence]
    weeks: int
    as_of: date
    method: str

    def as_dict(self) -> dict[str, Any]:
        return {"weeks": self.weeks, "as_of": self.as_of.isoformat(), "method": self.method,
                "features": [f.as_dict() for f in self.features]}


# -- the comparison ---------------------------------------------------------------------------------------
def feature_influence(tables: TableSource, *, as_of: date, weeks: int = WEEKS, seed: int = 0,
                      resamples: int = RESAMPLES, data: RoadmapData | None = None) -> InfluenceReport:
    """Every shipped feature that open deals asked for: their outcomes against comparable deals'."""
    data = data or load_roadmap_data(tables)
    frame = data.deals.set_index("opportunity_id", drop=False)
    shipped = data.features[data.features["shipped_at"].notna()
                            & (data.features["shipped_at"] < pd.Timestamp(as_of))].sort_values(["shipped_at",
                                                                                                "feature_id"])
    asked_for = data.requests.dropna(subset=["opportunity_id", "feature_id"])
    asked_shipped = shipped[shipped["feature_id"].isin(set(asked_for["feature_id"]))]
    open_then = {day: _open_then(frame, day)
                 for day in sorted({pd.Timestamp(s).normalize() for s in asked_shipped["shipped_at"]})}
    stages_then = _stages_then(tables, open_then)
    rng = np.random.default_rng(seed)
    results = []
    for feature_id, title, shipped_at in zip(shipped["feature_id"], shipped["title"], shipped["shipped_at"],
                                             strict=True):
        ship = pd.Timestamp(shipped_at).normalize()
        mine = asked_for[asked_for["feature_id"] == feature_id]
        if mine.empty:
            continue
        cohort = _with_stage_then(open_then[ship], stages_then.get(ship, _NO_STAGES))
        asking = cohort[cohort["opportunity_id"].isin(set(mine.loc[mine["requested_at"] <= ship + pd.Timedelta(
            days=1), "opportunity_id"]))]
        others = cohort[~cohort["opportunity_id"].isin(set(mine["opportunity_id"]))]
        results.append(_compare(str(feature_id), str(title), ship, asking, others, as_of, weeks, rng, resamples))
    return InfluenceReport(results, weeks, as_of, METHOD.format(weeks=weeks))


_NO_STAGES = pd.Series(dtype=object)


def _open_then(deal_rows: pd.DataFrame, day: pd.Timestamp) -> pd.DataFrame:
    """Deals open on `day`: created before it, and not closed before it."""
    return deal_rows[(deal_rows["created_at"] < day) & (~deal_rows["is_closed"] | (deal_rows["closed_on"] >= day))]


def _stages_then(tables: TableSource, open_then: dict[pd.Timestamp, pd.DataFrame]) -> dict[pd.Timestamp, pd.Series]:
    """For each ship day, the stage each deal open that day was in, by opportunity_id: its history span holding
    the day (`analysis/spans.py`). The (day, deal) pairs go to the engine, which returns one row for each pair
    history places: a few thousand rows a feature, not the whole history."""
    pairs = pd.DataFrame({
        "day": pd.to_datetime([day for day, deals_then in open_then.items() for _ in range(len(deals_then))])
        .astype("datetime64[us]"),
        "opportunity_id": [i for deals_then in open_then.values() for i in deals_then["opportunity_id"]]})
    if pairs.empty:
        return {}
    asked = ibis.memtable(pairs.rename(columns={"day": "_as_of", "opportunity_id": "_deal"})
                          .astype({"_deal": "object"}))
    spans = kept_spans(tables).select("opportunity_id", "changed_at", "valid_until", "stage")
    held = holding(spans, asked, deal="_deal")
    latest = plain(held.select("opportunity_id", "stage", day=held._as_of).to_pandas())
    on_day = pd.to_datetime(latest["day"])
    return {day: latest.loc[on_day == day].set_index("opportunity_id")["stage"] for day in open_then}


def _with_stage_then(open_then: pd.DataFrame, stages: pd.Series) -> pd.DataFrame:
    """The deals open on a day, with the stage each was in then (`stages`, from history; else its stage now)."""
    frame = open_then.reset_index(drop=True).copy()
    frame["stage_then"] = frame["opportunity_id"].map(stages).fillna(frame["stage"])
    for column in ("segment", "kind"):
        frame[column] = frame[column].astype("object").fillna("(none)")
    return frame


def _compare(feature_id: str, title: str, ship: pd.Timestamp, asking: pd.DataFrame, others: pd.DataFrame,
             as_of: date, weeks: int, rng: np.random.Generator, resamples: int) -> FeatureInfluence:
    window_end = ship + pd.Timedelta(weeks=weeks)
    complete = window_end <= pd.Timestamp(as_of)
    keys = list(STRATA)
    matched = asking.merge(others[keys].drop_duplicates(), on=keys)
    comparable = others.merge(matched[keys].drop_duplicates(), on=keys)
    unblocked_all = asking["is_won"] & (asking["closed_on"] < window_end)
    for frame in (matched, comparable):
        frame["unblocked"] = (frame["is_won"] & (frame["closed_on"] < window_end)).astype(float)
        frame["won"] = frame["is_won"].astype(float)
        frame["cycle"] = (frame["closed_on"] - frame["created_at"]).dt.total_seconds() / 86_400
    unblocked = _binary("unblocked", matched, comparable, "unblocked", None, rng, resamples) if complete else \
        Comparison("unblocked", None, None, None, None, None, len(matched), len(comparable))
    win_rate = _binary("win rate", matched, comparable, "won", "is_closed", rng, resamples)
    cycle = _continuous("cycle days", matched[matched["is_won"]], comparable[comparable["is_won"]], "cycle", rng,
                        resamples)
    verdict = ("too recent" if not complete else "not enough data" if len(matched) < MIN_DEALS
               else "positive" if unblocked.low is not None and unblocked.low > 0
               else "negative" if unblocked.high is not None and unblocked.high < 0 else "no clear effect")
    extra = None if unblocked.difference is None else unblocked.difference * unblocked.asking_deals
    return FeatureInfluence(feature_id, title, ship.date(), len(asking), len(matched), len(comparable), unblocked,
                            win_rate, cycle, int(unblocked_all.sum()),
                            float(asking.loc[unblocked_all, "amount_value"].sum()), verdict, extra)


def _binary(measure: str, asking: pd.DataFrame, comparable: pd.DataFrame, outcome: str, among: str | None,
            rng: np.random.Generator, resamples: int) -> Comparison:
    """Share of asking deals with `outcome` against the comparable share standardised to their mix."""
    if among:
        asking, comparable = asking[asking[among]], comparable[comparable[among]]
    a = asking.groupby(list(STRATA))[outcome].agg(["size", "sum"])
    c = comparable.groupby(list(STRATA))[outcome].agg(["size", "sum"]).reindex(a.index)
    keep = c["size"].fillna(0) > 0
    a, c = a[keep], c[keep]
    n_a, n_c = a["size"].to_numpy(float), c["size"].to_numpy(float)
    if n_a.sum() == 0:
        return Comparison(measure, None, None, None, None, None, 0, int(len(comparable)))
    p_a, p_c = a["sum"].to_numpy(float) / n_a, c["sum"].to_numpy(float) / n_c
    weights = n_a / n_a.sum()
    asking_rate, comparable_rate = float(weights @ p_a), float(weights @ p_c)
    draws_a = rng.binomial(n_a.astype(np.int64), p_a, size=(resamples, len(n_a))) / n_a
    draws_c = rng.binomial(n_c.astype(np.int64), p_c, size=(resamples, len(n_c))) / n_c
    low, high = percentile_interval((draws_a - draws_c) @ weights, LEVEL)
    return Comparison(measure, asking_rate, comparable_rate, asking_rate - comparable_rate, low, high,
                      int(n_a.sum()), int(n_c.sum()))


def _continuous(measure: str, asking: pd.DataFrame, comparable: pd.DataFrame, column: str, rng: np.random.Generator,
                resamples: int) -> Comparison:
    """Mean of `column` for asking deals against the comparable mean standardised to their mix."""
    groups_a = {k: g[column].to_numpy(float) for k, g in asking.groupby(list(STRATA))}
    groups_c = {k: g[column].to_numpy(float) for k, g in comparable.groupby(list(STRATA))}
    strata = [k for k in groups_a if k in groups_c]
    if not strata:
        return Comparison(measure, None, None, None, None, None, 0, 0)
    n_a = np.array([len(groups_a[k]) for k in strata], dtype=float)
    weights = n_a / n_a.sum()
    est_a = np.array([groups_a[k].mean() for k in strata])
    est_c = np.array([groups_c[k].mean() for k in strata])
    draws = np.zeros(resamples)
    for w, k in zip(weights, strata, strict=True):
        a, c = groups_a[k], groups_c[k]
        draws += w * (a[rng.integers(0, len(a), (resamples, len(a)))].mean(axis=1)
                      - c[rng.integers(0, len(c), (resamples, len(c)))].mean(axis=1))
    low, high = percentile_interval(draws, LEVEL)
    asking_mean, comparable_mean = float(weights @ est_a), float(weights @ est_c)
    return Comparison(measure, asking_mean, comparable_mean, asking_mean - comparable_mean, low, high,
                      int(n_a.sum()), int(sum(len(groups_c[k]) for k in strata)))


# -- product-influenced bookings ----------------------------------------------------------------------------
@dataclass
class InfluencedBookings:
    start: date
    end: date  # exclusive
    weeks: int
    bookings: float
    deals: pd.DataFrame  # opportunity_id, account_name, amount, closed_on, feature_id, shipped_on


def influenced_bookings(tables: TableSource, *, start: date, end: date, weeks: int = WEEKS,
                        data: RoadmapData | None = None) -> InfluencedBookings:
    """Won amount, closed in [start, end), of deals that asked for a feature and closed within `weeks` of its ship."""
    data = data or load_roadmap_data(tables, need_requests=False)
    features = data.features.dropna(subset=["shipped_at"])[["feature_id", "shipped_at"]]
    asked = data.requests.dropna(subset=["opportunity_id", "feature_id"])[["opportunity_id", "feature_id",
                                                                            "requested_at"]]
    won = data.deals[data.deals["is_won"] & (data.deals["closed_on"] >= pd.Timestamp(start))
                     & (data.deals["closed_on"] < pd.Timestamp(end))]
    rows = asked.merge(features, on="feature_id").merge(won, on="opportunity_id")
    ship = rows["shipped_at"].dt.normalize()
    rows = rows[(rows["requested_at"] <= ship + pd.Timedelta(days=1)) & (rows["created_at"] < ship)
                & (rows["closed_on"] >= ship) & (rows["closed_on"] < ship + pd.Timedelta(weeks=weeks))]
    rows = rows.sort_values(["opportunity_id", "shipped_at"]).drop_duplicates("opportunity_id")
    deals = pd.DataFrame({"opportunity_id": rows["opportunity_id"], "account": rows["account_name"],
                          "amount": rows["amount_value"], "closed_on": rows["closed_on"].dt.date,
                          "feature_id": rows["feature_id"], "shipped_on": rows["shipped_at"].dt.date})
    return InfluencedBookings(start, end, weeks, float(deals["amount"].sum()), deals.reset_index(drop=True))

