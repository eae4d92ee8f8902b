"""Scopes: which rows a signed-in user may see, applied where every query is built.

`scope_for(ws, principal)` says whose rows a user sees; `scoped(ws, scope)` is the workspace they read:
its `table(name)` returns only rows in scope, so every metric, analysis, scorecard, drill-down, CSV and
JSON built over it obeys the same rule, with no page having to remember it. Deny by default: a table
the rules below do not name raises `AccessDenied` for any scope narrower than the whole company.

| table                                      | team / person scope (company: every row)             | "none" |
|--------------------------------------------|------------------------------------------------------|--------|
| opportunities                              | owner_id in scope                                    | denied |
| opportunity_history                        | of the in-scope opportunities                        | denied |
| activities, performance                    | person_id in scope                                   | denied* |
| people                                     | person_id in scope (a manager: their team)           | denied* |
| leads, goals                               | owner_id in scope                                    | denied |
| accounts                                   | owned in scope, or with an in-scope deal or lead     | denied |
| subscriptions, usage, nps                  | of the in-scope accounts                             | denied |
| feature_requests                           | of an in-scope account or deal, or logged in scope   | denied |
| tempo_targets                              | team in scope                                        | denied |
| shipments, gap_reviews                     | team in scope, or owned by someone in scope          | denied |
| comments                                   | team in scope                                        | denied |
| forecast_calls                             | the forecaster (person_id) in scope                  | denied |
| snapshots                                  | the scope's own (`scope` = its key)                  | denied |
| stages, fiscal_periods, exchange_rates,    | every row (reference data)                           | every row |
| products, features, imports                |                                                      |        |
| quarantine (raw rows of every import)      | denied                                               | denied |
| candidates, interview_scores, hiring_fits  | only a scope that may see hiring_scores, at any kind |        |
| users, sessions, audit_log, sync_runs      | only an admin's (company) scope                      |        |

* a scope that may see interview scores (a recruiter's) also reads `people` and `performance` whole:
the hiring analyses learn from who was hired and how they performed.

Interview scores are HR data: only roles that may see `hiring_scores` (admin, recruiter) read
candidates, scores and saved fits. The schema cannot tell a candidate's hiring manager (`candidates`
has a `role` interviewed for, not a team or a manager), so a hiring manager is not given their
candidates' scores.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import ibis
import pandas as pd

from cadence.access.roles import Principal, may_see
from cadence.errors import AccessDenied
from cadence.workspace import Workspace

__all__ = ["AccessDenied", "Scope", "scope_for", "scoped"]

ScopeKind = Literal["all", "team", "person", "none"]

HIRING_TABLES = frozenset({"candidates", "interview_scores", "hiring_fits"})
ADMIN_TABLES = frozenset({"users", "sessions", "audit_log", "sync_runs"})
REFERENCE_TABLES = frozenset({"stages", "fiscal_periods", "exchange_rates", "products", "features", "imports"})
_HIRING_READS = frozenset({"people", "performance"})  # what a hiring fit learns from, beside the scores


@dataclass(frozen=True)
class Scope:
    """Whose rows a user sees: the whole company, a team (and everyone reporting to its manager), one
    person, or nobody's go-to-market rows. `key` names it in caches and weekly snapshots."""

    kind: ScopeKind
    teams: frozenset[str] = field(default_factory=frozenset)
    person_ids: frozenset[str] = field(default_factory=frozenset)
    label: str = ""
    key: str = "company"
    hiring_scores: bool = False  # may read candidates, interview scores and saved hiring fits
    admin: bool = False  # may read users, sessions and the audit log


NOBODY = Scope("none", label="no go-to-market data", key="none")


def scope_for(ws: Workspace, principal: Principal) -> Scope:
    """The scope of `principal`'s role: the company for admin, executive and viewer (a viewer's pages are
    limited by `may_see`), a manager's team, a rep's own rows, nothing of go-to-market for a recruiter.
    A manager or rep whom `people` does not know, and any unknown role, sees nothing."""
    hiring, admin = may_see(principal, "hiring_scores"), principal.role == "admin"
    if principal.role in ("admin", "executive", "viewer"):
        return Scope("all", label="the company", key="company", hiring_scores=hiring, admin=admin)
    people = ws.table("people").select("person_id", "name", "team", "manager_id").to_pandas()
    if principal.role == "manager" and (principal.team or principal.person_id):
        members = _team_members(people, principal.team, principal.person_id)
        name = principal.team or _name_of(people, principal.person_id)
        key = _team_key(people, principal.team, principal.person_id, members)
        return Scope("team", frozenset({principal.team} if principal.team else ()), members, f"team {name}", key)
    if principal.role == "rep" and principal.person_id:
        return Scope("person", person_ids=frozenset({principal.person_id}),
                     label=f"{_name_of(people, principal.person_id)}'s own", key=f"person:{principal.person_id}")
    return Scope("none", label=NOBODY.label, key="none", hiring_scores=hiring)


