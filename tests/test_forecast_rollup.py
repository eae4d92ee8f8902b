"""Forecast categories rolled up the manager hierarchy, checked against a plain as-of reading of the history.

A small company on calendar quarters: a VP over two managers over three reps (three levels), a rep whose
manager is not in people, two people who manage each other, and a deal owner people does not know. Deals are
pushed out of the quarter, won after the as-of day, lost, omitted, and one carries a category no CRM in
Cadence's list uses. The expected figures are computed here with pandas from the history rows as written.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

import cadence
from cadence.analysis.forecast import forecast_with_rollup
from cadence.analysis.forecast.categories import normalise_category
from cadence.analysis.forecast.hierarchy import build_hierarchy
from cadence.cli import forecast_commands  # noqa: F401  (registers `forecast`)
from cadence.cli.main import app
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.workspace import Workspace, init_workspace

AS_OF = date(2025, 8, 15)
QUARTER = (pd.Timestamp("2025-07-01"), pd.Timestamp("2025-10-01"))

PEOPLE = [  # person_id, name, manager_id
    ("V", "Vera VP", None), ("M1", "Mo Manager", "V"), ("M2", "Mia Manager", "V"),
    ("R1", "Rae Rep", "M1"), ("R2", "Ray Rep", "M1"), ("R3", "Rex Rep", "M2"),
    ("X", "Xan Orphan", "GHOST"), ("C1", "Cy Loop", "C2"), ("C2", "Cal Loop", "C1"),
]
# deal, owner, then its history: (changed_at, stage, amount, close_date, forecast_category); None: unchanged
DEALS: dict[str, tuple[str, list[tuple[str, str, float | None, str | None, str | None]]]] = {
    "d1": ("R1", [("2025-06-01", "Discovery", 1000, "2025-09-15", "Pipeline"),
                  ("2025-07-20", "Proposal", 1200, None, "Best Case"),
                  ("2025-08-10", "Negotiation", None, "2025-09-01", "Commit")]),
    "d2": ("R1", [("2025-06-10", "Demo", 500, "2025-08-30", "Pipeline"),
                  ("2025-08-20", "Closed Won", 500, "2025-08-20", "Closed")]),  # won after the as-of day
    "d3": ("R2", [("2025-06-01", "Proposal", 2000, "2025-07-30", "Best Case"),
                  ("2025-07-28", "Closed Won", 1800, "2025-07-28", "Closed")]),
    "d4": ("R2", [("2025-06-01", "Negotiation", 3000, "2025-09-10", "Commit"),
                  ("2025-08-01", "Negotiation", None, "2025-11-15", None)]),  # pushed out of the quarter
    "d5": ("R3", [("2025-07-01", "Discovery", 700, "2025-09-20", "Upside")]),  # a name no CRM here uses
    "d6": ("R3", [("2025-07-05", "Demo", 400, "2025-09-01", "omitted")]),
    "d7": ("M1", [("2025-07-10", "Proposal", 900, "2025-09-30", "BestCase")]),  # Salesforce's API spelling
    "d8": ("R3", [("2025-07-01", "Proposal", 600, "2025-08-20", "Commit"),
                  ("2025-08-05", "Closed Lost", 600, "2025-08-05", "Omitted")]),
    "d9": ("X", [("2025-07-01", "Demo", 300, "2025-09-01", "Pipeline")]),
    "d10": ("C1", [("2025-07-01", "Negotiation", 250, "2025-09-01", "Commit")]),
    "d11": ("U9", [("2025-07-01", "Discovery", 150, "2025-09-01", "pipeline")]),  # HubSpot's lower case
    "d12": ("R1", [("2025-03-15", "Proposal", 1000, "2025-06-20", "Best Case"),
                   ("2025-06-20", "Closed Won", 1000, "2025-06-20", "Closed")]),  # won last quarter
    "d13": ("R2", [("2025-06-05", "Demo", 100, "2025-07-15", "Pipeline")]),  # past its date, still due
    "d14": ("M1", [("2025-04-15", "Negotiation", 500, "2025-05-10", "Commit"),
                   ("2025-05-10", "Closed Won", 500, "2025-05-10", "Closed")]),
    "d15": ("V", [("2025-08-14", "Negotiation", 5000, "2025-12-01", "Commit")]),  # due next quarter
    "d16": ("R3", [("2025-08-16", "Negotiation", 800, "2025-09-01", "Commit")]),  # created after the as-of day
}
# how the test reads each raw name (its own table, not the module's)
READ = {"Pipeline": "pipeline", "pipeline": "pipeline", "Best Case": "best_case", "BestCase": "best_case",
        "Commit": "commit", "Closed": "closed", "omitted": "omitted", "Omitted": "omitted"}


def history_frame() -> pd.DataFrame:
    rows = [{"opportunity_id": deal, "changed_at": f"{when} 10:00:00", "stage": stage, "amount": amount,
             "close_date": close, "forecast_category": category}
            for deal, (_, changes) in DEALS.items() for when, stage, amount, close, category in changes]
    return pd.DataFrame(rows)


def deal_frame() -> pd.DataFrame:
    rows = []
    for deal, (owner, changes) in DEALS.items():
        last = changes[-1]
        closed = last[1].startswith("Closed")
        amounts = [c[2] for c in changes if c[2] is not None]
        rows.append({"opportunity_id": deal, "owner_id": owner, "stage": last[1], "amount": str(amounts[-1]),
                     "created_at": f"{changes[0][0]} 10:00:00",
                     "closed_at": f"{last[0]} 10:00:00" if closed else None,
                     "forecast_category": last[4]})
    return pd.DataFrame(rows)


def load(ws: Workspace, tables: dict[str, pd.DataFrame]) -> None:
    items, files = [], []
    for table, frame in tables.items():
        frame = frame.assign(_line=range(2, len(frame) + 2))
        items.append(CanonicalFrame(table, frame, f"{table}.csv"))
        files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(ImportBatch("csv", files, items), ws.stages())
    assert prepared.quarantined == 0, prepared.quarantine.to_dict("records")[:3]
    ws.load(prepared)


def small_company(ws: Workspace) -> None:
    people = pd.DataFrame([{"person_id": p, "name": n, "manager_id": m, "team": "Sales", "role": "rep"}
                           for p, n, m in PEOPLE])
    load(ws, {"people": people, "opportunities": deal_frame(), "opportunity_history": history_frame()})


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("rollup") / "ws"))
    small_company(ws)
    yield ws
    ws.close()


def plain_reading() -> pd.DataFrame:
    """Per deal, its state before AS_OF from the history as written (a CRM row repeats nothing unchanged)."""
    history = history_frame()
    history["changed_at"] = pd.to_datetime(history["changed_at"])
    history = history.sort_values(["opportunity_id", "changed_at"])
    for column in ("amount", "close_date", "forecast_category"):
        history[column] = history.groupby("opportunity_id")[column].ffill()
    known = history[history["changed_at"] < pd.Timestamp(AS_OF)]
    state = known.groupby("opportunity_id").tail(1).copy()
    state["owner_id"] = state["opportunity_id"].map({d: o for d, (o, _) in DEALS.items()})
    state["close_date"] = pd.to_datetime(state["close_date"])
    won = (state["stage"] == "Closed Won") & (state["changed_at"] >= QUARTER[0])
    open_due = ~state["stage"].str.startswith("Closed") & state["close_date"].between(
        QUARTER[0], QUARTER[1], inclusive="left")
    state["column"] = None
    state.loc[won, "column"] = "closed"
    state.loc[open_due, "column"] = state.loc[open_due, "forecast_category"].map(READ).fillna("uncategorised")
    return state.dropna(subset=["column"])


def test_categories_of_salesforce_and_hubspot() -> None:
    assert [normalise_category(n) for n in ("Pipeline", "Best Case", "Commit", "Closed", "Omitted")] == \
        ["pipeline", "best_case", "commit", "closed", "omitted"]
    assert [normalise_category(n) for n in ("BestCase", "Forecast")] == ["best_case", "commit"]  # API values
    # HubSpot's export (the real sample's column) and its internal values
    assert [normalise_category(n) for n in ("Not forecasted", "Closed won", "Best case", "BEST_CASE", "OMIT",
                                            "Most likely")] == ["omitted", "closed", "best_case", "best_case",
                                                                "omitted", "best_case"]
    assert normalise_category("Upside") is None and normalise_category(None) is None


def test_rollup_equals_a_group_by_of_the_history(small: Workspace) -> None:
    _, rollup = forecast_with_rollup(small, small.calendar, AS_OF, date(2025, 7, 1))
    state = plain_reading()
    counted = state[state["column"] != "omitted"]
    own = counted.pivot_table(index="owner_id", columns="column", values="amount", aggfunc="sum", fill_value=0.0)
    lines = {line.person_id: line for line in rollup.lines}
    for owner in own.index:
        for column in own.columns:
            assert lines[owner].own[column] == pytest.approx(own.at[owner, column]), (owner, column)
    # the three levels: a manager's line is their reports' lines plus their own deals
    teams = {"R1": {"R1"}, "R2": {"R2"}, "R3": {"R3"}, "M1": {"M1", "R1", "R2"}, "M2": {"M2", "R3"},
             "V": {"V", "M1", "M2", "R1", "R2", "R3"}}
    for person, members in teams.items():
        mine = counted[counted["owner_id"].isin(members)]
        for column in ("closed", "commit", "best_case", "pipeline", "uncategorised"):
            assert lines[person].team[column] == pytest.approx(mine.loc[mine["column"] == column, "amount"].sum())
        assert lines[person].deals == len(mine)
    depth = {line.person_id: line.depth for line in rollup.lines}
    assert depth == {"C1": 0, "U9": 0, "X": 0, "V": 0, "M1": 1, "M2": 1, "R1": 2, "R2": 2, "R3": 2}  # C2: no deals
    # by hand: d1 is commit at 1,200 (amount carried from Proposal), d2 still pipeline, d3 closed at 1,800,
    # d4 pushed out, d13 past its date but due, d5's "Upside" uncategorised, d6 omitted, d15 and d16 not counted
    assert lines["M1"].team == {"closed": 1800.0, "commit": 1200.0, "best_case": 900.0, "pipeline": 600.0,
                                "uncategorised": 0.0}
    assert rollup.total["uncategorised"] == 700.0 and rollup.omitted == 1 and rollup.unknown == {"Upside": 1}
    assert any("'Upside'" in note for note in rollup.notes)
    assert any("GHOST" in note for note in rollup.notes) and any("loop" in note for note in rollup.notes)
    assert any("U9" in note for note in rollup.notes)


def test_hierarchy_with_a_missing_manager_and_a_loop() -> None:
    people = pd.DataFrame(PEOPLE, columns=["person_id", "name", "manager_id"])
    tree = build_hierarchy(people, ["U9", "R1"])
    assert tree.manager["X"] is None and tree.manager["C1"] is None and tree.manager["C2"] is None
    assert tree.scope("V") == {"V", "M1", "M2", "R1", "R2", "R3"}
    walked = [p for p, _ in tree.walk()]
    assert sorted(walked) == sorted([*[p for p, _, _ in PEOPLE], "U9"])  # everyone once, nobody lost


def test_forecast_json_has_the_rollup(small: Workspace) -> None:
    result = CliRunner().invoke(app, ["-w", str(small.root), "forecast", "--as-of", AS_OF.isoformat(),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    rollup = data["rollup"]
    assert rollup["quarter"] == "2025-Q3" and rollup["as_of"] == AS_OF.isoformat()
    vera = next(line for line in rollup["lines"] if line["person_id"] == "V")
    state = plain_reading()
    counted = state[state["column"].isin(["closed", "commit"])]
    assert vera["commit_total"] == pytest.approx(
        counted[counted["owner_id"].isin(["V", "M1", "M2", "R1", "R2", "R3"])]["amount"].sum())
    assert {"closed", "commit", "best_case", "pipeline", "uncategorised", "model", "stage_weighted", "depth",
            "manager_id", "own"} <= set(vera)
    assert data["methods"][0]["method"] == "stage_weighted"


def test_every_category_of_the_real_exports_is_known(dataset: Any) -> None:
    """The real HubSpot and Salesforce samples' category columns, read as plain CSV: every name is placed."""
    hubspot = pd.read_csv(dataset("hubspot-deals/anonymized_hubspot_deals.csv"), usecols=["Forecast category"])
    salesforce = pd.read_csv(dataset("salesforce-sample/OpportunityHistory.csv"), usecols=["ForecastCategory"])
    names = set(hubspot["Forecast category"].dropna()) | set(salesforce["ForecastCategory"].dropna())
    assert {"Not forecasted", "Closed won", "Best case", "Commit", "Pipeline", "Closed"} <= names
    assert {n: normalise_category(n) for n in names if normalise_category(n) is None} == {}
