"""Recurring revenue in several currencies, and the scorecard in another currency.

A company billing in USD (its corporate currency), MXN and EUR exports its subscriptions from its
billing system (Stripe's column names, lower-case currency codes) and keeps dated rates in
cadence.yml that change at month starts — and, for EUR, once mid-April. Every figure expected below
is worked out by hand in the tables of this file: each subscription's MRR ÷ the rate in force on
the month's first day, rounded to the cent, and each movement compared at the later month's rate,
so the customer paying a constant 20,000 MXN shows no expansion or contraction while the peso moves.
The scorecard in EUR is checked against the USD figures × the EUR rate on the same days.
Everything runs on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cadence.metrics.money import MissingRatesError
from cadence.workspace import Workspace
from tests.ingest_helpers import reopened, write_csv

CADENCE = [sys.executable, "-m", "cadence.cli"]

# units per 1 USD, from each day to the currency's next `from` (cadence.yml's exchange_rates)
RATES = [
    {"currency": "MXN", "rate": 20.0, "from": "2024-01-01"},
    {"currency": "MXN", "rate": 18.0, "from": "2024-02-01"},
    {"currency": "MXN", "rate": 16.0, "from": "2024-03-01"},
    {"currency": "EUR", "rate": 0.8, "from": "2024-01-01"},
    {"currency": "EUR", "rate": 0.9, "from": "2024-03-01"},
    {"currency": "EUR", "rate": 0.85, "from": "2024-04-08"},  # mid-month: MRR keeps April 1's 0.9
]

# Stripe's subscription export: id, customer, plan, currency (lower case), MRR, start, end (first day not billed)
SUBSCRIPTIONS = [
    ["sub_1OaA1", "cus_Acme", "Pro", "usd", "1000.00", "2024-01-01", "2024-05-01"],
    ["sub_1OaA2", "cus_Acme", "Seats", "usd", "500.00", "2024-03-01", "2024-05-01"],
    ["sub_1OaB1", "cus_Bimbo", "Pro", "mxn", "20000.00", "2024-01-01", "2024-05-01"],  # constant in pesos
    ["sub_1OaC1", "cus_Cerveza", "Pro", "eur", "800.00", "2024-02-01", "2024-04-01"],
    ["sub_1OaC2", "cus_Cerveza", "Pro", "eur", "720.00", "2024-04-01", "2024-05-01"],  # pays less in euros
    ["sub_1OaD1", "cus_Dulces", "Team", "mxn", "36000.00", "2024-02-01", "2024-03-01"],
    ["sub_1OaD2", "cus_Dulces", "Team", "mxn", "48000.00", "2024-03-01", "2024-05-01"],  # more pesos, peso up too
]
MAPPING = """files:
  - file: subscriptions.csv
    table: subscriptions
    columns:
      subscription_id: id
      account_id: Customer ID
      plan: Plan
      currency: Currency
      mrr: MRR
      started_at: Start Date (UTC)
      ended_at: Ended At (UTC)
