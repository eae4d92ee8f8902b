"""The funnel: hand-worked deals on both engines, the real Maven CRM sample against its CSV, bad input."""

from __future__ import annotations

import csv
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.analysis.funnel import Funnel, MissingDataError, StageRow, funnel, win_rates_from_stage
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.report.charts import to_svg
from cadence.report.funnel_chart import funnel_spec
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset
from tests.test_cli import _one_line_error
from tests.test_cli import cadence as run_cadence

# Each deal's path through the default pipeline: (day of January 2024, stage); created on the first day.
PATHS = {
    "d1": [(1, "Prospecting"), (3, "Discovery"), (6, "Demo"), (10, "Proposal"), (12, "Negotiation"),
           (20, "Closed Won")],
    "d2": [(2, "Prospecting"), (5, "Demo"), (9, "Closed Lost")],  # skips Discovery, lost after the demo
    "d3": [(3, "Prospecting"), (4, "Closed Lost")],  # lost at the first stage
    "d4": [(4, "Prospecting"), (8, "Discovery")],  # still open, sitting in Discovery
    # d5 skips Negotiation
    "d5": [(5, "Prospecting"), (7, "Discovery"), (9, "Demo"), (13, "Proposal"), (25, "Closed Won")],
}
OWNERS = {"d1": "p1", "d2": "p1", "d3": "p2", "d4": "p2", "d5": "p2", "d6": "p1", "d7": "p1"}
AMOUNTS = {"d1": 1000, "d5": 3000, "d6": 500}


def _at(day: int, month: int = 1) -> str:
    return datetime(2024, month, day, 9).isoformat(sep=" ")


def _load_small_company(ws: Workspace) -> None:
    paths = {**PATHS, "d6": [(1, "Prospecting"), (5, "Closed Won")]}  # d6: created in March
    month = {"d6": 3}
    history = pd.DataFrame([{"opportunity_id": d, "changed_at": _at(day, month.get(d, 1)), "stage": stage}
                            for d, path in paths.items() for day, stage in path])
    deals = pd.DataFrame([{
        "opportunity_id": d, "owner_id": OWNERS[d], "stage": path[-1][1], "amount": str(AMOUNTS.get(d, 200)),
        "created_at": _at(path[0][0], month.get(d, 1)),
        "closed_at": _at(path[-1][0], month.get(d, 1)) if path[-1][1].startswith("Closed") else None,
    } for d, path in paths.items()] + [  # d7: created in January, no history at all
        {"opportunity_id": "d7", "owner_id": "p1", "stage": "Prospecting", "amount": "100",
         "created_at": _at(6), "closed_at": None}])
    people = pd.DataFrame({"person_id": ["p1", "p2"], "name": ["Ann East", "Bo West"], "team": ["East", "West"]})
    frames = {"opportunities": deals, "opportunity_history": history, "people": people}
    items, files = [], []
    for table, frame in frames.items():
        frame = frame.assign(_line=range(2, len(frame) + 2))
        items.append(CanonicalFrame(table, frame, f"{table}.csv"))
        files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(ImportBatch("csv", files, items), ws.stages())
    assert prepared.quarantined == 0, prepared.quarantine.to_dict("records")[:3]
    ws.load(prepared)


def _stage(result: Funnel, stage: str, group: str | None = None) -> StageRow:
    return next(s for s in result.stages if s.stage == stage and s.group == group)


def test_hand_worked_funnel_on_both_engines(any_workspace: Workspace) -> None:
    _load_small_company(any_workspace)
    result = funnel(any_workspace, start=date(2024, 1, 1), end=date(2024, 2, 1))
    assert (result.pipeline, result.deals, result.without_history) == ("default", 5, 1)
    assert [s.stage for s in result.stages] == ["Prospecting", "Discovery", "Demo", "Proposal", "Negotiation",
                                                "Closed Won"]
    # reaching a later stage counts as reaching the ones skipped; a lost deal reached its furthest open stage
    assert [s.reached for s in result.stages] == [5, 4, 3, 2, 2, 2]
    assert _stage(result, "Discovery").sitting == 1  # d4 is still there: not counted either way
    assert [s.conversion for s in result.stages] == pytest.approx([4 / 5, 3 / 3, 2 / 3, 2 / 2, 2 / 2, None])
    # time in stage: days from entering it to leaving it (to any stage, lost included), for deals that left it:
    # Prospecting d1 1→3, d2 2→5 (skips Discovery), d3 3→4 (lost), d4 4→8, d5 5→7
    prospecting = _stage(result, "Prospecting")
    assert (prospecting.median_days, prospecting.mean_days, prospecting.timed) == pytest.approx((2, 12 / 5, 5))
    assert _stage(result, "Discovery").median_days == pytest.approx(2.5)
    assert _stage(result, "Negotiation").median_days == pytest.approx(8)
    assert _stage(result, "Prospecting").win_rate == pytest.approx(2 / 4)
    # velocity from Demo: win rate 2/3 × mean won amount 2000 ÷ median 15 days from Demo to the win (14, 16)
    assert _stage(result, "Demo").velocity == pytest.approx(2 / 3 * 2000 / 15)


