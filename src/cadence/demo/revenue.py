"""Customers and their recurring revenue: when each account pays, how much, and every change.

An account becomes a customer when a new-business deal closes won (or was one before fiscal
2024). Enterprise and mid-market customers sign annual contracts: at each anniversary they renew
(same price, an uplift, or a contraction) or churn — through a renewal deal for enterprise
customers (pulled into the quarter's last weeks while goals fell due there), automatically for
mid-market ones. Deals that were pushed into a quarter's last weeks churn and contract more at
their first renewal. No-touch customers pay
monthly and come and go on their own. A new-business deal on an account that is already a
customer is an expansion; one won after the account churned is a reactivation.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cadence.demo.arrays import weighted_pick, where_or_none
from cadence.demo.bunching import push_to_quarter_end
from cadence.demo.calendar import DAYS, day_of
from cadence.demo.deals import DEAL_SIGMA, DEAL_SIZE, EXPANSION_SHARE, close_day, new_deals, sample_timing
from cadence.demo.people import Org

ANNUAL = ("enterprise", "mid_market")
RENEWAL_DEALS = ("enterprise",)  # mid-market contracts renew automatically, without a renewal deal
YEAR = 365.0
MONTH = YEAR / 12
RENEWAL_LEAD_DAYS = (45, 75)
CHURN = {"enterprise": 0.07, "mid_market": 0.11}
CONTRACTION = 0.12
UPLIFT = 0.30
PUSHED_CHURN_FACTOR = 3.0  # a pushed deal's first renewal: three times as likely to churn
PUSHED_CONTRACTION = 0.35
NO_TOUCH_CHURN = 0.022  # per month
NO_TOUCH_UP, NO_TOUCH_DOWN = 0.02, 0.012  # self-serve seat changes per month
EXPANSIONS_PER_YEAR = {"enterprise": 1.2, "mid_market": 0.7, "no_touch": 0.25}
FIRST_EXISTING_DAY = day_of(pd.Timestamp("2020-06-01").date())
SEAT_PRICE = {"enterprise": 30.0, "mid_market": 35.0, "no_touch": 40.0}
PLANS = ((300.0, "Starter"), (1_500.0, "Team"), (6_000.0, "Business"), (np.inf, "Enterprise"))


@dataclass
class Spell:
    account_id: str
    segment: str
    start: float
    end: float  # day the customer stops paying (may be after the window; inf if never decided)
    mrr: float
    origin: int  # index of the deal that started it, −1 before the CRM
    pushed: bool
    renewals: list[tuple[float, bool, float]]  # anniversary, renewed, price factor
    changes: list[tuple[float, float, int]]  # day, new MRR factor or delta, deal index (−1: self-serve)


@dataclass
class Revenue:
    deals: pd.DataFrame  # every deal: new, expansion and renewal
    spells: list[Spell]
    subscriptions: pd.DataFrame


def build_revenue(deals: pd.DataFrame, accounts: pd.DataFrame, org: Org, assign: object,
                  rng: np.random.Generator) -> Revenue:
    """Customers' spells, the expansion and renewal deals they bring, and their subscription periods.

    `assign(segment, created) -> owners` picks the rep for product-led expansion deals. The
    subscriptions' `deal` column is the index in `deals` of the deal that started or changed them.
    """
    deals = deals.copy()
    spells = _spells(deals, accounts, rng)
    expansions = _product_led_expansions(spells, assign, rng)
    start = len(deals)
    deals = pd.concat([deals, expansions], ignore_index=True)
    _attach_expansions(spells, deals, start)
    renewals = _renewal_deals(spells, org, rng)
    start = len(deals)
    deals = pd.concat([deals, renewals], ignore_index=True)
    renewal_deal = {(int(k), float(a)): start + i
                    for i, (k, a) in enumerate(zip(renewals["spell"], renewals["anniversary"], strict=True))}
    _price_renewals(deals, start, spells)
    subs = _subscriptions(spells, renewal_deal)
    return Revenue(deals.drop(columns=["factor", "anniversary"]), spells, subs)


def _spells(deals: pd.DataFrame, accounts: pd.DataFrame, rng: np.random.Generator) -> list[Spell]:
    close = close_day(deals)
    order = np.lexsort((np.arange(len(deals)), close, deals["account_id"].to_numpy()))
    by_account: dict[str, list[int]] = {}
    for i in order:
        by_account.setdefault(str(deals["account_id"].iat[i]), []).append(int(i))
    segment = dict(zip(accounts["account_id"], accounts["segment"], strict=True))
    spells: list[Spell] = []
    kind = deals["kind"].to_numpy().copy()
    amount = deals["list_amount"].to_numpy().copy()
    created, won = deals["created"].to_numpy(), deals["won"].to_numpy()
    discount, pushed = deals["discount"].to_numpy(), deals["pushed"].to_numpy()
    for account in accounts.loc[accounts["existing"], "account_id"]:
        seg = segment[account]
        first = float(rng.uniform(FIRST_EXISTING_DAY, -1))
        spells.append(_spell(account, seg, first, _size(seg, rng) / 12, -1, False, rng))
    existing = {s.account_id: [s] for s in spells}
    for account, indices in by_account.items():
        seg = segment[account]
        mine = existing.get(account, [])
        for i in indices:
            at_created = _active(mine, created[i])
            at_close = _active(mine, close[i])
            if won[i] and close[i] < DAYS and at_close is None:
                spell = _spell(account, seg, close[i], amount[i] * (1 - discount[i] / 100) / 12, i,
                               bool(pushed[i]), rng)
                mine.append(spell)
                spells.append(spell)
                continue
            if at_created is not None or (won[i] and at_close is not None):
                kind[i] = "expansion"
                amount[i] = _round(amount[i] * EXPANSION_SHARE, seg)
                target = at_close if (won[i] and at_close is not None) else None
                if target is not None and close[i] < DAYS:
                    target.changes.append((close[i], amount[i] * (1 - discount[i] / 100) / 12, i))
    deals["kind"] = kind
    deals["list_amount"] = amount
    return spells


def _active(spells: list[Spell], day: float) -> Spell | None:
    for spell in spells:
        if spell.start <= day < spell.end:
            return spell
    return None


def _spell(account: str, segment: str, start: float, mrr: float, origin: int, pushed: bool,
           rng: np.random.Generator) -> Spell:
    """A customer's paying spell from `start`: when it ends and what happens at each renewal."""
    renewals: list[tuple[float, bool, float]] = []
    changes: list[tuple[float, float, int]] = []
    end = np.inf
    if segment in ANNUAL:
        anniversary = start + YEAR
        first = True
        while anniversary - RENEWAL_LEAD_DAYS[1] < DAYS:
            if anniversary - RENEWAL_LEAD_DAYS[1] < 0:  # renewed before the CRM's records begin
                anniversary += YEAR
                continue
            churn = CHURN[segment] * (PUSHED_CHURN_FACTOR if pushed and first else 1.0)
            contraction = PUSHED_CONTRACTION if pushed and first else CONTRACTION
            roll = rng.random()
            if roll < churn:
                renewals.append((anniversary, False, 0.0))
                end = anniversary
                break
            roll = rng.random()
            factor = (rng.uniform(0.6, 0.9) if roll < contraction
                      else rng.uniform(1.03, 1.12) if roll < contraction + UPLIFT else 1.0)
            renewals.append((anniversary, True, float(factor)))
            anniversary += YEAR
            first = False
    else:
        month = start + MONTH
        while month < DAYS:
            roll = rng.random()
            if roll < NO_TOUCH_CHURN:
                end = month
                break
            if roll < NO_TOUCH_CHURN + NO_TOUCH_UP:
                changes.append((month, -float(rng.uniform(1.1, 1.6)), -1))  # negative: a factor, not a delta
            elif roll < NO_TOUCH_CHURN + NO_TOUCH_UP + NO_TOUCH_DOWN:
                changes.append((month, -float(rng.uniform(0.6, 0.9)), -1))
            month += MONTH
    return Spell(account, segment, float(start), float(end), float(mrr), origin, pushed, renewals, changes)


