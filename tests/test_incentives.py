"""Incentive timing: quarter-end bunching, what quarter-end deals cost later, goal dates and their simulator.

Checked on the demo company against what it planted (truths.json) and on the real Maven CRM sample
against an independent reading of its CSV file.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cadence
from cadence.analysis.incentives import IncentiveReport, MissingDataError, incentive_report, simulate_goal_dates
from cadence.analysis.incentives.bunching import bookings_bunching
from cadence.analysis.incentives.goal_pressure import (
    ProposalError,
    fit_pressure_model,
    read_goals,
    simulate,
)
from cadence.analysis.stats import difference_interval, gini
from cadence.report.charts import to_svg
from cadence.report.html import render_html
from cadence.report.model import Scorecard
from cadence.report.scorecard import week_context
from cadence.report.sections.incentives import IncentivesSection
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset

ANNUAL_SEGMENTS = ("enterprise", "mid_market")  # the segments truths' `quarter_end_first_year` measures


def _fy(year: str) -> str:
    return f"FY{year}"


@pytest.fixture(scope="module")
def report(demo_workspace: Workspace) -> IncentiveReport:
    return incentive_report(demo_workspace, demo_workspace.calendar, seed=0)


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("maven-incentives") / "ws"))
    ws.ingest(dataset("maven-crm"), "maven")
    yield ws
    ws.close()


# -- the demo company: what was planted is found ------------------------------------------------------

def test_bunching_per_year_equals_the_planted_shares(report: IncentiveReport, demo_truths: dict[str, Any]) -> None:
    assert report.bunching is not None
    years = {_fy(y.year): y for y in report.bunching.years}
    assert set(years) == set(demo_truths["bunching"])
    assert "last 14" in demo_truths["bunching_definition"] and "closed-won amount" in demo_truths["bunching_definition"]
    for label, planted in demo_truths["bunching"].items():
        assert round(years[label].share_last_two_weeks, 4) == pytest.approx(planted, abs=1e-4)


def test_bunching_fades_once_goals_are_staggered(report: IncentiveReport, demo_truths: dict[str, Any]) -> None:
    assert report.bunching is not None
    staggered = demo_truths["goals_staggered_from"]
    before = [y for y in report.bunching.years if _fy(y.year) < staggered]
    after = [y for y in report.bunching.years if _fy(y.year) >= staggered]
    assert before and after
    for early in before:  # bunched: far above what an even spread gives, and the whole interval too
        assert early.share_last_two_weeks_low > 2 * early.even_share_last_two_weeks
    for late in after:  # faded: the interval lies wholly below every earlier year's
        assert late.share_last_two_weeks_high < min(e.share_last_two_weeks_low for e in before)
        assert late.gini_weekly < min(e.gini_weekly for e in before)
    quarters = report.bunching.quarters
    assert len(quarters) == 4 * len(report.bunching.years) and all(q.complete for q in quarters)


def test_quarter_figures_add_up_to_the_registry_bookings(report: IncentiveReport, demo_workspace: Workspace) -> None:
    assert report.bunching is not None
    metric = demo_workspace.metric("bookings", grain="quarter").set_index("period")["value"]
    for q in report.bunching.quarters:
        assert q.bookings == pytest.approx(metric[q.quarter], rel=1e-9)
        assert sum(q.weekly) == pytest.approx(q.bookings, rel=1e-9)
        assert q.weekly[-1] == pytest.approx(q.share_last_week * q.bookings, rel=1e-9)


def test_quarter_end_deals_carry_the_planted_deeper_discount(report: IncentiveReport,
                                                             demo_truths: dict[str, Any]) -> None:
    discount = {e.measure: e for e in report.effects}["discount_pct"]
    assert discount.unadjusted_difference == pytest.approx(demo_truths["quarter_end_discount_gap"], abs=0.006)
    assert discount.unadjusted_low > 0 and discount.low > 0  # plain and within segment, the interval excludes 0
    assert discount.unadjusted_low < discount.unadjusted_difference < discount.unadjusted_high


def test_quarter_end_customers_churn_and_contract_more(report: IncentiveReport, demo_truths: dict[str, Any]) -> None:
    effects = {e.measure: e for e in report.effects}
    planted = demo_truths["quarter_end_first_year"]
    for measure, rate in (("churned", "churn_rate"), ("contracted", "contraction_rate")):
        effect = effects[measure]
        assert planted["quarter_end"][rate] > planted["other"][rate]
        assert effect.difference > 0 and effect.excludes_zero, effect
        # the annual segments truths measure: our rule reads the same rates off the warehouse
        rows = [r for r in effect.by_segment if r["segment"] in ANNUAL_SEGMENTS]
        for group, key in (("quarter_end", "quarter_end"), ("other", "other")):
            deals = sum(r[f"{key}_deals"] for r in rows)
            mean = sum(r[f"{key}_mean"] * r[f"{key}_deals"] for r in rows) / deals
            assert mean == pytest.approx(planted[group][rate], abs=0.03), (measure, group)
            assert deals == pytest.approx(planted[group]["deals"], rel=0.1)


def test_a_segment_mix_hides_churn_that_within_segment_comparison_shows(report: IncentiveReport) -> None:
    """Quarter-end deals are mostly sales-led, whose customers churn less: the plain churn gap misleads."""
    churn = {e.measure: e for e in report.effects}["churned"]
    assert churn.unadjusted_low < 0 < churn.unadjusted_high
    assert churn.low > 0


def test_quarter_end_customers_take_longer_to_see_value(report: IncentiveReport) -> None:
    weeks = {e.measure: e for e in report.effects}["weeks_to_first_value"]
    assert weeks.quarter_end.deals > 100 and weeks.other.deals > 100
    assert weeks.difference > 0 and weeks.excludes_zero


def test_goal_pressure_shows_every_executive_due_together_until_staggered(report: IncentiveReport,
                                                                         demo_workspace: Workspace,
                                                                         demo_truths: dict[str, Any]) -> None:
    goals = demo_workspace.table("goals").to_pandas()
    executives = goals["owner_id"].nunique()
    assert sum(p.goals_due for p in report.pressure) == len(goals)  # every goal falls in exactly one week
    staggered = demo_truths["goals_staggered_from"].removeprefix("FY")
    years = {demo_workspace.calendar.label(demo_workspace.calendar.start_of(p.start, "year"), "year")
             for p in report.pressure}
    for year in sorted(years):
        peak = max(p.executives_due for p in report.pressure
                   if demo_workspace.calendar.label(demo_workspace.calendar.start_of(p.start, "year"), "year") == year)
        assert peak == (1 if year >= staggered else executives), year


def test_the_measured_effect_of_goal_dates(report: IncentiveReport) -> None:
    model = report.model
    assert model is not None
    assert model.slope_low > 0 and model.slope_low <= model.slope <= model.slope_high
    assert model.r_squared > 0.5
    assert model.weeks == 13 * len(model.quarters)


@pytest.mark.parametrize("held_out", ["2024", "2025"])
def test_the_model_predicts_a_year_it_was_not_fitted_on(demo_workspace: Workspace, held_out: str) -> None:
    """Fitted without one year, the model reads that year's bunching off its goal dates alone."""
    calendar = demo_workspace.calendar
    bunching = bookings_bunching(demo_workspace, calendar)
    goals = read_goals(demo_workspace)
    model = fit_pressure_model([q for q in bunching.quarters if q.year != held_out], goals, calendar)
    assert held_out not in {q[:4] for q in model.quarters}
    result = simulate(goals, {}, model, calendar, [held_out], description="as they were")
    actual = next(y for y in bunching.years if y.year == held_out).share_last_two_weeks
    predicted = float(np.mean([q.expected_share_current for q in result.quarters]))
    assert predicted == pytest.approx(actual, abs=0.1)
    assert result.moved_goals == 0