"""

# Each customer's MRR in USD per month, by hand: local ÷ the rate on the month's first day, to the cent.
#   Acme     USD 1,000; +500 from March                      rate 1
#   Bimbo    20,000 MXN ÷ 20 / 18 / 16 / 16                  1,000.00 / 1,111.11 / 1,250.00 / 1,250.00
#   Cerveza  800 EUR ÷ 0.8 (Feb), ÷ 0.9 (Mar); 720 ÷ 0.9     1,000.00 / 888.89 / 800.00
#   Dulces   36,000 MXN ÷ 18 (Feb); 48,000 ÷ 16 (Mar, Apr)   2,000.00 / 3,000.00 / 3,000.00
MRR_BY_CUSTOMER = {
    "2024-01": {"cus_Acme": 1000.00, "cus_Bimbo": 1000.00},
    "2024-02": {"cus_Acme": 1000.00, "cus_Bimbo": 1111.11, "cus_Cerveza": 1000.00, "cus_Dulces": 2000.00},
    "2024-03": {"cus_Acme": 1500.00, "cus_Bimbo": 1250.00, "cus_Cerveza": 888.89, "cus_Dulces": 3000.00},
    "2024-04": {"cus_Acme": 1500.00, "cus_Bimbo": 1250.00, "cus_Cerveza": 800.00, "cus_Dulces": 3000.00},
    "2024-05": {},
}
# Movements, each customer's month compared with the month before AT THIS MONTH'S RATE:
#   Mar  Acme +500 expansion; Dulces 48,000 − 36,000 = 12,000 MXN ÷ 16 = +750 expansion; Bimbo 0 (constant
#        pesos: no movement although 1,111.11 became 1,250.00); Cerveza 0 (constant euros)
#   Apr  Cerveza 720 − 800 = −80 EUR ÷ 0.9 = −88.89 contraction
#   May  everyone stops: churned at May 1's rates (EUR 0.85): 1,500 + 1,250 + 720 ÷ 0.85 = 847.06 + 3,000
# The currency effect is last month's MRR at this month's rates less at its own:
#   Feb  Bimbo 20,000 ÷ 18 − 20,000 ÷ 20 = 111.11
#   Mar  Bimbo 1,250 − 1,111.11 = 138.89; Cerveza 888.89 − 1,000 = −111.11; Dulces 36,000 ÷ 16 − 2,000 = 250
#   May  Cerveza 847.06 − 800 = 47.06
MONTHS = {  # month: MRR, new, expansion, contraction, churned, net new, currency effect
    "2024-01": (2000.00, 2000.00, 0, 0, 0, 2000.00, 0),
    "2024-02": (5111.11, 3000.00, 0, 0, 0, 3000.00, 111.11),
    "2024-03": (6638.89, 0, 1250.00, 0, 0, 1250.00, 277.78),
    "2024-04": (6550.00, 0, 0, 88.89, 0, -88.89, 0),
    "2024-05": (0, 0, 0, 0, 6597.06, -6597.06, 47.06),
}
METRICS = ("mrr", "new_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr", "net_new_mrr", "currency_effect_mrr")


def write_subscriptions(folder: Path) -> Path:
    write_csv(folder / "subscriptions.csv", ["id", "Customer ID", "Plan", "Currency", "MRR", "Start Date (UTC)",
                                             "Ended At (UTC)"], SUBSCRIPTIONS)
    mapping = folder.parent / "stripe.mapping.yml"
    mapping.write_text(MAPPING, encoding="utf-8")
    return mapping


def import_subscriptions(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "stripe"
    mapping = write_subscriptions(folder)
    summary = ws.ingest(folder, "csv", mapping=mapping).summary()
    assert summary["tables"]["subscriptions"] == {"loaded": len(SUBSCRIPTIONS), "quarantined": 0}


def monthly(ws: Workspace, name: str, currency: str | None = None) -> dict[str, float]:
    frame = ws.metric(name, grain="month", currency=currency)
    return {str(p): round(float(v), 2) for p, v in zip(frame["period"], frame["value"], strict=True)
            if not math.isnan(v)}


@pytest.fixture
def billing(any_workspace: Workspace, tmp_path: Path) -> Workspace:
    import_subscriptions(any_workspace, tmp_path)
    return any_workspace


# -- the hand-worked tables agree with each other -----------------------------------------------


def test_hand_worked_months_add_up() -> None:
    """MRR is the sum of the customers; MRR(start) + movements + currency effect = MRR(end), to the cent."""
    before = 0.0
    for month, (mrr, new, expansion, contraction, churned, net_new, effect) in MONTHS.items():
        assert round(sum(MRR_BY_CUSTOMER[month].values()), 2) == mrr
        assert round(new + expansion - contraction - churned, 2) == net_new
        assert round(before + net_new + effect, 2) == mrr
        before = mrr


# -- MRR converted, movements at constant rates ------------------------------------------------


def test_mrr_and_movements_per_month_worked_by_hand(billing: Workspace) -> None:
    with reopened(billing, exchange_rates=RATES) as ws:
        for column, metric in enumerate(METRICS):
            expected = {month: float(row[column]) for month, row in MONTHS.items() if row[column]}
            got = {m: v for m, v in monthly(ws, metric).items() if v}
            assert got == pytest.approx(expected, abs=0.005), metric
        result = ws.metric_result("mrr", grain="month")
        assert result.currency == "USD"


def test_a_constant_peso_subscription_never_expands_or_contracts(billing: Workspace) -> None:
    with reopened(billing, exchange_rates=RATES) as ws:
        rows = ws.table("subscriptions").to_pandas()
        assert set(rows.loc[rows["account_id"] == "cus_Bimbo", "currency"].str.upper()) == {"MXN"}
        from cadence.metrics.catalog import relation

        months = relation("mrr_months", ws).to_pandas()
        bimbo = months[months["account_id"] == "cus_Bimbo"].sort_values("month")
        assert list(bimbo["movement"]) == ["new", "none", "none", "none", "churned"]
        assert [round(float(v), 2) for v in bimbo["mrr"]] == [1000.00, 1111.11, 1250.00, 1250.00, 0.00]
        assert [round(float(v), 2) for v in bimbo["change"]] == [1000.00, 0.00, 0.00, 0.00, -1250.00]
        dulces = months[months["account_id"] == "cus_Dulces"].sort_values("month")
        assert list(dulces["movement"]) == ["new", "expansion", "none", "churned"]
        assert [round(float(v), 2) for v in dulces["change"]] == [2000.00, 750.00, 0.00, -3000.00]


def test_customer_counts_need_no_rate(billing: Workspace) -> None:
    """Without any rate, MRR is refused in one line naming currencies and subscriptions; counts still work."""
    with pytest.raises(MissingRatesError) as refused:
        billing.metric("mrr", grain="month")
    message = str(refused.value)
    assert "\n" not in message
    assert "MXN (3 subscriptions)" in message and "EUR (2 subscriptions)" in message and "to USD" in message
    for metric in ("arr", "new_mrr", "net_revenue_retention"):
        with pytest.raises(MissingRatesError):
            billing.metric(metric, grain="month")
    assert monthly(billing, "customers") == {"2024-01": 2, "2024-02": 4, "2024-03": 4, "2024-04": 4, "2024-05": 0}
    assert monthly(billing, "churned_customers") == {"2024-05": 4}


def test_cadence_check_names_subscriptions_without_a_rate(billing: Workspace) -> None:
    from datetime import date

    from cadence.analysis.quality import check_data_quality

    found = {f.check: f for f in check_data_quality(billing, today=date(2024, 5, 31))}
    finding = found["subscription_without_rate"]
    assert finding.severity == "error" and finding.count == 5
    assert "EUR (2)" in finding.message and "MXN (3)" in finding.message
    with reopened(billing, exchange_rates=RATES) as ws:
        assert "subscription_without_rate" not in {f.check for f in check_data_quality(ws, today=date(2024, 5, 31))}


def test_mrr_in_another_currency_and_its_cache(billing: Workspace) -> None:
    """In EUR each subscription converts at its currency's and EUR's rates of the month's first day;
    the USD figures asked for again afterwards come from their own cached copy."""
    with reopened(billing, exchange_rates=RATES) as ws:
        usd = monthly(ws, "mrr")
        eur = monthly(ws, "mrr", currency="EUR")
        eur_rate = {"2024-01": 0.8, "2024-02": 0.8, "2024-03": 0.9, "2024-04": 0.9}
        assert eur == pytest.approx({m: usd[m] * eur_rate[m] for m in eur_rate} | {"2024-05": 0}, abs=0.02)
        assert eur["2024-04"] == pytest.approx(1350 + 1125 + 720 + 2700)  # by hand, each subscription in EUR
        assert monthly(ws, "mrr") == usd
        with ws.reporting_in("EUR"):
            assert monthly(ws, "mrr") == eur
        with pytest.raises(MissingRatesError, match=r"no exchange rate for GBP \(7 subscriptions\) to GBP"):
            ws.metric("mrr", grain="month", currency="GBP")


# -- the scorecard in another currency ---------------------------------------------------------

OPPORTUNITY_HEADER = ["Id", "AccountId", "OwnerId", "Name", "StageName", "StageSortOrder", "Amount",
                      "CurrencyIsoCode", "Probability", "CloseDate", "CreatedDate", "IsClosed", "IsWon", "IsDeleted"]
# id, amount, currency, stage, close date; USD value and EUR rate that day (open deals: the latest, 0.85)
DEALS = [
    ("006A0000001", 10_000, "USD", "Ganada", "2024-04-02", 10_000, 0.90),
    ("006A0000002", 160_000, "MXN", "Ganada", "2024-04-10", 10_000, 0.85),
    ("006A0000003", 5_000, "USD", "Propuesta", "2024-06-15", 5_000, 0.85),
    ("006A0000004", 64_000, "MXN", "Propuesta", "2024-05-20", 4_000, 0.85),  # open: the latest MXN rate, 16
]
STAGES = {"Propuesta": ("1", "50", "false", "false"), "Ganada": ("2", "100", "true", "true")}


def write_deals(folder: Path) -> None:
    rows = [[opp, "001A000001", "005A000001", f"Trato {opp[-1]}", stage, STAGES[stage][0], f"{amount:.2f}", currency,
             STAGES[stage][1], f"{close} 00:00:00", "2024-03-01T15:00:00.000Z", STAGES[stage][2], STAGES[stage][3],
             "false"] for opp, amount, currency, stage, close, _, _ in DEALS]
    write_csv(folder / "Opportunity.csv", OPPORTUNITY_HEADER, rows)


def cli(root: Path, *args: str) -> dict:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    result = subprocess.run([*CADENCE, "-w", str(root), *args, "--format", "json"], capture_output=True, text=True,
                            env=env, timeout=300)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def figures(card: dict) -> dict[str, dict]:  # type: ignore[type-arg]
    return {f["label"]: f for s in card["sections"] for f in s["figures"]}


def test_scorecard_in_euros(billing: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "crm"
    write_deals(folder)
    billing.ingest(folder, "salesforce")
    mission = {"statement": "Recurring revenue", "metric": "mrr", "grain": "month", "target": 7_000}
    with reopened(billing, exchange_rates=RATES, mission=mission) as ws:
        root = ws.root
    billing.close()  # the command line opens the warehouse itself
    args = ("--today", "2024-04-15", "scorecard", "--week", "2024-W15")
    usd, eur = cli(root, *args), cli(root, *args, "--currency", "EUR")
    assert (usd["currency"], eur["currency"]) == ("USD", "EUR")
    dollars, euros = figures(usd), figures(eur)
    # bookings: 10,000 USD on Apr 2 (EUR 0.90) + 160,000 MXN ÷ 16 = 10,000 USD on Apr 10 (EUR 0.85)
    assert dollars["Bookings this quarter"]["value"] == pytest.approx(20_000)
    assert euros["Bookings this quarter"]["value"] == pytest.approx(10_000 * 0.90 + 10_000 * 0.85)
    # open pipeline due this quarter, at the latest rates: (5,000 + 64,000 ÷ 16) USD × 0.85
    assert dollars["Open pipeline due this quarter"]["value"] == pytest.approx(9_000)
    assert euros["Open pipeline due this quarter"]["value"] == pytest.approx(9_000 * 0.85)
    # MRR in April at April 1's rates (EUR 0.90), and the USD target converted at the same day's rate
    assert dollars["MRR"]["value"] == pytest.approx(6_550)
    assert euros["MRR"]["value"] == pytest.approx(6_550 * 0.90)
    assert (dollars["MRR"]["target"], euros["MRR"]["target"]) == pytest.approx((7_000, 7_000 * 0.90))
    assert dollars["MRR"]["status"] == euros["MRR"]["status"]


def test_scorecard_labels_name_the_currency(billing: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "crm"
    write_deals(folder)
    billing.ingest(folder, "salesforce")
    with reopened(billing, exchange_rates=RATES, mission={"statement": "ARR", "metric": "mrr"}) as ws:
        root = ws.root
    billing.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    html = tmp_path / "card.html"
    shown = subprocess.run([*CADENCE, "-w", str(root), "--today", "2024-04-15", "scorecard", "--week", "2024-W15",
                            "--currency", "eur", "--html", str(html)], capture_output=True, text=True, env=env,
                           timeout=300, check=True).stdout
    assert "17.5k EUR" in shown and "5.9k EUR" in shown and "$" not in shown
    page = html.read_text(encoding="utf-8")
    assert "amounts in EUR" in page and "17.5k EUR" in page and "MRR (EUR)" in page