def _product_led_expansions(spells: list[Spell], assign: object, rng: np.random.Generator) -> pd.DataFrame:
    """Expansion deals customers start on their own during a spell (more seats, a higher tier)."""
    rate = np.array([EXPANSIONS_PER_YEAR[s.segment] for s in spells])
    first = np.array([max(s.start, 0.0) + 30 for s in spells])
    last = np.array([min(s.end, DAYS) - 5 for s in spells])
    years = np.clip(last - first, 0, None) / YEAR
    counts = rng.poisson(rate * years)
    owner_spell = np.repeat(np.arange(len(spells)), counts)
    created = rng.uniform(first[owner_spell], np.maximum(last[owner_spell], first[owner_spell] + 1))
    frame = pd.DataFrame({
        "account_id": [spells[i].account_id for i in owner_spell],
        "segment": [spells[i].segment for i in owner_spell], "created": created, "sdr_id": None,
        "channel": "expansion", "sourced_by": "customer", "lead_id": None, "spell": owner_spell,
    })
    frame["owner_id"] = assign(frame["segment"].to_numpy(), created)  # type: ignore[operator]
    expansions = new_deals(frame, kind="expansion", rng=rng)
    push_to_quarter_end(expansions, rng)
    return expansions


def _attach_expansions(spells: list[Spell], deals: pd.DataFrame, start: int) -> None:
    """Won product-led expansions add MRR on their close day; those closing after churn are lost instead."""
    close = close_day(deals)
    spell_of = deals["spell"].to_numpy()
    won = deals["won"].to_numpy()
    mrr = (deals["list_amount"] * (1 - deals["discount"] / 100) / 12).to_numpy(dtype="float64")
    for i in range(start, len(deals)):
        spell = spells[int(spell_of[i])]
        if not won[i]:
            continue
        if close[i] >= spell.end:
            deals.loc[i, "won"] = False
            deals.loc[i, "loss_reason"] = "Customer churned"
            continue
        if close[i] < DAYS:
            spell.changes.append((float(close[i]), float(mrr[i]), i))


