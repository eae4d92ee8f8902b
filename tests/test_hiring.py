"""Hiring science: fits checked against a direct least-squares solution, small samples, calibration, imports
that refuse bad scores, the CLI's JSON contract, and the demo company's planted predictor and lenient interviewer."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from cadence.analysis.hiring import (
    calibrate_interviewers,
    fit_from_data,
    fit_hiring,
    fit_hiring_model,
    hire_performance,
    hiring_pipeline,
    manager_candidates,
    predict_index,
    rank_managers,
    read_hiring_data,
)
from cadence.analysis.hiring.dataset import training_table
from cadence.analysis.hiring.managers import JOB_METRICS, course_progress
from cadence.config.hiring import HiringConfig, LeadershipCourse
from cadence.errors import ConfigError
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.report.model import ScorecardContext
from cadence.report.sections.hiring import HiringSection
from cadence.workspace import Workspace

CRITERIA = ["coachability", "curiosity", "work_ethic"]


def cli(ws_root: Path, *args: str) -> Any:
    import cadence.cli.hiring_commands  # noqa: F401 - registers `hiring`
    from cadence.cli.main import app

    return CliRunner().invoke(app, ["-w", str(ws_root), "hiring", *args])


def load(ws: Workspace, table: str, rows: pd.DataFrame, name: str) -> Any:
    batch = ImportBatch("test", files=[SourceFile(name, len(rows))])
    batch.add(CanonicalFrame(table, rows.assign(_line=range(2, len(rows) + 2)), name))
    prepared = prepare(batch, ws.stages())
    ws.load(prepared)
    return prepared


def synthetic_company(ws: Workspace, *, hires: int, seed: int = 3, lenient: float = 0.0,
                      criteria: list[str] | None = None) -> pd.DataFrame:
    """`hires` reps, each scored by two of three interviewers; attainment follows coachability.

    Interviewer I3 adds `lenient` points to every score. Returns the reps' hidden traits.
    """
    criteria = criteria or CRITERIA
    rng = np.random.default_rng(seed)
    traits = pd.DataFrame(rng.standard_normal((hires, len(criteria))), columns=criteria)
    ids = [f"R{i:03d}" for i in range(hires)]
    people = pd.DataFrame({"person_id": ids + ["I1", "I2", "I3"], "name": [f"Rep {i}" for i in ids] +
                           ["Ivy", "Ian", "Isa"], "team": "Sales", "role": ["rep"] * hires + ["manager"] * 3,
                           "hired_at": "2021-12-01"})
    load(ws, "people", people, "people.csv")
    candidates = pd.DataFrame({"candidate_id": [f"C{i}" for i in ids], "name": [f"Rep {i}" for i in ids],
                               "role": "Account Executive", "applied_at": "2022-11-01", "status": "hired",
                               "person_id": ids})
    load(ws, "candidates", candidates, "candidates.csv")
    rows = []
    for i, person in enumerate(ids):
        panel = rng.choice(["I1", "I2", "I3"], 2, replace=False)
        for interviewer in panel:
            bias = lenient if interviewer == "I3" else 0.0
            for criterion in criteria:
                raw = 5.5 + 1.5 * traits.loc[i, criterion] + bias + rng.normal(0, 0.5)
                rows.append((f"C{person}", interviewer, criterion, int(np.clip(round(raw), 1, 10)), "2021-11-01"))
    scores = pd.DataFrame(rows, columns=["candidate_id", "interviewer_id", "criterion", "score", "interviewed_at"])
    load(ws, "interview_scores", scores, "scores.csv")
    periods = [f"{year}-Q{q}" for year in (2022, 2023) for q in range(1, 5)]
    perf = [(person, period, 100_000.0, round(100_000 * max(0.05, 1 + 0.35 * traits.loc[i, "coachability"]
                                                            + rng.normal(0, 0.1)), 2))
            for i, person in enumerate(ids) for period in periods]
    load(ws, "performance", pd.DataFrame(perf, columns=["person_id", "period", "quota", "attained"]), "perf.csv")
    return traits.assign(person_id=ids)


# -- the regression against a direct least-squares solution ---------------------------------------------
def synthetic_table(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(5.5, 1.5, (n, 3))
    y = 1.0 + 0.5 * x[:, 0] + 0.1 * x[:, 1] - 0.2 * x[:, 2] + rng.normal(0, 0.5, n)
    return pd.DataFrame(x, columns=CRITERIA, index=[f"P{i}" for i in range(n)]).assign(performance=y)


def test_standardised_coefficients_and_intervals_equal_a_direct_least_squares_solution() -> None:
    from scipy import stats

    table = synthetic_table(60)
    fit = fit_hiring_model(table, CRITERIA)
    # the same regression, written out: standardise with pandas, solve with lstsq, classical t intervals
    z = (table[CRITERIA] - table[CRITERIA].mean()) / table[CRITERIA].std()
    yz = (table["performance"] - table["performance"].mean()) / table["performance"].std()
    design = np.hstack([np.ones((len(z), 1)), z.to_numpy()])
    beta, residual_ss, _, _ = np.linalg.lstsq(design, yz.to_numpy(), rcond=None)
    df = len(z) - 4
    se = np.sqrt(np.diag(np.linalg.inv(design.T @ design)) * residual_ss[0] / df)
    half = stats.t.ppf(0.975, df) * se
    by_name = {w.criterion: w for w in fit.criteria}
    for i, criterion in enumerate(CRITERIA, start=1):
        assert by_name[criterion].coef_std == pytest.approx(beta[i], abs=1e-10)
        assert by_name[criterion].ci_low == pytest.approx(beta[i] - half[i], abs=1e-10)
        assert by_name[criterion].ci_high == pytest.approx(beta[i] + half[i], abs=1e-10)
    assert [w.criterion for w in fit.criteria] == [CRITERIA[i - 1] for i in np.argsort(-beta[1:]) + 1]
    assert fit.n_hires == 60 and fit.reliable and not fit.warnings


def test_cross_validated_r2_is_the_held_out_r2_of_a_plain_kfold_loop() -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.model_selection import KFold, cross_val_predict

    table = synthetic_table(45, seed=5)
    fit = fit_hiring_model(table, CRITERIA, folds=5, repeats=4, seed=11)
    x, y = table[CRITERIA].to_numpy(), table["performance"].to_numpy()
    r2s = []
    for r in range(4):  # the fit's repeats are KFold(5, shuffle) seeded 11, 12, 13, 14
        held_out = cross_val_predict(LinearRegression(), x, y, cv=KFold(5, shuffle=True, random_state=11 + r))
        r2s.append(1 - ((y - held_out) ** 2).sum() / ((y - y.mean()) ** 2).sum())
    assert fit.cv_r2 == pytest.approx(np.mean(r2s), abs=1e-9)
    assert fit.cv_folds == 5
    assert fit.summary()["cv_r2"] == round(float(np.mean(r2s)), 4)


def test_a_measure_where_lower_is_better_is_read_so_a_positive_weight_predicts_success() -> None:
    table = synthetic_table(60)
    up = fit_hiring_model(table, CRITERIA)
    down = fit_hiring_model(table.assign(performance=-table["performance"]), CRITERIA, direction="down")
    assert [(w.criterion, round(w.coef_std or 0, 9)) for w in up.criteria] == \
        [(w.criterion, round(w.coef_std or 0, 9)) for w in down.criteria]


# -- too little data ------------------------------------------------------------------------------------
def test_a_small_sample_is_fitted_but_flagged_indicative() -> None:
    fit = fit_hiring_model(synthetic_table(12), CRITERIA)
    assert fit.estimated and not fit.reliable
    assert any("12 hires for 3 criteria" in w and "not reliable" in w for w in fit.warnings)


def test_too_small_a_sample_shows_no_figure_at_all() -> None:
    fit = fit_hiring_model(synthetic_table(5), CRITERIA)
    summary = fit.summary()
    assert summary["n_hires"] == 5 and summary["cv_r2"] is None
    assert {c["criterion"] for c in summary["criteria"]} == set(CRITERIA)
    assert all(c[k] is None for c in summary["criteria"] for k in ("coef_std", "ci_low", "ci_high"))
    assert any("too few hires" in w and "at least 6" in w for w in summary["warnings"])
    index = predict_index(fit, {c: 7.0 for c in CRITERIA})
    assert index.index is None and "no hiring formula" in index.warnings[0]


def test_cli_fit_json_is_the_promised_shape_and_the_table_shows_no_weights_when_too_few(workspace: Workspace) -> None:
    synthetic_company(workspace, hires=5)
    workspace.close()
    result = cli(workspace.root, "fit", "--format", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert list(data) == ["n_hires", "cv_r2", "criteria", "warnings"]
    assert data["n_hires"] == 5 and data["cv_r2"] is None
    assert all(set(c) == {"criterion", "coef_std", "ci_low", "ci_high"} and c["coef_std"] is None
               for c in data["criteria"])
    table = cli(workspace.root, "fit")
    assert table.exit_code == 0 and "no weights are shown" in " ".join(table.stdout.split())
    assert "indicative only" in " ".join(table.stdout.split())


def test_cli_fit_ranks_criteria_and_keeps_each_saved_version(workspace: Workspace) -> None:
    synthetic_company(workspace, hires=40)
    expected = fit_hiring(workspace).summary()
    workspace.close()
    result = cli(workspace.root, "fit", "--format", "json", "--save")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == json.loads(json.dumps(expected))
    weights = [c["coef_std"] for c in data["criteria"]]
    assert weights == sorted(weights, reverse=True) and data["criteria"][0]["criterion"] == "coachability"
    assert not (workspace.root / "reports" / "hiring-fits").exists()  # kept in the warehouse, not as files
    older = cli(workspace.root, "fit", "--as-of", "2023-01-01", "--save")
    assert older.exit_code == 0, older.output
    history = cli(workspace.root, "history", "--format", "json")
    assert history.exit_code == 0, history.output
    listed = json.loads(history.stdout)
    assert listed["versions"] == ["v1", "v2"]
    rows = listed["rows"]
    assert [r["version"] for r in rows] == ["v1"] * 3 + ["v2"] * 3
    first = {r["criterion"]: r["coef_std"] for r in rows if r["version"] == "v1"}
    for row in rows[3:]:
        assert row["change"] == pytest.approx(row["coef_std"] - first[row["criterion"]])
    assert rows[0]["n_hires"] == 40 and rows[0]["criterion"] == "coachability"


# -- interviewer calibration ----------------------------------------------------------------------------
def test_calibration_finds_a_lenient_interviewer_and_removes_the_offset(workspace: Workspace) -> None:
    synthetic_company(workspace, hires=60, lenient=2.0)
    scores = workspace.table("interview_scores").to_pandas()
    calibration = calibrate_interviewers(scores)
    by_id = {i.interviewer_id: i for i in calibration.interviewers}
    assert [i.interviewer_id for i in calibration.flagged()] == ["I3"]
    assert by_id["I3"].verdict == "lenient"
    others = (by_id["I1"].offset or 0) + (by_id["I2"].offset or 0)
    assert (by_id["I3"].offset or 0) - others / 2 == pytest.approx(2.0, abs=0.35)
    assert (by_id["I3"].ci_low or 0) < (by_id["I3"].offset or 0) < (by_id["I3"].ci_high or 0)
    # the plain reading: I3's score minus the other interviewer's, on the same candidate and criterion
    pairs = scores.pivot_table(index=["candidate_id", "criterion"], columns="interviewer_id", values="score")
    shared = pairs.dropna(subset=["I3"]).assign(other=lambda f: f[["I1", "I2"]].mean(axis=1)).dropna(subset=["other"])
    per_candidate = (shared["I3"] - shared["other"]).groupby(level=0).mean()
    assert by_id["I3"].raw_difference == pytest.approx(per_candidate.mean(), abs=1e-9)


def test_an_interviewer_who_shares_no_candidate_cannot_be_calibrated() -> None:
    scores = pd.DataFrame({"candidate_id": ["A", "A", "B", "C"], "interviewer_id": ["X", "Y", "X", "Z"],
                           "criterion": "curiosity", "score": [6, 7, 5, 9]})
    by_id = {i.interviewer_id: i for i in calibrate_interviewers(scores).interviewers}
    assert by_id["Z"].offset is None and by_id["Z"].verdict == "too few shared candidates"
    assert by_id["X"].verdict == "too few shared candidates"  # one shared candidate is no evidence


# -- bad scores are quarantined -------------------------------------------------------------------------
def test_scores_of_0_11_or_text_are_quarantined_with_the_reason(workspace: Workspace, tmp_path: Path) -> None:
    path = tmp_path / "scores.csv"
    path.write_text("candidate_id,interviewer_id,criterion,score\nC1,P1,coachability,0\nC1,P1,curiosity,11\n"
                    "C1,P1,work_ethic,seven\nC1,P2,Work Ethic,7\n", encoding="utf-8")
    prepared = workspace.ingest(path, "interview-scores")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (4, 1, 3)
    quarantine = workspace.table("quarantine").to_pandas().set_index("line")
    assert quarantine.loc[2, "reason"] == "must be at least 1" and quarantine.loc[2, "value"] == "0"
    assert quarantine.loc[3, "reason"] == "must be at most 10" and quarantine.loc[3, "value"] == "11"
    assert quarantine.loc[4, "reason"] == "not a valid integer" and quarantine.loc[4, "value"] == "seven"
    loaded = workspace.table("interview_scores").to_pandas()
    assert loaded[["criterion", "score"]].values.tolist() == [["work_ethic", 7]]


def test_greenhouse_ratings_become_1_to_10_scores_and_no_decision_is_quarantined(workspace: Workspace,
                                                                                 tmp_path: Path) -> None:
    path = tmp_path / "greenhouse.csv"
    header = "Candidate ID,Candidate Name,Job,Interview,Interviewer,Scorecard Submitted,Attribute,Rating," \
             "Application Status"
    lines = ["101,Ada L,Account Executive,Onsite,Grace H,2025-03-01,Coachability,Strong Yes,Active",
             "101,Ada L,Account Executive,Onsite,Grace H,2025-03-01,Work Ethic,Definitely Not,Active",
             "101,Ada L,Account Executive,Onsite,Alan T,2025-03-02,Coachability,No Decision,Active",
             "102,Bo B,Account Executive,Phone,Alan T,2025-03-02,Coachability,Mixed,Hired",
             "102,Bo B,Account Executive,Phone,Alan T,2025-03-02,Work Ethic,brilliant,Hired"]
    path.write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    prepared = workspace.ingest(path, "greenhouse")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (5, 3, 2)
    scores = workspace.table("interview_scores").to_pandas().sort_values(["candidate_id", "criterion"])
    assert scores[["candidate_id", "interviewer_id", "criterion", "score"]].values.tolist() == [
        ["101", "Grace H", "coachability", 10], ["101", "Grace H", "work_ethic", 2], ["102", "Alan T",
                                                                                      "coachability", 6]]
    reasons = workspace.table("quarantine").to_pandas().set_index("line")["reason"]
    assert "no decision is not a score" in reasons[4] and reasons[6] == "not a valid integer"
    candidates = workspace.table("candidates").to_pandas().set_index("candidate_id")
    assert candidates.loc["101", "status"] == "interviewing" and candidates.loc["102", "status"] == "hired"
    assert candidates.loc["102", "role"] == "Account Executive"


def test_a_greenhouse_file_without_ratings_is_refused_naming_the_column(workspace: Workspace, tmp_path: Path) -> None:
    from cadence.errors import InputError

    path = tmp_path / "gh.csv"
    path.write_text("Candidate ID,Interviewer,Attribute\n1,A,Curiosity\n", encoding="utf-8")
    with pytest.raises(InputError, match="missing required column 'Rating'"):
        workspace.ingest(path, "greenhouse")


def test_a_score_entered_by_hand_is_validated_and_a_bad_one_refused_with_nothing_written(
        workspace: Workspace) -> None:
    root = workspace.root
    (root / "cadence.yml").write_text((root / "cadence.yml").read_text() + yaml.safe_dump(
        {"hiring": {"criteria": [{"name": c} for c in CRITERIA]}}), encoding="utf-8")
    workspace.close()
    good = cli(root, "score", "C9", "P1", "Coachability", "8", "--date", "2025-05-02", "--format", "json")
    assert good.exit_code == 0, good.output
    assert json.loads(good.stdout)["criterion"] == "coachability"
    bad = cli(root, "score", "C9", "P1", "curiosity", "11")
    assert bad.exit_code == 1 and "must be at most 10" in str(bad.exception)
    unknown = cli(root, "score", "C9", "P1", "charisma", "5")
    assert unknown.exit_code == 1 and "unknown criterion 'charisma'" in str(unknown.exception)
    import cadence

    with cadence.open(root) as ws:
        scores = ws.table("interview_scores").to_pandas()
        quarantine = ws.table("quarantine").to_pandas()
    assert scores[["candidate_id", "criterion", "score"]].values.tolist() == [["C9", "coachability", 8]]
    assert quarantine.empty  # the person typing was told at once; a refused entry leaves nothing behind


# -- configuration --------------------------------------------------------------------------------------
def test_the_scorecard_is_versioned_in_cadence_yml(workspace: Workspace) -> None:
    from cadence.config import validate_config

    config = validate_config({"hiring": {
        "scorecard_versions": [{"version": 1, "valid_from": "2020-01-01"},
                               {"version": 2, "valid_from": "2023-02-01", "note": "coachability added"}],
        "criteria": [{"name": "curiosity", "anchors": {1: "no questions", 10: "questions that reframe the deal"}},
                     {"name": "coachability", "added_in": 2}]}})
    assert config.hiring is not None
    assert config.hiring.criteria_in(1) == ["curiosity"]
    assert config.hiring.criteria_in() == ["curiosity", "coachability"]
    assert config.hiring.version_on(date(2024, 1, 1)) == 2
    with pytest.raises(ConfigError, match="anchors must be points of the 1–10 scale"):
        validate_config({"hiring": {"criteria": [{"name": "grit", "anchors": {0: "none"}}]}})
    with pytest.raises(ConfigError, match="not declare"):
        validate_config({"hiring": {"scorecard_versions": [{"version": 1, "valid_from": "2020-01-01"}],
                                    "criteria": [{"name": "grit", "added_in": 3}]}})


def test_hires_never_asked_about_a_later_criterion_are_left_out_and_named(workspace: Workspace) -> None:
    synthetic_company(workspace, hires=40, criteria=[*CRITERIA, "grit"])
    # the first ten were interviewed before grit joined the scorecard
    workspace.warehouse.execute("DELETE FROM interview_scores WHERE criterion = 'grit' AND candidate_id < 'CR010'")
    settings = HiringConfig.model_validate({
        "scorecard_versions": [{"version": 1, "valid_from": "2020-01-01"}, {"version": 2, "valid_from": "2023-01-01"}],
        "criteria": [*({"name": c} for c in CRITERIA), {"name": "grit", "added_in": 2}]})
    fit = fit_hiring(workspace, settings)
    assert fit.n_hires == 30
    assert any("10 hires" in w and "grit (10)" in w for w in fit.warnings)
    assert fit.context["scorecard_version"] == 2


# -- the demo company -----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_data(demo_workspace: Workspace) -> Any:
    return read_hiring_data(demo_workspace)


def test_demo_coachability_is_the_strongest_predictor(demo_data: Any, demo_truths: dict[str, Any],
                                                      demo_plan: dict[str, Any]) -> None:
    fit = fit_from_data(demo_data)
    top = fit.criteria[0]
    assert top.criterion == demo_truths["predictive_criterion"] == demo_plan["predictive_criterion"]
    assert top.ci_low is not None and top.ci_low > 0
    assert fit.n_hires == demo_truths["hires_with_performance"]
    # reported honestly: a number, and a warning whenever it is weak or the sample small
    assert fit.cv_r2 is not None and -1 < fit.cv_r2 < fit.r2  # type: ignore[operator]
    assert any("fewer than 10 per criterion" in w for w in fit.warnings)
    if fit.cv_r2 < 0.1:
        assert any("cross-validated R²" in w for w in fit.warnings)


def test_demo_calibration_finds_the_lenient_interviewer(demo_data: Any, demo_truths: dict[str, Any],
                                                        demo_plan: dict[str, Any]) -> None:
    flagged = demo_data.calibration.flagged()
    assert [i.interviewer_id for i in flagged] == [demo_plan["lenient_interviewer"]]
    assert flagged[0].raw_difference == pytest.approx(demo_truths["lenient_interviewer_excess"], abs=0.3)
    assert flagged[0].ci_low > 0.5


def test_demo_index_ranks_held_out_hires_better_than_chance(demo_data: Any) -> None:
    """Each hire's index comes from a formula fitted without them (5 folds); ranks against real attainment."""
    from sklearn.model_selection import KFold

    table, _, _ = training_table(demo_data, "attainment")
    predicted = pd.Series(np.nan, index=table.index)
    for train, test in KFold(5, shuffle=True, random_state=2024).split(table):
        fit = fit_hiring_model(table.iloc[train], demo_data.criteria)
        for person in table.index[test]:
            predicted[person] = predict_index(fit, table.loc[person, demo_data.criteria].to_dict()).index
    actual = table["performance"]
    rho = predicted.rank().corr(actual.rank())
    rng = np.random.default_rng(0)
    null = [predicted.rank().corr(pd.Series(rng.permutation(actual.rank().to_numpy()), index=actual.index))
            for _ in range(2000)]
    p_value = (1 + sum(r >= rho for r in null)) / (1 + len(null))
    assert rho > 0 and p_value < 0.05, (rho, p_value)


