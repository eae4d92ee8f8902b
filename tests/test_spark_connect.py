"""`warehouse: sc://HOST:PORT`: Cadence on a real Spark Connect server, started on loopback from the pip package.

A small company, made by hand here — deals in dollars, euros (with dated rates) and reais, Portuguese stage
names and column headers, deals and accounts with no owner, stage history with a skipped stage and a move
back, subscriptions in three currencies — is created with `cadence init DIR --warehouse sc://…`, imported
through a mapping file, and its figures are compared with the same import on the embedded DuckDB and with
plain pandas over the rows written here: bookings converted deal by deal, the win rate, bookings by owner
(missing owners included), MRR month by month (the revenue grid), the stage funnel, and the scorecard's team
KPI section. An import that fails half way leaves every table, and the catalog, as they were.

`tests/test_spark_cluster.py` runs the same checks on a standalone cluster (`spark://HOST:PORT`).
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import cadence
from cadence.workspace import Workspace, init_workspace
from tests.ingest_helpers import write_csv
from tests.spark_env import Remote, forget, free_port, opened, require_spark_connect, spark_connect_server

pytestmark = [pytest.mark.spark, pytest.mark.slow]

# -- the company ---------------------------------------------------------------------------------------------
SETTINGS: dict[str, Any] = {
    "company": "Companhia Exemplo",
    "currency": "USD",
    "exchange_rates": [{"currency": "EUR", "rate": 0.8, "from": "2024-01-01"},
                       {"currency": "EUR", "rate": 0.9, "from": "2024-04-01"},
                       {"currency": "BRL", "rate": 5.0}],
    "segments": ["enterprise", "smb"],
    "stages": [{"name": "Descoberta", "probability": 0.1}, {"name": "Proposta", "probability": 0.4},
               {"name": "Negociação", "probability": 0.7}, {"name": "Ganho", "probability": 1.0, "won": True},
               {"name": "Perdido", "probability": 0.0, "lost": True}],
    "teams": [{"name": "Vendas", "kind": "sales",
               "kpis": [{"metric": "bookings", "period": "quarter", "target": 5000},
                        {"metric": "win_rate", "period": "quarter", "target": 0.5}]}],
}
OPEN_STAGES = ["Descoberta", "Proposta", "Negociação"]
WON, LOST = "Ganho", "Perdido"

PEOPLE = [("P1", "Ana Souza", "Vendas"), ("P2", "João Pereira", "Vendas"), ("P3", "Marta Gómez", "Vendas")]
ACCOUNTS = [("A1", "Padaria São Jorge", "smb", "P1"), ("A2", "Müller & Söhne GmbH", "enterprise", ""),
            ("A3", "Construtora Ipê", "enterprise", "P2"), ("A4", "Café Açaí", "smb", ""),
            ("A5", "Ñandú Logística", "smb", "P3")]
# id, account, owner ("" = none), stage, amount, currency, created, close date (closed deals closed on it)
DEALS = [
    ("O01", "A1", "P1", WON, 1000, "USD", "2024-01-05", "2024-02-10"),
    ("O02", "A2", "", WON, 4000, "EUR", "2024-01-10", "2024-03-20"),
    ("O03", "A3", "P2", WON, 10000, "BRL", "2024-02-01", "2024-04-15"),
    ("O04", "A1", "P1", WON, 1800, "EUR", "2024-02-15", "2024-05-30"),
    ("O05", "A4", "", LOST, 500, "USD", "2024-01-20", "2024-02-28"),
    ("O06", "A2", "P2", LOST, 5000, "BRL", "2024-03-01", "2024-04-10"),
    ("O07", "A5", "P3", "Proposta", 2700, "EUR", "2024-03-05", "2024-07-15"),
    ("O08", "A3", "", "Negociação", 15000, "BRL", "2024-04-01", "2024-08-01"),
    ("O09", "A5", "P3", WON, 700, "USD", "2024-04-05", "2024-06-10"),
    ("O10", "A4", "P1", "Descoberta", 800, "USD", "2024-05-01", "2024-09-01"),
]
# each deal's stages, with the day it entered each (O03 skips Proposta, O04 moves back from Negociação)
HISTORY = {
    "O01": [("2024-01-05", "Descoberta"), ("2024-01-20", "Proposta"), ("2024-02-10", WON)],
    "O02": [("2024-01-10", "Descoberta"), ("2024-02-01", "Proposta"), ("2024-03-01", "Negociação"),
            ("2024-03-20", WON)],
    "O03": [("2024-02-01", "Descoberta"), ("2024-03-10", "Negociação"), ("2024-04-15", WON)],
    "O04": [("2024-02-15", "Descoberta"), ("2024-03-01", "Proposta"), ("2024-04-20", "Negociação"),
            ("2024-05-01", "Proposta"), ("2024-05-30", WON)],
    "O05": [("2024-01-20", "Descoberta"), ("2024-02-28", LOST)],
    "O06": [("2024-03-01", "Descoberta"), ("2024-03-15", "Proposta"), ("2024-04-10", LOST)],
    "O07": [("2024-03-05", "Descoberta"), ("2024-04-01", "Proposta")],
    "O08": [("2024-04-01", "Descoberta"), ("2024-04-20", "Proposta"), ("2024-05-15", "Negociação")],
    "O09": [("2024-04-05", "Descoberta"), ("2024-06-10", WON)],
    "O10": [("2024-05-01", "Descoberta")],
}
# id, account, mrr, currency, first day billed, first day no longer billed ("" = still billed)
SUBSCRIPTIONS = [
    ("S1", "A1", 100, "USD", "2024-02-01", ""),
    ("S2", "A2", 360, "EUR", "2024-03-01", "2024-07-01"),
    ("S3", "A3", 1000, "BRL", "2024-04-01", ""),
    ("S4", "A1", 50, "USD", "2024-06-01", ""),
    ("S5", "A5", 90, "EUR", "2024-06-01", ""),
]
MAPPING = """\
description: A hand-kept export, its headers in Portuguese
files:
  - file: pessoas.csv
    table: people
    columns: {person_id: Id, name: Nome, team: Equipe}
  - file: contas.csv
    table: accounts
    columns: {account_id: Id, name: Nome, segment: Segmento, owner_id: Dono}
  - file: negocios.csv
    table: opportunities
    columns: {opportunity_id: Id, account_id: Conta, owner_id: Dono, name: Nome, stage: Etapa, amount: Valor,
              currency: Moeda, created_at: Criado, closed_at: Fechado, close_date: Previsto}
    constants: {kind: new}
  - file: historico.csv
    table: opportunity_history
    columns: {opportunity_id: Negocio, changed_at: Quando, stage: Etapa}
  - file: assinaturas.csv
    table: subscriptions
    columns: {subscription_id: Id, account_id: Conta, mrr: MRR, currency: Moeda, started_at: Inicio,
              ended_at: Fim}