def _renewal_deals(spells: list[Spell], org: Org, rng: np.random.Generator) -> pd.DataFrame:
    rows = [(k, anniversary, renewed, factor) for k, s in enumerate(spells) if s.segment in RENEWAL_DEALS
            for anniversary, renewed, factor in s.renewals]
    if not rows:
        return pd.DataFrame()
    spell_index, anniversary, renewed, factor = (np.array(v) for v in zip(*rows, strict=True))
    n = len(rows)
    renewed = renewed.astype(bool)
    created = anniversary - rng.uniform(*RENEWAL_LEAD_DAYS, n)
    close = anniversary + rng.uniform(-30, 10, n)
    reached = np.where(renewed, 4, np.where(rng.random(n) < 0.5, 3, 4))
    span_guess = close - created
    fractions, close_frac = sample_timing(span_guess, reached, renewed, rng)
    span = np.where(renewed, span_guess, span_guess / close_frac)
    csms = org.people[org.people["role"] == "csm"]
    active = org.active(np.clip(np.floor(created), 0, DAYS - 1).astype("int64"), csms)
    staff = csms["person_id"].to_numpy()
    owners = np.where(active.any(axis=1), staff[weighted_pick(active.astype("float64"), rng)], staff[0])
    frame = pd.DataFrame({
        "account_id": [spells[i].account_id for i in spell_index],
        "segment": [spells[i].segment for i in spell_index], "created": created, "sdr_id": None,
        "channel": "renewal", "sourced_by": "renewal", "lead_id": None, "owner_id": owners, "kind": "renewal",
        "span": span, "close_frac": close_frac, "reached": reached, "won": renewed, "spell": spell_index,
        "factor": factor, "anniversary": anniversary, "discount": np.round(rng.uniform(0, 5, n), 1),
        "pushed": False, "unblocked": False,
        "loss_reason": where_or_none(~renewed, rng.choice(["Budget cuts", "Switched to a competitor",
                                                            "Low adoption", "Company acquired"], n)),
    })
    frame[["f1", "f2", "f3", "f4"]] = fractions
    frame = frame[frame["created"] < DAYS].reset_index(drop=True)
    push_to_quarter_end(frame, rng, kinds=("renewal",))  # early renewals, signed for the quarter's number
    return frame


