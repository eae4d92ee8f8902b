"""The revenue grid and the deals relation are built once per version of the data and kept in the warehouse
(`store/derived.py`); scorecard figures are read from one daily series per metric (`metrics/ranges.py`).

What a user relies on: a later session reads the stored table instead of building it again, and any change to
the rows it was built from — even one written by another tool, straight into the warehouse — is seen by the next
session. Every figure is checked against MRR or bookings worked out by hand or with plain SQL.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.metrics.money import MissingRatesError
from cadence.report.sections.kpis import range_value
from cadence.store.derived import CATALOG, KEEP, PREFIX
from cadence.workspace import Workspace
from tests.test_currency import BOOKINGS_USD, cli, cli_json, write_csv, write_opportunities, write_rates

SUBSCRIPTIONS = pd.DataFrame({
    "subscription_id": ["S1", "S2", "S3"],
    "account_id": ["A1", "A2", "A1"],
    "mrr": ["100.00", "250.00", "40.00"],
    "started_at": ["2024-01-01", "2024-02-01", "2024-03-01"],
    "ended_at": ["2024-06-01", None, "2024-04-01"],
})
# MRR on each month's last day, worked out from the three rows above (ended_at is the first day not billed)
MRR_BY_MONTH = {"2024-01": 100, "2024-02": 350, "2024-03": 390, "2024-04": 350, "2024-05": 350, "2024-06": 250}


def _load(ws: Workspace, frames: dict[str, pd.DataFrame]) -> None:
    batch = ImportBatch("csv")
    for table, frame in frames.items():
        batch.add(CanonicalFrame(table, frame.assign(_line=range(2, len(frame) + 2)), f"{table}.csv"))
        batch.files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(batch, ws.stages())
    assert prepared.quarantined == 0
    ws.load(prepared)


def _mrr(root: Path) -> dict[str, float]:
    """MRR per month as a new session sees it (one `cadence` command is one session)."""
    ws = cadence.open(root)
    try:
        frame = ws.metric("mrr", grain="month", start=date(2024, 1, 1), end=date(2024, 7, 1))
        return {row.period: float(row.value) for row in frame.itertuples()}
    finally:
        ws.close()


def _stored(ws: Workspace) -> list[str]:
    """The derived tables the warehouse holds, read with plain SQL."""
    return sorted(name for name in ws.warehouse.table_names() if name.startswith(PREFIX))


def _catalogued(root: Path) -> list[tuple[str, str]]:
    ws = cadence.open(root)
    try:
        return [(str(r[0]), str(r[1])) for r in ws.warehouse.query(
            f"SELECT relation, table_name FROM {CATALOG} ORDER BY built_at")]
    finally:
        ws.close()


def test_a_later_session_reads_the_stored_grid_and_sees_an_outside_edit(any_workspace: Workspace) -> None:
    ws, root = any_workspace, any_workspace.root
    _load(ws, {"subscriptions": SUBSCRIPTIONS})
    ws.close()

    assert _mrr(root) == {month: float(v) for month, v in MRR_BY_MONTH.items()}
    built = _catalogued(root)
    assert [relation for relation, _ in built] == ["mrr_months_usd"]

    assert _mrr(root) == {month: float(v) for month, v in MRR_BY_MONTH.items()}
    assert _catalogued(root) == built  # read, not built again

    # another tool changes a row straight in the warehouse: no import, nothing told Cadence
    other = cadence.open(root)
    other.warehouse.execute("UPDATE subscriptions SET mrr = 175 WHERE subscription_id = 'S1'")
    other.close()
    expected = {m: float(v + (75 if m <= "2024-05" else 0)) for m, v in MRR_BY_MONTH.items()}
    assert _mrr(root) == expected
    rebuilt = _catalogued(root)
    assert len(rebuilt) == 2 and rebuilt[0] == built[0]


def test_only_the_newest_versions_are_kept(workspace: Workspace) -> None:
    root = workspace.root
    _load(workspace, {"subscriptions": SUBSCRIPTIONS})
    workspace.close()
    for price in range(101, 101 + KEEP + 2):
        ws = cadence.open(root)
        ws.warehouse.execute(f"UPDATE subscriptions SET mrr = {price} WHERE subscription_id = 'S1'")
        ws.close()
        assert _mrr(root)["2024-01"] == price
    names = [name for _, name in _catalogued(root)]
    ws = cadence.open(root)
    try:
        assert len(names) == KEEP and _stored(ws) == sorted(names)  # the older tables are gone from the warehouse
    finally:
        ws.close()


def test_a_scoped_view_builds_its_own_copy_for_the_session(workspace: Workspace) -> None:
    _load(workspace, {"subscriptions": SUBSCRIPTIONS})
    view = workspace.with_row_filter(lambda name, t: t.filter(t.account_id == "A2") if name == "subscriptions"
                                     else t, key="A2 only")
    frame = view.metric("mrr", grain="month", start=date(2024, 1, 1), end=date(2024, 7, 1))
    assert dict(zip(frame["period"], frame["value"], strict=True)) == {
        "2024-02": 250.0, "2024-03": 250.0, "2024-04": 250.0, "2024-05": 250.0, "2024-06": 250.0}
    assert _stored(workspace) == []  # nothing of one person's view is kept for everyone


# -- figures from one daily series ------------------------------------------------------------------------


def _plain_bookings(ws: Workspace, start: date, end: date, segment: str | None) -> float | None:
    """Won deals' amounts closed in [start, end), with plain SQL over the canonical tables (the demo company is in
    one currency; a deal closed without a closed_at counts on its close date)."""
    sql = ("SELECT SUM(o.amount) FROM opportunities o LEFT JOIN accounts a USING (account_id) "
           "WHERE o.is_won AND COALESCE(o.closed_at, CAST(o.close_date AS TIMESTAMP)) >= $1 "
           "AND COALESCE(o.closed_at, CAST(o.close_date AS TIMESTAMP)) < $2")
    params: tuple[object, ...] = (start, end)
    if segment is not None:
        sql += " AND a.segment = $3"
        params += (segment,)
    value = ws.warehouse.query(sql, params)[0][0]
    return None if value is None else float(value)


def test_every_range_from_the_daily_series_equals_plain_sql(demo_workspace: Workspace) -> None:
    ws = demo_workspace
    picks = random.Random(5)
    first = date(2023, 1, 1)
    answered = 0
    for _ in range(40):
        start = first + timedelta(days=picks.randrange(0, 1100))
        end = start + timedelta(days=picks.choice([1, 7, 30, 91, 365]))
        segment = picks.choice([None, "enterprise", "mid_market"])
        where = None if segment is None else f"segment = '{segment}'"
        ours = range_value(ws, "bookings", start, end, where)
        theirs = _plain_bookings(ws, start, end, segment)
        assert (ours is None and theirs is None) or ours == pytest.approx(theirs, rel=1e-9), (start, end, segment)
        answered += theirs is not None
    assert answered >= 30  # the ranges fall where the demo company sells


def test_an_empty_range_is_empty_for_a_sum_and_zero_for_a_count(demo_workspace: Workspace) -> None:
    quiet = (date(1999, 1, 1), date(1999, 2, 1))
    assert range_value(demo_workspace, "bookings", *quiet) is None
    assert range_value(demo_workspace, "won_deals", *quiet) == 0.0


def test_a_range_without_unconverted_deals_is_answered_and_one_with_them_refused(workspace: Workspace,
                                                                                tmp_path: Path) -> None:
    """No exchange rates at all: the only deal in February 2023 is in USD; the first quarter has pesos too."""
    workspace.ingest(write_opportunities(tmp_path), "salesforce")
    assert range_value(workspace, "bookings", date(2023, 2, 1), date(2023, 3, 1)) == 10_000.0
    with pytest.raises(MissingRatesError, match="MXN"):
        range_value(workspace, "bookings", date(2023, 1, 1), date(2023, 4, 1))


def test_dropping_the_kept_tables_makes_the_next_session_build_them_again(workspace: Workspace) -> None:
    root = workspace.root
    _load(workspace, {"subscriptions": SUBSCRIPTIONS})
    assert _mrr(root)["2024-03"] == 390.0
    assert len(_stored(workspace)) == 1
    assert workspace._derived.drop_all() == 1
    assert _stored(workspace) == [] and _catalogued(root) == []
    workspace.close()
    assert _mrr(root) == {month: float(v) for month, v in MRR_BY_MONTH.items()}
    assert [relation for relation, _ in _catalogued(root)] == ["mrr_months_usd"]


def test_an_import_keeps_the_tables_the_first_figures_read(any_workspace: Workspace, tmp_path: Path) -> None:
    """`cadence ingest` builds the revenue grid and the deals relation for the data it wrote: the next session's
    figures read them and build nothing, and a later import keeps the new version — also when the first import
    could not convert every deal (no exchange rates yet), whose figures are then refused as before."""
    root = any_workspace.root
    any_workspace.close()
    folder = tmp_path / "export"
    folder.mkdir()
    write_opportunities(folder)  # deals in COP, MXN and PEN, and no exchange rates yet
    assert cli(root, "ingest", str(folder), "--from", "salesforce", "--no-prepare").returncode == 0
    kept = _catalogued(root)
    assert sorted(relation for relation, _ in kept) == ["deals_usd", "mrr_months_usd"]
    assert "COP (3 deals)" in cli(root, "metric", "bookings", "--grain", "quarter").stderr
    assert _catalogued(root) == kept  # the figure read what the import kept

    write_rates(folder)
    assert cli(root, "ingest", str(folder), "--from", "salesforce", "--no-prepare").returncode == 0
    after = _catalogued(root)
    assert len(after) == 4 and after[:2] == kept
    data = cli_json(root, "metric", "bookings", "--grain", "quarter")
    assert {r["period"]: r["value"] for r in data["rows"]} == pytest.approx(BOOKINGS_USD)
    assert _catalogued(root) == after


def test_an_import_with_stage_history_keeps_the_forecasts_history_spans(any_workspace: Workspace,
                                                                        tmp_path: Path) -> None:
    """The forecast reads each deal's stage history as spans kept in the warehouse: the import that wrote the
    history builds them, and the next `cadence forecast` reads them and builds nothing. Without the exchange rates
    that convert every deal none are kept (the forecast refuses such data, and says why)."""
    root = any_workspace.root
    any_workspace.close()
    folder = tmp_path / "export"
    folder.mkdir()
    write_opportunities(folder)  # deals in COP, MXN and PEN, and no exchange rates yet
    write_csv(folder / "OpportunityHistory.csv", ["Id", "OpportunityId", "CreatedDate", "StageName", "Amount",
                                                   "CloseDate"], [
        ["008A00000000001AAA", "006A00000000002AAA", "2023-01-05T10:00:00.000Z", "Propuesta", "200000", "2023-03-31"],
        ["008A00000000002AAA", "006A00000000002AAA", "2023-03-31T18:00:00.000Z", "Ganada", "200000", "2023-03-31"],
        ["008A00000000003AAA", "006A00000000001AAA", "2023-01-05T10:00:00.000Z", "Propuesta", "9000", "2023-02-15"]])
    assert cli(root, "ingest", str(folder), "--from", "salesforce", "--no-prepare").returncode == 0
    assert "history_spans_usd" not in {relation for relation, _ in _catalogued(root)}
    refused = cli(root, "forecast", "--as-of", "2023-03-01")
    assert refused.returncode != 0 and "COP" in refused.stderr, refused.stderr

    write_rates(folder)
    assert cli(root, "ingest", str(folder), "--from", "salesforce", "--no-prepare").returncode == 0
    kept = _catalogued(root)
    assert "history_spans_usd" in {relation for relation, _ in kept}
    assert cli(root, "forecast", "--as-of", "2023-03-01").returncode == 0
    assert _catalogued(root) == kept  # the forecast read what the import kept


def test_every_process_names_the_same_version_alike(any_workspace: Workspace, tmp_path: Path) -> None:
    """Each `cadence` command is a process of its own, and Python orders sets differently in each: the kept grid
    and deals must be found by every one, so the name each process gives a version must not depend on it."""
    folder = tmp_path / "export"
    folder.mkdir()
    write_opportunities(folder)
    write_rates(folder)
    any_workspace.ingest(folder, "salesforce")
    _load(any_workspace, {"subscriptions": SUBSCRIPTIONS})
    any_workspace.close()
    script = ("import sys, cadence\n"
              "from cadence.metrics.catalog import MATERIALISED, RELATIONS\n"
              "ws = cadence.open(sys.argv[1])\n"
              "print(sorted((n, ws._derived.key(RELATIONS[n](ws))) for n in MATERIALISED))\n")
    names = set()
    for seed in ("1", "2", "3", "4"):
        env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")} | {"PYTHONHASHSEED": seed}
        run = subprocess.run([sys.executable, "-c", script, str(any_workspace.root)], capture_output=True,
                             text=True, env=env, timeout=120)
        assert run.returncode == 0, run.stderr
        names.add(run.stdout.strip())
    assert len(names) == 1, names
