"""Deals in four currencies: every money figure converted before it is added, or refused.

A Salesforce org's Data Loader export — Opportunity, CurrencyType and DatedConversionRate, with the
real field names — holds deals in USD (the corporate currency), MXN, COP and PEN. MXN and COP have
dated rates that change at each quarter (Salesforce's first StartDate is 0001-01-01 and the last
NextStartDate 9999-12-31); PEN has only a static rate. Every expected figure below is worked out by
hand in the DEALS table (amount ÷ the rate in force on the close date, written out per deal) and
cross-checked with a plain pandas `merge_asof` over the same CSV text.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.workspace import Workspace
from tests.ingest_helpers import write_csv

CADENCE = [sys.executable, "-m", "cadence.cli"]

# id, currency, amount, stage, close date, rate in force that day (units per USD), value in USD
DEALS = [
    ("006A00000000001AAA", "USD", 10_000, "Ganada", "2023-02-15", 1.0, 10_000),
    ("006A00000000002AAA", "MXN", 200_000, "Ganada", "2023-03-31", 20.0, 10_000),  # last day of Q1: Q1's rate
    ("006A00000000003AAA", "COP", 50_000_000, "Ganada", "2023-01-10", 5000.0, 10_000),
    ("006A00000000004AAA", "MXN", 180_000, "Ganada", "2023-04-01", 18.0, 10_000),  # first day of Q2: Q2's rate
    ("006A00000000005AAA", "PEN", 40_000, "Ganada", "2023-05-05", 4.0, 10_000),  # PEN: static rate only
    ("006A00000000006AAA", "COP", 20_000_000, "Ganada", "2023-06-30", 4000.0, 5_000),
    ("006A00000000007AAA", "USD", 7_500, "Ganada", "2023-08-01", 1.0, 7_500),
    ("006A00000000008AAA", "MXN", 85_000, "Ganada", "2023-09-15", 17.0, 5_000),
    ("006A00000000009AAA", "COP", 8_000_000, "Ganada", "2023-11-20", 3200.0, 2_500),
    ("006A00000000010AAA", "MXN", 32_000, "Ganada", "2023-12-29", 16.0, 2_000),
    ("006A00000000011AAA", "COP", 1_000_000, "Perdida", "2023-02-01", 5000.0, 200),
    ("006A00000000012AAA", "USD", 3_000, "Perdida", "2023-05-01", 1.0, 3_000),
    ("006A00000000013AAA", "MXN", 51_000, "Perdida", "2023-08-10", 17.0, 3_000),
    ("006A00000000014AAA", "PEN", 8_000, "Perdida", "2023-11-01", 4.0, 2_000),
    # open deals convert at the latest rate (MXN 16, COP 3200), PEN at its static rate
    ("006A00000000015AAA", "MXN", 160_000, "Propuesta", "2024-02-15", 16.0, 10_000),
    ("006A00000000016AAA", "COP", 32_000_000, "Propuesta", "2024-03-10", 3200.0, 10_000),
    ("006A00000000017AAA", "PEN", 20_000, "Propuesta", "2024-05-01", 4.0, 5_000),
    ("006A00000000018AAA", "USD", 2_500, "Propuesta", "2024-02-28", 1.0, 2_500),
]
BOOKINGS_USD = {"2023-Q1": 30_000, "2023-Q2": 25_000, "2023-Q3": 12_500, "2023-Q4": 4_500}
OPEN_PIPELINE_USD = {"2024-Q1": 22_500, "2024-Q2": 5_000}
EUR_PER_USD = {"2023-Q1": 0.95, "2023-Q2": 0.95, "2023-Q3": 0.90, "2023-Q4": 0.90}  # EUR's dated rates
WIN_RATE = {"2023-Q1": 3 / 4, "2023-Q2": 3 / 4, "2023-Q3": 2 / 3, "2023-Q4": 2 / 3}

DATED_RATES = """Id,IsoCode,ConversionRate,StartDate,NextStartDate
04w000000000001AAA,MXN,20.0,0001-01-01,2023-04-01
04w000000000002AAA,MXN,18.0,2023-04-01,2023-07-01
04w000000000003AAA,MXN,17.0,2023-07-01,2023-10-01
04w000000000004AAA,MXN,16.0,2023-10-01,9999-12-31
04w000000000005AAA,COP,5000,0001-01-01,2023-04-01
04w000000000006AAA,COP,4000,2023-04-01,2023-10-01
04w000000000007AAA,COP,3200,2023-10-01,9999-12-31
04w000000000008AAA,EUR,0.95,0001-01-01,2023-07-01
04w000000000009AAA,EUR,0.90,2023-07-01,9999-12-31
"""
CURRENCY_TYPES = """Id,IsoCode,ConversionRate,DecimalPlaces,IsActive,IsCorporate
01L000000000001AAA,USD,1.0,2,true,true
01L000000000002AAA,MXN,17.3,2,true,false
01L000000000003AAA,COP,3950,0,true,false
01L000000000004AAA,PEN,4.0,2,true,false
01L000000000005AAA,EUR,0.92,2,false,false
"""
STAGES = {"Propuesta": (1, 50, False, False), "Ganada": (2, 100, True, True), "Perdida": (3, 0, True, False)}
HEADER = ["Id", "AccountId", "OwnerId", "Name", "StageName", "StageSortOrder", "Amount", "CurrencyIsoCode",
          "Probability", "CloseDate", "CreatedDate", "LastStageChangeDate", "IsClosed", "IsWon", "IsDeleted"]


def write_opportunities(folder: Path) -> Path:
    rows = []
    for n, (opp, currency, amount, stage, close, _, _) in enumerate(DEALS):
        order, probability, closed, won = STAGES[stage]
        rows.append([opp, f"001A0000000000{n % 3}AAA", "005A00000000001AAA", f"Trato {n + 1}", stage, str(order),
                     f"{amount:.2f}", currency, str(probability), f"{close} 00:00:00", "2022-12-01T15:00:00.000Z",
                     f"{close}T18:00:00.000Z" if closed else "2022-12-01T15:00:00.000Z",
                     str(closed).lower(), str(won).lower(), "false"])
    return write_csv(folder / "Opportunity.csv", HEADER, rows)


def write_rates(folder: Path, *, corporate: str = "USD") -> None:
    """DatedConversionRate.csv and CurrencyType.csv; `corporate` is the currency flagged IsCorporate."""
    (folder / "DatedConversionRate.csv").write_text(DATED_RATES, encoding="utf-8")
    header, *lines = CURRENCY_TYPES.splitlines()
    flagged = [f"{line.rsplit(',', 1)[0]},{str(line.split(',')[1] == corporate).lower()}" for line in lines]
    (folder / "CurrencyType.csv").write_text("\n".join([header, *flagged]) + "\n", encoding="utf-8")


def cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    return subprocess.run([*CADENCE, "-w", str(root), *args], capture_output=True, text=True, env=env, timeout=300)


def cli_json(root: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = cli(root, *args, "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert result.stdout.strip() == ""
    return lines[0]


def by_period(frame: pd.DataFrame) -> dict[str, float]:
    return {str(p): float(v) for p, v in zip(frame["period"], frame["value"], strict=True)}


@pytest.fixture
def org(any_workspace: Workspace, tmp_path: Path) -> Workspace:
    """The org imported with its rates (`--from salesforce` reads all three files of the folder)."""
    folder = tmp_path / "export"
    folder.mkdir()
    write_opportunities(folder)
    write_rates(folder)
    summary = any_workspace.ingest(folder, "salesforce").summary()
    assert summary["tables"]["exchange_rates"] == {"loaded": 14, "quarantined": 0}
    return any_workspace


# -- the rates and the hand-worked table agree with each other ---------------------------------


def test_the_hand_worked_rates_are_the_rates_in_force_on_each_close_date() -> None:
    """The same table again, by a plain as-of merge of the CSV text: rates per close day, static for PEN."""
    dated = pd.read_csv(io.StringIO(DATED_RATES))
    dated["StartDate"] = pd.to_datetime(dated["StartDate"].replace("0001-01-01", "1900-01-01"))
    static = pd.read_csv(io.StringIO(CURRENCY_TYPES)).set_index("IsoCode")["ConversionRate"]
    deals = pd.DataFrame(DEALS, columns=["id", "currency", "amount", "stage", "close", "rate", "usd"])
    deals["day"] = pd.to_datetime(deals["close"]).where(deals["stage"] != "Propuesta", pd.Timestamp("2100-01-01"))
    merged = pd.merge_asof(deals.sort_values("day"), dated.sort_values("StartDate"), left_on="day",
                           right_on="StartDate", left_by="currency", right_by="IsoCode")
    merged["used"] = merged["ConversionRate"].fillna(merged["currency"].map(static))
    assert merged.set_index("id")["used"].to_dict() == pytest.approx(deals.set_index("id")["rate"].to_dict())
    assert (deals["amount"] / deals["rate"]).tolist() == pytest.approx(deals["usd"].tolist())
    won = deals[deals["stage"] == "Ganada"]
    quarters = pd.to_datetime(won["close"]).dt.to_period("Q").astype(str).str.replace("Q", "-Q")
    assert won.groupby(quarters)["usd"].sum().to_dict() == pytest.approx(BOOKINGS_USD)


# -- figures in the warehouse, on DuckDB and PostgreSQL -----------------------------------------


def test_bookings_per_quarter_convert_each_deal_at_its_close_date_rate(org: Workspace) -> None:
    assert by_period(org.metric("bookings", grain="quarter")) == pytest.approx(BOOKINGS_USD)
    result = org.metric_result("bookings", grain="quarter")
    assert result.as_dict()["currency"] == "USD"


def test_open_pipeline_converts_at_the_latest_rate_and_static_where_no_dated_one(org: Workspace) -> None:
    assert by_period(org.metric("open_pipeline", grain="quarter")) == pytest.approx(OPEN_PIPELINE_USD)


def test_other_money_metrics_add_converted_amounts(org: Workspace) -> None:
    won = [d for d in DEALS if d[3] == "Ganada"]
    year = org.metric("average_deal_size", grain="year")
    assert float(year["value"].iloc[0]) == pytest.approx(sum(d[6] for d in won) / len(won))
    closed = [d for d in DEALS if d[3] != "Propuesta"]
    rate = org.metric("win_rate_amount", grain="year")
    assert float(rate["value"].iloc[0]) == pytest.approx(sum(d[6] for d in won) / sum(d[6] for d in closed))
    created = org.metric("pipeline_created", grain="year")  # all created 2022-12-01, each at its own rate
    assert float(created["value"].iloc[0]) == pytest.approx(sum(d[6] for d in DEALS))


def test_another_currency_converts_through_the_rates_of_the_same_day(org: Workspace) -> None:
    expected = {q: usd * EUR_PER_USD[q] for q, usd in BOOKINGS_USD.items()}
    result = org.metric_result("bookings", grain="quarter", currency="EUR")
    assert by_period(result.frame) == pytest.approx(expected)
    assert result.as_dict()["currency"] == "EUR"


def test_by_currency_sums_amounts_as_entered(org: Workspace) -> None:
    expected: dict[tuple[str, str], float] = defaultdict(float)
    for _, currency, amount, stage, close, _, _ in DEALS:
        if stage == "Ganada":
            expected[(f"{close[:4]}-Q{(int(close[5:7]) - 1) // 3 + 1}", currency)] += amount
    frame = org.metric("bookings", grain="quarter", by=["currency"])
    got = {(str(p), str(c)): float(v) for p, c, v in zip(frame["period"], frame["currency"], frame["value"],
                                                             strict=True)}
    assert got == pytest.approx(dict(expected))
    assert org.metric_result("bookings", grain="quarter", by=["currency"]).as_dict()["currency"] is None


def test_the_deals_relation_keeps_the_amount_as_entered_beside_its_rate(org: Workspace) -> None:
    from cadence.metrics.relations import deals

    rows = deals(org).select("opportunity_id", "currency", "amount", "rate", "amount_value").to_pandas()
    rows = rows.set_index("opportunity_id")
    for opp, currency, amount, _, _, rate, usd in DEALS:
        assert rows.loc[opp, "currency"] == currency
        assert float(rows.loc[opp, "amount"]) == pytest.approx(amount)
        assert float(rows.loc[opp, "rate"]) == pytest.approx(rate)
        assert float(rows.loc[opp, "amount_value"]) == pytest.approx(usd)


def test_explain_shows_the_rate_used_per_row(org: Workspace) -> None:
    from cadence.metrics.explain import explain_metric

    explained = explain_metric(org, "bookings", period="2023-Q2")
    assert explained.value == pytest.approx(BOOKINGS_USD["2023-Q2"])
    assert explained.currency == "USD"
    rows = {r["opportunity_id"]: r for r in explained.rows}
    expected = {d[0]: d for d in DEALS if d[3] == "Ganada" and "2023-04-01" <= d[4] < "2023-07-01"}
    assert set(rows) == set(expected)
    for opp, (_, currency, amount, _, close, rate, usd) in expected.items():
        assert (rows[opp]["currency"], float(rows[opp]["amount"])) == (currency, pytest.approx(amount))
        assert float(rows[opp]["rate"]) == pytest.approx(rate)
        assert float(rows[opp]["amount_value"]) == pytest.approx(usd)
        assert str(rows[opp]["rate_on"])[:10] == close


def test_counts_need_no_rates_and_money_is_refused_naming_the_currencies(any_workspace: Workspace,
                                                                          tmp_path: Path) -> None:
    from cadence.metrics.money import MissingRatesError

    write_opportunities(tmp_path)
    any_workspace.ingest(tmp_path / "Opportunity.csv", "salesforce")
    assert by_period(any_workspace.metric("win_rate", grain="quarter")) == pytest.approx(WIN_RATE)
    assert len(any_workspace.metric("won_deals", grain="quarter")) == 4
    with pytest.raises(MissingRatesError) as refused:
        any_workspace.metric("bookings", grain="quarter")
    # won deals needing a rate: MXN 2, 4, 8, 10; COP 3, 6, 9; PEN 5
    assert "MXN (4 deals), COP (3 deals), PEN (1 deal) to USD" in str(refused.value)
    assert "exchange_rates:" in str(refused.value)
    one_usd_quarter = any_workspace.metric("bookings", grain="quarter", where="currency = 'USD'")
    assert by_period(one_usd_quarter) == {"2023-Q1": 10_000.0, "2023-Q3": 7_500.0}


def test_cadence_yml_rates_convert_like_salesforce_ones(tmp_path: Path, any_workspace: Workspace) -> None:
    write_opportunities(tmp_path)
    with (any_workspace.root / "cadence.yml").open("a", encoding="utf-8") as config:
        config.write("\nexchange_rates:\n"
                     "  - {currency: MXN, rate: 20, from: 2023-01-01}\n"
                     "  - {currency: MXN, rate: 18, from: 2023-04-01}\n"
                     "  - {currency: MXN, rate: 17, from: 2023-07-01}\n"
                     "  - {currency: MXN, rate: 16, from: 2023-10-01}\n"
                     "  - {currency: COP, rate: 5000, from: 2022-01-01}\n"
                     "  - {currency: COP, rate: 4000, from: 2023-04-01}\n"
                     "  - {currency: COP, rate: 3200, from: 2023-10-01}\n"
                     "  - {currency: PEN, rate: 4}\n")
    ws = cadence.open(any_workspace.root)
    try:
        ws.ingest(tmp_path / "Opportunity.csv", "salesforce")
        assert by_period(ws.metric("bookings", grain="quarter")) == pytest.approx(BOOKINGS_USD)
        assert by_period(ws.metric("open_pipeline", grain="quarter")) == pytest.approx(OPEN_PIPELINE_USD)
        rates = ws.table("exchange_rates").to_pandas()
        assert set(rates["source"]) == {"cadence.yml"} and len(rates) == 8
    finally:
        ws.close()


def test_cadence_yml_rates_are_replaced_when_the_file_changes(workspace: Workspace) -> None:
    config = workspace.root / "cadence.yml"
    original = config.read_text(encoding="utf-8")
    config.write_text(original + "\nexchange_rates:\n  - {currency: MXN, rate: 20}\n", encoding="utf-8")
    cadence.open(workspace.root).close()
    config.write_text(original + "\nexchange_rates:\n  - {currency: COP, rate: 4000}\n", encoding="utf-8")
    ws = cadence.open(workspace.root)
    try:
        rates = ws.table("exchange_rates").to_pandas()
        assert rates[["currency", "rate"]].values.tolist() == [["COP", 4000.0]]
    finally:
        ws.close()


def test_rates_from_any_csv_through_the_example_mapping(tmp_path: Path, any_workspace: Workspace) -> None:
    write_opportunities(tmp_path)
    any_workspace.ingest(tmp_path / "Opportunity.csv", "salesforce")
    sheet = tmp_path / "exchange-rates-2023.csv"
    write_csv(sheet, ["Currency", "Units per USD", "From", "Until"], [
        ["MXN", "20", "2023-01-01", "2023-04-01"], ["MXN", "18", "2023-04-01", "2023-07-01"],
        ["MXN", "17", "2023-07-01", "2023-10-01"], ["MXN", "16", "2023-10-01", ""],
        ["COP", "5000", "2023-01-01", "2023-04-01"], ["COP", "4000", "2023-04-01", "2023-10-01"],
        ["COP", "3200", "2023-10-01", ""], ["PEN", "4", "", ""]])
    mapping = Path(__file__).resolve().parents[1] / "examples" / "exchange-rates.mapping.yml"
    summary = any_workspace.ingest(sheet, "csv", mapping=mapping).summary()
    assert summary["loaded"] == 8 and summary["quarantined"] == 0
    assert by_period(any_workspace.metric("bookings", grain="quarter")) == pytest.approx(BOOKINGS_USD)
    assert by_period(any_workspace.metric("open_pipeline", grain="quarter")) == pytest.approx(OPEN_PIPELINE_USD)


def test_rates_quoted_against_another_corporate_currency_are_refused(workspace: Workspace, tmp_path: Path) -> None:
    from cadence.errors import ConfigError

    write_rates(tmp_path, corporate="MXN")
    with pytest.raises(ConfigError) as refused:
        workspace.ingest(tmp_path, "salesforce")
    assert "MXN" in str(refused.value) and "currency: MXN" in str(refused.value)
    assert workspace.counts()["exchange_rates"] == 0


def test_salesforce_beginning_and_end_of_time_are_stored_as_comparable_days(org: Workspace) -> None:
    rates = org.table("exchange_rates").to_pandas()
    mxn = rates[rates["currency"] == "MXN"].sort_values("valid_from", na_position="first")
    assert mxn["valid_from"].isna().sum() == 1  # CurrencyType's static rate
    dated = mxn.dropna(subset=["valid_from"])
    assert str(dated["valid_from"].iloc[0])[:10] == "1900-01-01"
    assert pd.isna(dated["valid_to"].iloc[-1])
    corporate = rates[rates["is_corporate"].fillna(False).astype(bool)]
    assert corporate["currency"].tolist() == ["USD"]


def test_a_missing_rate_is_a_data_quality_error(any_workspace: Workspace, tmp_path: Path) -> None:
    from datetime import date

    from cadence.analysis.quality import check_data_quality

    write_opportunities(tmp_path)
    any_workspace.ingest(tmp_path / "Opportunity.csv", "salesforce")
    found = [f for f in check_data_quality(any_workspace, today=date(2024, 1, 1)) if f.check == "currency_without_rate"]
    assert len(found) == 1 and found[0].severity == "error"
    assert found[0].count == 14  # every deal not in USD
    assert "COP (5)" in found[0].message and "MXN (6)" in found[0].message and "PEN (3)" in found[0].message


# -- the command line ---------------------------------------------------------------------------


def test_the_command_line_converts_refuses_and_explains(any_workspace: Workspace, tmp_path: Path) -> None:
    root = any_workspace.root
    folder = tmp_path / "export"
    folder.mkdir()
    write_opportunities(folder)
    any_workspace.ingest(folder, "salesforce")
    any_workspace.close()  # the command line opens the warehouse itself

    refused = one_line_error(cli(root, "metric", "bookings", "--grain", "quarter", "--format", "json"))
    assert "COP (3 deals)" in refused and "MXN (4 deals)" in refused and "PEN (1 deal)" in refused
    assert cli_json(root, "metric", "win_rate", "--grain", "quarter")["rows"]
    check = cli(root, "check", "--format", "json")
    assert "COP" in check.stdout and "currency_without_rate" in check.stdout

    write_rates(folder)
    assert cli(root, "ingest", str(folder), "--from", "salesforce", "--no-prepare").returncode == 0
    data = cli_json(root, "metric", "bookings", "--grain", "quarter")
    assert data["currency"] == "USD"
    assert {r["period"]: r["value"] for r in data["rows"]} == pytest.approx(BOOKINGS_USD)
    euros = cli_json(root, "metric", "bookings", "--grain", "quarter", "--currency", "EUR")
    assert {r["period"]: r["value"] for r in euros["rows"]} == pytest.approx(
        {q: v * EUR_PER_USD[q] for q, v in BOOKINGS_USD.items()})
    table = cli(root, "metric", "bookings", "--grain", "quarter")
    assert "USD" in table.stdout and "$" not in table.stdout
    explained = cli_json(root, "explain", "bookings", "--period", "2023-Q1")
    cop = next(r for r in explained["rows"] if r["currency"] == "COP")
    assert [float(cop[k]) for k in ("amount", "rate", "amount_value")] == pytest.approx([50_000_000, 5000, 10_000])


# -- analyses add the same converted amounts -----------------------------------------------------


def test_forecast_history_converts_at_its_deals_rate(org: Workspace, tmp_path: Path) -> None:
    """A deal's history amounts (in its own currency) convert at the deal's rate: changes are the rep's."""
    from cadence.analysis.forecast.data import load_forecast_data

    history = [  # Id, OpportunityId, CreatedDate, StageName, Amount, CloseDate
        ["008A00000000001AAA", "006A00000000015AAA", "2023-01-05T10:00:00.000Z", "Propuesta", "150000", "2024-02-15"],
        ["008A00000000002AAA", "006A00000000015AAA", "2023-06-05T10:00:00.000Z", "Propuesta", "160000", "2024-02-15"],
        ["008A00000000003AAA", "006A00000000002AAA", "2023-01-05T10:00:00.000Z", "Propuesta", "200000", "2023-03-31"],
        ["008A00000000004AAA", "006A00000000002AAA", "2023-03-31T18:00:00.000Z", "Ganada", "200000", "2023-03-31"],
        ["008A00000000005AAA", "006A00000000001AAA", "2023-01-05T10:00:00.000Z", "Propuesta", "9000", "2023-02-15"],
    ]
    write_csv(tmp_path / "OpportunityHistory.csv", ["Id", "OpportunityId", "CreatedDate", "StageName", "Amount",
                                                    "CloseDate"], history)
    org.ingest(tmp_path / "OpportunityHistory.csv", "salesforce")
    data = load_forecast_data(org)
    spans = data.states.rows.select("opportunity_id", "changed_at", "amount").to_pandas()
    got = spans.set_index(["opportunity_id", pd.to_datetime(spans["changed_at"]).dt.strftime("%Y-%m-%d")])["amount"]
    assert got.to_dict() == pytest.approx({
        ("006A00000000015AAA", "2023-01-05"): 150_000 / 16, ("006A00000000015AAA", "2023-06-05"): 160_000 / 16,
        ("006A00000000002AAA", "2023-01-05"): 200_000 / 20, ("006A00000000002AAA", "2023-03-31"): 200_000 / 20,
        ("006A00000000001AAA", "2023-01-05"): 9_000})
    final = data.deals.set_index("opportunity_id")["final_amount"]
    assert final.to_dict() == pytest.approx({d[0]: d[6] for d in DEALS})