def test_cut_by_team_and_seen_as_of_a_past_day(any_workspace: Workspace) -> None:
    _load_small_company(any_workspace)
    by_team = funnel(any_workspace, start=date(2024, 1, 1), end=date(2024, 2, 1), by="team")
    assert _stage(by_team, "Prospecting", "East").conversion == pytest.approx(2 / 2)
    assert _stage(by_team, "Prospecting", "West").conversion == pytest.approx(2 / 3)
    # on 15 January d1 sits in Negotiation and d5 in Proposal: what happened later is not known yet
    early = funnel(any_workspace, start=date(2024, 1, 1), end=date(2024, 2, 1), as_of=date(2024, 1, 15))
    assert _stage(early, "Proposal").conversion == pytest.approx(1.0)  # d1 moved on; d5 still sitting
    assert _stage(early, "Negotiation").conversion is None  # nobody has left Negotiation yet
    assert _stage(early, "Closed Won").reached == 0


def test_win_rates_from_each_stage_by_team_worked_by_hand(any_workspace: Workspace) -> None:
    """What the roadmap asks of the funnel: per team and stage, the closed deals that reached it and the share won.
    East (Ann): d1 won, d2 lost after its demo (it skipped Discovery, so it reached it); d6 is created in March,
    d7 has no history. West (Bo): d3 lost at Prospecting, d4 still open in Discovery, d5 won (skipping
    Negotiation)."""
    _load_small_company(any_workspace)
    rates = win_rates_from_stage(any_workspace, by="team", start=date(2024, 1, 1), end=date(2024, 2, 1))
    stages = ["Prospecting", "Discovery", "Demo", "Proposal", "Negotiation", "Closed Won"]
    east = {"Prospecting": (1 / 2, 2), "Discovery": (1 / 2, 2), "Demo": (1 / 2, 2), "Proposal": (1.0, 1),
            "Negotiation": (1.0, 1), "Closed Won": (1.0, 1)}
    west = {"Prospecting": (1 / 2, 3), "Discovery": (1.0, 2), "Demo": (1.0, 1), "Proposal": (1.0, 1),
            "Negotiation": (1.0, 1), "Closed Won": (1.0, 1)}
    expected = {**{("East", s): east[s] for s in stages}, **{("West", s): west[s] for s in stages}}
    assert rates.keys() == expected.keys()
    for key, (rate, reached) in expected.items():
        assert rates[key] == (pytest.approx(rate), reached), key
    # on 6 January only d3 has closed (lost at Prospecting): no other stage has a closed deal to measure
    early = win_rates_from_stage(any_workspace, by="team", start=date(2024, 1, 1), end=date(2024, 2, 1),
                                 as_of=date(2024, 1, 6))
    assert early == {("West", "Prospecting"): (0.0, 3)}


# -- the real Maven CRM sample -------------------------------------------------------------------------
@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("maven-funnel") / "ws"))
    ws.ingest(dataset("maven-crm"), "maven")
    yield ws
    ws.close()


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _plain_funnel(rows: list[dict[str, str]]) -> dict[str, float]:
    """Prospecting → Engaging → Won read straight off deal_stage: every engaged deal has left Prospecting;
    a deal still Engaging has not been decided; Won and Lost ones have, and their time in Engaging runs from
    engage_date to close_date whichever way they left it."""
    stages = Counter(r["deal_stage"] for r in rows)
    engaged = stages["Engaging"] + stages["Won"] + stages["Lost"]
    days = [(date.fromisoformat(r["close_date"]) - date.fromisoformat(r["engage_date"])).days
            for r in rows if r["deal_stage"] in ("Won", "Lost") and r["engage_date"]]
    return {"reached_prospecting": len(rows), "reached_engaging": engaged, "reached_won": stages["Won"],
            "prospecting_to_engaging": engaged / (len(rows) - stages["Prospecting"]),
            "engaging_to_won": stages["Won"] / (stages["Won"] + stages["Lost"]),
            "median_days": statistics.median(days), "mean_days": statistics.fmean(days)}


