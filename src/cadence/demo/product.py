"""Product: the roadmap (features with effort, dependencies, ship dates), its launches, and customers' requests.

Product ships two launches a month and one big launch a quarter. Four of the shipped features
unblock deals: sales-led deals that asked for one of them and were still open when it shipped
close won soon after, at a much higher rate than comparable open deals. The other shipped
features were asked for too, but shipping them changes nothing for the deals that asked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.demo.calendar import (
    DAYS,
    MONTH_STARTS,
    date_of,
    dates,
    day_of,
    month_index,
    quarter_index,
    timestamps,
    to_weekday,
)
from cadence.demo.catalog import BACKLOG_IDEAS, BIG_GENERIC_LAUNCHES, GENERIC_LAUNCHES, THEMED_FEATURES, THEMES
from cadence.demo.deals import NEGOTIATION, PROPOSAL, close_day, set_won_close

BLOCKED_MONTHS = ("2024-08", "2025-06")  # one launch instead of two: waiting on a platform migration
CATCH_UP_MONTHS = ("2024-09", "2025-07")
UNBLOCKED_WIN_RATE = 0.78
REQUESTS_PER_UNBLOCKING_FEATURE = (45, 70)
REQUESTS_PER_OTHER_FEATURE = (35, 60)
BACKLOG_DEPENDS = {"Commission statements": ("Quota planning",), "Partner portal": ("Custom objects",),
                   "White-label reports": ("Native BI connector",), "Revenue attribution model": ("Custom objects",)}


@dataclass
class Roadmap:
    features: pd.DataFrame  # canonical columns plus key, ship_day, big, unblocks
    launches: pd.DataFrame  # feature_id, title, ship_day, big


def build_roadmap(rng: np.random.Generator) -> Roadmap:
    themed = pd.DataFrame([{
        "key": key, "title": title, "theme": theme, "effort_hours": float(hours), "depends_keys": deps,
        "big": big, "ship_day": float(day_of(pd.Timestamp(ship).date())) if ship else np.nan, "unblocks": unblocks,
    } for key, title, theme, hours, deps, big, ship, unblocks in THEMED_FEATURES])
    generic = _generic_launches(themed, rng)
    backlog = pd.DataFrame([{"key": f"idea{i}", "title": title, "theme": None, "effort_hours": float(hours),
                             "depends_keys": (), "big": False, "ship_day": np.nan, "unblocks": False}
                            for i, (title, hours) in enumerate(BACKLOG_IDEAS)])
    features = pd.concat([themed, generic, backlog], ignore_index=True)
    features["feature_id"] = [f"F{i + 1:03d}" for i in range(len(features))]
    by_title = dict(zip(features["title"], features["key"], strict=True))
    for title, deps in BACKLOG_DEPENDS.items():
        features.loc[features["title"] == title, "depends_keys"] = pd.Series([tuple(by_title[d] for d in deps)],
                                                                             index=features.index[
                                                                                 features["title"] == title])
    ids = dict(zip(features["key"], features["feature_id"], strict=True))
    features["depends_on"] = [",".join(ids[k] for k in keys) or None for keys in features["depends_keys"]]
    features["team"] = "Engineering"
    features["status"], features["committed_for"] = _statuses(features, rng)
    features["shipped_at"] = pd.Series(dates(features["ship_day"].fillna(0).to_numpy()), index=features.index) \
        .where(features["ship_day"].notna())
    launches = features[features["ship_day"].notna()][["feature_id", "title", "ship_day", "big"]]
    return Roadmap(features, launches.sort_values("ship_day").reset_index(drop=True))


def _generic_launches(themed: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Fill every month up to its launch count, and every quarter up to one big launch, with generic launches."""
    months = len(MONTH_STARTS) - 1
    wanted = np.full(months, 2)
    for label in BLOCKED_MONTHS:
        wanted[_month_number(label)] = 1
    for label in CATCH_UP_MONTHS:
        wanted[_month_number(label)] = 3
    shipped = themed[themed["ship_day"].notna()]
    regular = np.bincount(month_index(shipped.loc[~shipped["big"], "ship_day"].to_numpy()), minlength=months)
    big = np.bincount(quarter_index(shipped.loc[shipped["big"], "ship_day"].to_numpy()), minlength=months // 3)
    rows: list[dict[str, object]] = []
    names = iter(rng.permutation(GENERIC_LAUNCHES))
    for month in range(months):
        for _ in range(max(wanted[month] - regular[month], 0)):
            rows.append(_launch(str(next(names)), MONTH_STARTS[month], MONTH_STARTS[month + 1], False, rng))
    big_names = iter(rng.permutation(BIG_GENERIC_LAUNCHES))
    for quarter in np.nonzero(big == 0)[0]:
        first = MONTH_STARTS[quarter * 3 + 1]  # the quarter's second month
        rows.append(_launch(str(next(big_names)), first, MONTH_STARTS[quarter * 3 + 2], True, rng))
    frame = pd.DataFrame(rows)
    frame["key"] = [f"generic{i}" for i in range(len(frame))]
    return frame


def _launch(title: str, first: int, last: int, big: bool, rng: np.random.Generator) -> dict[str, object]:
    day = float(to_weekday(np.array([rng.integers(first, last)]))[0])
    day = min(max(day, first), last - 1)
    hours = float(rng.uniform(500, 1_300) if big else np.round(np.exp(rng.normal(np.log(90), 0.5))))
    return {"title": title, "theme": None, "effort_hours": round(hours), "depends_keys": (), "big": big,
            "ship_day": day, "unblocks": False}


def _month_number(label: str) -> int:
    year, month = (int(x) for x in label.split("-"))
    return int(month_index(np.array([day_of(pd.Timestamp(year=year, month=month, day=1).date())]))[0])


def _statuses(features: pd.DataFrame, rng: np.random.Generator) -> tuple[list[str], list[str | None]]:
    status: list[str] = []
    committed: list[str | None] = []
    for ship_day, key in zip(features["ship_day"], features["key"], strict=True):
        if not np.isnan(ship_day):
            status.append("shipped")
            committed.append(_quarter_label(ship_day))
        elif key in ("currency", "permission_templates"):
            status.append("in_progress" if key == "currency" else "planned")
            committed.append("2027-Q1")
        elif key == "offline" or rng.random() < 0.25:
            status.append("planned")
            committed.append("2027-Q2")
        else:
            status.append("idea")
            committed.append(None)
    return status, committed


def _quarter_label(day: float) -> str:
    when = date_of(int(day))
    fiscal = when.year + (1 if when.month >= 2 else 0)
    return f"{fiscal}-Q{((when.month - 2) % 12) // 3 + 1}"


def unblock_deals(deals: pd.DataFrame, roadmap: Roadmap, rng: np.random.Generator) -> pd.DataFrame:
    """Deals waiting for an unblocking feature: most close won within weeks of its ship date. In place.

    Returns the planted requests: deal index, feature_id, requested day, certainty.
    """
    planted: list[pd.DataFrame] = []
    taken = np.zeros(len(deals), dtype=bool)
    unblocking = roadmap.features[roadmap.features["unblocks"]]
    for feature_id, ship_day in zip(unblocking["feature_id"], unblocking["ship_day"].to_numpy(dtype="float64"),
                                    strict=True):
        ship = float(ship_day)
        candidates = np.nonzero(_open_at(deals, ship) & ~taken)[0]
        count = min(int(rng.integers(*REQUESTS_PER_UNBLOCKING_FEATURE)), len(candidates))
        chosen = np.sort(rng.choice(candidates, count, replace=False))
        taken[chosen] = True
        wins = rng.random(count) < UNBLOCKED_WIN_RATE
        mask = np.zeros(len(deals), dtype=bool)
        mask[chosen[wins]] = True
        set_won_close(deals, mask, ship + 3 + rng.gamma(2.0, 9.0, int(wins.sum())))
        _lose_after(deals, chosen[~wins], ship, rng)
        deals.loc[deals.index[chosen], "unblocked"] = True
        created = deals["created"].to_numpy()[chosen]
        planted.append(pd.DataFrame({
            "deal": chosen, "feature_id": feature_id,
            "requested": created + (ship - 3 - created) * rng.uniform(0.1, 0.9, count),
            "certainty": np.round(rng.uniform(0.6, 0.95, count), 2),
        }))
    return pd.concat(planted, ignore_index=True)


def _open_at(deals: pd.DataFrame, day: float) -> np.ndarray:
    """Sales-led new deals created at least 20 days before `day` and not yet closed 10 days before it."""
    return (deals["segment"].isin(["enterprise", "mid_market"]).to_numpy() & (deals["kind"] == "new").to_numpy()
            & (deals["created"].to_numpy() < day - 20) & (deals["created"].to_numpy() > day - 200)
            & (close_day(deals) > day - 10))


def _lose_after(deals: pd.DataFrame, rows: np.ndarray, ship: float, rng: np.random.Generator) -> None:
    index = deals.index[rows]
    close = ship + rng.uniform(10, 60, len(rows))
    reached = np.where(rng.random(len(rows)) < 0.5, PROPOSAL, NEGOTIATION)
    created = deals.loc[index, "created"].to_numpy()
    fractions = deals.loc[index, ["f1", "f2", "f3", "f4"]].to_numpy()
    high = np.where(reached == NEGOTIATION, 1.0, fractions[:, NEGOTIATION - 1])
    low = fractions[np.arange(len(rows)), reached - 1]
    close_frac = (low + high) / 2
    deals.loc[index, "span"] = (close - created) / close_frac
    deals.loc[index, "close_frac"] = close_frac
    deals.loc[index, "reached"] = reached
    deals.loc[index, "won"] = False
    deals.loc[index, "loss_reason"] = rng.choice(["Competitor", "No decision"], len(rows))


def build_requests(deals: pd.DataFrame, roadmap: Roadmap, planted: pd.DataFrame, csm_ids: np.ndarray,
                   customers: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Every feature request: the planted ones, others on open and lost deals, and customers' own."""
    features = roadmap.features[roadmap.features["theme"].notna()]
    parts = [planted]
    used = np.zeros(len(deals), dtype=bool)
    used[planted["deal"].to_numpy()] = True
    others = features[~features["unblocks"]]
    for feature_id, ship_day in zip(others["feature_id"], others["ship_day"].to_numpy(dtype="float64"), strict=True):
        parts.append(_requests_for(deals, str(feature_id), float(ship_day), used, rng))
    on_deals = pd.concat(parts, ignore_index=True)
    on_deals["deal"] = on_deals["deal"].astype("int64")
    rows = deals.iloc[on_deals["deal"].to_numpy()]
    frame = pd.DataFrame({
        "feature_id": on_deals["feature_id"].to_numpy(), "account_id": rows["account_id"].to_numpy(),
        "opportunity_id": rows["opportunity_id"].to_numpy(), "requested_by": rows["owner_id"].to_numpy(),
        "requested": on_deals["requested"].to_numpy(), "certainty": on_deals["certainty"].to_numpy(),
    })
    frame = pd.concat([frame, _customer_requests(features, csm_ids, customers, rng)], ignore_index=True)
    theme = frame["feature_id"].map(roadmap.features.set_index("feature_id")["theme"])
    frame["title"] = [THEMES[t][i % len(THEMES[t])] for t, i in zip(theme, rng.integers(0, 60, len(frame)),
                                                                    strict=True)]
    frame = frame.sort_values("requested", kind="stable").reset_index(drop=True)
    frame["request_id"] = [f"R{i + 1:05d}" for i in range(len(frame))]
    ship = frame["feature_id"].map(roadmap.features.set_index("feature_id")["ship_day"])
    frame["status"] = np.where(ship.notna() & (ship < DAYS), "shipped", "open")
    frame.loc[(frame["status"] == "open") & (rng.random(len(frame)) < 0.08), "status"] = "declined"
    planted_ids = set(planted["feature_id"])
    unlinked = (rng.random(len(frame)) < 0.15) & ~frame["feature_id"].isin(planted_ids)  # not triaged yet
    frame.loc[unlinked, "feature_id"] = None
    frame.loc[unlinked & (frame["status"] != "declined"), "status"] = "open"
    frame["requested_at"] = timestamps(frame["requested"].to_numpy())
    frame["theme"] = None
    return frame


def _requests_for(deals: pd.DataFrame, feature_id: str, ship: float, used: np.ndarray,
                  rng: np.random.Generator) -> pd.DataFrame:
    """Requests for a feature that unblocks nothing: on deals open when it ships (or now, if it never did),
    drawn at random from all of them, so that they are like the deals that did not ask."""
    moment = ship if not np.isnan(ship) else float(DAYS - 1)
    created_before = deals["created"].to_numpy() < moment - 5
    open_then = (deals["segment"].isin(["enterprise", "mid_market"]).to_numpy() & (deals["kind"] == "new").to_numpy()
                 & created_before & (close_day(deals) > moment))
    candidates = np.nonzero(open_then & ~used)[0]
    count = min(int(rng.integers(*REQUESTS_PER_OTHER_FEATURE)), len(candidates))
    chosen = np.sort(rng.choice(candidates, count, replace=False))
    used[chosen] = True
    created = deals["created"].to_numpy()[chosen]
    end = np.minimum(close_day(deals)[chosen], moment) - 1
    return pd.DataFrame({
        "deal": chosen, "feature_id": feature_id,
        "requested": created + (end - created) * rng.uniform(0.1, 0.9, count),
        "certainty": np.round(rng.uniform(0.3, 0.95, count), 2),
    })


def _customer_requests(features: pd.DataFrame, csm_ids: np.ndarray, customers: pd.DataFrame,
                       rng: np.random.Generator) -> pd.DataFrame:
    """Customers asking through their success manager, with no deal attached."""
    count = 400
    pick = customers.iloc[rng.integers(0, len(customers), count)]
    low = np.clip(pick["start"].to_numpy(), 0, DAYS - 1)
    requested = rng.uniform(low, np.maximum(low, np.minimum(pick["end"].to_numpy(), DAYS - 1)))
    feature = features["feature_id"].to_numpy()[rng.integers(0, len(features), count)]
    ship = features.set_index("feature_id")["ship_day"].reindex(feature).to_numpy()
    requested = np.where(~np.isnan(ship) & (requested > ship), ship - rng.uniform(5, 200, count), requested)
    requested = np.clip(requested, 0, DAYS - 1)
    return pd.DataFrame({
        "feature_id": feature, "account_id": pick["account_id"].to_numpy(), "opportunity_id": None,
        "requested_by": rng.choice(csm_ids, count), "requested": requested,
        "certainty": np.round(rng.uniform(0.1, 0.5, count), 2),
    })