def _team_key(people: pd.DataFrame, team: str | None, manager_id: str | None, members: frozenset[str]) -> str:
    """What a manager's scope is named by in caches, kept results and snapshots: `team:NAME` when it holds only
    the team's people, else also whose reports it follows (`team:NAME+reports-of:ID`). Two managers of one team
    whose reports differ (a report outside the team) see different rows, so they must never share a name, or one
    would be served the other's snapshot."""
    if not team:
        return f"team-of:{manager_id}"
    in_team = {str(p) for p in people.loc[people["team"] == team, "person_id"].dropna()}
    return f"team:{team}" if members <= in_team else f"team:{team}+reports-of:{manager_id}"


def _team_members(people: pd.DataFrame, team: str | None, manager_id: str | None) -> frozenset[str]:
    """Everyone in `team`, the manager, and everyone whose chain of managers leads to the manager."""
    members = set(people.loc[people["team"] == team, "person_id"].dropna()) if team else set()
    if manager_id:
        members.add(manager_id)
        reports = people.dropna(subset=["manager_id"]).groupby("manager_id")["person_id"].apply(list).to_dict()
        frontier = [manager_id]
        while frontier:
            below = [p for boss in frontier for p in reports.get(boss, []) if p not in members]
            members.update(below)
            frontier = below
    return frozenset(str(p) for p in members)


def _name_of(people: pd.DataFrame, person_id: str | None) -> str:
    names = people.loc[people["person_id"] == person_id, "name"].dropna()
    return str(names.iloc[0]) if len(names) else str(person_id)


def scoped(ws: Workspace, scope: Scope) -> Workspace:
    """`ws` showing only the rows in `scope` (the whole workspace for an admin); see the module's table."""
    if scope.kind == "all" and scope.hiring_scores and scope.admin:
        return ws
    rules = _rules(ws, scope)
    flags = ("+hiring" if scope.hiring_scores else "") + ("+admin" if scope.admin else "")

    def row_filter(name: str, table: Any) -> Any:
        if name in HIRING_TABLES and not scope.hiring_scores:
            raise AccessDenied(f"{name} holds interview scores, which {scope.label} may not see",
                               hint="only admins and recruiters see candidates and their scores")
        if name in ADMIN_TABLES and not scope.admin:
            raise AccessDenied(f"only admins may read {name}", hint="ask an admin")
        if scope.kind == "all" or name in REFERENCE_TABLES or name in HIRING_TABLES or name in ADMIN_TABLES:
            return table
        if scope.hiring_scores and name in _HIRING_READS and scope.kind == "none":
            return table
        rule = rules.get(name)
        if rule is None:
            raise AccessDenied(f"{name} is not shown to {scope.label}",
                               hint="ask an admin or an executive for the company's figures")
        return rule(table)

    return ws.with_row_filter(row_filter, scope.key + flags)


Rule = Callable[[Any], Any]


def _rules(ws: Workspace, scope: Scope) -> dict[str, Rule]:
    """For a team or person scope, each table's filter; for "none", no table has one (all are denied)."""
    if scope.kind not in ("team", "person"):
        return {}
    persons, teams = sorted(scope.person_ids), sorted(scope.teams)

    def of(column: str, values: list[str]) -> Rule:
        return lambda t: t.filter(_among(t[column], values))

    def opportunity_ids() -> Any:
        opps = ws.table("opportunities", include_deleted=True)
        return opps.filter(_among(opps.owner_id, persons)).opportunity_id

    def account_ids() -> Any:
        opps, leads, accounts = ws.table("opportunities"), ws.table("leads"), ws.table("accounts")
        ids = [t.filter(_among(t.owner_id, persons) & t.account_id.notnull()).select("account_id")
               for t in (opps, leads, accounts)]
        return ids[0].union(ids[1]).union(ids[2]).account_id

    def by_account(t: Any) -> Any:
        return t.filter(t.account_id.isin(account_ids()))

    return {
        "opportunities": of("owner_id", persons),
        "leads": of("owner_id", persons),
        "goals": of("owner_id", persons),
        "activities": of("person_id", persons),
        "people": of("person_id", persons),
        "performance": of("person_id", persons),
        "opportunity_history": lambda t: t.filter(t.opportunity_id.isin(opportunity_ids())),
        "accounts": by_account,
        "subscriptions": by_account,
        "usage": by_account,
        "nps": by_account,
        "feature_requests": lambda t: t.filter(t.account_id.isin(account_ids())
                                               | t.opportunity_id.isin(opportunity_ids())
                                               | _among(t.requested_by, persons)),
        "tempo_targets": of("team", teams),
        "shipments": lambda t: t.filter(_among(t.team, teams) | _among(t.owner_id, persons)),
        "gap_reviews": lambda t: t.filter(_among(t.team, teams) | _among(t.owner_id, persons)),
        "comments": of("team", teams),
        "forecast_calls": of("person_id", persons),
        "snapshots": lambda t: t.filter(t["scope"] == scope.key),
    }


def _among(column: Any, values: list[str]) -> Any:
    """`column IN values` as Ibis, with the values as bound literals; never true for an empty list."""
    return column.isin(values) if values else ibis.literal(False)