"""
CANONICAL = {"people": "person_id", "accounts": "account_id", "opportunities": "opportunity_id",
             "opportunity_history": ["opportunity_id", "changed_at"], "subscriptions": "subscription_id"}


def write_company(folder: Path, *, version: int = 1) -> Path:
    """The export as CSV files and its mapping; version 2 changes every amount and adds a deal (the import that
    is made to fail)."""
    scale = 1 if version == 1 else 3
    write_csv(folder / "pessoas.csv", ["Id", "Nome", "Equipe"], [list(p) for p in PEOPLE])
    write_csv(folder / "contas.csv", ["Id", "Nome", "Segmento", "Dono"], [list(a) for a in ACCOUNTS])
    deals = [[d, a, o, f"Negócio {d}", s, str(amount * scale), cur, f"{created}T09:30:00",
              f"{close}T16:45:00" if s in (WON, LOST) else "", close]
             for d, a, o, s, amount, cur, created, close in DEALS]
    if version == 2:
        deals.append(["O11", "A5", "P2", "Negócio O11", WON, "999", "USD", "2024-05-02T09:30:00",
                      "2024-05-20T16:45:00", "2024-05-20"])
    write_csv(folder / "negocios.csv", ["Id", "Conta", "Dono", "Nome", "Etapa", "Valor", "Moeda", "Criado",
                                        "Fechado", "Previsto"], deals)
    write_csv(folder / "historico.csv", ["Negocio", "Quando", "Etapa"],
              [[deal, f"{day}T10:00:00", stage] for deal, moves in HISTORY.items() for day, stage in moves])
    write_csv(folder / "assinaturas.csv", ["Id", "Conta", "MRR", "Moeda", "Inicio", "Fim"],
              [[s, a, str(mrr * scale), cur, start, end] for s, a, mrr, cur, start, end in SUBSCRIPTIONS])
    (folder / "export.mapping.yml").write_text(MAPPING, encoding="utf-8")
    return folder


def configure(root: Path) -> None:
    """The company's settings written into the workspace's cadence.yml, its `warehouse:` line kept."""
    path = root / "cadence.yml"
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    config.update(SETTINGS)
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


# -- the figures, worked out a second way: plain pandas over the rows above --------------------------------
def _rate(currency: str, day: str) -> float:
    """Units of `currency` per dollar on `day`: the dated rate in force, else the static one."""
    if currency == SETTINGS["currency"]:
        return 1.0
    rates = pd.DataFrame(SETTINGS["exchange_rates"])
    mine = rates[rates["currency"] == currency]
    dated = mine[mine["from"].notna() & (mine["from"].astype(str) <= day)] if "from" in mine else mine.iloc[:0]
    if len(dated):
        return float(dated.sort_values("from")["rate"].iloc[-1])
    return float(mine[mine["from"].isna()]["rate"].iloc[0] if "from" in mine else mine["rate"].iloc[0])


def _deals_frame() -> pd.DataFrame:
    deals = pd.DataFrame(DEALS, columns=["id", "account", "owner", "stage", "amount", "currency", "created",
                                         "close"])
    deals["quarter"] = pd.PeriodIndex(pd.to_datetime(deals["close"]), freq="Q").astype(str).str.replace("Q", "-Q")
    deals["usd"] = [a / _rate(c, d) for a, c, d in zip(deals["amount"], deals["currency"], deals["close"],
                                                         strict=True)]
    return deals


def expected_bookings() -> dict[str, float]:
    deals = _deals_frame()
    return deals[deals["stage"] == WON].groupby("quarter")["usd"].sum().to_dict()  # type: ignore[no-any-return]


def expected_win_rate() -> dict[str, float]:
    deals = _deals_frame()
    closed = deals[deals["stage"].isin([WON, LOST])]
    return (closed["stage"] == WON).groupby(closed["quarter"]).mean().to_dict()  # type: ignore[no-any-return]


def expected_bookings_by_owner() -> dict[tuple[str, str | None], float]:
    deals = _deals_frame()
    won = deals[deals["stage"] == WON].assign(owner=lambda d: d["owner"].replace("", None))
    sums = won.groupby(["quarter", "owner"], dropna=False)["usd"].sum()
    return {(q, None if pd.isna(o) else o): v for (q, o), v in sums.items()}


def expected_mrr(months: list[str]) -> dict[str, float]:
    """Each month: the subscriptions billed on its last day, each at the rate of its first day, to the cent."""
    subs = pd.DataFrame(SUBSCRIPTIONS, columns=["id", "account", "mrr", "currency", "start", "end"])
    result = {}
    for month in months:
        first = pd.Period(month, freq="M").start_time.date().isoformat()
        last = pd.Period(month, freq="M").end_time.date().isoformat()
        active = subs[(subs["start"] <= last) & ((subs["end"] == "") | (subs["end"] > last))]
        result[month] = sum(round(m / _rate(c, first), 2) for m, c in zip(active["mrr"], active["currency"],
                                                                             strict=True))
    return result


def expected_reached() -> list[int]:
    """Deals that reached each step (the open stages in order, then won): a deal reached a step when its history
    or its stage now shows it or a later one; a lost deal reached the furthest open stage it was in."""
    step = {name: i + 1 for i, name in enumerate(OPEN_STAGES)} | {WON: len(OPEN_STAGES) + 1}
    furthest = [max(step.get(stage, 0) for _, stage in HISTORY[d[0]] + [("", d[3])]) for d in DEALS]
    return [sum(1 for f in furthest if f >= k) for k in range(1, len(step) + 1)]


def test_the_pandas_figures_are_the_hand_worked_ones() -> None:
    """The second way checked against arithmetic done by hand (EUR 0.8 in Q1 and 0.9 from April, BRL 5)."""
    assert expected_bookings() == pytest.approx({"2024-Q1": 1000 + 4000 / 0.8,
                                                 "2024-Q2": 10000 / 5 + 1800 / 0.9 + 700})
    assert expected_win_rate() == pytest.approx({"2024-Q1": 2 / 3, "2024-Q2": 3 / 4})
    assert expected_bookings_by_owner() == pytest.approx({("2024-Q1", "P1"): 1000, ("2024-Q1", None): 5000,
                                                          ("2024-Q2", "P1"): 2000, ("2024-Q2", "P2"): 2000,
                                                          ("2024-Q2", "P3"): 700})
    assert expected_mrr(["2024-02", "2024-03", "2024-04", "2024-06", "2024-07"]) == pytest.approx(
        {"2024-02": 100, "2024-03": 100 + 360 / 0.8, "2024-04": 100 + 360 / 0.9 + 1000 / 5,
         "2024-06": 100 + 400 + 200 + 50 + 90 / 0.9, "2024-07": 100 + 200 + 50 + 100})
    assert expected_reached() == [10, 8, 6, 5]


# -- Cadence's side: these run in the Cadence process (`Remote`), on the Spark warehouse ---------------------
def init_company(root: Path, url: str) -> None:
    init_workspace(root, warehouse=url)


def import_company(root: Path, folder: Path) -> dict[str, Any]:
    return opened(root).ingest(folder, "csv", mapping=folder / "export.mapping.yml").summary()  # type: ignore[no-any-return]


def tables(root: Path) -> dict[str, pd.DataFrame]:
    """Every canonical table the import wrote, and the import log, sorted by key."""
    ws = opened(root)
    frames = {name: ws.table(name).to_pandas().sort_values(key, ignore_index=True)
              for name, key in CANONICAL.items()}
    frames["imports"] = ws.table("imports").to_pandas().sort_values("import_key", ignore_index=True)
    return frames


def figures(root: Path) -> dict[str, Any]:
    """The figures compared: money converted, the win rate, by owner, MRR month by month, the funnel."""
    from cadence.analysis.funnel import funnel

    ws = opened(root)
    return {"bookings": ws.metric("bookings", grain="quarter"),
            "win_rate": ws.metric("win_rate", grain="quarter"),
            "bookings_by_owner": ws.metric("bookings", grain="quarter", by=["owner_id"]),
            "bookings_eur": ws.metric("bookings", grain="quarter", currency="EUR"),
            "mrr": ws.metric("mrr", grain="month"),
            "funnel": funnel(ws).as_dict()}


def scorecard_kpis(root: Path) -> dict[str, Any]:
    """The scorecard's team KPI section: bookings and the win rate this quarter against their targets, paced,
    week over week, with their trends."""
    from cadence.report.scorecard import week_context
    from cadence.report.sections.kpis import KpiSection

    ws = opened(root)
    section = KpiSection().build(ws, week_context(ws, None))
    assert section is not None
    return section.as_dict()


def bookings(root: Path) -> pd.DataFrame:
    return opened(root).metric("bookings", grain="quarter")


def catalog(root: Path) -> tuple[str, list[str]]:
    """The catalog, and the segment folders beside it (what a failed import staged is removed)."""
    folder = root / "spark-warehouse"
    return ((folder / "catalog.json").read_text(encoding="utf-8"),
            sorted(p.name for p in folder.iterdir() if p.is_dir() and len(p.name) == 32))


def failing_import(root: Path, folder: Path) -> tuple[str, int]:
    """Import `folder` four rows a chunk, the third chunk failing: (the error, chunks prepared)."""
    from cadence.ingest.prepare import Preparer

    original, calls = Preparer.add, []

    def add(self: Preparer, batch: Any) -> Any:
        calls.append(batch)
        if len(calls) == 3:
            raise RuntimeError("the disk went away")
        return original(self, batch)

    Preparer.add = add  # type: ignore[method-assign]
    try:
        opened(root).ingest(folder, "csv", mapping=folder / "export.mapping.yml", chunk_rows=4)
    except RuntimeError as failed:
        return str(failed), len(calls)
    finally:
        Preparer.add = original  # type: ignore[method-assign]
    return "", len(calls)


def reopen(root: Path) -> None:
    forget(root)  # the next step opens the workspace again: a new session, reading the catalog from disk


# -- the servers, the Cadence process, the DuckDB reference ------------------------------------------------
@dataclass
class Company:
    remote: Remote
    root: Path
    export: Path
    imported: dict[str, Any]

    def run(self, function: Any, *args: Any) -> Any:
        return self.remote.run(function, *args)


def on_spark(url: str, folder: Path, *, init_by_cli: bool) -> Iterator[Company]:
    """The company created on the warehouse at `url` and imported, in a Cadence process of its own."""
    root, export = folder / "company", write_company(folder / "export")
    remote = Remote()
    try:
        if init_by_cli:  # as a user types it
            created = subprocess.run([sys.executable, "-m", "cadence.cli", "init", str(root), "--warehouse", url],
                                     capture_output=True, text=True, timeout=300)
            assert created.returncode == 0, created.stderr
        else:  # in the Cadence process, whose Spark driver is already on the cluster
            remote.run(init_company, root, url)
        assert f"warehouse: {url}" in (root / "cadence.yml").read_text(encoding="utf-8")
        configure(root)
        yield Company(remote, root, export, remote.run(import_company, root, export))
    finally:
        remote.close()


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Company]:
    require_spark_connect()
    folder = tmp_path_factory.mktemp("connect")
    server_settings = {"spark.sql.session.timeZone": "America/Sao_Paulo"}  # Spark's 200 shuffle partitions
    with spark_connect_server(folder / "server", server_settings) as url:
        yield from on_spark(url, folder, init_by_cli=True)


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The same company imported on the embedded DuckDB: the reference every figure is compared with."""
    folder = tmp_path_factory.mktemp("duck")
    root = init_workspace(folder / "company")
    configure(root)
    ws = cadence.open(root)
    ws.ingest(write_company(folder / "export"), "csv", mapping=folder / "export" / "export.mapping.yml")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def spark_figures(spark: Company) -> dict[str, Any]:
    return spark.run(figures, spark.root)  # type: ignore[no-any-return]


