"""A Salesforce org's own stages: only those it uses, in its order, with its won/lost; and stage-name inference.

The org is a Spanish-speaking one exported with Data Loader (cp1252): five open stages, `Ganada` and
`Perdida`. No deal sits in Prospección, Calificación, Diseño Propuesta or Negociación today, so those
stages appear only in OpportunityHistory — as in the real org — and carry no `StageSortOrder`.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest
import yaml

from cadence.ingest.stage_inference import StageFacts, declare_stages, name_says
from cadence.workspace import Workspace

# The org's process as its admin set it up: (stage, StageSortOrder, Probability, ForecastCategoryName)
PROCESS = [("Prospección", 1, 10, "Pipeline"), ("Calificación", 2, 20, "Pipeline"), ("Interés", 3, 30, "Pipeline"),
           ("Diseño Propuesta", 4, 50, "Best Case"), ("Negociación", 5, 75, "Commit"), ("Ganada", 6, 100, "Closed"),
           ("Perdida", 7, 0, "Omitted")]
SORT, CHANCE, CATEGORY = ({s: row[i] for s, *row in [(p[0], *p[1:]) for p in PROCESS]} for i in range(3))
PRO, CAL, INT, DIS, NEG, WON, LOST = (p[0] for p in PROCESS)
# Each deal's path: (day of January 2024 at 09:00 UTC, stage). A and F move backwards.
PATHS = {
    "A": [(1, PRO), (3, CAL), (6, INT), (10, DIS), (15, NEG), (20, INT), (24, NEG), (30, WON)],
    "B": [(2, PRO), (4, INT), (9, LOST)],
    "C": [(3, PRO), (5, LOST)],
    "D": [(4, PRO), (8, CAL), (12, INT)],
    "E": [(5, PRO), (6, CAL), (9, INT), (14, NEG), (21, WON)],
    "F": [(6, PRO), (7, CAL), (10, INT), (13, DIS), (16, NEG), (19, INT)],
}
OPPORTUNITY_HEADER = ["Id", "IsDeleted", "AccountId", "OwnerId", "Name", "StageName", "StageSortOrder", "Amount",
                      "CurrencyIsoCode", "Probability", "IsClosed", "IsWon", "ForecastCategoryName", "CloseDate",
                      "CreatedDate", "LastModifiedDate"]
HISTORY_HEADER = ["Id", "OpportunityId", "CreatedById", "CreatedDate", "StageName", "Amount", "ExpectedRevenue",
                  "CloseDate", "Probability", "ForecastCategory", "IsDeleted"]


def opp_id(deal: str) -> str:
    return f"006Hs00000{ord(deal):05d}AAA"


def _at(day: int) -> str:
    return f"2024-01-{day:02d}T09:00:00.000Z"


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="cp1252") as handle:  # Data Loader on a Windows machine
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_org(folder: Path, paths: dict[str, list[tuple[int, str]]], *, leave_out: tuple[str, ...] = ()) -> Path:
    """Opportunity.csv and OpportunityHistory.csv of the org, as Data Loader writes them (without `leave_out`)."""
    deals, history = [], []
    for deal, path in paths.items():
        day, stage = path[-1]
        closed, won = stage in (WON, LOST), stage == WON
        deals.append([opp_id(deal), "false", "001Hs00000AcMeAAA", "005Hs00000Rep1AAA", f"Proyecto {deal}", stage,
                      str(SORT[stage]), "1000", "USD", str(CHANCE[stage]), str(closed).lower(), str(won).lower(),
                      CATEGORY[stage], f"2024-{'01' if closed else '03'}-{day if closed else 31:02d} 00:00:00",
                      _at(path[0][0]), _at(day)])
        for n, (day, stage) in enumerate(path):
            history.append([f"008Hs00000{ord(deal) * 100 + n:05d}AAA", opp_id(deal), "005Hs00000Rep1AAA", _at(day),
                            stage, "1000", "", "2024-03-31", str(CHANCE[stage]), CATEGORY[stage], "false"])
    for name, header, rows in (("Opportunity", OPPORTUNITY_HEADER, deals), ("OpportunityHistory", HISTORY_HEADER,
                                                                          history)):
        kept = [i for i, column in enumerate(header) if column not in leave_out]
        _write(folder / f"{name}.csv", [header[i] for i in kept], [[row[i] for i in kept] for row in rows])
    return folder


def org_stages(ws: Workspace) -> list[tuple[str, int, bool, bool, float | None]]:
    stages = ws.stages()
    mine = stages[stages["pipeline"] == "salesforce"].sort_values("position")
    return [(r.stage, int(r.position), bool(r.is_won), bool(r.is_lost),
             None if pd.isna(r.probability) else round(float(r.probability), 2)) for r in mine.itertuples()]


EXPECTED = [(PRO, 1, False, False, 0.1), (CAL, 2, False, False, 0.2), (INT, 3, False, False, 0.3),
            (DIS, 4, False, False, 0.5), (NEG, 5, False, False, 0.75), (WON, 6, True, False, 1.0),
            (LOST, 7, False, True, 0.0)]


def test_only_the_orgs_own_stages_in_its_order(any_workspace: Workspace, tmp_path: Path) -> None:
    any_workspace.ingest(write_org(tmp_path / "org", PATHS), "salesforce")
    assert org_stages(any_workspace) == EXPECTED  # no Prospecting, Closed Won or other standard stage
    opps = any_workspace.table("opportunities").to_pandas().set_index("opportunity_id")
    assert opps.loc[opp_id("A"), "is_won"] and opps.loc[opp_id("B"), "is_closed"]
    assert not opps.loc[opp_id("B"), "is_won"] and not opps.loc[opp_id("D"), "is_closed"]


def test_reimport_replaces_the_stage_list_and_is_idempotent(any_workspace: Workspace, tmp_path: Path) -> None:
    org = write_org(tmp_path / "org", PATHS)
    any_workspace.ingest(org, "salesforce")
    any_workspace.ingest(org, "salesforce")
    assert org_stages(any_workspace) == EXPECTED
    assert any_workspace.warehouse.count("opportunity_history") == sum(len(p) for p in PATHS.values())
    # the admin renames Calificación to Calificada: the next export uses only the new name
    renamed = {d: [(day, "Calificada" if s == CAL else s) for day, s in path] for d, path in PATHS.items()}
    SORT["Calificada"], CHANCE["Calificada"], CATEGORY["Calificada"] = SORT[CAL], CHANCE[CAL], CATEGORY[CAL]
    try:
        any_workspace.ingest(write_org(tmp_path / "org2", renamed), "salesforce")
    finally:
        for table in (SORT, CHANCE, CATEGORY):
            del table["Calificada"]
    assert [s[0] for s in org_stages(any_workspace)] == [PRO, "Calificada", INT, DIS, NEG, WON, LOST]


def test_without_stage_sort_order_the_history_gives_the_order(workspace: Workspace, tmp_path: Path) -> None:
    """No StageSortOrder, Probability or forecast category: the order deals move through the stages decides.

    Median step at which deals first enter each stage (A, B, …, F): Prospección 0 0 0 0 0 0 → 0;
    Calificación A1 D1 E1 F1 → 1; Interés A2 B1 D2 E2 F2 → 2; Diseño Propuesta A3 F3 → 3; Negociación A4 E3 F4 → 4.
    """
    bare = write_org(tmp_path / "org", PATHS, leave_out=("StageSortOrder", "Probability", "ForecastCategoryName",
                                                         "ForecastCategory"))
    prepared = workspace.ingest(bare, "salesforce")
    assert org_stages(workspace) == [(stage, n, won, lost, None) for stage, n, won, lost, _ in EXPECTED]
    inferred = {i["stage"]: i for i in prepared.summary()["inferred"]}
    assert set(inferred) == {PRO, CAL, INT, DIS, NEG}  # won/lost came from IsWon/IsClosed: nothing to infer there
    assert all(i["outcome"] == "open" and "when deals first enter it" in i["why"] for i in inferred.values())
    assert "median step 3" in inferred[INT]["why"]
    written = yaml.safe_load((workspace.root / "cadence.yml").read_text(encoding="utf-8"))["pipelines"]["salesforce"]
    assert [s["name"] for s in written] == [s[0] for s in EXPECTED]
    assert written[5] == {"name": WON, "won": True}


# -- names and history ----------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "says"), [
    ("Closed Won", "won"), ("Won", "won"), ("closedwon", "won"), ("Ganada", "won"), ("Cerrada ganada", "won"),
    ("Fechado ganho", "won"), ("Gewonnen", "won"),
    ("Closed Lost", "lost"), ("Lost", "lost"), ("Closed: abandoned", "lost"), ("Abandoned", "lost"),
    ("Perdida", "lost"), ("Cerrada perdida", "lost"), ("Verloren", "lost"), ("Fechado perdido", "lost"),
    ("Closed Trial", "closed"), ("Cerrada", "closed"),
    ("Negociación", None), ("Diseño Propuesta", None), ("Renewals", None), ("Contract Sent", None),
])
def test_what_a_stage_name_says(name: str, says: str | None) -> None:
    assert name_says(name) == says


def _history(paths: dict[str, list[tuple[int, str]]]) -> pd.DataFrame:
    return pd.DataFrame([{"pipeline": "p", "opportunity_id": d, "stage": s, "changed_at": f"2024-01-{day:02d}"}
                         for d, path in paths.items() for day, s in path])


def test_a_stage_deals_never_leave_and_reach_from_anywhere_is_a_dead_end() -> None:
    paths = {"1": [(1, "New"), (2, "Talking"), (5, "Parked")], "2": [(1, "New"), (3, "Parked")],
             "3": [(1, "New"), (2, "Talking"), (4, "Offer"), (6, "Parked")], "4": [(2, "New"), (3, "Talking")]}
    facts = [StageFacts("p", s, n) for n, s in enumerate(["Parked", "Offer", "Talking", "New"])]
    stages = declare_stages(facts, _history(paths)).set_index("stage")
    assert bool(stages.loc["Parked", "is_lost"])  # 3 deals entered it from 3 stages, none left
    assert "none left" in stages.loc["Parked", "_inferred"]
    assert list(stages.sort_values("position").index) == ["New", "Talking", "Offer", "Parked"]


def test_a_closed_sounding_stage_deals_leave_is_open() -> None:
    paths = {"1": [(1, "Closed Trial"), (2, "Negotiation")], "2": [(1, "Closed Trial")]}
    facts = [StageFacts("p", "Closed Trial", 0), StageFacts("p", "Negotiation", 1)]
    stages = declare_stages(facts, _history(paths)).set_index("stage")
    assert not stages.loc["Closed Trial", "is_lost"] and not stages.loc["Closed Trial", "is_won"]
    assert "left it" in stages.loc["Closed Trial", "_inferred"]