def test_demo_attainment_and_bookings_per_month_equal_a_plain_sql_reading(demo_workspace: Workspace,
                                                                           demo_data: Any) -> None:
    perf = demo_data.performance.set_index("person_id")

    def sql(query: str) -> pd.DataFrame:  # plain DuckDB (Ibis's .sql() warns about a DuckDB deprecation)
        frame: pd.DataFrame = demo_workspace.warehouse.ibis.raw_sql(query).df()
        return frame

    attainment = sql("SELECT person_id, sum(attained) / sum(quota) AS a, count(*) AS n FROM performance "
                     "WHERE quota > 0 GROUP BY person_id").set_index("person_id")
    common = perf.index[perf["attainment"].notna()]
    assert len(common) >= 30
    assert np.allclose(perf.loc[common, "attainment"], attainment.loc[common, "a"], rtol=1e-9)
    won = sql("SELECT owner_id, sum(amount) AS b FROM opportunities WHERE is_won GROUP BY owner_id") \
        .set_index("owner_id")["b"]
    reps = perf.index[perf["bookings"].notna()]
    assert np.allclose(perf.loc[reps, "bookings"], won.reindex(reps).fillna(0), rtol=1e-9)
    assert (perf.loc[reps, "bookings_per_month"] * perf.loc[reps, "months"]).round(2).tolist() == \
        perf.loc[reps, "bookings"].round(2).tolist()