# -- the checks (tests/test_spark_cluster.py runs them too) -------------------------------------------------
def by_period(frame: pd.DataFrame) -> dict[str, float]:
    return {str(p): float(v) for p, v in zip(frame["period"], frame["value"], strict=True)}


def same_frame(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(got.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-9)


def same_rows(got: pd.DataFrame, expected: pd.DataFrame) -> None:
    """The same rows, value for value; a missing value is missing in both, whichever way pandas shows it (an
    empty integer column is NaN from Spark, None from DuckDB, on a local Spark as over Spark Connect)."""
    def value(v: Any) -> Any:
        if v is None or v is pd.NaT or (not isinstance(v, str) and pd.isna(v)):
            return None
        return pd.Timestamp(v).isoformat() if isinstance(v, date) else v  # datetime64[ns] or [us]: one instant

    def plain(frame: pd.DataFrame) -> pd.DataFrame:
        return pd.DataFrame({c: pd.Series([value(v) for v in frame[c]], dtype=object) for c in frame.columns})

    same_frame(plain(got), plain(expected))


def rounded(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 9)
    return value


def check_import(company: Company, duck: Workspace) -> None:
    """Every file loaded, nothing quarantined, and every row as DuckDB keeps it, value for value: the wall-clock
    timestamps unshifted, accents and empty owners intact."""
    assert company.imported["loaded"] == company.imported["read"] == (
        len(PEOPLE) + len(ACCOUNTS) + len(DEALS) + sum(map(len, HISTORY.values())) + len(SUBSCRIPTIONS))
    got = company.run(tables, company.root)
    for name, key in CANONICAL.items():
        expected = duck.table(name).to_pandas().sort_values(key, ignore_index=True)
        same_rows(got[name], expected)
    deals = got["opportunities"].set_index("opportunity_id")
    assert pd.isna(deals.loc["O02", "owner_id"]) and deals.loc["O01", "owner_id"] == "P1"
    assert str(deals.loc["O01", "closed_at"]) == "2024-02-10 16:45:00"
    assert deals.loc["O08", "stage"] == "Negociação"
    assert set(got["accounts"]["name"]) == {a[1] for a in ACCOUNTS}


def check_money(found: dict[str, Any], duck: Workspace) -> None:
    """Each deal converted at the rate of its close date, as pandas converts it, in dollars and in euros."""
    assert by_period(found["bookings"]) == pytest.approx(expected_bookings())
    same_frame(found["bookings"], duck.metric("bookings", grain="quarter"))
    eur_per_usd = {"2024-Q1": 0.8, "2024-Q2": 0.9}  # every deal converts through the same day's EUR rate
    assert by_period(found["bookings_eur"]) == pytest.approx(
        {q: usd * eur_per_usd[q] for q, usd in expected_bookings().items()})
    same_frame(found["bookings_eur"], duck.metric("bookings", grain="quarter", currency="EUR"))


def check_win_rate_and_owners(found: dict[str, Any], duck: Workspace) -> None:
    assert by_period(found["win_rate"]) == pytest.approx(expected_win_rate())
    same_frame(found["win_rate"], duck.metric("win_rate", grain="quarter"))
    frame = found["bookings_by_owner"]
    got = {(str(p), None if pd.isna(o) else str(o)): float(v)
           for p, o, v in zip(frame["period"], frame["owner_id"], frame["value"], strict=True)}
    assert got == pytest.approx(expected_bookings_by_owner())
    same_frame(frame, duck.metric("bookings", grain="quarter", by=["owner_id"]))


def check_revenue_grid(found: dict[str, Any], duck: Workspace) -> None:
    """MRR month by month, from the revenue grid: the months pandas works out, and every month as on DuckDB."""
    got = by_period(found["mrr"])
    months = ["2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    assert {m: got[m] for m in months} == pytest.approx(expected_mrr(months))
    same_frame(found["mrr"], duck.metric("mrr", grain="month"))


def check_funnel(found: dict[str, Any], duck: Workspace) -> None:
    from cadence.analysis.funnel import funnel

    stages = found["funnel"]["stages"]
    assert [s["stage"] for s in stages] == [*OPEN_STAGES, WON]
    assert [s["reached"] for s in stages] == expected_reached()
    assert rounded(found["funnel"]) == rounded(funnel(duck).as_dict())


def check_scorecard(company: Company, duck: Workspace) -> None:
    from cadence.report.scorecard import week_context
    from cadence.report.sections.kpis import KpiSection

    got = company.run(scorecard_kpis, company.root)
    expected = KpiSection().build(duck, week_context(duck, None))
    assert expected is not None
    assert [f["metric"] for f in got["figures"]] == ["bookings", "win_rate"]
    assert rounded(got) == rounded(expected.as_dict())


def check_failed_import(company: Company) -> None:
    """The second export's first chunks written, the third failing: the import is refused whole. The tables, the
    figures, the catalog and the segment files are those of the first import, in this session and in a new one."""
    before, catalog_before = company.run(tables, company.root), company.run(catalog, company.root)
    second = write_company(company.export.parent / "export-2", version=2)
    error, chunks = company.run(failing_import, company.root, second)
    assert (error, chunks) == ("the disk went away", 3)
    assert company.run(catalog, company.root) == catalog_before
    for name, frame in company.run(tables, company.root).items():
        same_rows(frame, before[name])
    company.run(reopen, company.root)
    for name, frame in company.run(tables, company.root).items():
        same_rows(frame, before[name])
    assert by_period(company.run(bookings, company.root)) == pytest.approx(expected_bookings())


# -- the tests --------------------------------------------------------------------------------------------
def test_an_import_over_spark_connect_keeps_every_row_as_duckdb_does(spark: Company, duck: Workspace) -> None:
    check_import(spark, duck)


def test_money_converts_at_each_close_date_rate(spark_figures: dict[str, Any], duck: Workspace) -> None:
    check_money(spark_figures, duck)


def test_win_rate_and_bookings_by_owner_count_the_deals_with_no_owner(spark_figures: dict[str, Any],
                                                                       duck: Workspace) -> None:
    check_win_rate_and_owners(spark_figures, duck)


def test_mrr_month_by_month_from_the_revenue_grid(spark_figures: dict[str, Any], duck: Workspace) -> None:
    check_revenue_grid(spark_figures, duck)


def test_the_stage_funnel(spark_figures: dict[str, Any], duck: Workspace) -> None:
    check_funnel(spark_figures, duck)


def test_the_scorecard_kpis_against_their_targets(spark: Company, duck: Workspace) -> None:
    check_scorecard(spark, duck)


def test_an_import_failing_half_way_leaves_the_warehouse_as_it_was(spark: Company) -> None:
    check_failed_import(spark)


def test_the_session_works_in_utc_whatever_the_server_says(spark: Company) -> None:
    """The server runs in São Paulo's time zone with Spark's 200 shuffle partitions; Cadence's session works in
    UTC (the timestamps above came back unshifted) and shuffles into two partitions."""
    assert spark.run(session_settings, spark.root) == {"spark.sql.session.timeZone": "UTC",
                                                        "spark.sql.shuffle.partitions": "2"}


def session_settings(root: Path) -> dict[str, str]:
    session = opened(root).warehouse._engine.session
    return {key: session.conf.get(key) for key in ("spark.sql.session.timeZone", "spark.sql.shuffle.partitions")}


@pytest.mark.parametrize("scheme", ["sc", "spark"])
def test_a_server_that_does_not_answer_is_named_in_one_line(tmp_path: Path, scheme: str) -> None:
    """A wrong port is refused at once (Spark Connect's client would retry for ten minutes, a driver for one)."""
    require_spark_connect()
    url = f"{scheme}://127.0.0.1:{free_port()}"  # nothing listens there
    env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}  # behind one, no host is asked
    created = subprocess.run([sys.executable, "-m", "cadence.cli", "init", str(tmp_path / "ws"), "--warehouse", url],
                             capture_output=True, text=True, timeout=120, env=env)
    assert created.returncode == 1 and "Traceback" not in created.stderr
    lines = [line for line in created.stderr.splitlines() if line.strip()]
    what = "the Spark Connect server" if scheme == "sc" else "the Spark master"
    assert len(lines) == 1 and f"cannot reach {what} at {url}: Connection refused" in lines[0], lines
