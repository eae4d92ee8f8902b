"""The demo company: its size, its determinism, nothing quarantined, and every planted truth really in the data.

Each truth is recomputed here from the warehouse with plain SQL or pandas — never through the
generator or an analysis — and compared with what `truths.json` measured; `plan.json` says only
what was planted and on whom (the rep, the team, the feature), and the data must show it.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import pytest

from cadence.workspace import Workspace

STEP_KINDS = {"call_to_connect": ("call", "connect"), "connect_to_demo": ("connect", "demo"),
              "demo_to_proposal": ("demo", "proposal"), "proposal_to_win": ("proposal", "win")}

def sql(ws: Workspace, query: str) -> pd.DataFrame:
    """Plain DuckDB SQL, straight to pandas (not `Warehouse.read_frame`: Ibis's `.sql()` calls a DuckDB API
    that warns about its deprecation, and the suite turns warnings into errors)."""
    frame: pd.DataFrame = ws.warehouse.ibis.raw_sql(query).df()
    return frame

@pytest.fixture(scope="module")
def won(demo_workspace: Workspace) -> pd.DataFrame:
    """Closed-won deals with their fiscal quarter (fiscal years start in February: pandas' Q-JAN)."""
    frame = sql(demo_workspace, "SELECT opportunity_id, account_id, kind, amount, discount_pct, closed_at "
                                "FROM opportunities WHERE is_won")
    frame["amount"] = frame["amount"].astype("float64")
    quarter = pd.PeriodIndex(frame["closed_at"], freq="Q-JAN")
    frame["fiscal_year"] = quarter.qyear
    quarter_end = quarter.end_time.normalize()
    frame["last_two_weeks"] = frame["closed_at"].dt.normalize().to_numpy() > (quarter_end - pd.Timedelta(days=14))
    return frame

# -- the load -----------------------------------------------------------------------------------

def test_nothing_quarantined_and_every_row_reconciles(demo_workspace: Workspace) -> None:
    assert demo_workspace.warehouse.count("quarantine") == 0
    imports = sql(demo_workspace, "SELECT path, read, loaded, quarantined FROM imports WHERE format = 'demo'")
    assert len(imports) == 19
    assert (imports["read"] == imports["loaded"]).all() and (imports["quarantined"] == 0).all()
    counts = demo_workspace.counts()
    for path, loaded in zip(imports["path"], imports["loaded"], strict=True):
        assert counts[path.split("/")[-1]] == loaded

def test_sizes(demo_workspace: Workspace) -> None:
    counts = demo_workspace.counts()
    assert counts["accounts"] >= 3_000
    assert counts["opportunities"] >= 20_000
    assert counts["activities"] >= 500_000
    assert 55 <= counts["people"] <= 70
    current = sql(demo_workspace, "SELECT count(*) AS n FROM people WHERE left_at IS NULL")["n"].iloc[0]
    assert 55 <= current <= 65
    assert counts["opportunity_history"] > 3 * counts["opportunities"]
    for table in ("leads", "subscriptions", "usage", "nps", "goals", "tempo_targets", "shipments", "gap_reviews",
                  "features", "feature_requests", "candidates", "interview_scores", "performance"):
        assert counts[table] > 0, table
    segments = sql(demo_workspace, "SELECT DISTINCT segment FROM accounts ORDER BY 1")["segment"].tolist()
    assert segments == ["enterprise", "mid_market", "no_touch"]
    kinds = sql(demo_workspace, "SELECT DISTINCT kind FROM opportunities ORDER BY 1")["kind"].tolist()
    assert kinds == ["expansion", "new", "renewal"]

def test_the_window_is_three_fiscal_years_ending_before_today(demo_workspace: Workspace, demo_truths: dict[str, Any],
                                                               demo_plan: dict[str, Any]) -> None:
    span = sql(demo_workspace, "SELECT min(created_at) AS first, max(changed_at) AS last, max(closed_at) AS closed "
                               "FROM opportunity_history JOIN opportunities USING (opportunity_id)")
    assert span["first"].iloc[0] >= pd.Timestamp(demo_plan["data_start"])
    assert span["last"].iloc[0] < pd.Timestamp(demo_plan["data_end_exclusive"])
    window = demo_truths["data_window"]
    assert window["first_deal_created"] == span["first"].iloc[0].date().isoformat()
    assert window["last_deal_closed"] == span["closed"].iloc[0].date().isoformat() == demo_plan["as_of"]
    closed_years = sql(demo_workspace, "SELECT DISTINCT 'FY' || (year(closed_at) + CASE WHEN month(closed_at) >= 2 "
                                       "THEN 1 ELSE 0 END) AS fy FROM opportunities WHERE closed_at IS NOT NULL")
    assert sorted(closed_years["fy"]) == demo_truths["fiscal_years"] == demo_plan["fiscal_years"]
    assert demo_workspace.config.fiscal_year_start_month == 2
    assert [s for s in demo_workspace.config.segments] == ["enterprise", "mid_market", "no_touch"]

def test_every_planted_carrier_is_measured_and_shows_its_effect(demo_truths: dict[str, Any],
                                                                 demo_plan: dict[str, Any]) -> None:
    """The plan names who carries each effect; the truths, measured on the warehouse, must show it on them."""
    assert set(demo_truths["bunching"]) == set(demo_plan["fiscal_years"])
    assert demo_truths["predictive_criterion"] == demo_plan["predictive_criterion"]
    assert demo_truths["most_lenient_interviewer"] == demo_plan["lenient_interviewer"]
    assert demo_truths["goals_staggered_from"] == demo_plan["goals_staggered_from"]
    assert demo_truths["segments"] == sorted(demo_plan["segments"])
    assert demo_truths["teams"] == sorted(demo_plan["teams"])
    measured = demo_truths["coaching_measured"]
    assert {p: m["step"] for p, m in measured.items()} == demo_plan["coaching_gaps"]
    assert all(m["ratio"] < 0.75 * m["peers_median"] for m in measured.values())
    teams = demo_truths["under_resourced"]["teams"]
    assert set(teams) == {demo_plan["under_resourced_team"], demo_plan["comparable_team"]}

def test_same_seed_same_company(demo_workspace: Workspace) -> None:
    """Regenerating with seed 7 gives exactly the deals in the warehouse; another seed does not."""
    from cadence.demo.build import generate_company

    loaded = sql(demo_workspace, "SELECT opportunity_id, account_id, stage, CAST(amount AS DOUBLE) AS amount "
                                 "FROM opportunities ORDER BY opportunity_id")
    again = generate_company(7).tables["opportunities"].sort_values("opportunity_id")
    assert _digest(loaded) == _digest(again[["opportunity_id", "account_id", "stage", "amount"]])
    from cadence.demo.accounts import build_accounts

    first = build_accounts(np.random.default_rng(7))
    assert first.equals(build_accounts(np.random.default_rng(7)))
    assert not first.equals(build_accounts(np.random.default_rng(8)))

def _digest(frame: pd.DataFrame) -> str:
    rows = frame.assign(amount=frame["amount"].astype("float64").round(2)).astype(str).to_numpy().tolist()
    return hashlib.sha256(repr(rows).encode()).hexdigest()

def test_a_generator_bug_stops_the_build_with_its_reasons() -> None:
    from cadence.demo.build import check_nothing_quarantined, import_batch
    from cadence.errors import CadenceError
    from cadence.ingest.prepare import prepare

    bad = pd.DataFrame({"person_id": ["P1", "P2"], "name": ["Ann", None]})
    stages = pd.DataFrame(columns=["pipeline", "stage", "is_won", "is_lost"])
    prepared = prepare(import_batch({"people": bad}), stages)
    with pytest.raises(CadenceError, match="people.name: required value is missing"):
        check_nothing_quarantined(prepared)

# -- the deals' history hangs together ---------------------------------------------------------

def test_history_ends_where_each_deal_stands(demo_workspace: Workspace) -> None:
    mismatched = sql(demo_workspace, """
        WITH last AS (
            SELECT opportunity_id, arg_max(stage, changed_at) AS stage, arg_max(amount, changed_at) AS amount,
                   arg_max(close_date, changed_at) AS close_date, min(changed_at) AS first_change
            FROM opportunity_history GROUP BY opportunity_id)
        SELECT count(*) AS n FROM opportunities o LEFT JOIN last l USING (opportunity_id)
        WHERE l.stage IS DISTINCT FROM o.stage OR l.amount IS DISTINCT FROM o.amount
           OR l.close_date IS DISTINCT FROM o.close_date OR l.first_change <> o.created_at""")
    assert mismatched["n"].iloc[0] == 0
    closed = sql(demo_workspace, "SELECT count(*) AS n FROM opportunities WHERE is_closed AND "
                                 "(closed_at IS NULL OR closed_at < created_at)")
    assert closed["n"].iloc[0] == 0

def test_subscription_periods_never_overlap(demo_workspace: Workspace) -> None:
    overlaps = sql(demo_workspace, """
        SELECT count(*) AS n FROM (
            SELECT account_id, started_at, lag(ended_at) OVER (PARTITION BY account_id ORDER BY started_at) AS prev_end,
                   lag(started_at) OVER (PARTITION BY account_id ORDER BY started_at) AS prev_start
            FROM subscriptions)
        WHERE prev_start IS NOT NULL AND (prev_end IS NULL OR prev_end > started_at)""")
    assert overlaps["n"].iloc[0] == 0

# -- planted truths ---------------------------------------------------------------------------

def test_quarter_end_bunching_in_years_one_and_two_fades_in_year_three(won: pd.DataFrame,
                                                                       demo_truths: dict[str, Any]) -> None:
    share = (won["amount"] * won["last_two_weeks"]).groupby(won["fiscal_year"]).sum() \
        / won.groupby("fiscal_year")["amount"].sum()
    for year in (2024, 2025, 2026):
        assert share[year] == pytest.approx(demo_truths["bunching"][f"FY{year}"], abs=1e-3)
    assert min(share[2024], share[2025]) > share[2026] + 0.2
    assert share[2026] < 0.3  # near the 15% that two weeks of thirteen get anyway

def test_quarter_end_deals_carry_deeper_discounts(won: pd.DataFrame, demo_truths: dict[str, Any]) -> None:
    discount = won["discount_pct"].astype("float64")
    gap = discount[won["last_two_weeks"]].mean() - discount[~won["last_two_weeks"]].mean()
    assert gap > 2
    assert gap == pytest.approx(demo_truths["quarter_end_discount_gap"], abs=0.01)

def test_quarter_end_customers_churn_and_contract_more_in_their_first_year(demo_truths: dict[str, Any]) -> None:
    after = demo_truths["quarter_end_first_year"]
    assert after["quarter_end"]["deals"] > 100 and after["other"]["deals"] > 100
    assert after["quarter_end"]["churn_rate"] > after["other"]["churn_rate"] + 0.05
    assert after["quarter_end"]["contraction_rate"] > after["other"]["contraction_rate"]

def test_executive_goals_all_due_at_quarter_end_until_staggered(demo_workspace: Workspace) -> None:
    goals = sql(demo_workspace, "SELECT owner_id, period_start, due_date FROM goals")
    quarter = pd.PeriodIndex(pd.to_datetime(goals["due_date"]), freq="Q-JAN")
    goals["at_quarter_end"] = pd.to_datetime(goals["due_date"]).to_numpy() == quarter.end_time.normalize().to_numpy()
    goals["year"], goals["quarter"] = quarter.qyear, quarter.astype(str)
    assert goals["owner_id"].nunique() >= 5
    early = goals[goals["year"] < 2026]
    assert early["at_quarter_end"].all()
    assert (early.groupby("quarter")["due_date"].nunique() == 1).all()  # every executive on the same day
    late = goals[goals["year"] == 2026]
    assert (late.groupby("quarter")["due_date"].nunique() >= 5).all()  # each executive on their own day

def test_coaching_gaps_one_rep_per_step(demo_workspace: Workspace, demo_truths: dict[str, Any],
                                        demo_plan: dict[str, Any]) -> None:
    funnel = _rep_funnels(demo_workspace)
    gaps: dict[str, str] = demo_plan["coaching_gaps"]
    assert sorted(gaps.values()) == sorted(STEP_KINDS)
    for step in STEP_KINDS:
        others = funnel[~funnel.index.isin(list(gaps))]
        median = others.groupby("team")[step].median()
        ratio_to_team = funnel[step] / funnel["team"].map(median)
        flagged = ratio_to_team[ratio_to_team < 0.75].index.tolist()
        expected = [p for p, s in gaps.items() if s == step]
        assert flagged == expected, (step, ratio_to_team.round(2).to_dict())
    for person, step in gaps.items():
        assert funnel.at[person, step] == pytest.approx(demo_truths["coaching_measured"][person]["ratio"], abs=1e-4)

def _rep_funnels(ws: Workspace) -> pd.DataFrame:
    frame = sql(ws, """
        SELECT p.person_id, p.team,
               count(*) FILTER (WHERE a.kind = 'call') AS call,
               count(*) FILTER (WHERE a.kind = 'connect') AS connect,
               count(*) FILTER (WHERE a.kind = 'demo') AS demo,
               count(*) FILTER (WHERE a.kind = 'proposal') AS proposal,
               (SELECT count(*) FROM opportunities o WHERE o.owner_id = p.person_id AND o.is_won) AS win
        FROM people p JOIN activities a ON a.person_id = p.person_id
        WHERE p.role = 'rep' GROUP BY p.person_id, p.team""").set_index("person_id")
    for step, (before, after) in STEP_KINDS.items():
        frame[step] = frame[after] / frame[before]
    return frame

def test_under_resourced_team_misses_while_its_people_are_on_par(demo_workspace: Workspace,
                                                                demo_truths: dict[str, Any],
                                                                demo_plan: dict[str, Any]) -> None:
    team, peer = demo_plan["under_resourced_team"], demo_plan["comparable_team"]
    weekly = sql(demo_workspace, """
        SELECT team, date_trunc('week', shipped_at) AS week, count(*) AS demos, count(DISTINCT owner_id) AS sdrs
        FROM shipments WHERE deliverable = 'qualified_demo' AND shipped_at >= DATE '2025-06-02'
          AND shipped_at < DATE '2026-01-26' GROUP BY ALL""")
    targets = sql(demo_workspace, "SELECT team, arg_max(count, valid_from) AS target FROM tempo_targets "
                                  "WHERE deliverable = 'qualified_demo' GROUP BY team").set_index("team")["target"]
    mine, theirs = weekly[weekly["team"] == team], weekly[weekly["team"] == peer]
    assert (mine["demos"] < targets[team]).mean() > 0.8  # the team misses nearly every week
    assert (theirs["demos"] >= targets[peer]).mean() > 0.8  # the comparable team does not
    per_person = mine["demos"].sum() / mine["sdrs"].sum(), theirs["demos"].sum() / theirs["sdrs"].sum()
    assert per_person[0] == pytest.approx(per_person[1], rel=0.15)  # each SDR is on par
    headcount = sql(demo_workspace, f"""
        SELECT count(*) FILTER (WHERE hired_at <= DATE '2025-02-01'
                                  AND (left_at IS NULL OR left_at >= DATE '2025-02-01')) AS at_start,
               count(*) FILTER (WHERE left_at IS NULL) AS at_end
        FROM people WHERE team = '{team}' AND role = 'sdr'""")
    assert headcount["at_end"].iloc[0] < headcount["at_start"].iloc[0]
    measured = demo_truths["under_resourced"]["teams"][team]["sdr_headcount"]
    assert (measured["FY2025"], measured["end"]) == (headcount["at_start"].iloc[0], headcount["at_end"].iloc[0])
    open_roles = sql(demo_workspace, "SELECT count(*) AS n FROM candidates WHERE role LIKE '%EMEA%' "
                                     "AND status IN ('interviewing', 'offered')")
    assert open_roles["n"].iloc[0] > 0
    reviews = sql(demo_workspace, f"SELECT cause FROM gap_reviews WHERE team = '{team}' AND period >= '2025-W22'")
    assert set(reviews["cause"]) == {"resources"}

def test_coachability_predicts_performance_best(demo_workspace: Workspace, demo_truths: dict[str, Any],
                                                demo_plan: dict[str, Any]) -> None:
    scores = sql(demo_workspace, """
        SELECT c.person_id, s.criterion, avg(s.score) AS score
        FROM interview_scores s JOIN candidates c USING (candidate_id)
        WHERE c.person_id IS NOT NULL GROUP BY ALL""").pivot(index="person_id", columns="criterion", values="score")
    attainment = sql(demo_workspace, "SELECT person_id, sum(attained) / sum(quota) AS attainment "
                                     "FROM performance GROUP BY person_id").set_index("person_id")["attainment"]
    joined = scores.join(attainment.astype("float64"), how="inner")
    assert len(joined) >= 30
    correlations = joined.drop(columns="attainment").corrwith(joined["attainment"]).sort_values(ascending=False)
    assert correlations.index[0] == demo_plan["predictive_criterion"]
    assert correlations.iloc[0] > correlations.iloc[1] + 0.1
    assert correlations.round(3).to_dict() == pytest.approx(demo_truths["criterion_correlations"], abs=1e-3)
    assert len(joined) == demo_truths["hires_with_performance"]
    lenient = demo_plan["lenient_interviewer"]
    by_interviewer = sql(demo_workspace, "SELECT interviewer_id, avg(score) AS mean FROM interview_scores "
                                         "GROUP BY ALL").set_index("interviewer_id")["mean"]
    assert by_interviewer[lenient] > by_interviewer.drop(lenient).max() + 0.5
    others = sql(demo_workspace, f"SELECT avg(score) AS mean FROM interview_scores WHERE interviewer_id <> '{lenient}'")
    excess = by_interviewer[lenient] - others["mean"].iloc[0]
    assert excess == pytest.approx(demo_truths["lenient_interviewer_excess"], abs=0.01)

def test_performance_is_what_the_warehouse_says_reps_sold(demo_workspace: Workspace) -> None:
    compared = sql(demo_workspace, """
        WITH booked AS (
            SELECT owner_id AS person_id,
                   year(closed_at) + CASE WHEN month(closed_at) >= 2 THEN 1 ELSE 0 END AS fy,
                   (month(closed_at) + 10) % 12 // 3 + 1 AS q, sum(amount) AS booked
            FROM opportunities WHERE is_won GROUP BY ALL)
        SELECT p.attained, coalesce(b.booked, 0) AS booked
        FROM performance p JOIN people USING (person_id)
        LEFT JOIN booked b ON b.person_id = p.person_id AND p.period = b.fy || '-Q' || b.q
        WHERE people.role = 'rep'""")
    assert len(compared) > 100
    assert np.allclose(compared["attained"].astype("float64"), compared["booked"].astype("float64"), atol=0.01)

def test_product_kpi_does_not_move_with_net_new_arr(demo_workspace: Workspace, demo_truths: dict[str, Any],
                                                     demo_plan: dict[str, Any]) -> None:
    months = pd.period_range("2023-02", "2026-01", freq="M")
    subs = sql(demo_workspace, "SELECT started_at, ended_at, CAST(mrr AS DOUBLE) AS mrr FROM subscriptions")
    edges = [m.start_time for m in months] + [pd.Timestamp("2026-02-01")]
    arr = [12 * subs.loc[(subs["started_at"] <= e) & (subs["ended_at"].isna() | (subs["ended_at"] > e)), "mrr"].sum()
           for e in edges]
    net_new_arr = pd.Series(np.diff(arr), index=months)
    usage = sql(demo_workspace, "SELECT week, sum(active_paying_users) AS users FROM usage GROUP BY week")
    wau = usage.groupby(pd.to_datetime(usage["week"]).dt.to_period("M"))["users"].mean().reindex(months)
    won = sql(demo_workspace, "SELECT a.segment, o.closed_at, CAST(o.amount AS DOUBLE) AS amount FROM opportunities o "
                              "JOIN accounts a USING (account_id) WHERE o.is_won")
    mid = won[won["segment"] == "mid_market"]
    bookings = mid.groupby(mid["closed_at"].dt.to_period("M"))["amount"].sum().reindex(months)
    changes = pd.DataFrame({"mission": net_new_arr, "wau": wau, "bookings": bookings}).diff().dropna()
    assert abs(changes["mission"].corr(changes["wau"])) < 0.3
    assert changes["mission"].corr(changes["bookings"]) > 0.6
    measured = demo_truths["kpi_alignment"]["kpis"]
    product = measured[f"Product: {demo_plan['misaligned_kpi']}"]
    assert product["lag_months"] == 0 and abs(changes["mission"].corr(changes["wau"])) == pytest.approx(
        product["best_abs_correlation"], abs=0.05)
    assert changes["mission"].corr(changes["bookings"]) == pytest.approx(
        measured["Mid-Market Sales: bookings"]["best_abs_correlation"], abs=0.05)
    assert [k for k, v in measured.items() if not v["moves_with_mission"]] == [
        f"{demo_plan['misaligned_kpi_detail']['team']}: {demo_plan['misaligned_kpi']}"]

def test_cadence_yml_kpi_tree_points_at_the_warehouse(demo_workspace: Workspace) -> None:
    """Every team of cadence.yml is a team of people; every KPI a metric of the registry; a sales team's
    `where` names the segment its own reps win in."""
    config = demo_workspace.config
    assert config.mission is not None and config.mission.metric in demo_workspace.registry
    people_teams = set(sql(demo_workspace, "SELECT DISTINCT team FROM people")["team"])
    assert {team.name for team in config.teams} == people_teams
    kpis = [(team.name, kpi) for team in config.teams for kpi in team.kpis]
    assert kpis and all(kpi.metric in demo_workspace.registry for _, kpi in kpis)
    won = sql(demo_workspace, """
        SELECT p.team, a.segment, sum(o.amount) AS amount FROM opportunities o JOIN people p ON p.person_id = o.owner_id
        JOIN accounts a USING (account_id) WHERE o.is_won AND o.kind IN ('new', 'expansion') GROUP BY ALL""")
    main_segment = won.sort_values("amount").groupby("team")["segment"].last()
    for team, kpi in kpis:
        if kpi.where is not None:
            assert f"segment = '{main_segment[team]}'" in kpi.where, (team, kpi.where)


def test_unblocking_features_turn_waiting_deals_into_wins(demo_workspace: Workspace, demo_truths: dict[str, Any],
                                                          demo_plan: dict[str, Any]) -> None:
    deals = sql(demo_workspace, """
        SELECT o.opportunity_id, o.is_won, o.created_at, o.closed_at, a.segment FROM opportunities o
        JOIN accounts a USING (account_id) WHERE o.kind = 'new' AND a.segment IN ('enterprise', 'mid_market')""")
    features = sql(demo_workspace, "SELECT feature_id, shipped_at FROM features WHERE shipped_at IS NOT NULL")
    requests = sql(demo_workspace, "SELECT feature_id, opportunity_id FROM feature_requests "
                                   "WHERE opportunity_id IS NOT NULL AND feature_id IS NOT NULL")
    lifts = {}
    for feature_id, shipped in zip(features["feature_id"], features["shipped_at"], strict=True):
        asked = set(requests.loc[requests["feature_id"] == feature_id, "opportunity_id"])
        if not asked:
            continue
        still_open = deals["closed_at"].isna() | (deals["closed_at"] > shipped)
        open_then = deals[(deals["created_at"] < shipped) & still_open]
        soon = open_then["is_won"] & (open_then["closed_at"] <= shipped + pd.Timedelta(days=60))
        mine = open_then["opportunity_id"].isin(asked)
        assert mine.sum() >= 10, feature_id
        lifts[feature_id] = soon[mine].mean() - soon[~mine].mean()
        measured = demo_truths["feature_influence"][feature_id]
        assert (mine.sum(), soon[mine].mean()) == (measured["requesting_open_deals"],
                                                   pytest.approx(measured["won_within_60_days"], abs=1e-4))
    unblocking = demo_plan["unblocking_features"]
    assert len(unblocking) >= 3 and set(unblocking) <= set(lifts)
    assert min(lifts[f] for f in unblocking) > 0.3
    assert max(v for f, v in lifts.items() if f not in unblocking) < min(lifts[f] for f in unblocking)

def test_requests_for_one_need_come_in_different_words(demo_workspace: Workspace) -> None:
    titles = sql(demo_workspace, """
        SELECT f.theme, count(DISTINCT r.title) AS phrasings FROM feature_requests r JOIN features f USING (feature_id)
        GROUP BY f.theme""")
    assert (titles["phrasings"] >= 3).all()

def test_only_the_planted_duplicate_accounts_look_like_duplicates(demo_workspace: Workspace,
                                                                  demo_truths: dict[str, Any],
                                                                  demo_plan: dict[str, Any]) -> None:
    from cadence.analysis.quality.duplicates import duplicate_domains, duplicate_names

    planted = {frozenset(pair) for pair in demo_plan["duplicate_accounts"]}
    assert {frozenset(group) for group in demo_truths["accounts_sharing_a_domain"]} == planted
    for check in (duplicate_domains, duplicate_names):
        findings = check(demo_workspace, date(2026, 2, 1))
        assert len(findings) == 1 and findings[0].count == 2 * len(planted)
        found = {frozenset(example.split("=")) for example in findings[0].examples}
        assert found <= planted

# -- the overview ------------------------------------------------------------------------------

def test_overview_figures_come_from_the_warehouse(demo_workspace: Workspace) -> None:
    from cadence.analysis.overview import company_overview

    overview = company_overview(demo_workspace)
    assert overview.company == "Northwind Analytics"
    assert overview.as_of == date(2026, 1, 31)
    segments = sql(demo_workspace, "SELECT segment, count(*) AS n FROM accounts GROUP BY segment")
    assert overview.accounts_by_segment == dict(zip(segments["segment"], segments["n"].astype(int), strict=True))
    deals = sql(demo_workspace, "SELECT count(*) FILTER (WHERE NOT is_closed) AS open, "
                                "count(*) FILTER (WHERE is_won) AS won, "
                                "count(*) FILTER (WHERE is_closed AND NOT is_won) AS lost FROM opportunities")
    assert overview.opportunities == {k: int(deals[k].iloc[0]) for k in ("open", "won", "lost")}
    per_year = sql(demo_workspace, """
        SELECT 'FY' || (year(closed_at) + CASE WHEN month(closed_at) >= 2 THEN 1 ELSE 0 END) AS fy,
               sum(amount) AS bookings FROM opportunities WHERE is_won GROUP BY 1 ORDER BY 1""")
    assert overview.bookings_by_fiscal_year == pytest.approx(
        dict(zip(per_year["fy"], per_year["bookings"].astype("float64"), strict=True)))
    mrr = sql(demo_workspace, "SELECT sum(mrr) AS mrr, count(DISTINCT account_id) AS customers FROM subscriptions "
                              "WHERE started_at <= DATE '2026-01-31' AND (ended_at IS NULL OR ended_at > "
                              "DATE '2026-01-31')")
    assert overview.mrr == pytest.approx(float(mrr["mrr"].iloc[0]))
    assert overview.arr == pytest.approx(12 * float(mrr["mrr"].iloc[0]))
    assert overview.customers == int(mrr["customers"].iloc[0])
    cycle = sql(demo_workspace, "SELECT median(epoch(closed_at) - epoch(created_at)) / 86400 AS days "
                                "FROM opportunities WHERE is_won")
    assert overview.median_sales_cycle_days == pytest.approx(float(cycle["days"].iloc[0]), abs=0.01)
    assert overview.activities == demo_workspace.warehouse.count("activities")
    assert sum(overview.people_by_team.values()) == overview.people
    assert overview.as_dict()["as_of"] == "2026-01-31"

def test_overview_renders_in_the_terminal(demo_workspace: Workspace) -> None:
    from rich.console import Console

    from cadence.analysis.overview import company_overview
    from cadence.cli.overview_view import render_overview

    console = Console(record=True, width=100)
    console.print(render_overview(company_overview(demo_workspace)))
    text = console.export_text()
    assert "Northwind Analytics — as of 2026-01-31" in text
    assert "FY2026" in text and "Mid-Market Sales" in text

def test_overview_of_an_empty_workspace(workspace: Workspace) -> None:
    from cadence.analysis.overview import company_overview

    overview = company_overview(workspace)
    assert overview.as_of is None and overview.accounts == 0 and overview.mrr == 0
    assert overview.win_rate is None and overview.bookings_by_fiscal_year == {}
