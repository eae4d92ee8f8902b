"""The pipeline waterfall: the identity and chaining on every step of every quarter of the demo company and the
Maven sample, start and end against a plain pandas reading of opportunity_history, hand-worked deals in a small
company with three currencies, and the CLI's JSON."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

import cadence
from cadence.analysis.waterfall import (
    MOVEMENTS,
    Waterfall,
    WaterfallData,
    assemble,
    load_waterfall_data,
    pipeline_waterfall,
    target_period,
    week_waterfall,
)
from cadence.analysis.waterfall.movements import step_moves
from cadence.errors import InputError, MissingDataError
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.metrics.money import MissingRatesError, in_currency
from cadence.report.charts import to_svg
from cadence.report.model import ScorecardContext
from cadence.report.sections.pipeline import PipelineSection
from cadence.report.waterfall_chart import waterfall_spec
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset
from tests.ingest_helpers import reopened
from tests.test_cli import _one_line_error
from tests.test_cli import cadence as run_cadence

ROW_KEYS = ["from", "to", "start", "created", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost",
            "end", "start_count", "created_count", "pulled_in_count", "increased_count", "decreased_count",
            "pushed_out_count", "won_count", "lost_count", "end_count", "increased_deals", "decreased_deals"]


# -- the identity, chaining and an independent reading ------------------------------------------------------
def assert_reconciles(result: Waterfall) -> None:
    """start + created + pulled_in + increased − decreased − pushed_out − won − lost = end, to the cent and in
    deals, on every step; each step's end is the next step's start, and the steps tile the span day after day."""
    for steps in [result.rows, *result.groups.values()]:
        for step in steps:
            c, n = step.cents, step.counts
            assert c["start"] + c["created"] + c["pulled_in"] + c["increased"] - c["decreased"] - c["pushed_out"] \
                - c["won"] - c["lost"] == c["end"], step
            assert n["start"] + n["created"] + n["pulled_in"] - n["pushed_out"] - n["won"] - n["lost"] == n["end"]
            row = step.as_dict()  # what the JSON says adds up too, to the cent
            moved = Decimal(str(row["created"])) + Decimal(str(row["pulled_in"])) + Decimal(str(row["increased"])) \
                - Decimal(str(row["decreased"])) - Decimal(str(row["pushed_out"])) - Decimal(str(row["won"])) \
                - Decimal(str(row["lost"]))
            assert Decimal(str(row["start"])) + moved == Decimal(str(row["end"]))
            deals = row["start_count"] + row["created_count"] + row["pulled_in_count"] + row["increased_count"] \
                - row["decreased_count"] - row["pushed_out_count"] - row["won_count"] - row["lost_count"]
            assert deals == row["end_count"]  # the same identity, read literally, in deals
        for before, after in zip(steps, steps[1:], strict=False):
            assert (before.cents["end"], before.counts["end"]) == (after.cents["start"], after.counts["start"])
            assert after.first == before.last + timedelta(days=1)
    if result.groups:  # the groups add up to the whole, bar by bar
        for i, step in enumerate(result.rows):
            for bar in step.cents:
                assert sum(g[i].cents[bar] for g in result.groups.values()) == step.cents[bar]
                assert sum(g[i].counts[bar] for g in result.groups.values()) == step.counts[bar]


def plain_pipeline(history: pd.DataFrame, stages: pd.DataFrame, moment: date, start: date, end: date) -> tuple[float,
                                                                                                                 int]:
    """The period's open pipeline at the start of `moment`, read plainly: each deal's latest row before it
    (pandas' `last` keeps the latest non-empty amount and close date: what a CRM's change log means), open,
    closing from `start` to `end`."""
    rows = history[history["changed_at"] < pd.Timestamp(moment)].sort_values(["opportunity_id", "changed_at"])
    latest = rows.groupby("opportunity_id").last()  # sorted by change: the latest non-empty value of each column
    closed = set(stages.loc[stages["is_won"] | stages["is_lost"], "stage"])
    close = pd.to_datetime(latest["close_date"])
    mine = latest[~latest["stage"].isin(closed) & (close >= pd.Timestamp(start)) & (close <= pd.Timestamp(end))]
    return float(mine["amount"].astype(float).fillna(0).sum()), len(mine)


def quarters_of(ws: Workspace, first: date, last: date) -> list[str]:
    calendar, out = ws.calendar, []
    start = calendar.start_of(first, "quarter")
    while start <= last:
        out.append(calendar.label(start, "quarter"))
        start = calendar.next_start(start, "quarter")
    return out


def check_every_quarter(ws: Workspace, data: WaterfallData, through: date, first: date) -> int:
    """Every quarter, week by week: the identity and chaining; every fourth week's start and the last week's
    end against the plain reading of the history."""
    history = ws.table("opportunity_history").select("opportunity_id", "changed_at", "stage", "amount", "close_date") \
        .to_pandas().sort_values(["opportunity_id", "changed_at"])
    stages = ws.table("stages").to_pandas()
    checked = 0
    for label in quarters_of(ws, first, through):
        weekly = pipeline_waterfall(ws, ws.calendar, period=label, grain="week", through=through, data=data)
        assert_reconciles(weekly)
        readings = [(s.first, s, "start") for s in weekly.rows[::4]]
        readings.append((weekly.rows[-1].last + timedelta(days=1), weekly.rows[-1], "end"))
        for moment, step, bar in readings:
            amount, count = plain_pipeline(history, stages, moment, weekly.period_start, weekly.period_end)
            assert float(step.amount(bar)) == pytest.approx(amount, abs=0.01), (label, moment)
            assert step.counts[bar] == count, (label, moment)
            checked += 1
    return checked


def test_every_quarter_of_the_demo_company_reconciles(demo_workspace: Workspace) -> None:
    data = load_waterfall_data(demo_workspace)
    history = demo_workspace.table("opportunity_history").to_pandas()
    first, through = history["changed_at"].min().date(), history["changed_at"].max().date()
    assert check_every_quarter(demo_workspace, data, through, first) >= 12 * 4
    # the current quarter ends where the deals stand in the CRM today: its open deals closing in the quarter
    now = pipeline_waterfall(demo_workspace, demo_workspace.calendar, data=data)
    assert now.rows[-1].last == through
    deals = demo_workspace.warehouse.query(
        "SELECT coalesce(sum(amount), 0), count(*) FROM opportunities WHERE NOT is_closed AND deleted_at IS NULL "
        "AND close_date >= $1 AND close_date <= $2", (now.period_start, now.period_end))
    assert (float(now.rows[-1].amount("end")), now.rows[-1].counts["end"]) == (pytest.approx(float(deals[0][0])),
                                                                             deals[0][1])
    by_team = pipeline_waterfall(demo_workspace, demo_workspace.calendar, by="team", grain="month", data=data)
    assert len(by_team.groups) >= 3
    assert_reconciles(by_team)
    # the scorecard's week reads only the deals not closed before it, and only their history spans overlapping it:
    # the same bars as reading every deal's whole history, also for a week that starts in the quarter before
    for first in (date(2026, 1, 19), date(2025, 11, 3), date(2025, 10, 29)):
        last = first + timedelta(days=6)
        target = target_period(demo_workspace.calendar, None, last)
        whole = assemble(data, target, "week", last, [step_moves(data, target, first, last)], None)
        week = week_waterfall(demo_workspace, demo_workspace.calendar, first, last)
        assert week.rows[0] == whole.rows[0] and week.period == whole.period
        assert week.rows[0].counts["start"] > 0


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("maven-waterfall") / "ws"))
    ws.ingest(dataset("maven-crm"), "maven")
    yield ws
    ws.close()


def test_every_quarter_of_the_maven_sample_reconciles(maven: Workspace) -> None:
    data = load_waterfall_data(maven)
    history = maven.table("opportunity_history").to_pandas()
    first, through = history["changed_at"].min().date(), history["changed_at"].max().date()
    assert check_every_quarter(maven, data, through, first) > 0
    assert_reconciles(pipeline_waterfall(maven, maven.calendar, by="owner_name", data=data, through=through))


# -- hand-worked deals -----------------------------------------------------------------------------------------
# (day, stage, amount, close date) rows, at 09:00; every deal of the default pipeline. Q1 2024 runs Jan 1 – Mar 31,
# weekly steps Jan 1–7, 8–14, 15–21, 22–28, Jan 29–Feb 4, Feb 5–11, …
HISTORY = {
    # close date moved from Q2 into Q1 on Jan 3, enlarged from 1,000 to 1,500 on Jan 4: pulled in at 1,500
    "pull": ("USD", "p1", [("2023-12-01", "Prospecting", 1000, "2024-05-15"), ("2024-01-03", "Prospecting", 1000,
                                                                              "2024-02-20"),
                           ("2024-01-04", "Discovery", 1500, "2024-02-20")]),
    # pushed to Q2 on Jan 9, then won on Jan 11 with its close date set to that day: won, not pushed out
    "push_won": ("USD", "p1", [("2023-12-01", "Proposal", 2000, "2024-01-20"),
                               ("2024-01-09", "Proposal", 2000, "2024-04-10"),
                               ("2024-01-11", "Closed Won", 2000, "2024-01-11")]),
    # pushed to Q2, then won keeping the Q2 close date: booked in Q2, so pushed out of Q1
    "push_late": ("USD", "p2", [("2023-12-01", "Proposal", 700, "2024-01-25"),
                                ("2024-01-09", "Proposal", 700, "2024-04-10"),
                                ("2024-01-12", "Closed Won", 700, "2024-04-10")]),
    # close date jumps two quarters (Q1 → Q3) on Jan 17; won in July
    "jump": ("USD", "p2", [("2023-12-01", "Demo", 3000, "2024-03-01"), ("2024-01-17", "Demo", 3000, "2024-09-15"),
                           ("2024-07-10", "Closed Won", 3000, "2024-07-10")]),
    # created on Jan 23 and lost on Jan 25: created and lost in the same step
    "flash": ("USD", "p2", [("2024-01-23", "Prospecting", 400, "2024-02-28"),
                            ("2024-01-25", "Closed Lost", 400, "2024-01-25")]),
    # 1,000 EUR (0.9 EUR per USD: 1,111.11 USD), enlarged to 1,200 EUR (1,333.33 USD) on Feb 5
    "euro": ("EUR", "p1", [("2023-12-01", "Demo", 1000, "2024-02-10"), ("2024-02-05", "Demo", 1200, None)]),
    # 20,000 MXN (17 per USD: 1,176.47 USD), cut to 17,000 MXN (1,000 USD) on Jan 30; the row leaves the close
    # date empty: it keeps the one it had
    "peso": ("MXN", "p2", [("2023-12-01", "Discovery", 20000, "2024-03-20"), ("2024-01-30", "Discovery", 17000,
                                                                              None)]),
}
RATES = [{"currency": "EUR", "rate": 0.9}, {"currency": "MXN", "rate": 17.0}]
THROUGH = date(2024, 7, 10)


def _ts(day: str) -> str:
    return f"{day} 09:00:00"


def _load(ws: Workspace, history: dict[str, tuple[str, str, list[tuple[str, str, int, str | None]]]]) -> None:
    rows = [{"opportunity_id": d, "changed_at": _ts(day), "stage": stage, "amount": str(amount),
             "close_date": close} for d, (_, _, path) in history.items() for day, stage, amount, close in path]
    deals = []
    for d, (currency, owner, path) in history.items():
        day, stage, amount, _ = path[-1]
        close = next(c for *_, c in reversed(path) if c)
        deals.append({"opportunity_id": d, "name": f"Deal {d}", "owner_id": owner, "stage": stage,
                      "amount": str(amount), "currency": currency, "created_at": _ts(path[0][0]), "close_date": close,
                      "closed_at": _ts(day) if stage.startswith("Closed") else None})
    people = pd.DataFrame({"person_id": ["p1", "p2"], "name": ["Ann East", "Bo West"], "team": ["East", "West"]})
    frames = {"people": people, "opportunities": pd.DataFrame(deals), "opportunity_history": pd.DataFrame(rows)}
    items, files = [], []
    for table, frame in frames.items():
        frame = frame.assign(_line=range(2, len(frame) + 2))
        items.append(CanonicalFrame(table, frame, f"{table}.csv"))
        files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(ImportBatch("csv", files, items), ws.stages())
    assert prepared.quarantined == 0, prepared.quarantine.to_dict("records")[:3]
    ws.load(prepared)


def _small_company(root: Path, rates: list[dict[str, object]]) -> Workspace:
    path = init_workspace(root, company="Small Co")
    config_file = path / "cadence.yml"
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["exchange_rates"] = rates
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    ws = cadence.open(path)
    _load(ws, HISTORY)
    return ws


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = _small_company(tmp_path_factory.mktemp("waterfall") / "small", RATES)
    yield ws
    ws.close()


def _bars(result: Waterfall, i: int) -> dict[str, float]:
    return {bar: float(result.rows[i].amount(bar)) for bar in ("start", *MOVEMENTS, "end") if
            result.rows[i].cents[bar]}


def _ids(result: Waterfall, bar: str, step: date | None = None) -> list[str]:
    return sorted(d["opportunity_id"] for d in result.drill(bar, step=step))


def test_hand_worked_quarter_step_by_step(small: Workspace) -> None:
    result = pipeline_waterfall(small, small.calendar, period="2024-Q1", through=THROUGH)
    assert (result.currency, result.period_start, result.period_end) == ("USD", date(2024, 1, 1), date(2024, 3, 31))
    assert [s.first for s in result.rows][:3] == [date(2024, 1, 1), date(2024, 1, 8), date(2024, 1, 15)]
    assert result.rows[-1].last == date(2024, 3, 31)
    assert_reconciles(result)
    # at the start: push_won 2,000 + push_late 700 + jump 3,000 + 1,000 EUR ÷ 0.9 + 20,000 MXN ÷ 17
    assert _bars(result, 0) == {"start": 7987.58, "pulled_in": 1500.0, "end": 9487.58}
    assert result.rows[0].counts["start"] == 5
    # pulled in and enlarged in the same week: one movement, pulled in at the amount it ended the week with
    pull = result.drill("pulled_in", step=date(2024, 1, 1))
    assert [(d["opportunity_id"], d["amount"], d["before_amount"], d["after_amount"], d["before_close_date"],
             d["after_close_date"], d["after_stage"], d["owner_name"]) for d in pull] == [
        ("pull", 1500.0, 1000.0, 1500.0, "2024-05-15", "2024-02-20", "Discovery", "Ann East")]
    # pushed out then won in the same week, with the win dated in the quarter: won; the one won with its
    # pushed (Q2) close date: pushed out
    assert _bars(result, 1) == {"start": 9487.58, "pushed_out": 700.0, "won": 2000.0, "end": 6787.58}
    assert (_ids(result, "won"), _ids(result, "pushed_out", date(2024, 1, 8))) == (["push_won"], ["push_late"])
    # the close date jumps two quarters: pushed out, at what it carried
    assert _bars(result, 2) == {"start": 6787.58, "pushed_out": 3000.0, "end": 3787.58}
    # created and lost in the same step: it went through the pipeline, once each way
    assert _bars(result, 3) == {"start": 3787.58, "created": 400.0, "lost": 400.0, "end": 3787.58}
    assert (result.rows[3].counts["created"], result.rows[3].counts["lost"]) == (1, 1)
    # 20,000 MXN → 17,000 MXN at 17 per USD: 1,176.47 → 1,000.00; then 1,000 EUR → 1,200 EUR at 0.9 per USD
    assert _bars(result, 4) == {"start": 3787.58, "decreased": 176.47, "end": 3611.11}
    assert _bars(result, 5) == {"start": 3611.11, "increased": 222.22, "end": 3833.33}
    resized = result.rows[4].as_dict(), result.rows[5].as_dict()  # one deal each, neither entering nor leaving
    assert [(r["decreased_deals"], r["increased_deals"], r["start_count"], r["end_count"]) for r in resized] \
        == [(1, 0, 3, 3), (0, 1, 3, 3)]
    assert all(_bars(result, i) == {"start": 3833.33, "end": 3833.33} for i in range(6, len(result.rows)))
    assert result.total.counts["end"] == 3
    assert _ids(result, "end") == ["euro", "peso", "pull"]


def test_the_same_waterfall_on_both_engines(any_workspace: Workspace) -> None:
    _load(any_workspace, HISTORY)
    with reopened(any_workspace, exchange_rates=RATES) as ws:
        result = pipeline_waterfall(ws, ws.calendar, period="2024-Q1", grain="month", through=THROUGH)
    assert_reconciles(result)
    # January: start 7,987.58; pulled in 1,500 (pull); won 2,000 (push_won); pushed out 700 + 3,000; created and
    # lost 400 (flash); decreased 176.47 (peso). February: increased 222.22 (euro)
    assert _bars(result, 0) == {"start": 7987.58, "created": 400.0, "pulled_in": 1500.0, "decreased": 176.47,
                                "pushed_out": 3700.0, "won": 2000.0, "lost": 400.0, "end": 3611.11}
    assert _bars(result, 1) == {"start": 3611.11, "increased": 222.22, "end": 3833.33}


def test_a_deal_jumping_two_quarters_skips_the_one_between(small: Workspace) -> None:
    data = load_waterfall_data(small)
    q2 = pipeline_waterfall(small, small.calendar, period="2024-Q2", through=THROUGH, data=data)
    assert all(not any(s.cents.values()) for s in q2.rows)  # nothing ever closed in Q2's open pipeline
    assert all("jump" not in _ids(q2, bar) for bar in ("start", *MOVEMENTS, "end"))
    q3 = pipeline_waterfall(small, small.calendar, period="2024-Q3", through=THROUGH, data=data)
    assert [s.last for s in q3.rows] == [date(2024, 7, 7), THROUGH]  # up to the data's last day
    assert _bars(q3, 0) == {"start": 3000.0, "end": 3000.0}
    assert _bars(q3, 1) == {"start": 3000.0, "won": 3000.0}
    assert _ids(q3, "won") == ["jump"]


def test_another_currency_and_the_groups(small: Workspace) -> None:
    eur = pipeline_waterfall(in_currency(small, "EUR"), small.calendar, period="2024-Q1", through=THROUGH)
    assert eur.currency == "EUR"
    # 2,700 EUR × 0.9 of the USD deals… : (2,000 + 700 + 3,000) × 0.9 + 1,000 EUR + 20,000 MXN × 0.9 ÷ 17
    assert eur.rows[0].amount("start") == Decimal("5130.00") + Decimal("1000.00") + Decimal("1058.82")
    assert [d["amount"] for d in eur.drill("increased")] == [200.0]  # the euro deal, in its own currency
    by_team = pipeline_waterfall(small, small.calendar, period="2024-Q1", by="team", through=THROUGH)
    assert_reconciles(by_team)
    assert by_team.groups["East"][0].amount("start") == Decimal("3111.11")  # push_won 2,000 + euro 1,111.11


def test_a_period_not_begun_is_refused_in_one_line(small: Workspace) -> None:
    with pytest.raises(InputError, match=r"2025-Q1 starts on 2025-01-01, after the data's last day \(2024-07-10\)"):
        pipeline_waterfall(small, small.calendar, period="2025-Q1", through=THROUGH)
    with pytest.raises(InputError, match="a quarter, a month or a year"):
        pipeline_waterfall(small, small.calendar, period="2024-W05", through=THROUGH)


def test_a_quarter_no_deal_touches_is_an_empty_waterfall_and_no_history_is_refused(small: Workspace,
                                                                                     tmp_path: Path) -> None:
    """A quarter before the first deal moves nothing: three empty months, not "opportunity_history is empty"
    (only the deals dated in a quarter are read, and there are none). A workspace without history is refused."""
    early = pipeline_waterfall(small, small.calendar, period="2022-Q1", grain="month", through=THROUGH)
    assert [(step.first.isoformat(), sum(step.cents.values()), sum(step.counts.values())) for step in early.rows] \
        == [("2022-01-01", 0, 0), ("2022-02-01", 0, 0), ("2022-03-01", 0, 0)]
    assert early.moves.empty
    bare = cadence.open(init_workspace(tmp_path / "bare"))
    try:
        with pytest.raises(MissingDataError, match="needs opportunity_history"):
            pipeline_waterfall(bare, bare.calendar, period="2024-Q1", through=THROUGH)
    finally:
        bare.close()


def test_a_missing_rate_refuses_the_waterfall(tmp_path: Path) -> None:
    ws = _small_company(tmp_path / "norates", RATES[:1])  # no MXN rate
    try:
        with pytest.raises(MissingRatesError, match="MXN"):
            pipeline_waterfall(ws, ws.calendar, period="2024-Q1", through=THROUGH)
    finally:
        ws.close()


def test_the_scorecard_shows_the_weeks_waterfall_and_its_deals(small: Workspace) -> None:
    context = ScorecardContext("2024-W02", date(2024, 1, 8), date(2024, 1, 15))
    section = PipelineSection().build(small, context)
    assert section is not None
    moved = {f.label: (f.value, f.note) for f in section.figures if f.period == "2024-Q1" and f.unit == "currency"
             and f.metric is None}
    assert moved == {"Open pipeline closing this quarter, as the week began": (9487.58, "6 deals"),
                     "Created this week": (0.0, "0 deals"), "Pulled in this week": (0.0, "0 deals"),
                     "Increased this week": (0.0, "0 deals"), "Decreased this week": (0.0, "0 deals"),
                     "Pushed out this week": (700.0, "1 deal"), "Won this week": (2000.0, "1 deal"),
                     "Lost this week": (0.0, "0 deals"),
                     "Open pipeline closing this quarter, as the week ended": (6787.58, "4 deals")}
    assert [(r["movement"], r["deal"], r["before"], r["after"]) for r in section.rows] == [
        ("Pushed out", "Deal push_late", "Proposal, 700.00, closing 2024-01-25",
         "Closed Won, 700.00, closing 2024-04-10"),
        ("Won", "Deal push_won", "Proposal, 2,000.00, closing 2024-01-20", "Closed Won, 2,000.00, closing 2024-01-11")]
    assert [c.key for c in section.charts] == ["pipeline-waterfall"]
    empty = PipelineSection().build(small, ScorecardContext("", date(2024, 1, 15), date(2024, 1, 15)))
    assert empty is not None and not empty.charts  # a week of no days: coverage only


def test_chart_has_every_bar(small: Workspace) -> None:
    result = pipeline_waterfall(small, small.calendar, period="2024-Q1", through=THROUGH)
    spec = waterfall_spec(result.total, title="Q1", currency="USD", link=lambda bar: f"#{bar}")
    bars = spec["data"]["values"]
    assert [b["bar"] for b in bars] == ["start", *MOVEMENTS, "end"]
    assert bars[-1]["high"] == pytest.approx(3833.33) and bars[-2]["low"] == pytest.approx(3833.33)
    assert "Pulled in" in to_svg(spec)


# -- the command ------------------------------------------------------------------------------------------------
def command(*args: str) -> str:
    """What `cadence ARGS` prints, run in this process."""
    from cadence.cli.main import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def small_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small company, closed: a command opens it (DuckDB admits one writer at a time)."""
    ws = _small_company(tmp_path_factory.mktemp("waterfall-cli") / "small", RATES)
    ws.close()
    return ws.root