def test_staggering_goals_is_expected_to_flatten_the_quarter_end(demo_workspace: Workspace,
                                                                  demo_truths: dict[str, Any]) -> None:
    executives = demo_workspace.table("goals").to_pandas()["owner_id"].nunique()
    bunched_year = str(min(int(y[2:]) for y in demo_truths["bunching"]))
    result = simulate_goal_dates(demo_workspace, demo_workspace.calendar, stagger_days=14, years=[bunched_year])
    assert result.moved_goals > 0
    for q in result.quarters:
        assert q.peak_executives_current == executives and q.peak_executives_proposed == 1
        assert q.expected_share_proposed_high < q.expected_share_current
        assert q.expected_share_proposed_low <= q.expected_share_proposed <= q.expected_share_proposed_high
        assert not q.extrapolated
    weeks = [w for w in result.weeks if w["quarter"] == result.quarters[0].quarter]
    assert len(weeks) == 13 and sum(w["executives_due_proposed"] for w in weeks) == executives


def test_goals_without_bookings_history_cannot_give_an_effect(demo_workspace: Workspace) -> None:
    goals = read_goals(demo_workspace)
    with pytest.raises(MissingDataError, match="needs complete quarters of bookings while goals were set"):
        fit_pressure_model([], goals, demo_workspace.calendar)