def _cadence_funnel(result: Funnel, group: str | None = None) -> dict[str, float]:
    p, e, w = (_stage(result, s, group) for s in ("Prospecting", "Engaging", "Won"))
    assert p.conversion is not None and e.conversion is not None and e.median_days is not None
    return {"reached_prospecting": p.reached, "reached_engaging": e.reached, "reached_won": w.reached,
            "prospecting_to_engaging": p.conversion, "engaging_to_won": e.conversion,
            "median_days": e.median_days, "mean_days": e.mean_days or 0.0}


def test_maven_funnel_equals_a_plain_reading_of_the_csv(maven: Workspace, dataset: Dataset) -> None:
    rows = _read_csv(dataset("maven-crm/sales_pipeline.csv"))
    result = funnel(maven)
    assert result.pipeline == "maven"
    # a Prospecting deal without any date has no history to see it through: left out, and counted as such
    dated = [r for r in rows if r["engage_date"] or r["deal_stage"] != "Prospecting"]
    assert result.without_history == len(rows) - len(dated)
    assert _cadence_funnel(result) == pytest.approx(_plain_funnel(dated))


def test_maven_funnel_by_team_for_a_period(maven: Workspace, dataset: Dataset) -> None:
    rows = _read_csv(dataset("maven-crm/sales_pipeline.csv"))
    office = {r["sales_agent"]: r["regional_office"] for r in _read_csv(dataset("maven-crm/sales_teams.csv"))}
    by_office: dict[str, list[dict[str, str]]] = defaultdict(list)
    for row in rows:  # engaged in the first half of 2017
        if row["engage_date"] and "2017-01-01" <= row["engage_date"] < "2017-07-01":
            by_office[office[row["sales_agent"]]].append(row)
    result = funnel(maven, start=date(2017, 1, 1), end=date(2017, 7, 1), by="team")
    assert {s.group for s in result.stages} == set(by_office)
    for team, team_rows in by_office.items():
        assert _cadence_funnel(result, team) == pytest.approx(_plain_funnel(team_rows)), team


def test_funnel_chart_renders(maven: Workspace) -> None:
    result = funnel(maven)
    svg = to_svg(funnel_spec(result))
    assert all(stage in svg for stage in ("Prospecting", "Engaging", "Won"))
    assert f"{_stage(result, 'Engaging').conversion:.0%}" in svg  # the conversion is written on the bar
    grouped = funnel_spec(funnel(maven, by="team"))
    assert grouped["encoding"]["color"]["field"] == "group"
    assert "East" in to_svg(grouped)


def test_segments_add_up_to_the_whole_on_the_demo(demo_workspace: Workspace) -> None:
    whole = funnel(demo_workspace)
    by_segment = funnel(demo_workspace, by="segment")
    for stage in whole.stages:
        parts = [s for s in by_segment.stages if s.stage == stage.stage]
        assert sum(p.reached for p in parts) == stage.reached
        assert sum(p.decided for p in parts) == stage.decided


