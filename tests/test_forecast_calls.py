"""Managers' calls: kept as made (never overwritten), scored by hand on a small company, and the demo's two
planted biased forecasters found from the warehouse — re-measured here with SQL and pandas — and nobody else."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

import cadence
from cadence.analysis.forecast import calls_report
from cadence.analysis.forecast.accuracy import accuracy, bias_of
from cadence.analysis.forecast.calls import latest_call, read_calls
from cadence.cli import forecast_commands  # noqa: F401  (registers `forecast`)
from cadence.cli.main import app
from cadence.entries.forecast_calls import CallRefused, record_call
from cadence.workspace import Workspace, init_workspace
from tests.test_cli import _one_line_error
from tests.test_cli import cadence as run_cadence
from tests.test_forecast_rollup import small_company

# M1's calls on 2025-Q2 (1 April – 30 June): M1's team (M1, R1, R2) won d12 (1,000) and d14 (500) in it
CALLS = [("2025-03-30", 1200, None), ("2025-04-25", 1300, 1500), ("2025-04-28", 1400, 1600), ("2025-06-10", 2000, None)]
ACTUAL = 1500.0


@pytest.fixture(scope="module")
def called(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(tmp_path_factory.mktemp("calls") / "ws"))
    small_company(ws)
    for day, commit, best in CALLS:
        record_call(ws, person_id="M1", quarter="2025-Q2", commit=commit, best_case=best, at=day, recorded_by="test")
    yield ws
    ws.close()


def test_calls_are_never_overwritten(called: Workspace) -> None:
    rows = called.warehouse.read_frame("SELECT person_id, quarter, commit_amount, called_at, recorded_by "
                                       "FROM forecast_calls WHERE person_id = 'M1' ORDER BY called_at")
    assert [float(v) for v in rows["commit_amount"]] == [c for _, c, _ in CALLS]  # four calls, four rows
    calls = read_calls(called)
    at_day_30 = latest_call(calls, "M1", "2025-Q2", date(2025, 5, 1))
    assert at_day_30 is not None and float(at_day_30["commit_amount"]) == 1400  # the latest before day 30 wins
    earlier = latest_call(calls, "M1", "2025-Q2", date(2025, 4, 26))
    assert earlier is not None and float(earlier["commit_amount"]) == 1300  # … and the earlier is still read
    assert latest_call(calls, "M1", "2025-Q2", date(2025, 3, 29)) is None


def test_accuracy_by_hand(called: Workspace) -> None:
    report = calls_report(called, called.calendar, called.currency)
    (mo,) = report.forecasters
    (quarter,) = mo.quarters
    assert quarter.quarter == "2025-Q2" and quarter.actual == ACTUAL
    by_day = {c.day: c for c in quarter.checkpoints}
    # calls: 1,200 made before the start; 1,400 the latest by day 30 and by day 60 (2,000 came after day 60)
    assert [by_day[d].call for d in (0, 30, 60)] == [1200, 1400, 1400]
    assert [by_day[d].accuracy for d in (0, 30, 60)] == pytest.approx([1 - 300 / 1500, 1 - 100 / 1500,
                                                                        1 - 100 / 1500])
    # stage-weighted for M1's team, by hand from the default stages (Proposal 50%, Negotiation 75%):
    # day 0: d12 open in Proposal, 1,000 → 500; day 30: + d14 in Negotiation, 500 → 375; day 60: d14 won (500) + 500
    assert [by_day[d].stage_weighted for d in (0, 30, 60)] == pytest.approx([500, 875, 1000])
    assert by_day[30].stage_weighted_accuracy == pytest.approx(1 - 625 / 1500)
    assert by_day[0].model is None  # too few wins for a model: said, not invented
    assert mo.mean_error == pytest.approx(((1200 - 1500) / 1500 + 2 * (1400 - 1500) / 1500) / 3)
    assert mo.bias is None  # one quarter is not enough to name a bias


def test_accuracy_formula() -> None:
    assert accuracy(100.0, 80.0) == pytest.approx(0.8)
    assert accuracy(100.0, 250.0) == 0.0  # HubSpot's formula floors at zero
    assert accuracy(0.0, 10.0) is None and accuracy(100.0, None) is None


def test_bias_only_when_the_interval_excludes_zero() -> None:
    errors = [-0.20, -0.25, -0.15, -0.22]
    mean, interval, verdict = bias_of(errors)
    half = 3.182 * statistics.stdev(errors) / 2  # t(0.975, 3 df) from a t-table, n = 4
    assert mean == pytest.approx(statistics.mean(errors))
    assert interval == pytest.approx((statistics.mean(errors) - half, statistics.mean(errors) + half), abs=1e-3)
    assert verdict == "under"
    assert bias_of([0.30, 0.20, 0.25])[2] == "over"
    assert bias_of([0.10, -0.10, 0.05])[2] is None  # noisy around zero: not named
    assert bias_of([-0.3, -0.3])[2] is None  # two quarters: too few


def test_calls_json_shape(called: Workspace) -> None:
    result = CliRunner().invoke(app, ["-w", str(called.root), "forecast", "calls", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    (forecaster,) = data["forecasters"]
    assert {"person_id", "name", "quarters", "mean_error", "bias", "accuracy"} <= set(forecaster)
    (quarter,) = forecaster["quarters"]
    assert {"quarter", "actual", "checkpoints"} <= set(quarter)
    assert [c["day"] for c in quarter["checkpoints"]] == [0, 30, 60]
    for checkpoint in quarter["checkpoints"]:
        assert {"day", "call", "called_at", "accuracy", "model", "model_accuracy", "stage_weighted",
                "stage_weighted_accuracy"} <= set(checkpoint)
    assert forecaster["person_id"] == "M1" and forecaster["bias"] is None


def test_a_call_from_the_command_line(tmp_path: pytest.TempPathFactory) -> None:
    root = init_workspace(tmp_path / "ws")  # type: ignore[operator]
    ws = cadence.open(root)
    small_company(ws)
    ws.close()
    result = CliRunner().invoke(app, ["-w", str(root), "forecast", "call", "--person", "M2", "--quarter", "2025-Q3",
                                      "--commit", "1,250", "--best-case", "1500", "--note", "two deals slip",
                                      "--at", "2025-07-02", "--format", "json"])
    assert result.exit_code == 0, result.output
    kept = json.loads(result.stdout)
    assert kept["commit_amount"] == 1250 and kept["called_at"].startswith("2025-07-02")
    assert kept["recorded_by"] == "cli" and kept["note"] == "two deals slip" and kept["currency"] == "USD"
    for args, words in [
        (["--person", "M9", "--quarter", "2025-Q3", "--commit", "10"], ("person_id", "M9", "did you mean")),
        (["--person", "M2", "--quarter", "2025-Q5", "--commit", "10"], ("quarter", "2025-Q5")),
        (["--person", "M2", "--quarter", "2025-Q3", "--commit", "-5"], ("commit", "negative")),
        (["--person", "M2", "--quarter", "2025-03", "--commit", "5"], ("quarter", "not a quarter")),
    ]:
        line = _one_line_error(run_cadence("-w", str(root), "forecast", "call", *args))
        assert all(w in line for w in words), line
        assert "nothing was written" in line
    ws = cadence.open(root)
    assert ws.warehouse.count("forecast_calls") == 1
    ws.close()


def test_refusals_name_the_field(called: Workspace) -> None:
    with pytest.raises(CallRefused) as refused:
        record_call(called, person_id="Mo Manager", quarter="2025-Q2", commit=10)
    assert refused.value.field == "person_id" and "M1" in str(refused.value)  # a name: the id suggested
    with pytest.raises(CallRefused) as refused:
        record_call(called, person_id="M1", quarter="2025-Q2", commit="lots")
    assert refused.value.field == "commit"


# -- the demo's planted biases -------------------------------------------------------------------------------
TEAM_SQL = """
WITH RECURSIVE team(forecaster, person_id) AS (
    SELECT DISTINCT person_id, person_id FROM forecast_calls
    UNION
    SELECT team.forecaster, people.person_id FROM people JOIN team ON people.manager_id = team.person_id
)
SELECT team.forecaster, o.amount, o.closed_at
FROM opportunities o JOIN team ON o.owner_id = team.person_id
WHERE o.is_won
"""


def _fiscal_quarter_start(label: str) -> date:
    """The demo's fiscal year starts in February and is named by the year it ends in."""
    year, quarter = int(label[:4]), int(label[-1])
    month = 2 + 3 * (quarter - 1)
    return date(year - 1 + (month - 1) // 12, (month - 1) % 12 + 1, 1)


def measured_biases(ws: Workspace) -> dict[str, str]:
    from scipy import stats

    won = ws.warehouse.read_frame(TEAM_SQL)
    won["amount"] = won["amount"].astype("float64")
    calls = ws.warehouse.read_frame("SELECT person_id, quarter, commit_amount, called_at FROM forecast_calls")
    calls["commit_amount"] = calls["commit_amount"].astype("float64")
    end = pd.Timestamp(ws.warehouse.read_frame("SELECT max(closed_at) AS last FROM opportunities")["last"][0])
    found = {}
    for person, mine in calls.groupby("person_id"):
        quarter_errors = []
        for label, quarter_calls in mine.groupby("quarter"):
            start = _fiscal_quarter_start(str(label))
            stop = date(start.year + (start.month + 2) // 12, (start.month + 2) % 12 + 1, 1)
            if pd.Timestamp(stop) > end.normalize() + pd.Timedelta(days=1):
                continue
            team_won = won[(won["forecaster"] == person) & (won["closed_at"] >= pd.Timestamp(start))
                           & (won["closed_at"] < pd.Timestamp(stop))]
            actual = team_won["amount"].sum()
            errors = []
            for day in (0, 30, 60):
                cutoff = datetime.combine(start + timedelta(days=day + 1), datetime.min.time())
                made = quarter_calls[quarter_calls["called_at"] < cutoff].sort_values("called_at")
                if len(made) and actual > 0:
                    errors.append(made["commit_amount"].iloc[-1] / actual - 1)
            if errors:
                quarter_errors.append(sum(errors) / len(errors))
        n = len(quarter_errors)
        mean, sd = statistics.mean(quarter_errors), statistics.stdev(quarter_errors)
        half = stats.t.ppf(0.975, n - 1) * sd / n ** 0.5
        if mean + half < 0 or mean - half > 0:
            found[str(person)] = "under" if mean < 0 else "over"
    return found


def test_the_planted_biased_managers_and_nobody_else(demo_workspace: Workspace, demo_truths: dict,
                                                     demo_plan: dict) -> None:
    measured = measured_biases(demo_workspace)
    assert measured == demo_truths["forecast_bias"] == demo_plan["forecast_bias"]
    assert sorted(measured.values()) == ["over", "under"]
    result = CliRunner().invoke(app, ["-w", str(demo_workspace.root), "forecast", "calls", "--format", "json"])
    assert result.exit_code == 0, result.output
    forecasters = json.loads(result.stdout)["forecasters"]
    assert {f["person_id"]: f["bias"] for f in forecasters if f["bias"]} == measured
    assert len(forecasters) >= 4  # the CRO and the three sales managers called; two are unbiased
    for f in forecasters:
        assert len(f["quarters"]) >= 11 and all(len(q["checkpoints"]) == 3 for q in f["quarters"])


def test_calls_kept_and_read_on_every_engine(any_workspace: Workspace) -> None:
    """DuckDB and a real PostgreSQL: two calls on one quarter are two rows, read back in the order made."""
    from tests.test_forecast_rollup import load

    load(any_workspace, {"people": pd.DataFrame([{"person_id": "M1", "name": "Mo Manager", "team": "Sales",
                                                  "role": "manager"}])})
    first = record_call(any_workspace, person_id="M1", quarter="2025-Q2", commit="1000", at="2025-04-02")
    second = record_call(any_workspace, person_id="M1", quarter="2025-Q2", commit="1200", best_case="1500",
                         note="a deal came forward", at="2025-05-01")
    calls = read_calls(any_workspace)
    assert list(calls["call_id"]) == [first.call_id, second.call_id]
    assert list(calls["commit_amount"]) == [1000.0, 1200.0] and calls["best_case_amount"].isna().tolist() == [True,
                                                                                                            False]
    assert list(calls["called_at"]) == [pd.Timestamp("2025-04-02"), pd.Timestamp("2025-05-01")]
    assert calls["note"].tolist()[1] == "a deal came forward" and set(calls["currency"]) == {"USD"}
