"""The rules a user's fields must meet, each refusal a `FieldError` naming the field it is about."""

from __future__ import annotations

import re

from cadence.accounts.errors import FieldError
from cadence.accounts.records import get_user
from cadence.schema.app_tables import ROLES
from cadence.workspace import Workspace

USER_ID = re.compile(r"[A-Za-z0-9._@-]{1,64}")
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


def check_new_user_id(ws: Workspace, user_id: str) -> None:
    if not user_id:
        raise FieldError("user_id", "user_id must not be empty")
    if not USER_ID.fullmatch(user_id):
        raise FieldError("user_id", f"user_id {user_id!r} may hold only letters, digits and . _ - @ "
                                    "(at most 64 characters)")
    if get_user(ws, user_id) is not None:
        raise FieldError("user_id", f"user_id {user_id!r} is already taken",
                         hint="`cadence users list` shows who exists")


def check_role(ws: Workspace, role: str, team: str | None, person_id: str | None) -> None:
    """The role is known; a manager leads a team that exists; a rep is a person in `people`."""
    if role not in ROLES:
        raise FieldError("role", f"role {role!r} is not one of {', '.join(ROLES)}")
    if role == "manager" and not team:
        raise FieldError("team", "team is needed for a manager: the team they lead, as people.team spells it")
    if role == "rep" and not person_id:
        raise FieldError("person_id", "person_id is needed for a rep: who they are in `people`")
    if team and team not in known_teams(ws):
        known = ", ".join(sorted(known_teams(ws))) or "none yet"
        raise FieldError("team", f"team {team!r} is not a team in people or cadence.yml", hint=f"known: {known}")
    if person_id and not ws.warehouse.query("SELECT 1 FROM people WHERE person_id = $1", (person_id,)):
        raise FieldError("person_id", f"person_id {person_id!r} is not a person in `people`",
                         hint="import people first, or check the id")


def check_email(email: str | None) -> None:
    if email is not None and not EMAIL.fullmatch(email):
        raise FieldError("email", f"email {email!r} does not look like an email address")


def known_teams(ws: Workspace) -> set[str]:
    """Teams in people.team and in cadence.yml."""
    rows = ws.warehouse.query("SELECT DISTINCT team FROM people WHERE team IS NOT NULL")
    return {row[0] for row in rows} | {team.name for team in ws.config.teams}
