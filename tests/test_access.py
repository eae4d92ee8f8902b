"""Roles and row scopes: a manager sees their team's rows, a rep their own, a recruiter no deals, everyone's
figures and drill-downs computed over only what they may see — checked against pandas over the raw tables."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import cadence
from cadence.access.roles import AREAS, READS, WRITES, Principal, may_see, may_write
from cadence.access.scope import AccessDenied, Scope, scope_for, scoped
from cadence.errors import CadenceError
from cadence.metrics.drill import drill_rows
from cadence.schema.app_tables import ROLES
from cadence.schema.tables import table_named
from cadence.workspace import Workspace, init_workspace

# Two teams. Enterprise: manager m1 with reps r1, r2. Mid-Market: manager m2 with rep r3, and r4, who has
# no team in `people` but reports to m2 — a manager's scope follows the chain of managers too.
PEOPLE = [
    ("x1", "Xavier Exec", "Leadership", "executive", None),
    ("m1", "Maria Manager", "Enterprise", "manager", "x1"),
    ("r1", "Ana Pérez", "Enterprise", "rep", "m1"),
    ("r2", "Bo Berg", "Enterprise", "rep", "m1"),
    ("m2", "Chen Manager", "Mid-Market", "manager", "x1"),
    ("r3", "Dee Diaz", "Mid-Market", "rep", "m2"),
    ("r4", "Eli Ek", None, "rep", "m2"),
]
REPS = ["r1", "r2", "r3", "r4"]
TEAM_OF = {"m1": {"m1", "r1", "r2"}, "m2": {"m2", "r3", "r4"}}
EUR_PER_USD = 0.8
WHERES = [None, "amount > 1000", "stage = 'Closed Won'", "1=1; DROP TABLE opportunities",
          "name = 'x' OR 1=1", "owner_id = 'r3'", "amount > 0) OR (1=1", "segment IN ('Enterprise', 'SMB')"]


def _frame(name: str, rows: list[dict[str, object]]) -> pd.DataFrame:
    """Rows for table `name`, with every declared column (blank where a row does not say)."""
    return pd.DataFrame(rows).reindex(columns=table_named(name).column_names)


def _deals() -> list[dict[str, object]]:
    deals: list[dict[str, object]] = []
    for i in range(48):
        owner = REPS[i % 4]
        closed = i % 3 != 2
        won = closed and i % 7 % 2 == 0
        close = date(2026, 1, 5) + timedelta(days=7 * (i % 20))
        deals.append({
            "opportunity_id": f"o{i:02d}", "account_id": f"a-{owner}-{i // 4 % 2}", "owner_id": owner,
            "name": f"Deal {i}", "kind": "new", "pipeline": "default",
            "stage": "Closed Won" if won else "Closed Lost" if closed else "Prospecting",
            "amount": 500 + 137 * i, "currency": "EUR" if i % 5 == 0 else "USD",
            "created_at": datetime(2025, 12, 1) + timedelta(days=i), "close_date": close,
            "closed_at": datetime.combine(close, datetime.min.time()) if closed else None,
            "is_closed": closed, "is_won": won, "source": "test",
        })
    return deals


def build_company(root: Path) -> Workspace:
    """A small company written straight into a fresh workspace's warehouse."""
    ws = cadence.open(init_workspace(root, company="Scoped Co"))
    accounts: list[dict[str, object]] = [
        {"account_id": f"a-{rep}-{k}", "name": f"Customer of {rep} #{k}",
         "segment": "Enterprise" if rep in ("r1", "r2") else "SMB", "source": "test"} for rep in REPS for k in range(2)]
    accounts.append({"account_id": "a-lead-only", "name": "Lead-only Inc", "source": "test"})
    accounts.append({"account_id": "a-owned", "name": "Owned by Dee", "owner_id": "r3", "source": "test"})
    tables: dict[str, list[dict[str, object]]] = {
        "people": [{"person_id": p, "name": n, "team": t, "role": r, "manager_id": m, "source": "test"}
                   for p, n, t, r, m in PEOPLE],
        "accounts": accounts,
        "opportunities": _deals(),
        "opportunity_history": [{"opportunity_id": d["opportunity_id"], "changed_at": d["created_at"],
                                 "stage": "Prospecting", "amount": d["amount"], "source": "test"} for d in _deals()],
        "leads": [{"lead_id": f"l{i}", "account_id": "a-lead-only" if i == 0 else f"a-{REPS[i % 4]}-0",
                   "owner_id": REPS[i % 4], "created_at": datetime(2026, 1, 10 + i), "source": "test"}
                  for i in range(8)],
        "activities": [{"activity_id": f"act{i}", "person_id": REPS[i % 4], "kind": "call",
                        "occurred_at": datetime(2026, 1, 5 + i % 20, 10), "source": "test"} for i in range(40)],
        "exchange_rates": [{"currency": "EUR", "rate": EUR_PER_USD, "source": "test"}],
        "subscriptions": [{"subscription_id": f"s{i}", "account_id": account, "mrr": 100 * (i + 1), "currency": "USD",
                           "started_at": date(2025, 11, 1), "source": "test"}
                          for i, account in enumerate([*(f"a-{rep}-0" for rep in REPS), "a-lead-only", "a-owned"])],
        "candidates": [{"candidate_id": "c1", "name": "Cora Candidate", "role": "rep", "source": "test"}],
        "interview_scores": [{"candidate_id": "c1", "interviewer_id": "m1", "criterion": "grit", "score": 7,
                              "source": "test"}],
        "tempo_targets": [{"team": t, "deliverable": "demo", "count": 2, "period": "week", "size": "",
                           "valid_from": date(2026, 1, 1), "source": "test"} for t in ("Enterprise", "Mid-Market")],
    }
    with ws.warehouse.transaction():
        for name, rows in tables.items():
            ws.warehouse.upsert(table_named(name), _frame(name, rows))
    return cadence.open(root)


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = build_company(tmp_path_factory.mktemp("scoped") / "ws")
    yield ws
    ws.close()