def test_incentives_and_roadmap_read_converted_amounts(org: Workspace) -> None:
    from cadence.analysis.incentives.data import won_deals
    from cadence.analysis.roadmap.data import _deals

    won = won_deals(org, org.calendar).set_index("opportunity_id")["amount"]
    assert won.to_dict() == pytest.approx({d[0]: d[6] for d in DEALS if d[3] == "Ganada"})
    values = _deals(org).set_index("opportunity_id")["amount_value"]
    assert values.to_dict() == pytest.approx({d[0]: d[6] for d in DEALS})


def test_analyses_refuse_or_say_why_without_rates(any_workspace: Workspace, tmp_path: Path) -> None:
    from cadence.analysis.incentives.data import won_deals
    from cadence.analysis.overview import company_overview
    from cadence.metrics.money import MissingRatesError

    write_opportunities(tmp_path)
    any_workspace.ingest(tmp_path / "Opportunity.csv", "salesforce")
    with pytest.raises(MissingRatesError, match="COP"):
        won_deals(any_workspace, any_workspace.calendar)
    overview = company_overview(any_workspace)  # counts stay; amounts are left out, saying why
    assert overview.opportunities == {"open": 4, "won": 10, "lost": 4}
    assert overview.open_pipeline is None and overview.bookings_by_fiscal_year == {}
    assert overview.money_note is not None and "PEN" in overview.money_note


