"""The dollar value of a request, a theme and a feature, with the breakdown a product manager can argue with.

The rules, stated once (`METHOD` carries them to every report). Only requests still waiting count
(not shipped, not declined, not answered by a feature already shipped).

- **An open deal's request** = the deal's amount × the certainty that the feature moves it × the deal's
  chance to close once unblocked (`chances.py`) × the **deadline factor**: a feature is taken to ship
  on its ship date (the last day of the period, or of the month it is planned in); a deal expected to
  close on or after that day gets 1; one expected to close inside the period but before the ship date
  would have to slip, and gets `slip_factor` (½ by default); one expected to close before the period
  starts will have decided before the work begins, and gets 0. A deal without a close date gets 1.
- **A lost deal's request** (lost within `lookback`) = amount × certainty × the win-back rate.
- A deal is never worth more than once: of several requests of one deal for the same feature (or
  theme) only the surest counts, and when one deal's certainties add up to more than 1 they are scaled
  to sum to 1. Customers' requests without a deal count toward reach, not dollars.
- **The segment's pipeline**: a theme some deals of a segment asked for is likely to be asked for by
  others. Its part = the share of the segment's deals created within `lookback` that asked for the
  theme × the mean certainty of those requests × the expected value (amount × chance × deadline
  factor) of the segment's open deals that have not asked.
- **A feature's value** = its own requests (linked to it) + an equal share of its theme's requests that
  no feature answers yet and of the theme's segment-pipeline part, shared among the theme's unshipped
  features. Summing features never counts a dollar twice. A theme's value is all of its requests plus
  its segment-pipeline part, whether or not a feature answers it yet.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from cadence.analysis.frames import isin
from cadence.analysis.roadmap.chances import Chances
from cadence.analysis.roadmap.data import RoadmapData
from cadence.analysis.roadmap.themes import ThemeCatalogue

SLIP_FACTOR = 0.5
LOOKBACK_DAYS = 365
OPEN, LOST, PIPELINE = "open deal", "lost deal", "segment pipeline"
METHOD = ("open deal: amount × certainty × chance to close from its stage × deadline factor (1 if it is expected "
          "to close on or after the ship date, {slip} if inside the period before it, 0 if before the period); "
          "lost deal: amount × certainty × win-back rate; segment pipeline: the segment's ask rate for the theme × "
          "mean certainty × expected value of its open deals that did not ask; a feature gets its own requests "
          "and an equal share of its theme's not-yet-linked requests and segment pipeline")


@dataclass(frozen=True)
class ValueRules:
    """When the work happens and how strictly deals wait for it."""

    period_start: date
    period_end: date  # exclusive
    as_of: date
    slip_factor: float = SLIP_FACTOR
    lookback_days: int = LOOKBACK_DAYS

    @property
    def last_day(self) -> date:
        return self.period_end - timedelta(days=1)


@dataclass(frozen=True)
class ValuePart:
    """One line of a breakdown: value = amount × certainty × chance × deadline × share."""

    kind: str  # open deal, lost deal, segment pipeline
    how: str  # "asked for this feature", "asked for the theme …", "…"
    request_id: str | None
    opportunity_id: str | None
    account: str | None
    segment: str | None
    amount: float
    certainty: float
    chance: float
    deadline: float
    share: float
    value: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class FeatureValue:
    feature_id: str
    title: str
    theme: str | None
    team: str | None
    effort_hours: float | None
    depends_on: tuple[str, ...]
    status: str
    ship_date: date
    parts: list[ValuePart] = field(default_factory=list)
    accounts: int = 0  # distinct accounts asking (deals and customers), for reach
    mean_certainty: float | None = None

    @property
    def value(self) -> float:
        return float(sum(p.value for p in self.parts))

    def total(self, kind: str) -> float:
        return float(sum(p.value for p in self.parts if p.kind == kind))

    def summary(self, currency: str = "USD") -> str:
        """"$480k: 6 open deals ($420k, of which Acme $200k at 0.8 certainty …); 2 lost deals $30k; …"."""
        return breakdown_summary(self.value, self.parts, currency)

    def as_dict(self, currency: str = "USD") -> dict[str, Any]:
        return {"feature_id": self.feature_id, "title": self.title, "theme": self.theme, "team": self.team,
                "effort_hours": self.effort_hours, "depends_on": list(self.depends_on), "status": self.status,
                "ship_date": self.ship_date.isoformat(), "value": self.value,
                "open_deals": self.total(OPEN), "lost_deals": self.total(LOST),
                "segment_pipeline": self.total(PIPELINE), "accounts": self.accounts,
                "summary": self.summary(currency), "parts": [p.as_dict() for p in self.parts]}


@dataclass
class ThemeValue:
    key: str
    name: str
    requests: int
    deals: int
    accounts: int
    features: tuple[str, ...]  # unshipped features that answer it
    parts: list[ValuePart]

    @property
    def value(self) -> float:
        return float(sum(p.value for p in self.parts))

    def as_dict(self, currency: str = "USD") -> dict[str, Any]:
        return {"key": self.key, "name": self.name, "value": self.value, "requests": self.requests,
                "deals": self.deals, "accounts": self.accounts, "features": list(self.features),
                "summary": breakdown_summary(self.value, self.parts, currency)}


# -- per request ----------------------------------------------------------------------------------------
def request_values(data: RoadmapData, catalogue: ThemeCatalogue, chances: Chances, rules: ValueRules,
                   ship_date: date) -> pd.DataFrame:
    """One row per waiting request: its kind, the factors of its value, and the value."""
    active = data.active_requests()
    deals = data.deals.set_index("opportunity_id")
    open_features = set(data.features.loc[~data.features["is_shipped"], "feature_id"])
    frame = pd.DataFrame({
        "request_id": active["request_id"].to_numpy(), "title": active["title"].to_numpy(),
        "account_id": active["account_id"].to_numpy(), "opportunity_id": active["opportunity_id"].to_numpy(),
        "feature_id": active["feature_id"].where(active["feature_id"].isin(open_features)).to_numpy(),
        "certainty": active["certainty"].to_numpy(dtype="float64"),
        "theme": catalogue.assignment.reindex(active["request_id"]).to_numpy(),
    })
    deal = deals.reindex(frame["opportunity_id"])
    frame["account"] = deal["account_name"].to_numpy()
    frame["segment"] = deal["segment"].to_numpy()
    frame["amount"] = deal["amount_value"].fillna(0.0).to_numpy()
    since = pd.Timestamp(rules.as_of - timedelta(days=rules.lookback_days))
    is_open = (deal["is_closed"] == False).to_numpy()  # noqa: E712 — missing deals are neither
    is_lost = ((deal["is_closed"] == True) & (deal["is_won"] == False)  # noqa: E712
               & (deal["closed_on"] >= since)).to_numpy()
    frame["kind"] = np.select([is_open, is_lost], [OPEN, LOST], default="")
    frame["chance"] = np.where(is_open, chances.by_deal.reindex(frame["opportunity_id"]).fillna(0.0).to_numpy(),
                               np.where(is_lost, chances.winback, 0.0))
    frame["deadline"] = np.where(is_open, deadline_factor(deal["close_date"], ship_date, rules), 1.0)
    frame["certainty"] = _one_deal_once(frame)
    frame["value"] = frame["amount"] * frame["certainty"] * frame["chance"] * frame["deadline"]
    frame.loc[frame["kind"] == "", "value"] = 0.0
    return frame


def deadline_factor(close_dates: pd.Series, ship_date: date, rules: ValueRules) -> np.ndarray:
    """1 if the deal waits until the ship date, `slip_factor` if it must slip within the period, 0 if earlier."""
    close = pd.to_datetime(close_dates).to_numpy()
    ship, start = np.datetime64(pd.Timestamp(ship_date)), np.datetime64(pd.Timestamp(rules.period_start))
    factor = np.where(close >= ship, 1.0, np.where(close >= start, rules.slip_factor, 0.0))
    return np.where(pd.isna(close), 1.0, factor)


def _one_deal_once(frame: pd.DataFrame) -> np.ndarray:
    """Certainties after the once-per-deal rule: the surest request per deal and need, scaled to sum ≤ 1."""
    certainty = frame["certainty"].to_numpy(dtype="float64").copy()
    valued = (frame["kind"] != "").to_numpy()
    need = frame["feature_id"].where(frame["feature_id"].notna(), "theme:" + frame["theme"].astype(str))
    ranked = frame.assign(need=need, c=certainty)[valued].sort_values(["c", "request_id"], ascending=[False, True])
    duplicate = ranked.duplicated(["opportunity_id", "need"])
    certainty[ranked.index[duplicate.to_numpy()]] = 0.0
    kept = pd.Series(certainty, index=frame.index)[valued]
    totals = kept.groupby(frame.loc[valued, "opportunity_id"]).transform("sum")
    certainty[kept.index] = kept / np.maximum(totals, 1.0)
    return certainty


# -- the segment's pipeline ---------------------------------------------------------------------------------
def segment_pipeline(data: RoadmapData, requests: pd.DataFrame, chances: Chances, rules: ValueRules,
                     ship_date: date) -> pd.DataFrame:
    """Per theme and segment: ask rate × certainty × expected value of the open deals that have not asked."""
    columns = ["theme", "segment", "ask_rate", "certainty", "expected_pipeline", "value"]
    deals = data.deals
    since = pd.Timestamp(rules.as_of - timedelta(days=rules.lookback_days))
    recent = deals[(deals["created_at"] >= since) & (deals["created_at"] < pd.Timestamp(rules.as_of))]
    per_segment = recent.groupby("segment")["opportunity_id"].nunique()
    asked = requests[isin(requests["opportunity_id"], recent["opportunity_id"]) & requests["theme"].notna()]
    asked = asked.assign(segment=asked["opportunity_id"].map(recent.set_index("opportunity_id")["segment"]))
    asked = asked.dropna(subset=["segment"])
    if asked.empty:
        return pd.DataFrame(columns=columns)
    open_deals = deals[~deals["is_closed"]]
    expected = pd.DataFrame({
        "opportunity_id": open_deals["opportunity_id"].to_numpy(), "segment": open_deals["segment"].to_numpy(),
        "expected": open_deals["amount_value"].to_numpy() * chances.by_deal.reindex(open_deals["opportunity_id"])
        .fillna(0.0).to_numpy() * deadline_factor(open_deals["close_date"], ship_date, rules)})
    # the open deals that asked for each theme are not "others": their dollars are counted as requests
    asking = requests[["theme", "opportunity_id"]].dropna().drop_duplicates().merge(expected, on="opportunity_id")
    already = asking.groupby(["theme", "segment"])["expected"].sum()
    groups = asked.groupby(["theme", "segment"])
    rows = pd.DataFrame({"deals": groups["opportunity_id"].nunique(), "certainty": groups["certainty"].mean()})
    segments = rows.index.get_level_values("segment")
    rows["ask_rate"] = rows["deals"].to_numpy() / per_segment.reindex(segments).to_numpy(dtype=float)
    total = expected.groupby("segment")["expected"].sum().reindex(segments).fillna(0.0).to_numpy()
    rows["expected_pipeline"] = total - already.reindex(rows.index).fillna(0.0).to_numpy()
    rows["value"] = rows["ask_rate"] * rows["certainty"] * rows["expected_pipeline"]
    return rows.reset_index()[columns]


# -- per feature and per theme ------------------------------------------------------------------------------
class _Parts:
    """Value parts built once from the request frame and handed out by feature or theme."""

    FIELDS = ("kind", "request_id", "opportunity_id", "account", "segment", "amount", "certainty", "chance",
              "deadline", "value")

    def __init__(self, requests: pd.DataFrame, pipeline: pd.DataFrame):
        valued = requests[(requests["kind"] != "") & (requests["value"] > 0)]
        self.rows = list(zip(*(valued[c].to_numpy(dtype=object).tolist() for c in self.FIELDS), strict=True))
        self.by_feature = _positions(valued["feature_id"])
        self.by_theme = _positions(valued["theme"])
        self.loose_by_theme = _positions(valued["theme"].where(valued["feature_id"].isna()))
        self.pipeline = {str(k): g for k, g in pipeline.groupby("theme")}

    def requests(self, positions: list[int], how: str, share: float) -> list[ValuePart]:
        out = []
        for i in positions:
            kind, rid, opp, acc, seg, amount, c, p, d, v = self.rows[i]
            out.append(ValuePart(kind, how, rid, opp, None if pd.isna(acc) else str(acc),
                                 None if pd.isna(seg) else str(seg), float(amount), float(c), float(p), float(d),
                                 share, float(v) * share))
        return out

    def segments(self, theme: str, share: float) -> list[ValuePart]:
        return _pipeline_parts(self.pipeline.get(theme), share)


def _positions(keys: pd.Series) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for i, key in enumerate(keys.to_numpy(dtype=object).tolist()):
        if key is not None and not (isinstance(key, float) and np.isnan(key)):
            out.setdefault(str(key), []).append(i)
    return out


def _reach_table(requests: pd.DataFrame, key: str) -> dict[str, tuple[set[Any], float, int]]:
    """Per feature (or theme), the accounts asking, the sum of their certainties and the number of requests."""
    out: dict[str, tuple[set[Any], float, int]] = {}
    for k, account, certainty in zip(requests[key].to_numpy(dtype=object).tolist(),
                                     requests["account_id"].to_numpy(dtype=object).tolist(),
                                     requests["certainty"].to_numpy(dtype=float).tolist(), strict=True):
        if k is None or (isinstance(k, float) and np.isnan(k)):
            continue
        accounts, total, n = out.get(str(k), (set(), 0.0, 0))
        if account is not None and not (isinstance(account, float) and np.isnan(account)):
            accounts.add(account)
        out[str(k)] = (accounts, total + certainty, n + 1)
    return out


def feature_values(data: RoadmapData, catalogue: ThemeCatalogue, requests: pd.DataFrame, pipeline: pd.DataFrame,
                   ship_date: date) -> list[FeatureValue]:
    """Every unshipped feature with its value's parts: its own requests, then its share of its theme's."""
    features = data.features[~data.features["is_shipped"]]
    theme_of = catalogue.feature_themes
    sharing: dict[str, list[str]] = {}
    for feature_id in features["feature_id"]:
        if feature_id in theme_of:
            sharing.setdefault(theme_of[feature_id], []).append(feature_id)
    parts = _Parts(requests, pipeline)
    shared: dict[str, list[ValuePart]] = {}  # one list per theme, the same for each of its features
    for key, members in sharing.items():
        how = f"asked for the theme, not yet linked to a feature; shared by {len(members)} features"
        shared[key] = (parts.requests(parts.loose_by_theme.get(key, []), how, 1.0 / len(members))
                       + parts.segments(key, 1.0 / len(members)))
    own_reach = _reach_table(requests, "feature_id")
    loose_reach = _reach_table(requests[requests["feature_id"].isna()], "theme")
    empty: tuple[set[Any], float, int] = (set(), 0.0, 0)
    out = []
    for feature_id, title, team, effort, depends_on, status in zip(
            features["feature_id"], features["title"], features["team"], features["effort_hours"],
            features["depends_on"], features["status"], strict=True):
        key = str(feature_id)
        theme = theme_of.get(key)
        mine, theirs = own_reach.get(key, empty), loose_reach.get(theme, empty) if theme else empty
        asking = mine[2] + theirs[2]
        out.append(FeatureValue(
            key, str(title), theme, str(team) if isinstance(team, str) else None,
            None if pd.isna(effort) else float(effort), tuple(depends_on), str(status), ship_date,
            parts.requests(parts.by_feature.get(key, []), "asked for this feature", 1.0)
            + (shared.get(theme, []) if theme else []),
            len(mine[0] | theirs[0]), (mine[1] + theirs[1]) / asking if asking else None))
    return out


def theme_values(catalogue: ThemeCatalogue, requests: pd.DataFrame, pipeline: pd.DataFrame,
                 open_features: set[str]) -> list[ThemeValue]:
    """Every theme with waiting requests, most valuable first."""
    names = catalogue.names()
    parts = _Parts(requests, pipeline)
    answering: dict[str, list[str]] = {}
    for feature_id, theme in sorted(catalogue.feature_themes.items()):
        if feature_id in open_features:
            answering.setdefault(theme, []).append(feature_id)
    counts = requests.groupby("theme").agg(requests=("request_id", "size"), deals=("opportunity_id", "nunique"),
                                           accounts=("account_id", "nunique"))
    out = []
    for key, n_requests, n_deals, n_accounts in zip(counts.index.astype(str), counts["requests"].tolist(),
                                                    counts["deals"].tolist(), counts["accounts"].tolist(), strict=True):
        found = parts.requests(parts.by_theme.get(key, []), "asked for the theme", 1.0) + parts.segments(key, 1.0)
        out.append(ThemeValue(key, names.get(key, key), int(n_requests), int(n_deals), int(n_accounts),
                              tuple(answering.get(key, [])), found))
    return sorted(out, key=lambda t: (-t.value, t.key))


def _pipeline_parts(rows: pd.DataFrame | None, share: float) -> list[ValuePart]:
    if rows is None:
        return []
    return [ValuePart(PIPELINE, f"{rate:.1%} of the segment's deals asked for the theme", None, None, None,
                      str(segment), float(pipeline), float(certainty), float(rate), 1.0, share, float(value) * share)
            for segment, rate, certainty, pipeline, value in zip(
                rows["segment"], rows["ask_rate"], rows["certainty"], rows["expected_pipeline"], rows["value"],
                strict=True) if value > 0]


# -- words --------------------------------------------------------------------------------------------------
SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money(amount: float, currency: str = "USD") -> str:
    """480000 → "$480k"; 1250000 → "$1.2M"; 950 → "$950"."""
    symbol = SYMBOLS.get(currency, f"{currency} ")
    size = abs(amount)
    if size >= 1_000_000:
        return f"{symbol}{amount / 1_000_000:.1f}M"
    if size >= 10_000:
        return f"{symbol}{amount / 1_000:.0f}k"
    if size >= 1_000:
        return f"{symbol}{amount / 1_000:.1f}k"
    return f"{symbol}{amount:.0f}"


def breakdown_summary(total: float, parts: list[ValuePart], currency: str = "USD") -> str:
    """One sentence: the total, then each kind of part with its largest deal named."""
    if not parts:
        return f"{money(0, currency)}: no waiting request on an open or recently lost deal"
    pieces = []
    for kind, noun in ((OPEN, "open deal"), (LOST, "lost deal")):
        mine = sorted((p for p in parts if p.kind == kind), key=lambda p: -p.value)
        if mine:
            top = mine[0]
            deals = len({p.opportunity_id for p in mine})
            pieces.append(f"{deals} {noun}{'s' if deals > 1 else ''} {money(sum(p.value for p in mine), currency)}, "
                          f"of which {top.account or top.opportunity_id} {money(top.amount, currency)} at "
                          f"{top.certainty:.2f} certainty × {top.chance:.2f} chance"
                          + (f" × {top.deadline:g} deadline" if top.deadline != 1 else "")
                          + (f" × {top.share:.2g} share" if top.share != 1 else ""))
    pipeline = [p for p in parts if p.kind == PIPELINE]
    if pipeline:
        segments = ", ".join(sorted({str(p.segment) for p in pipeline}))
        pieces.append(f"segment pipeline ({segments}) {money(sum(p.value for p in pipeline), currency)}")
    return f"{money(total, currency)}: " + "; ".join(pieces)