def test_proposing_unknown_goals_is_refused(demo_workspace: Workspace) -> None:
    with pytest.raises(ProposalError, match="NOPE-1"):
        simulate_goal_dates(demo_workspace, demo_workspace.calendar, proposal={"NOPE-1": date(2025, 3, 1)})


def test_the_scorecard_shows_the_week_of_quarter_chart_and_every_year(demo_workspace: Workspace,
                                                                       report: IncentiveReport) -> None:
    context = week_context(demo_workspace, "2026-W05")  # the demo's last week: every close is before as_of
    provider = IncentivesSection()
    assert (provider.key, provider.order) == ("incentives", 50)
    section = provider.build(demo_workspace, context)
    assert section is not None and report.bunching is not None
    assert [row["fiscal_year"] for row in section.rows] == [y.year for y in report.bunching.years]
    assert [row["last_two_weeks"] for row in section.rows] == [f"{y.share_last_two_weeks:.1%}"
                                                               for y in report.bunching.years]
    (chart,) = section.charts
    points = chart.spec["layer"][0]["data"]["values"]
    assert len(points) == 13 * len(report.bunching.years)
    for year in report.bunching.years:  # each year's weeks add up to the whole year
        assert sum(p["share"] for p in points if p["year"] == year.year) == pytest.approx(1.0)
    card = Scorecard("Northwind", "USD", context, None, [section], [])
    html = render_html(card)
    part = html[html.index('id="section-incentives"'):]
    assert "<svg" in part and "last two weeks" in part and to_svg(chart.spec).lstrip().startswith("<svg")