def raw(ws: Workspace, name: str) -> pd.DataFrame:
    """A table as stored, read with plain DuckDB SQL (not through any scope, nor Ibis)."""
    frame: pd.DataFrame = ws.warehouse.ibis.raw_sql(f"SELECT * FROM {name}").df()
    return frame


def principal(role: str, who: str | None = None) -> Principal:
    team = {"m1": "Enterprise", "m2": "Mid-Market"}.get(who or "")
    return Principal(user_id=f"user-{who or role}", role=role, team=team, person_id=who)


# -- roles ------------------------------------------------------------------------------------------


def test_every_role_has_one_explicit_row_and_unknowns_are_refused() -> None:
    assert set(READS) == set(ROLES) == set(WRITES)
    nobody = Principal("u", "intern")
    assert not any(may_see(nobody, a) or may_write(nobody, a) for a in AREAS)
    assert not may_see(Principal("u", "admin"), "secret_area")
    assert all(may_see(Principal("u", "admin"), a) for a in AREAS)


@pytest.mark.parametrize(("role", "sees", "hidden"), [
    ("viewer", {"scorecard"}, {"metrics", "pipeline", "hiring", "admin"}),
    ("rep", {"scorecard", "pipeline", "coaching", "actions"}, {"tempo", "hiring", "hiring_scores", "admin"}),
    ("manager", {"tempo", "requests", "forecast"}, {"hiring", "hiring_scores", "admin", "roadmap"}),
    ("executive", {"hiring", "roadmap", "quality", "tempo"}, {"hiring_scores", "admin"}),
    ("recruiter", {"hiring", "hiring_scores"}, {"scorecard", "metrics", "pipeline", "admin"}),
])
def test_pages_each_role_opens(role: str, sees: set[str], hidden: set[str]) -> None:
    who = Principal("u", role)
    assert all(may_see(who, a) for a in sees)
    assert not any(may_see(who, a) for a in hidden)


def test_writes() -> None:
    assert may_write(Principal("u", "manager"), "tempo") and may_write(Principal("u", "manager"), "requests")
    assert may_write(Principal("u", "recruiter"), "hiring_scores")
    assert not may_write(Principal("u", "rep"), "tempo") and not may_write(Principal("u", "viewer"), "scorecard")
    assert not may_write(Principal("u", "executive"), "hiring_scores")


# -- scopes -----------------------------------------------------------------------------------------


def test_scope_of_each_role(company: Workspace) -> None:
    manager = scope_for(company, principal("manager", "m2"))
    # r4 reports to m2 but has no team: the key says the scope follows m2's reports beyond the team
    assert (manager.kind, manager.person_ids, manager.key) == ("team", frozenset(TEAM_OF["m2"]),
                                                               "team:Mid-Market+reports-of:m2")
    enterprise = scope_for(company, principal("manager", "m1"))
    assert (enterprise.person_ids, enterprise.key) == (frozenset(TEAM_OF["m1"]), "team:Enterprise")
    assert manager.label == "team Mid-Market"
    rep = scope_for(company, principal("rep", "r1"))
    assert (rep.kind, rep.person_ids, rep.key, rep.label) == ("person", {"r1"}, "person:r1", "Ana Pérez's own")
    assert scope_for(company, principal("executive")).kind == "all"
    assert scope_for(company, principal("viewer")).kind == "all"
    assert scope_for(company, principal("recruiter")).kind == "none"
    assert scope_for(company, Principal("u", "rep")).kind == "none"  # a rep we cannot place sees nothing
    assert scope_for(company, Principal("u", "wizard")).kind == "none"


