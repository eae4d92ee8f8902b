"""SaaS revenue metrics proved right: MRR, its five movements, NRR, GRR and logo churn.

Three kinds of evidence:
- the public subscription-period file (`mrr-subscription-periods/`), small enough that five
  customers' months are written out below by hand, each derived from the file's rows;
- the synthetic SaaS company `ravenstack-saas/` (500 accounts, 5,000 subscriptions), against an
  independent computation written as plain Python loops over the subscription rows;
- both reconcile exactly every month (and the small file every quarter):
  MRR(start) + new + expansion + reactivation − contraction − churned = MRR(end).

Both files are loaded as canonical rows built here with pandas (as test_metrics_engines.py does),
so these tests do not depend on an importer; how each file's columns are read is said at the
loader. examples/ravenstack.mapping.yml is checked to load ravenstack to the very same figures.
The demo company (in cents) reconciles every month and equals the same independent loops.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.metrics.query import DimensionError
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset

REPO = Path(__file__).resolve().parents[1]
RAVENSTACK_MAPPING = REPO / "examples" / "ravenstack.mapping.yml"

ByMonth = dict[str, dict[str, Decimal]]  # {month: {account: MRR}}
Expected = tuple[pd.DataFrame, ByMonth]  # independent movements per month, and the MRR behind them

MOVEMENTS = {  # movement column: metric, sign in the reconciliation
    "new": ("new_mrr", 1),
    "expansion": ("expansion_mrr", 1),
    "reactivation": ("reactivation_mrr", 1),
    "contraction": ("contraction_mrr", -1),
    "churned": ("churned_mrr", -1),
}


# -- loading ---------------------------------------------------------------------------------------

def _load(ws: Workspace, frames: dict[str, pd.DataFrame]) -> None:
    batch = ImportBatch("csv")
    for table, frame in frames.items():
        frame = frame.assign(_line=range(2, len(frame) + 2))
        batch.add(CanonicalFrame(table, frame, f"{table}.csv"))
        batch.files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(batch, ws.stages())
    assert prepared.quarantined == 0, prepared.quarantine.to_dict("records")[:3]
    ws.load(prepared)


def _new_workspace(factory: pytest.TempPathFactory, name: str) -> Workspace:
    return cadence.open(init_workspace(factory.mktemp(name) / "ws", company=name))


def read_periods(dataset: Dataset) -> pd.DataFrame:
    """subscription_periods.csv as written: every date is a month's 1st; end_date is exclusive."""
    return pd.read_csv(dataset("mrr-subscription-periods/subscription_periods.csv"), dtype=str)