def test_the_command_prints_the_report_as_json(demo_workspace: Workspace, report: IncentiveReport) -> None:
    from cadence.cli.main import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, ["-w", str(demo_workspace.root), "incentives", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(json.dumps(report.as_dict(), default=str))
    assert set(data) >= {"quarters", "years", "quarter_end_effects", "goal_pressure", "movements"}
    first = data["quarters"][0]
    assert {"quarter", "bookings", "share_last_two_weeks", "share_last_week", "gini_weekly"} <= set(first)
    assert first["quarter"] == "2024-Q1" and data["unavailable"] == {}


def test_a_csv_of_due_dates_is_simulated(demo_workspace: Workspace, tmp_path: Path) -> None:
    """Moving one staggered quarter's goals back onto its last day brings the quarter-end pressure back."""
    from cadence.cli.main import app, register_commands

    goals = read_goals(demo_workspace)
    last = max(goals["due_date"])
    quarter = goals[goals["due_date"] > last - timedelta(days=85)]
    path = tmp_path / "due.csv"
    pd.DataFrame({"goal_id": quarter["goal_id"], "due_date": last.isoformat()}).to_csv(path, index=False)
    register_commands()
    result = CliRunner().invoke(app, ["-w", str(demo_workspace.root), "incentives", "simulate", "--due-dates",
                                      str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    (changed,) = [q for q in data["quarters"] if q["peak_executives_proposed"] != q["peak_executives_current"]]
    assert changed["peak_executives_proposed"] == goals["owner_id"].nunique()
    assert changed["expected_share_proposed"] > changed["expected_share_current"]


# -- the real Maven CRM sample: equal to an independent reading of the CSV ----------------------------

def _gini_by_pairs(values: np.ndarray) -> float:
    """Gini as the mean absolute difference over all pairs ÷ twice the mean (a different formula from ours)."""
    return float(np.abs(values[:, None] - values[None, :]).sum() / (2 * len(values) ** 2 * values.mean()))


def test_maven_bunching_equals_a_plain_reading_of_the_csv(maven: Workspace, dataset: Dataset) -> None:
    pipeline = pd.read_csv(dataset("maven-crm/sales_pipeline.csv"), parse_dates=["close_date"])
    won = pipeline[pipeline["deal_stage"] == "Won"].copy()
    period = won["close_date"].dt.to_period("Q")  # calendar quarters: cadence.yml's fiscal year starts in January
    won["quarter"] = period.astype(str).str.replace("Q", "-Q")
    won["days_left"] = (period.dt.end_time.dt.normalize() + pd.Timedelta(days=1) - won["close_date"]).dt.days
    won["weeks_from_end"] = np.minimum((won["days_left"] - 1) // 7, 12)
    report = incentive_report(maven, maven.calendar)
    got = {q["quarter"]: q for q in report.as_dict()["quarters"]}
    assert set(got) == set(won["quarter"])
    for quarter, rows in won.groupby("quarter"):
        value = rows["close_value"]
        weekly = value.groupby(rows["weeks_from_end"]).sum().reindex(range(13), fill_value=0).to_numpy(float)
        row = got[quarter]
        assert row["bookings"] == pytest.approx(value.sum(), rel=1e-12)
        assert row["share_last_two_weeks"] == pytest.approx(value[rows["days_left"] <= 14].sum() / value.sum())
        assert row["share_last_week"] == pytest.approx(value[rows["days_left"] <= 7].sum() / value.sum())
        assert row["gini_weekly"] == pytest.approx(_gini_by_pairs(weekly))
    # and what the sample cannot show is said, not guessed
    assert set(report.unavailable) == {"discount", "churn_and_contraction", "time_to_first_value", "goal_pressure",
                                       "movements"}
    assert "discount_pct" in report.unavailable["discount"]
    assert "goals table is empty" in report.unavailable["goal_pressure"]


def test_maven_report_in_the_terminal_says_which_parts_need_what(maven: Workspace) -> None:
    from cadence.cli.main import app, register_commands

    register_commands()
    result = CliRunner().invoke(app, ["-w", str(maven.root), "incentives"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "Bunching by fiscal quarter" in result.output and "2017-Q4" in result.output
    assert "subscriptions table is empty" in result.output and "goals table is empty" in result.output


# -- bad input: one clear line, never a traceback -----------------------------------------------------

def _cadence(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    return subprocess.run([sys.executable, "-m", "cadence.cli", "-w", str(root), *args], capture_output=True,
                          text=True, env=env, timeout=120)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_an_empty_workspace_says_what_each_part_needs(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    result = _cadence(root, "incentives", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["quarters"] == [] and data["quarter_end_effects"]["measures"] == {}
    needs = data["unavailable"]
    assert "closed-won deals" in needs["bunching"] and "closed-won deals" in needs["discount"]
    assert "goals table is empty" in needs["goal_pressure"]
    assert "subscriptions table is empty" in needs["movements"]
    assert "goals table is empty" in _one_line(_cadence(root, "incentives", "simulate", "--stagger", "2w"))


def test_bad_simulator_input_is_one_line(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    assert "--stagger" in _one_line(_cadence(root, "incentives", "simulate"))
    assert "4x" in _one_line(_cadence(root, "incentives", "simulate", "--stagger", "4x"))
    bad = tmp_path / "due.csv"
    bad.write_text("goal_id,due_date\nG001,2026-02-30\n")
    line = _one_line(_cadence(root, "incentives", "simulate", "--due-dates", str(bad)))
    assert "G001" in line and "line 2" in line and "due.csv" in line
    wrong = tmp_path / "due.yml"
    wrong.write_text("- G001\n")
    assert "goal_id: due date" in _one_line(_cadence(root, "incentives", "simulate", "--due-dates", str(wrong)))


# -- the statistics -----------------------------------------------------------------------------------

def test_gini_of_even_and_of_all_in_one_week() -> None:
    assert gini([5.0] * 13) == pytest.approx(0.0)
    assert gini([0.0] * 12 + [7.0]) == pytest.approx(12 / 13)
    assert gini([0.0] * 13) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False).map(lambda v: round(v, 2)),  # money: cents
                min_size=2, max_size=20))
def test_gini_equals_the_pairwise_definition(values: list[float]) -> None:
    array = np.array(values)
    if array.sum() <= 0:
        assert gini(values) is None
    else:
        assert gini(values) == pytest.approx(_gini_by_pairs(array), abs=1e-9)


def test_the_bootstrap_is_seeded_and_brackets_a_known_difference() -> None:
    rng = np.random.default_rng(1)
    values = pd.Series(np.concatenate([rng.normal(10, 2, 400), rng.normal(7, 2, 600)]))
    flag = pd.Series([True] * 400 + [False] * 600)
    first = difference_interval(values, flag, seed=3)
    again = difference_interval(values, flag, seed=3)
    assert first == again and first is not None
    assert first.low < 3 < first.high and first.excludes_zero
    strata = pd.Series(["a", "b"] * 500)
    assert difference_interval(values, flag, strata, seed=3) is not None
    assert difference_interval(values, pd.Series([False] * 1000), seed=3) is None


# -- one answer on every engine ----------------------------------------------------------------------

def _company(seed: int = 5) -> dict[str, pd.DataFrame]:
    """A small company with every table the incentive analysis reads, quarter-end deals a little worse."""
    rng = np.random.default_rng(seed)
    n, accounts = 360, 120
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 480, n), unit="D")
    closed = created + pd.to_timedelta(rng.integers(5, 150, n), unit="D")
    stage = rng.choice(["Closed Won", "Closed Lost", "Demo"], n, p=[0.6, 0.3, 0.1])
    deals = pd.DataFrame({
        "opportunity_id": [f"o{i:03d}" for i in range(n)], "account_id": [f"a{i % accounts}" for i in range(n)],
        "stage": stage, "amount": rng.integers(1_000, 50_000, n).astype(str), "created_at": created.astype(str),
        "closed_at": np.where(stage != "Demo", closed.astype(str), None), "close_date": closed.strftime("%Y-%m-%d"),
        "kind": np.where(np.arange(n) < accounts, "new", "expansion"),
        "discount_pct": rng.uniform(0, 30, n).round(1).astype(str),
    })
    first = deals.iloc[:accounts]
    start = pd.to_datetime(first["close_date"])
    ends = [None if rng.random() < 0.6 else (s + pd.DateOffset(months=int(rng.integers(2, 15)))).date().isoformat()
            for s in start]
    subs = pd.DataFrame({"subscription_id": [f"s{i}" for i in range(accounts)], "account_id": first["account_id"],
                         "mrr": rng.integers(100, 900, accounts).astype(str),
                         "started_at": start.dt.strftime("%Y-%m-%d"), "ended_at": ends})
    mondays = pd.date_range("2024-01-01", "2025-12-29", freq="W-MON")
    usage = pd.DataFrame([(a, w.date().isoformat(), int(max(0, rng.normal(5, 4)))) for a in first["account_id"]
                          for w in mondays[::2]], columns=["account_id", "week", "active_paying_users"])
    quarter_ends = pd.date_range("2024-03-31", "2025-12-31", freq="QE")
    goals = pd.DataFrame([(f"g{q}{e}", f"e{e}", "bookings", "1000", (end - pd.DateOffset(months=3)).date().isoformat(),
                           (end - pd.Timedelta(days=0 if q < 4 else 21 * e)).date().isoformat())
                          for q, end in enumerate(quarter_ends) for e in range(4)],
                         columns=["goal_id", "owner_id", "metric", "target", "period_start", "due_date"])
    account_rows = pd.DataFrame({"account_id": [f"a{i}" for i in range(accounts)],
                                 "name": [f"Acme {i}" for i in range(accounts)],
                                 "segment": rng.choice(["enterprise", "smb"], accounts)})
    return {"accounts": account_rows, "opportunities": deals, "subscriptions": subs, "usage": usage, "goals": goals}


def _load(ws: Workspace) -> None:
    from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
    from cadence.ingest.prepare import prepare

    frames, files = [], []
    for table, frame in _company().items():
        frames.append(CanonicalFrame(table, frame.assign(_line=range(2, len(frame) + 2)), f"{table}.csv"))
        files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(ImportBatch("csv", files, frames), ws.stages())
    assert prepared.quarantined == 0, prepared.quarantine.to_dict("records")[:3]
    ws.load(prepared)


@pytest.mark.postgres
def test_same_report_on_duckdb_and_postgres(tmp_path: Path, postgres_url: str) -> None:
    reports = []
    for name, warehouse in (("duck", None), ("pg", postgres_url)):
        with cadence.open(init_workspace(tmp_path / name, warehouse=warehouse)) as ws:
            _load(ws)
            reports.append(json.loads(json.dumps(incentive_report(ws, ws.calendar).as_dict(), default=str)))
    duck, pg = reports
    assert duck["unavailable"] == {} and len(duck["quarter_end_effects"]["measures"]) == 4
    assert duck["goal_pressure"]["model"] is not None and duck["movements"]["quarters"]
    assert _same(duck, pg)


def _same(left: Any, right: Any) -> bool:
    """Equal, floats to 1e-9 relative (engines add up in different orders)."""
    if isinstance(left, dict):
        assert left.keys() == right.keys()
        return all(_same(left[k], right[k]) for k in left)
    if isinstance(left, list):
        assert len(left) == len(right)
        return all(_same(a, b) for a, b in zip(left, right, strict=True))
    if isinstance(left, float) and isinstance(right, float):
        assert left == pytest.approx(right, rel=1e-9, abs=1e-12)
        return True
    assert left == right
    return True