# -- bad input -----------------------------------------------------------------------------------------
def _win_rates_by_hand(ws: Workspace, pipeline: str, steps: list[str], start: date, as_of: date,
                       by_sql: str) -> dict[tuple[str, str], tuple[float, int]]:
    """The funnel's rules applied in pandas to rows read with plain SQL: each deal of the cohort reached its
    furthest step (a won stage is the last step; a deal showing only lost stages reached the first); its latest
    row (a step after a lost stage at the same moment) says whether it is won or lost; the win rate from a step is
    the share won of the closed deals that reached it."""
    stages = pd.DataFrame(ws.warehouse.query("SELECT stage, is_won, is_lost FROM stages WHERE pipeline = $1",
                                             (pipeline,)), columns=["stage", "is_won", "is_lost"])
    step_of = {name: k for k, name in enumerate(steps, start=1)}
    step_of.update({str(st): len(steps) for st in stages.loc[stages["is_won"].astype(bool), "stage"]})
    lost = {str(st) for st in stages.loc[stages["is_lost"].astype(bool), "stage"]}
    cohort = pd.DataFrame(ws.warehouse.query(
        f"SELECT o.opportunity_id, CAST({by_sql} AS VARCHAR) FROM opportunities o "
        "LEFT JOIN accounts a ON a.account_id = o.account_id "
        "WHERE o.pipeline = $1 AND o.created_at >= $2 AND o.created_at < $3", (pipeline, start, as_of)),
        columns=["opportunity_id", "group"]).set_index("opportunity_id")
    history = pd.DataFrame(ws.warehouse.query(
        "SELECT opportunity_id, changed_at, stage FROM opportunity_history WHERE changed_at < $1", (as_of,)),
        columns=["opportunity_id", "changed_at", "stage"])
    history = history[history["opportunity_id"].isin(cohort.index) & history["stage"].isin(set(step_of) | lost)]
    history = history.assign(step=history["stage"].map(step_of), lost=history["stage"].isin(lost))
    latest = history.assign(order=history["step"].fillna(0)).sort_values(["changed_at", "order"]) \
        .groupby("opportunity_id").tail(1).set_index("opportunity_id")
    deals = pd.DataFrame({"reached": history.groupby("opportunity_id")["step"].max().fillna(1).clip(lower=1)})
    deals["won"] = (latest["step"] == len(steps)) & ~latest["lost"]
    deals["closed"] = deals["won"] | latest["lost"]
    deals["group"] = cohort["group"]
    rates = {}
    for group, part in deals.dropna(subset=["group"]).groupby("group"):
        for k, name in enumerate(steps, start=1):
            closed = part[(part["reached"] >= k) & part["closed"]]
            if len(closed):
                rates[(str(group), name)] = (float(closed["won"].mean()), int((part["reached"] >= k).sum()))
    return rates


@pytest.mark.parametrize(("by", "by_sql"), [("segment", "a.segment"), ("owner_id", "o.owner_id")])
def test_the_stage_win_rates_counted_by_the_engine_on_the_demo(demo_workspace: Workspace, by: str,
                                                                by_sql: str) -> None:
    """The roadmap's stage win rates are counted by the engine (only counts come back), and the funnel reads its
    per-deal outcomes from the same engine query: both are held to the rules worked out in pandas from rows read
    with plain SQL, on the demo, cut by segment and by owner, seen as of a day in the past."""
    as_of, start = date(2025, 10, 1), date(2023, 10, 1)
    rates = win_rates_from_stage(demo_workspace, by=by, start=start, end=as_of, as_of=as_of)
    cut = funnel(demo_workspace, by=by, start=start, end=as_of, as_of=as_of)
    steps = list(dict.fromkeys(row.stage for row in cut.stages))
    expected = _win_rates_by_hand(demo_workspace, cut.pipeline, steps, start, as_of, by_sql)
    assert len(expected) >= 10
    from_funnel = {(str(row.group), row.stage): (row.win_rate, row.reached) for row in cut.stages
                   if row.win_rate is not None and row.group is not None}
    for found in (rates, from_funnel):
        assert found.keys() == expected.keys()
        for key, (rate, reached) in expected.items():
            assert found[key] == (pytest.approx(rate), reached), key


def test_a_workspace_without_history_is_told_what_the_funnel_needs(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(MissingDataError, match="funnel needs opportunity_history"):
        funnel(workspace)
    empty = init_workspace(tmp_path / "empty")  # its own warehouse: the fixture's is open in this process
    line = _one_line_error(run_cadence("-w", str(empty), "funnel"))
    assert "funnel needs opportunity_history" in line


def test_unknown_dimension_and_pipeline_are_named(any_workspace: Workspace) -> None:
    _load_small_company(any_workspace)
    with pytest.raises(ValueError, match="unknown funnel dimension 'segmnt'.*segment"):
        funnel(any_workspace, by="segmnt")
    with pytest.raises(ValueError, match="unknown pipeline 'sales'"):
        funnel(any_workspace, pipeline="sales")