@pytest.fixture(scope="module")
def periods(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    """The subscription-period file: customer_id → account_id, end_date → ended_at as it is (exclusive)."""
    raw = read_periods(dataset)
    subs = pd.DataFrame({"subscription_id": raw["subscription_id"], "account_id": raw["customer_id"],
                         "mrr": raw["monthly_amount"], "started_at": raw["start_date"], "ended_at": raw["end_date"]})
    ws = _new_workspace(tmp_path_factory, "periods")
    _load(ws, {"subscriptions": subs})
    yield ws
    ws.close()


def read_ravenstack(dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    folder = dataset("ravenstack-saas")
    accounts = pd.read_csv(folder / "ravenstack_accounts.csv", dtype=str)
    subs = pd.read_csv(folder / "ravenstack_subscriptions.csv", dtype=str)
    return accounts, subs


def ravenstack_segment(seats: int) -> str:
    """ravenstack has no go-to-market segment; these tests give each account one by its seats."""
    return "enterprise" if seats >= 50 else "mid_market" if seats >= 10 else "smb"


def ravenstack_paid(subs: pd.DataFrame) -> pd.Series:
    """MRR that counts as revenue: trials (is_trial TRUE) are not revenue, whatever MRR they carry."""
    return subs["mrr_amount"].astype(int).where(subs["is_trial"] != "TRUE", 0)


@pytest.fixture(scope="module")
def raven_files(dataset: Dataset) -> tuple[pd.DataFrame, pd.DataFrame]:
    return read_ravenstack(dataset)


@pytest.fixture(scope="module")
def raven(tmp_path_factory: pytest.TempPathFactory, raven_files: tuple[pd.DataFrame, pd.DataFrame]
          ) -> Iterator[Workspace]:
    """ravenstack as canonical rows.

    end_date is read as exclusive, the canonical meaning (the first day no longer billed; for a
    churned subscription, the day it ended): 44 ended subscriptions hand over to another of the
    same account starting on their end_date, 20 the day after; 13 start and end on the same day,
    read as cancelled that day and never billed. The reading changes a figure only for the 31
    that end on a month's last day, which do not count in that month (test_ravenstack_end_dates).
    Trials: every trial subscription in the file has mrr_amount 0 (tested below); trial rows are
    loaded with MRR 0 whatever they say, so a trial never makes a paying customer.
    """
    accounts, subs = raven_files
    acc = pd.DataFrame({"account_id": accounts["account_id"], "name": accounts["account_name"],
                        "industry": accounts["industry"], "region": accounts["country"],
                        "segment": accounts["seats"].astype(int).map(ravenstack_segment),
                        "created_at": accounts["signup_date"]})
    sub = pd.DataFrame({"subscription_id": subs["subscription_id"], "account_id": subs["account_id"],
                        "plan": subs["plan_tier"], "mrr": ravenstack_paid(subs).astype(str),
                        "seats": subs["seats"], "started_at": subs["start_date"], "ended_at": subs["end_date"]})
    ws = _new_workspace(tmp_path_factory, "ravenstack")
    _load(ws, {"accounts": acc, "subscriptions": sub})
    yield ws
    ws.close()


# -- reading Cadence's figures ---------------------------------------------------------------------

_ASKED: dict[tuple[object, ...], pd.DataFrame] = {}


def metric(ws: Workspace, name: str, *, grain: str = "month", where: str | None = None, by: tuple[str, ...] = ()
           ) -> pd.DataFrame:
    """`ws.metric(...)`, asked once per workspace and question (each workspace here is loaded once, then only read)."""
    key = (ws.root, name, grain, where, by)
    if key not in _ASKED:
        _ASKED[key] = ws.metric(name, grain=grain, where=where, by=by)  # type: ignore[arg-type]
    return _ASKED[key].copy()


def figures(ws: Workspace, *, grain: str = "month", where: str | None = None, by: tuple[str, ...] = ()
            ) -> pd.DataFrame:
    """MRR and each movement per period (and dimension), 0 where Cadence reports no movement."""
    keys = ["period", *by]
    mrr = metric(ws, "mrr", grain=grain, where=where, by=by)
    out = mrr[keys + ["value"]].rename(columns={"value": "mrr"})
    for column, (name, _) in MOVEMENTS.items():
        part = metric(ws, name, grain=grain, where=where, by=by)
        out = out.merge(part[keys + ["value"]].rename(columns={"value": column}), on=keys, how="outer")
    out = out.fillna({c: 0.0 for c in ["mrr", *MOVEMENTS]})
    return out.sort_values(keys, na_position="last").reset_index(drop=True)


def assert_reconciles(table: pd.DataFrame) -> int:
    """MRR(start) + new + expansion + reactivation − contraction − churned = MRR(end), every period, to the cent.

    Counted in whole cents, so the check is exact: no tolerance hides a missing cent.
    """
    cents = (table[["mrr", *MOVEMENTS]] * 100).round().astype("int64")
    assert ((cents / 100 - table[["mrr", *MOVEMENTS]]).abs() < 1e-6).all().all()  # amounts are whole cents
    start = cents["mrr"].shift(1, fill_value=0)
    flows = sum(sign * cents[column] for column, (_, sign) in MOVEMENTS.items())
    broken = table[start + flows != cents["mrr"]]
    assert broken.empty, broken
    return len(table)


# -- the subscription-period file, by hand ---------------------------------------------------------

# Month by month, from the customer's first paid month to the file's last month (2020-02, when the
# last periods end). Every start and end in the file is a month's 1st and end_date is exclusive, so
# a period from 2018-11-01 to 2019-02-01 is billed in November, December and January: on each of
# those months' last days it is active. Each row says which of the customer's rows gives the MRR.
HAND = {
    # rows 1–3: 50 from 2018-11-01 to 2019-02-01; 50 from 2019-04-01 to 2019-06-01; 75 to 2019-08-01
    "1": """
        month   mrr movement     amount
        2018-11  50 new              50  # row 1 starts: first paid month
        2018-12  50 -                 0
        2019-01  50 -                 0  # row 1's last billed month
        2019-02   0 churned          50  # row 1 ended 2019-02-01, nothing else active
        2019-03   0 -                 0
        2019-04  50 reactivation     50  # row 2: paying again after paying before
        2019-05  50 -                 0
        2019-06  75 expansion        25  # row 3 replaces row 2: 50 → 75
        2019-07  75 -                 0
        2019-08   0 churned          75  # row 3 ended 2019-08-01
        2019-09   0 -                 0
        2019-10   0 -                 0
        2019-11   0 -                 0
        2019-12   0 -                 0
        2020-01   0 -                 0
        2020-02   0 -                 0
    """,
    # rows 7–13: 50 (2018-11), 25 (2018-12 → 2019-03), 50 (2019-07), 25 (2019-08), 50 (2019-09),
    # 25 (2019-10 → 2019-12), 40 (2019-12 → 2020-01): every movement there is
    "5": """
        month   mrr movement     amount
        2018-11  50 new              50  # row 7
        2018-12  25 contraction      25  # row 8: 50 → 25
        2019-01  25 -                 0
        2019-02  25 -                 0
        2019-03   0 churned          25  # row 8 ended 2019-03-01
        2019-04   0 -                 0
        2019-05   0 -                 0
        2019-06   0 -                 0
        2019-07  50 reactivation     50  # row 9
        2019-08  25 contraction      25  # row 10: 50 → 25
        2019-09  50 expansion        25  # row 11: 25 → 50
        2019-10  25 contraction      25  # row 12: 50 → 25
        2019-11  25 -                 0
        2019-12  40 expansion        15  # row 13: 25 → 40
        2020-01   0 churned          40  # row 13 ended 2020-01-01
        2020-02   0 -                 0
    """,
    # rows 18–19: 65 from 2019-04-01 to 2019-05-01, then 65 again to 2019-12-01: a renewal at the
    # same price is no movement
    "8": """
        month   mrr movement     amount
        2019-04  65 new              65  # row 18
        2019-05  65 -                 0  # row 19 takes over at the same 65
        2019-06  65 -                 0
        2019-07  65 -                 0
        2019-08  65 -                 0
        2019-09  65 -                 0
        2019-10  65 -                 0
        2019-11  65 -                 0
        2019-12   0 churned          65  # row 19 ended 2019-12-01
        2020-01   0 -                 0
        2020-02   0 -                 0
    """,
    # rows 22–29: 80 (2018-04), 50 (2018-09), 25 (2018-10 → 2019-04), 50 (2019-04), 25 (2019-05),
    # 50 (2019-06 → 2019-11), 25 (2019-11), 35 (2019-12)
    "10": """
        month   mrr movement     amount
        2018-04  80 new              80  # row 22
        2018-05   0 churned          80  # row 22 ended 2018-05-01
        2018-06   0 -                 0
        2018-07   0 -                 0
        2018-08   0 -                 0
        2018-09  50 reactivation     50  # row 23
        2018-10  25 contraction      25  # row 24: 50 → 25
        2018-11  25 -                 0
        2018-12  25 -                 0
        2019-01  25 -                 0
        2019-02  25 -                 0
        2019-03  25 -                 0  # row 24's last billed month
        2019-04  50 expansion        25  # row 25: 25 → 50
        2019-05  25 contraction      25  # row 26: 50 → 25
        2019-06  50 expansion        25  # row 27: 25 → 50
        2019-07  50 -                 0
        2019-08  50 -                 0
        2019-09  50 -                 0
        2019-10  50 -                 0
        2019-11  25 contraction      25  # row 28: 50 → 25
        2019-12  35 expansion        10  # row 29: 25 → 35
        2020-01   0 churned          35  # row 29 ended 2020-01-01
        2020-02   0 -                 0
    """,
    # rows 48–55: 25 (2018-11), 50 (2018-12 → 2019-05), 25 (2019-05), 40 (2019-06 → 2019-09),
    # 35 (2019-09), 65 (2019-10), 100 (2019-11), 95 (2019-12)
    "17": """
        month   mrr movement     amount
        2018-11  25 new              25  # row 48
        2018-12  50 expansion        25  # row 49: 25 → 50
        2019-01  50 -                 0
        2019-02  50 -                 0
        2019-03  50 -                 0
        2019-04  50 -                 0
        2019-05  25 contraction      25  # row 50: 50 → 25
        2019-06  40 expansion        15  # row 51: 25 → 40
        2019-07  40 -                 0
        2019-08  40 -                 0
        2019-09  35 contraction       5  # row 52: 40 → 35
        2019-10  65 expansion        30  # row 53: 35 → 65
        2019-11 100 expansion        35  # row 54: 65 → 100
        2019-12  95 contraction       5  # row 55: 100 → 95
        2020-01   0 churned          95  # row 55 ended 2020-01-01
        2020-02   0 -                 0
    """,
}


def _hand_table(text: str) -> pd.DataFrame:
    lines = [line.split("#")[0] for line in text.strip().splitlines()]
    table = pd.read_csv(StringIO("\n".join(lines)), sep=r"\s+", dtype={"month": str})
    out = pd.DataFrame({"period": table["month"], "mrr": table["mrr"].astype(float)})
    for column in MOVEMENTS:
        out[column] = table["amount"].where(table["movement"] == column, 0).astype(float)
    return out


@pytest.mark.parametrize("customer", list(HAND))
def test_customer_months_worked_out_by_hand(periods: Workspace, customer: str) -> None:
    want = _hand_table(HAND[customer])
    got = figures(periods, where=f"account_id = '{customer}'")
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_hand_worked_customers_cover_every_movement() -> None:
    seen = set().union(*(set(_hand_table(text).drop(columns=["period", "mrr"]).pipe(lambda t: t.columns[(t > 0).any()]))
                         for text in HAND.values()))
    assert seen == set(MOVEMENTS)


def test_periods_reconcile_every_month_and_quarter(periods: Workspace, dataset: Dataset) -> None:
    monthly = figures(periods)
    # every month of the file: its first period starts 2017-09, its last ends 2020-02-01 (so 2020-02 sees the churn)
    assert monthly["period"].iloc[0] == "2017-09" and monthly["period"].iloc[-1] == "2020-02"
    assert assert_reconciles(monthly) == 30
    assert monthly["mrr"].iloc[-1] == 0  # every period in the file has ended
    assert assert_reconciles(figures(periods, grain="quarter")) == 11  # a quarter's flows add up the same way
    # the total MRR per month equals a plain reading of the file: rows whose [start, end) holds the month's last day
    raw = read_periods(dataset)
    start, end = pd.to_datetime(raw["start_date"]), pd.to_datetime(raw["end_date"])
    for period, mrr in zip(monthly["period"], monthly["mrr"], strict=True):
        last_day = pd.Period(period, "M").to_timestamp(how="end").normalize()
        assert mrr == raw["monthly_amount"].astype(float)[(start <= last_day) & (last_day < end)].sum(), period


# Net and gross revenue retention over twelve months, by hand. Paying on 2018-11-30 (rows active
# that day) and what the same customers pay on 2019-11-30:
#   customer  2018-11 (row)   2019-11 (row)    min
#   1         50 (1)            0 (ended 2019-08)  0
#   5         50 (7)           25 (12)            25
#   6         65 (15)          65 (15)            65
#   7         70 (17)          70 (17, to 2019-12-01)  70
#   9         75 (21)          75 (21)            75
#   10        25 (24)          25 (28)            25
#   11        50 (31)          50 (31)            50
#   12        50 (33)          50 (33)            50
#   17        25 (48)         100 (54)            25
#   18        90 (56)          50 (57)            50
#   21        25 (62)          50 (63)            25
#   total    575              560                460     NRR 560/575, GRR 460/575 = 0.8
# On 2018-12-31 (add customer 22 at 25, row 64; 1 still at 50; 5 now 25, row 8; 17 now 50, row 49;
# 18 and 21 at 50) → 585; on 2019-12-31 only 5 (40, row 13), 6 (65), 9 (75), 10 (35, row 29), 11 (50),
# 12 (50) and 17 (95, row 55) still pay → 410; capped at 2018-12: 25 + 65 + 75 + 25 + 50 + 50 + 50 = 340.
HAND_RETENTION = {
    "2019-11": (560 / 575, 460 / 575),
    "2019-12": (410 / 585, 340 / 585),
}


@pytest.mark.parametrize("month", list(HAND_RETENTION))
def test_retention_worked_out_by_hand(periods: Workspace, month: str) -> None:
    nrr, grr = HAND_RETENTION[month]
    for name, want in (("net_revenue_retention", nrr), ("gross_revenue_retention", grr)):
        got = metric(periods, name).set_index("period")["value"]
        assert got[month] == pytest.approx(want, rel=1e-12), name
    # a quarter's retention is its last month's
    quarter = metric(periods, "net_revenue_retention", grain="quarter").set_index("period")["value"]
    assert quarter["2019-Q4"] == pytest.approx(410 / 585, rel=1e-12)


def test_retention_needs_a_customer_twelve_months_earlier(periods: Workspace) -> None:
    nrr = metric(periods, "net_revenue_retention").set_index("period")["value"]
    # the file's first customers pay from 2017-09: no cohort before 2018-09
    assert nrr[nrr.index < "2018-09"].isna().all()
    # 2018-09's cohort is 2017-09's customers 2 (25) and 3 (50), both gone a year later
    assert nrr["2018-09"] == 0


def test_periods_movements_and_logo_churn_equal_an_independent_computation(
        periods: Workspace, dataset: Dataset) -> None:
    """The whole file, every customer and month, against the loops used for ravenstack below."""
    raw = read_periods(dataset)
    got = figures(periods)
    by_month = independent_months(raw["customer_id"], raw["start_date"], raw["end_date"],
                                  raw["monthly_amount"].astype(float), list(got["period"]))
    expected = independent_movements(by_month)
    pd.testing.assert_frame_equal(got, expected[got.columns], check_dtype=False)
    logo = metric(periods, "logo_churn").set_index("period")["value"]
    want = (expected["stopped"] / expected["at_start"].where(expected["at_start"] > 0)).set_axis(expected["period"])
    pd.testing.assert_series_equal(logo, want, check_names=False, check_index_type=False)
    # e.g. December 2019: of the 42 customers paying on November 30, 17 have nothing active on December 31
    # (7, 8, 18, 20, 21, 28, 29, 30, 33, 35, 38, 39, 42, 43, 47, 48, 49: their last periods end 2019-12-01)
    assert (expected.set_index("period").loc["2019-12", ["stopped", "at_start"]] == [17, 42]).all()
    assert logo["2019-12"] == 17 / 42


# -- ravenstack, against an independent computation ------------------------------------------------

def independent_months(accounts: pd.Series, starts: pd.Series, ends: pd.Series, amounts: pd.Series,
                       months: list[str]) -> ByMonth:
    """{month: {account: MRR on the month's last day}}, by looping over subscription rows, in exact decimals."""
    last_days = [pd.Period(m, "M").to_timestamp(how="end").normalize() for m in months]  # ascending
    out: ByMonth = {m: {} for m in months}
    rows = zip(accounts.tolist(), starts.tolist(), ends.tolist(), amounts.tolist(), strict=True)
    for account, start_date, end_date, amount in rows:
        paid = Decimal(str(amount))
        if paid == 0:
            continue
        # active on a month's last day when start ≤ that day < end (empty end: still paying)
        first = bisect.bisect_left(last_days, pd.Timestamp(start_date))
        stop = len(last_days) if pd.isna(end_date) else bisect.bisect_left(last_days, pd.Timestamp(end_date))
        for month in months[first:stop]:
            out[month][account] = out[month].get(account, Decimal(0)) + paid
    return out


def independent_movements(by_month: ByMonth) -> pd.DataFrame:
    """Per month: MRR, the five movements, paying customers at start and customers who stopped paying."""
    rows: list[dict[str, object]] = []
    previous: dict[str, Decimal] = {}
    ever: set[str] = set()
    zero = Decimal(0)
    for month, now in by_month.items():
        moved = dict.fromkeys(MOVEMENTS, zero)
        stopped = 0
        for account in set(previous) | set(now):
            before, after = previous.get(account, zero), now.get(account, zero)
            if before == 0:
                moved["reactivation" if account in ever else "new"] += after
            elif after == 0:
                moved["churned"] += before
                stopped += 1
            elif after > before:
                moved["expansion"] += after - before
            else:
                moved["contraction"] += before - after
        money = {"mrr": sum(now.values(), zero), **moved}
        rows.append({"period": month, **{k: float(v) for k, v in money.items()}, "at_start": len(previous),
                     "stopped": stopped})
        ever |= set(now)
        previous = now
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def raven_figures(raven: Workspace) -> pd.DataFrame:
    return figures(raven)


@pytest.fixture(scope="module")
def raven_expected(raven_files: tuple[pd.DataFrame, pd.DataFrame], raven_figures: pd.DataFrame
                   ) -> Expected:
    subs = raven_files[1]
    by_month = independent_months(subs["account_id"], subs["start_date"], subs["end_date"], ravenstack_paid(subs),
                                  list(raven_figures["period"]))
    return independent_movements(by_month), by_month


def test_ravenstack_reconciles_every_month(raven: Workspace, raven_figures: pd.DataFrame) -> None:
    # from the first subscription (2023-01-09) to this month (open subscriptions are still paying)
    assert raven_figures["period"].iloc[0] == "2023-01"
    assert raven_figures["period"].iloc[-1] == date.today().strftime("%Y-%m")
    assert assert_reconciles(raven_figures) >= 24


def test_ravenstack_mrr_and_movements_equal_an_independent_computation(
        raven_figures: pd.DataFrame, raven_expected: Expected) -> None:
    expected, _ = raven_expected
    pd.testing.assert_frame_equal(raven_figures, expected[raven_figures.columns], check_dtype=False)
    # the company really moves: every kind of movement happens
    assert (raven_figures[list(MOVEMENTS)].sum() > 0).all()


@pytest.mark.parametrize("month", ["2024-01", "2024-06", "2024-09", "2024-12"])
def test_ravenstack_retention_equals_an_independent_computation(
        raven: Workspace, raven_expected: Expected, month: str) -> None:
    _, by_month = raven_expected
    then = by_month[str(pd.Period(month, "M") - 12)]
    now = by_month[month]
    zero = Decimal(0)
    base = sum(then.values(), zero)
    nrr = float(sum((now.get(a, zero) for a in then), zero) / base)
    grr = float(sum((min(now.get(a, zero), v) for a, v in then.items()), zero) / base)
    got = {name: metric(raven, name).set_index("period")["value"][month]
           for name in ("net_revenue_retention", "gross_revenue_retention")}
    assert got["net_revenue_retention"] == pytest.approx(nrr, rel=1e-12)
    assert got["gross_revenue_retention"] == pytest.approx(grr, rel=1e-12)
    assert 0 < grr <= 1 and grr <= nrr


def test_ravenstack_logo_churn_equals_an_independent_computation(
        raven: Workspace, raven_expected: Expected) -> None:
    expected, _ = raven_expected
    got = metric(raven, "logo_churn").set_index("period")["value"]
    want = (expected["stopped"] / expected["at_start"].where(expected["at_start"] > 0)).set_axis(expected["period"])
    pd.testing.assert_series_equal(got, want, check_names=False, check_index_type=False)
    customers = metric(raven, "customers").set_index("period")["value"]
    stopped = metric(raven, "churned_customers").set_index("period")["value"]
    assert customers.reindex(want.index).tolist() == [len(by) for by in raven_expected[1].values()]
    assert stopped.sum() == expected["stopped"].sum() > 0


def test_ravenstack_trials_carry_no_mrr(raven_files: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """Trials are not revenue. In this file no trial carries MRR, so the rule changes no figure here.

    Every account also has a paid subscription, so no account is a trial alone; what a trial
    before a paid plan does is tested on its own below.
    """
    accounts, subs = raven_files
    trials = subs[subs["is_trial"] == "TRUE"]
    assert len(trials) == 778 and (trials["mrr_amount"].astype(int) == 0).all()
    assert (ravenstack_paid(subs) == subs["mrr_amount"].astype(int)).all()
    assert set(subs.loc[subs["is_trial"] == "FALSE", "account_id"]) == set(accounts["account_id"])


def test_ravenstack_end_dates(raven_files: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """The facts behind reading end_date as exclusive (the loader, and examples/ravenstack.mapping.yml)."""
    _, subs = raven_files
    start, end = pd.to_datetime(subs["start_date"]), pd.to_datetime(subs["end_date"])
    ended = subs.assign(start=start, end=end)[end.notna()]
    starts = set(zip(subs["account_id"], start, strict=True))
    handed_over_on = sum((a, e) in starts for a, e in zip(ended["account_id"], ended["end"], strict=True))
    handed_over_after = sum((a, e + pd.Timedelta(days=1)) in starts
                            for a, e in zip(ended["account_id"], ended["end"], strict=True))
    assert (handed_over_on, handed_over_after) == (44, 20)
    assert (ended["end"] == ended["start"]).sum() == 13  # cancelled the day they started
    assert ended["end"].dt.is_month_end.sum() == 31  # the only rows where the reading changes a figure
    assert len(ended) == (subs["churn_flag"] == "TRUE").sum() == 486


def test_the_mapping_loads_ravenstack_as_these_tests_read_it(
        tmp_path_factory: pytest.TempPathFactory, dataset: Dataset, raven: Workspace, raven_figures: pd.DataFrame
) -> None:
    ws = _new_workspace(tmp_path_factory, "ravenstack-mapped")
    try:
        prepared = ws.ingest(dataset("ravenstack-saas"), "csv", mapping=RAVENSTACK_MAPPING)
        assert (prepared.loaded, prepared.quarantined) == (5_500, 0)
        assert len(prepared.skipped) == 3  # churn events, feature usage, support tickets
        # the same MRR and churn, plan by plan, every month, as the rows these tests build
        for name in ("mrr", "churned_mrr"):
            pd.testing.assert_frame_equal(metric(ws, name, by=("plan",)), metric(raven, name, by=("plan",)))
        parts = metric(ws, "mrr", by=("industry",))
        assert set(parts["industry"]) == {"DevTools", "EdTech", "FinTech", "HealthTech", "Cybersecurity"}
        total = raven_figures.set_index("period")["mrr"]
        pd.testing.assert_series_equal(parts.groupby("period")["value"].sum(), total, check_names=False)
    finally:
        ws.close()


# -- the demo company ------------------------------------------------------------------------------

@pytest.mark.slow  # the demo company is built once per session (conftest's demo_workspace)
def test_demo_reconciles_every_month_and_equals_an_independent_computation(demo_workspace: Workspace) -> None:
    """Northwind's MRR is in cents: every month reconciles to the cent, and equals the loops above."""
    got = figures(demo_workspace)
    assert assert_reconciles(got) >= 36
    subs = demo_workspace.table("subscriptions").to_pandas()
    by_month = independent_months(subs["account_id"], subs["started_at"], subs["ended_at"], subs["mrr"],
                                  list(got["period"]))
    expected = independent_movements(by_month)
    assert got["period"].iloc[0] == pd.Timestamp(subs["started_at"].min()).strftime("%Y-%m")
    pd.testing.assert_frame_equal(got, expected[got.columns], check_dtype=False)
    assert (got[list(MOVEMENTS)].sum() > 0).all()  # every kind of movement happens


# Small cases, one workspace: each account is one case, read with where="account_id IN (…)". Months
# run to the workspace's last one (2024-05, when the trial case's paid plan ends).
CASES = pd.DataFrame([
    # a free trial (MRR 0) from 2024-01-10, then a paid plan from 2024-02-10 until 2024-05-01
    ("t", "trial", "0", "2024-01-10", "2024-02-10"),
    ("p", "trial", "300", "2024-02-10", "2024-05-01"),
    # periods ending on a month's last day and on the next month's 1st
    ("x", "month_end", "100", "2024-01-31", "2024-03-31"),
    ("y", "next_first", "100", "2024-01-15", "2024-04-01"),
    # amounts in cents
    ("c1", "cents_a", "0.10", "2024-01-01", "2024-04-01"),
    ("c2", "cents_a", "0.20", "2024-01-01", "2024-03-01"),
    ("c3", "cents_b", "0.70", "2024-01-01", "2024-02-01"),
], columns=["subscription_id", "account_id", "mrr", "started_at", "ended_at"])


@pytest.fixture(scope="module")
def cases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = _new_workspace(tmp_path_factory, "cases")
    _load(ws, {"subscriptions": CASES})
    yield ws
    ws.close()


def values(ws: Workspace, name: str, accounts: tuple[str, ...]) -> dict[str, float]:
    where = f"account_id IN ({', '.join(repr(a) for a in accounts)})"
    return dict(zip(*metric(ws, name, where=where)[["period", "value"]].T.values, strict=True))


def test_a_trial_before_paying_is_not_a_customer(cases: Workspace) -> None:
    """A free trial (MRR 0) then a paid plan: the first paid month is new MRR, not a reactivation."""
    trial = ("trial",)
    # the trial's month (2024-01) is not there at all: the customer starts paying in February
    assert values(cases, "mrr", trial) == {"2024-02": 300, "2024-03": 300, "2024-04": 300, "2024-05": 0}
    assert values(cases, "new_mrr", trial) == {"2024-02": 300}
    assert values(cases, "reactivation_mrr", trial) == {}
    assert values(cases, "churned_mrr", trial) == {"2024-05": 300}
    assert values(cases, "customers", trial) == {"2024-02": 1, "2024-03": 1, "2024-04": 1, "2024-05": 0}


def test_a_period_ending_on_a_month_end_is_not_billed_that_month(cases: Workspace) -> None:
    """ended_at is the first day no longer billed, and MRR is measured on the month's last day."""
    # ended_at 2024-03-31: billed through 2024-03-30, so not on March's last day
    assert values(cases, "mrr", ("month_end",)) == {"2024-01": 100, "2024-02": 100, "2024-03": 0, "2024-04": 0,
                                                    "2024-05": 0}
    assert values(cases, "churned_mrr", ("month_end",)) == {"2024-03": 100}
    # ended_at 2024-04-01: billed on March 31
    assert values(cases, "churned_mrr", ("next_first",)) == {"2024-04": 100}


def test_mrr_adds_up_in_exact_cents(cases: Workspace) -> None:
    """MRR is money: 0.10 + 0.20 + 0.70 is 1.00, not the 1.0000000000000002 of adding floats."""
    both = ("cents_a", "cents_b")
    assert values(cases, "mrr", both) == {"2024-01": 1.0, "2024-02": 0.3, "2024-03": 0.1, "2024-04": 0.0,
                                          "2024-05": 0.0}
    assert values(cases, "churned_mrr", both) == {"2024-02": 0.7, "2024-04": 0.1}
    assert values(cases, "contraction_mrr", both) == {"2024-03": 0.2}
    assert values(cases, "arr", both) == {"2024-01": 12.0, "2024-02": 3.6, "2024-03": 1.2, "2024-04": 0.0,
                                          "2024-05": 0.0}


# -- grain and dimensions --------------------------------------------------------------------------

REVENUE_METRICS = ["mrr", "arr", "customers", "new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr",
                   "churned_mrr", "net_new_mrr", "churned_customers", "net_revenue_retention",
                   "gross_revenue_retention", "logo_churn"]


@pytest.mark.parametrize("grain", ["week", "day"])
@pytest.mark.parametrize("name", REVENUE_METRICS)
def test_revenue_metrics_refuse_week_and_day(periods: Workspace, name: str, grain: str) -> None:
    """MRR is measured on a month's last day: a week or a day has no MRR of its own, so Cadence says so."""
    with pytest.raises(DimensionError) as caught:
        metric(periods, name, grain=grain)
    assert str(caught.value) == f"{name} is measured monthly — use --grain month, quarter or year"


def test_cut_by_segment_adds_up_to_the_total(raven: Workspace) -> None:
    total = figures(raven).set_index("period")
    cut = figures(raven, by=("segment",))
    assert set(cut["segment"]) == {"enterprise", "mid_market", "smb"}
    summed = cut.drop(columns="segment").groupby("period").sum()
    pd.testing.assert_frame_equal(summed, total, check_dtype=False)
    # a segment's customers never leave it, so each segment reconciles on its own
    for _, part in cut.groupby("segment"):
        assert_reconciles(part.reset_index(drop=True))
    # a stock by quarter: each segment's value on the quarter's last month, also when cut
    whole = metric(raven, "mrr", grain="quarter").set_index("period")["value"]
    parts = metric(raven, "mrr", grain="quarter", by=("segment",)).groupby("period")["value"].sum()
    pd.testing.assert_series_equal(parts, whole, check_names=False)
    assert (whole.loc["2024-Q4"], whole.loc["2024-Q3"]) == (total.loc["2024-12", "mrr"], total.loc["2024-09", "mrr"])


def test_segment_mrr_equals_an_independent_computation(
        raven: Workspace, raven_files: tuple[pd.DataFrame, pd.DataFrame],
        raven_expected: Expected) -> None:
    accounts, _ = raven_files
    segment_of = dict(zip(accounts["account_id"], accounts["seats"].astype(int).map(ravenstack_segment), strict=True))
    got = metric(raven, "mrr", by=("segment",)).set_index(["period", "segment"])["value"]
    for month in ("2023-06", "2024-06", "2024-12"):
        want: dict[str, float] = {}
        for account, mrr in raven_expected[1][month].items():
            want[segment_of[account]] = want.get(segment_of[account], 0.0) + float(mrr)
        assert {s: got[(month, s)] for s in want} == want


def test_cut_by_plan_keeps_churn_on_the_plan_left(raven: Workspace, raven_figures: pd.DataFrame) -> None:
    total = raven_figures.set_index("period")
    for name, column in (("mrr", "mrr"), ("churned_mrr", "churned")):
        cut = metric(raven, name, by=("plan",))
        summed = cut.groupby("period")["value"].sum()
        pd.testing.assert_series_equal(summed, total[column].loc[summed.index], check_names=False)
        # every ravenstack subscription has a plan, trials included: nothing lands on an unknown plan,
        # not even the MRR of customers who stopped paying (counted on the plan they left)
        unknown = cut[cut["plan"].isna()]
        assert (unknown["value"] == 0).all(), unknown[unknown["value"] != 0]
        if name == "mrr":
            assert set(cut["plan"].dropna()) == {"Basic", "Pro", "Enterprise"}
