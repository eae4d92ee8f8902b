"""Names typed in a tempo entry, read as the workspace spells them: a team, a person, a deliverable."""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

from cadence.analysis.tempo import TempoData
from cadence.errors import InputError, UnknownNameError

if TYPE_CHECKING:
    from cadence.workspace import Workspace


def known_teams(ws: Workspace, data: TempoData) -> list[str]:
    teams = {t.name for t in ws.config.teams} | set(data.people["team"].dropna()) | set(data.targets["team"]) \
        | set(data.shipments["team"])
    return sorted(teams)


def resolve_team(ws: Workspace, data: TempoData, team: str, *, new: bool = False) -> str:
    """The team as the workspace spells it. An unknown team is an error with the closest name — unless `new`
    (setting a first target declares a team), where only a near miss of a known team is refused as a typo."""
    known = known_teams(ws, data)
    if team in known:
        return team
    folded = {k.casefold(): k for k in known}
    if team.casefold() in folded:
        return folded[team.casefold()]
    if not new:
        raise UnknownNameError("team", team, known or ["(none yet)"])
    close = difflib.get_close_matches(team, known, n=1, cutoff=0.8)
    if close:
        raise InputError(f"unknown team {team!r}", hint=f"did you mean {close[0]!r}? (a new team that close to an "
                         "existing one: add it to cadence.yml `teams` first)")
    return team


def resolve_person(data: TempoData, who: str | None) -> str | None:
    """A person_id from an id, a name or an e-mail; free text only while `people` is empty."""
    if not who:
        return None
    people = data.people
    if people.empty or who in set(people["person_id"]):
        return who
    match = people[people["name"].fillna("").str.casefold() == who.strip().casefold()]
    if len(match) == 1:
        return str(match["person_id"].iat[0])
    raise UnknownNameError("person", who, sorted(people["name"].dropna()))


def resolve_kind(data: TempoData, team: str, kind: str) -> str:
    """A deliverable the team has a target for or has shipped; anything else is likely a typo."""
    mine = data.targets[data.targets["team"] == team]
    known = sorted(set(mine["deliverable"]) | set(data.shipments.loc[data.shipments["team"] == team, "deliverable"]))
    if kind in known:
        return kind
    if known and difflib.get_close_matches(kind, known, n=1):
        raise UnknownNameError(f"deliverable of {team}", kind, known)
    raise InputError(f"{team} has no tempo target for {kind!r}",
                     hint=f"say what good looks like first: cadence tempo target set {team!r} {kind} COUNT --per month")