def test_cli_json_shape(small_root: Path) -> None:
    data = json.loads(command("-w", str(small_root), "--today", THROUGH.isoformat(), "pipeline", "waterfall",
                              "--period", "2024-Q1", "--grain", "week", "--format", "json"))
    assert {"currency", "period", "period_start", "period_end", "rows"} <= set(data)
    assert (data["currency"], data["period"], data["period_start"], data["period_end"]) == \
        ("USD", "2024-Q1", "2024-01-01", "2024-03-31")
    assert all(list(row) == ROW_KEYS for row in data["rows"])
    assert data["rows"][0]["start"] == 7987.58 and data["rows"][0]["pulled_in_count"] == 1
    assert "groups" not in data
    grouped = json.loads(command("-w", str(small_root), "--today", THROUGH.isoformat(), "pipeline", "waterfall",
                                 "--period", "2024-Q1", "--by", "team", "--drill", "won", "--format", "json"))
    assert [g["group"] for g in grouped["groups"]] == ["East", "West"]
    assert [d["opportunity_id"] for d in grouped["drill"]["deals"]] == ["push_won"]


def test_cli_default_period_chart_and_bad_input(small_root: Path, tmp_path: Path) -> None:
    chart = tmp_path / "waterfall.svg"
    data = json.loads(command("-w", str(small_root), "pipeline", "waterfall", "--format", "json", "--chart",
                              str(chart)))
    assert (data["period"], data["rows"][-1]["to"]) == ("2024-Q3", THROUGH.isoformat())  # the data's last day
    assert chart.read_text(encoding="utf-8").startswith("<svg")
    assert "grain" in _one_line_error(run_cadence("-w", str(small_root), "pipeline", "waterfall", "--grain", "day"))