def test_two_managers_of_one_team_whose_reports_differ_never_share_a_scope_name(company: Workspace) -> None:
    """Caches, kept results and weekly snapshots are named by the scope's key: a manager whose reports sit in
    another team sees rows the team's own manager does not, so the two keys must differ."""
    own = scope_for(company, principal("manager", "m1"))
    wider = scope_for(company, Principal("user-m2-as-enterprise", "manager", team="Enterprise", person_id="m2"))
    assert wider.person_ids == frozenset(TEAM_OF["m1"] | TEAM_OF["m2"])  # the team, and m2 with m2's reports
    assert own.key == "team:Enterprise" and wider.key == "team:Enterprise+reports-of:m2"
    assert scoped(company, own)._cache_suffix != scoped(company, wider)._cache_suffix


def test_manager_bookings_are_their_teams_computed_in_pandas(company: Workspace) -> None:
    view = scoped(company, scope_for(company, principal("manager", "m1")))
    got = view.metric("bookings", by=["owner_name"], grain="quarter")
    deals, people = raw(company, "opportunities"), raw(company, "people")
    won = deals[deals["is_won"] & deals["owner_id"].isin(TEAM_OF["m1"])].merge(
        people[["person_id", "name"]].rename(columns={"name": "owner"}), left_on="owner_id", right_on="person_id")
    won["usd"] = [float(a) / (EUR_PER_USD if c == "EUR" else 1.0) for a, c in zip(won["amount"], won["currency"],
                                                                                     strict=True)]
    won["quarter"] = [f"{d.year}-Q{(d.month - 1) // 3 + 1}" for d in pd.to_datetime(won["close_date"])]
    expected = won.groupby(["quarter", "owner"])["usd"].sum().to_dict()
    assert len(got) == len(expected) > 0
    for row in got.itertuples():
        assert row.value == pytest.approx(expected[(row.period, row.owner_name)])
    assert set(got["owner_name"]) == {"Ana Pérez", "Bo Berg"}


def test_a_rep_sees_only_their_own_deals_and_accounts(company: Workspace) -> None:
    view = scoped(company, scope_for(company, principal("rep", "r3")))
    assert set(view.table("opportunities").to_pandas()["owner_id"]) == {"r3"}
    history = view.table("opportunity_history").to_pandas()
    deals = raw(company, "opportunities")
    assert set(history["opportunity_id"]) == set(deals.loc[deals["owner_id"] == "r3", "opportunity_id"])
    leads = raw(company, "leads")
    mine = (set(deals.loc[deals["owner_id"] == "r3", "account_id"]) | set(leads.loc[leads["owner_id"] == "r3",
                                                                                   "account_id"]) | {"a-owned"})
    assert set(view.table("accounts").to_pandas()["account_id"]) == mine
    assert set(view.table("people").to_pandas()["person_id"]) == {"r3"}


def test_other_teams_customers_never_appear(company: Workspace) -> None:
    view = scoped(company, scope_for(company, principal("manager", "m1")))
    names = set(view.table("accounts").to_pandas()["name"])
    leads = raw(company, "leads")
    assert leads.set_index("lead_id").loc["l0", "owner_id"] == "r1"  # r1's lead names Lead-only Inc
    assert names == {f"Customer of {r} #{k}" for r in ("r1", "r2") for k in range(2)} | {"Lead-only Inc"}
    drilled = {r["account_id"] for r in drill_rows(view, "opportunities_created", "2025-Q4").rows}
    assert drilled and drilled <= {f"a-{r}-{k}" for r in ("r1", "r2") for k in range(2)}


def test_recurring_revenue_is_of_the_scope_accounts_and_its_cache_stays_apart(company: Workspace) -> None:
    subscriptions = raw(company, "subscriptions").set_index("account_id")["mrr"].astype(float)
    company_mrr = company.metric("mrr", grain="month").set_index("period")["value"]
    view = scoped(company, scope_for(company, principal("manager", "m2")))  # Mid-Market: r3's owned account too
    team_mrr = view.metric("mrr", grain="month").set_index("period")["value"]
    assert team_mrr["2026-01"] == pytest.approx(subscriptions[["a-r3-0", "a-r4-0", "a-owned"]].sum())
    assert company.metric("mrr", grain="month").set_index("period")["value"]["2026-01"] == pytest.approx(
        subscriptions.sum()) == pytest.approx(company_mrr["2026-01"])
    rep = scoped(company, scope_for(company, principal("rep", "r1")))  # r1's lead names Lead-only Inc
    assert rep.metric("mrr", grain="month").set_index("period")["value"]["2026-01"] == pytest.approx(
        subscriptions[["a-r1-0", "a-lead-only"]].sum())