def _subscriptions(spells: list[Spell], renewal_deal: dict[tuple[int, float], int]) -> pd.DataFrame:
    """Periods of constant MRR per spell, as known at the window's end; renewal prices apply from the anniversary."""
    rows: list[tuple[str, float, float, float, int, str, int]] = []
    for k, spell in enumerate(spells):
        end = spell.end if spell.end < DAYS else np.inf
        events = sorted([(day, value, deal) for day, value, deal in spell.changes if day < min(end, DAYS)]
                        + [(a, -factor, renewal_deal.get((k, a), -1)) for a, renewed, factor in spell.renewals
                           if renewed and factor != 1.0 and a < min(end, DAYS)])
        mrr, since, deal = spell.mrr, spell.start, spell.origin
        for day, value, source in events:
            new = mrr * -value if value < 0 else mrr + value
            if np.floor(day) > np.floor(since):
                rows.append((spell.account_id, since, day, mrr, deal, spell.segment, k))
                since = day
            mrr, deal = new, source
        rows.append((spell.account_id, since, end, mrr, deal, spell.segment, k))
    frame = pd.DataFrame(rows, columns=["account_id", "start", "end", "mrr", "deal", "segment", "spell"])
    frame["mrr"] = frame["mrr"].round(2)
    seat_price = frame["segment"].map(SEAT_PRICE)
    frame["seats"] = np.maximum(np.ceil(frame["mrr"] / seat_price), 1).astype("int64")
    frame["plan"] = pd.cut(frame["mrr"], [0.0] + [p for p, _ in PLANS], labels=[n for _, n in PLANS],
                           include_lowest=True).astype("object")
    return frame


def _price_renewals(deals: pd.DataFrame, start: int, spells: list[Spell]) -> None:
    """A renewal deal's amount: the customer's annual run rate going into the new term. In place."""
    amounts = []
    rows = deals.iloc[start:]
    for k, factor, renewed, anniversary in zip(rows["spell"].to_numpy(dtype="int64"), rows["factor"].to_numpy(
            dtype="float64"), rows["won"].to_numpy(dtype=bool), rows["anniversary"].to_numpy(dtype="float64"),
            strict=True):
        run_rate = _mrr_on(spells[int(k)], float(anniversary) - 1) * 12
        amounts.append(max(round(run_rate * (float(factor) if renewed else 1.0), -1), 10.0))
    deals.loc[start:, "list_amount"] = amounts


def _mrr_on(spell: Spell, day: float) -> float:
    mrr = spell.mrr
    events = sorted([(d, v) for d, v, _ in spell.changes if d <= day]
                    + [(a, -f) for a, renewed, f in spell.renewals if renewed and a <= day])
    for _, value in events:
        mrr = mrr * -value if value < 0 else mrr + value
    return mrr


def _size(segment: str, rng: np.random.Generator) -> float:
    return float(DEAL_SIZE[segment] * np.exp(DEAL_SIGMA[segment] * rng.standard_normal()))


def _round(value: float, segment: str) -> float:
    step = 10.0 if segment == "no_touch" else 100.0
    return max(round(value / step) * step, step)