def test_a_company_metric_adding_amounts_as_entered_is_refused_when_they_mix(workspace: Workspace,
                                                                              tmp_path: Path) -> None:
    from cadence.metrics.money import MixedCurrenciesError

    folder = tmp_path / "export"
    folder.mkdir()
    write_opportunities(folder)
    write_rates(folder)
    workspace.ingest(folder, "salesforce")
    with (workspace.root / "cadence.yml").open("a", encoding="utf-8") as config:
        config.write("\nmetrics:\n"
                     "  - {name: raw_won, time_column: closed_on, aggregate: sum, column: amount, where: is_won,"
                     " unit: currency}\n"
                     "  - {name: won_value, time_column: closed_on, aggregate: sum, column: amount_value,"
                     " where: is_won, unit: currency}\n")
    ws = cadence.open(workspace.root)
    try:
        with pytest.raises(MixedCurrenciesError, match="amount_value"):
            ws.metric("raw_won", grain="quarter")
        assert by_period(ws.metric("won_value", grain="quarter")) == pytest.approx(BOOKINGS_USD)
        usd_only = ws.metric("raw_won", grain="quarter", where="currency = 'USD'")
        assert by_period(usd_only) == {"2023-Q1": 10_000.0, "2023-Q3": 7_500.0}
    finally:
        ws.close()