def test_demo_manager_ranking_puts_breadth_beside_sales(demo_data: Any) -> None:
    pool = manager_candidates(demo_data.performance, demo_data.candidate_scores, demo_data.criteria)
    ranked = rank_managers(pool, [*demo_data.criteria, *JOB_METRICS], method="min").set_index("person_id")
    best_seller = pool.set_index("person_id")["attainment"].idxmax()
    assert ranked.loc[best_seller, "seller_rank"] == 1
    assert (ranked["rank_gap"] != 0).any()
    # the minimum method is exactly the weakest dimension's percentile
    pct = ranked[[f"{d}_pct" for d in [*demo_data.criteria, *JOB_METRICS]]]
    assert np.allclose(ranked["breadth"], pct.min(axis=1))
    top_breadth = ranked["breadth"].idxmax()
    assert ranked.loc[top_breadth, "breadth_rank"] == 1


def test_demo_scorecard_section_counts_the_open_roles(demo_workspace: Workspace,
                                                     demo_plan: dict[str, Any]) -> None:
    as_of = date(2026, 1, 26)
    section = HiringSection().build(demo_workspace, ScorecardContext("2026-W04", date(2026, 1, 19), as_of))
    assert section is not None and section.key == "hiring"
    candidates = demo_workspace.table("candidates").to_pandas()
    in_play = candidates[candidates["status"].isin(["interviewing", "offered"])
                         & (pd.to_datetime(candidates["applied_at"]) < pd.Timestamp(as_of))]
    assert {r["role"] for r in section.rows} == set(in_play["role"])
    figures = {f.label: f.value for f in section.figures}
    assert figures["Open roles"] == in_play["role"].nunique()
    assert figures["Candidates in play"] == len(in_play)
    assert any(label.startswith("Share of attainment") for label in figures)
    people = demo_workspace.table("people").to_pandas().set_index("person_id")["name"]
    lenient = people[demo_plan["lenient_interviewer"]]
    assert [n for n in section.notes if n.startswith("Interviewer ")] == [
        n for n in section.notes if n.startswith(f"Interviewer {lenient} scores +")]
    assert any(n.startswith(f"Interviewer {lenient} scores +") for n in section.notes)