def test_tempo_is_the_managers_team(company: Workspace) -> None:
    view = scoped(company, scope_for(company, principal("manager", "m2")))
    assert set(view.table("tempo_targets").to_pandas()["team"]) == {"Mid-Market"}
    rep = scoped(company, scope_for(company, principal("rep", "r1")))
    assert rep.table("tempo_targets").to_pandas().empty


def test_recruiter_is_denied_deals_but_reads_scores(company: Workspace) -> None:
    view = scoped(company, scope_for(company, principal("recruiter")))
    for name in ("opportunities", "accounts", "leads", "activities", "opportunity_history"):
        with pytest.raises(AccessDenied):
            view.table(name)
    with pytest.raises(AccessDenied):
        view.metric("bookings")
    assert len(view.table("interview_scores").to_pandas()) == len(raw(company, "interview_scores"))
    assert len(view.table("stages").to_pandas()) > 0  # reference tables stay readable


@pytest.mark.parametrize("role", ["executive", "viewer", "manager", "rep"])
def test_interview_scores_are_hr_data(company: Workspace, role: str) -> None:
    view = scoped(company, scope_for(company, principal(role, {"manager": "m1", "rep": "r1"}.get(role))))
    for name in ("candidates", "interview_scores", "hiring_fits"):
        with pytest.raises(AccessDenied):
            view.table(name)


def test_executive_and_viewer_see_the_company(company: Workspace) -> None:
    for role in ("executive", "viewer"):
        view = scoped(company, scope_for(company, principal(role)))
        assert len(view.table("opportunities").to_pandas()) == len(raw(company, "opportunities"))
        with pytest.raises(AccessDenied):
            view.table("users")
    admin = scoped(company, scope_for(company, principal("admin")))
    assert len(admin.table("interview_scores").to_pandas()) == 1 and admin.table("users").count().execute() == 0


def test_tables_without_a_rule_are_denied_to_narrow_scopes(company: Workspace) -> None:
    view = scoped(company, scope_for(company, principal("rep", "r1")))
    for name in ("quarantine", "users", "sessions", "audit_log"):
        with pytest.raises(AccessDenied):
            view.table(name)
    nobody = scoped(company, Scope("none", label="nobody", key="none"))
    with pytest.raises(AccessDenied):
        nobody.table("people")


def test_scoped_caches_do_not_leak_into_the_company(company: Workspace) -> None:
    whole = company.table("opportunities").count().execute()
    view = scoped(company, scope_for(company, principal("rep", "r2")))
    assert view.materialised("probe", lambda w: w.table("opportunities")).count().execute() < whole
    assert company.materialised("probe", lambda w: w.table("opportunities")).count().execute() == whole


# -- nothing out of scope, whatever is asked --------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(role=st.sampled_from(["manager", "rep"]), who=st.sampled_from(["m1", "m2", "r1", "r2", "r3", "r4"]),
       where=st.sampled_from(WHERES), metric=st.sampled_from(["bookings", "win_rate", "pipeline_coverage",
                                                              "opportunities_created", "leads",
                                                              "activities_per_rep_day"]),
       period=st.sampled_from(["2026-Q1", "2026-02", "2026-W03", "2025-Q4"]))
def test_no_row_outside_the_scope_ever_appears(company: Workspace, role: str, who: str, where: str | None,
                                               metric: str, period: str) -> None:
    allowed = TEAM_OF.get(who, {who}) if role == "manager" else {who}  # a "manager" leading nobody: their own
    view = scoped(company, scope_for(company, Principal("u", role, person_id=who,
                                                         team={"m1": "Enterprise", "m2": "Mid-Market"}.get(who))))
    owners = {**raw(company, "opportunities").set_index("opportunity_id")["owner_id"].to_dict(),
              **raw(company, "leads").set_index("lead_id")["owner_id"].to_dict(),
              **raw(company, "activities").set_index("activity_id")["person_id"].to_dict()}
    accounts = set(raw(company, "opportunities").query("owner_id in @allowed")["account_id"]) | set(
        raw(company, "leads").query("owner_id in @allowed")["account_id"]) | ({"a-owned"} if "r3" in allowed else set())
    try:
        result = drill_rows(view, metric, period, where=where)
        figures = view.metric("bookings", by=["owner_id"], grain="month", where=where)
    except CadenceError:
        pass  # a filter Cadence refuses to read shows nothing at all
    else:
        row_ids = [r.get("activity_id") or r.get("lead_id") or r["opportunity_id"] for r in result.rows]
        assert {owners[i] for i in row_ids} <= allowed
        assert {r["account_id"] for r in result.rows if r.get("account_id")} <= accounts
        assert set(view.table("accounts").to_pandas()["account_id"]) <= accounts
        assert set(figures["owner_id"]) <= allowed
    assert len(raw(company, "opportunities")) == 48  # the table is still there, whole
