"""Roles: which pages (areas) each kind of user may open, and where they may write.

One explicit table per direction, read by `may_see` and `may_write`; a role or an area the tables do
not name is refused (deny by default). Which *rows* a page then shows is the scope's job (`scope.py`).

| role      | sees                                                                   | writes                  |
|-----------|------------------------------------------------------------------------|-------------------------|
| admin     | everything                                                             | everything              |
| executive | every area but hiring_scores and admin (hiring: aggregates only)        | scorecard (snapshots),  |
|           |                                                                        | tempo, requests,        |
|           |                                                                        | actions, forecast calls |
| manager   | scorecard, metrics, pipeline, forecast, coaching, tempo, requests,     | tempo, requests,        |
|           | actions — of their team                                                | actions, forecast calls |
|           |                                                                        | (their team)            |
| rep       | scorecard, metrics, pipeline, forecast, coaching, requests, actions    | actions (their own)     |
|           | — of their own deals                                                   |                         |
| recruiter | hiring, hiring_scores                                                  | hiring_scores           |
| viewer    | scorecard                                                              | nothing                 |
"""

from __future__ import annotations

from dataclasses import dataclass

from cadence.schema.app_tables import ROLES

AREAS = ("scorecard", "metrics", "pipeline", "forecast", "coaching", "tempo", "requests", "roadmap", "hiring",
         "hiring_scores", "quality", "actions", "admin")


@dataclass(frozen=True)
class Principal:
    """Who is asking: their sign-in name, role, the team a manager leads and who they are in `people`."""

    user_id: str
    role: str
    team: str | None = None
    person_id: str | None = None


_SELLING = frozenset({"scorecard", "metrics", "pipeline", "forecast", "coaching", "requests", "actions"})

READS: dict[str, frozenset[str]] = {
    "admin": frozenset(AREAS),
    "executive": frozenset(AREAS) - {"hiring_scores", "admin"},
    "manager": _SELLING | {"tempo"},
    "rep": _SELLING,
    "recruiter": frozenset({"hiring", "hiring_scores"}),
    "viewer": frozenset({"scorecard"}),
}

WRITES: dict[str, frozenset[str]] = {
    "admin": frozenset(AREAS),
    "executive": frozenset({"scorecard", "tempo", "requests", "actions", "forecast"}),  # scorecard: compute again
    "manager": frozenset({"tempo", "requests", "actions", "forecast"}),  # forecast: their own and their team's calls
    "rep": frozenset({"actions"}),
    "recruiter": frozenset({"hiring_scores"}),
    "viewer": frozenset(),
}

assert set(READS) == set(ROLES) == set(WRITES), "every role needs a row in both tables"
assert all(areas <= READS[role] for role, areas in WRITES.items()), "a role writes only where it reads"


def may_see(principal: Principal, area: str) -> bool:
    """Whether `principal` may open the pages of `area` (False for an unknown role or area)."""
    return area in READS.get(principal.role, frozenset())


def may_write(principal: Principal, area: str) -> bool:
    """Whether `principal` may change what `area` holds (their scope still decides which rows)."""
    return area in WRITES.get(principal.role, frozenset())