# -- pipeline, course ---------------------------------------------------------------------------------
def test_pipeline_counts_open_roles_and_the_year_by_status() -> None:
    candidates = pd.DataFrame({"candidate_id": list("ABCDEF"), "role": ["AE", "AE", "SDR", "SDR", "AE", "CSM"],
                               "status": ["interviewing", "offered", "hired", "rejected", "rejected", "interviewing"],
                               "applied_at": ["2025-03-01", "2025-04-01", "2025-02-10", "2024-12-01", "2025-05-05",
                                              "2025-07-01"]})
    pipeline = hiring_pipeline(candidates, as_of=date(2025, 6, 1), window_start=date(2025, 1, 1))
    assert [(r.role, r.interviewing, r.offered, r.days_open) for r in pipeline.open_roles] == [("AE", 1, 1, 92)]
    assert pipeline.by_status["rejected"] == 1 and pipeline.hires == 1 and pipeline.applied == 4


def test_leadership_course_progress_against_the_weekly_schedule() -> None:
    course = LeadershipCourse.model_validate({"modules": 12, "participants": [
        {"person_id": "M1", "started": "2025-01-06", "completed": [1, 2, 3, 4]},
        {"person_id": "M2", "started": "2025-01-06", "completed": list(range(1, 13))},
        {"person_id": "M3", "started": "2025-01-06", "completed": [1, 2]},
        {"person_id": "M4", "started": "2025-03-03"}]})
    progress = {p.person_id: p for p in course_progress(course, date(2025, 2, 3))}  # four weeks in
    assert (progress["M1"].expected, progress["M1"].status, progress["M1"].next_module) == (4, "on track", 5)
    assert progress["M2"].status == "done" and progress["M2"].next_module is None
    assert progress["M3"].status == "behind"
    assert progress["M4"].status == "not started" and progress["M4"].expected == 0
    with pytest.raises(ValueError, match="not modules 1–12"):
        LeadershipCourse.model_validate({"participants": [{"person_id": "M", "started": "2025-01-06",
                                                            "completed": [13]}]})


def test_performance_ramp_is_measured_only_when_the_record_saw_the_start(workspace: Workspace) -> None:
    people = pd.DataFrame({"person_id": ["A", "B"], "name": ["Ann", "Bo"], "team": "Sales", "role": "rep",
                           "hired_at": ["2023-01-02", "2022-06-01"]})
    load(workspace, "people", people, "people.csv")
    load(workspace, "candidates", pd.DataFrame({"candidate_id": ["CA", "CB"], "name": ["Ann", "Bo"],
                                                "status": "hired", "person_id": ["A", "B"]}), "c.csv")
    perf = pd.DataFrame({"person_id": ["A"] * 4 + ["B"] * 4, "period": ["2023-Q1", "2023-Q2", "2023-Q3",
                                                                        "2023-Q4"] * 2,
                         "quota": [30_000, 60_000, 100_000, 100_000] + [100_000] * 4,
                         "attained": [20_000, 50_000, 85_000, 120_000] + [90_000] * 4})
    load(workspace, "performance", perf, "perf.csv")
    frame = hire_performance(workspace, ramp_threshold=0.8).set_index("person_id")
    # A reaches 80% of the team's full quota (100k) in 2023-Q3, which ends 2023-10-01
    assert frame.loc["A", "ramp_months"] == pytest.approx((pd.Timestamp("2023-10-01") -
                                                           pd.Timestamp("2023-01-02")).days / (365.25 / 12))
    assert np.isnan(frame.loc["B", "ramp_months"])  # hired before the record begins: ramp not seen
    assert frame.loc["A", "attainment"] == pytest.approx(275_000 / 290_000)
    assert frame.loc["A", "quota_hit_rate"] == 0.25
