"""The `users` table read as `User` records (never with the password hash); writes live in users.py."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from cadence.workspace import Workspace

COLUMNS = ("user_id", "role", "display_name", "team", "person_id", "email", "disabled")
SELECT = f"SELECT {', '.join(COLUMNS)} FROM users"


@dataclass(frozen=True)
class User:
    """Someone who may sign in: their name, the role that decides what they see, and whom that role is about."""

    user_id: str
    role: str
    display_name: str | None = None
    team: str | None = None  # the team a manager leads
    person_id: str | None = None  # who they are in `people`
    email: str | None = None
    disabled: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        """The role in words: "manager of Mid-Market", "rep (person P-7)", "viewer"."""
        if self.role == "manager" and self.team:
            return f"manager of {self.team}"
        if self.person_id:
            return f"{self.role} (person {self.person_id})"
        return self.role


def user_from_row(row: tuple[Any, ...]) -> User:
    user_id, role, display_name, team, person_id, email, disabled = row
    return User(user_id, role, display_name, team, person_id, email, bool(disabled))


def get_user(ws: Workspace, user_id: str) -> User | None:
    """The user named `user_id`, or None."""
    rows = ws.warehouse.query(f"{SELECT} WHERE user_id = $1", (user_id,))
    return user_from_row(rows[0]) if rows else None


def list_users(ws: Workspace) -> list[User]:
    """Every user, by name."""
    return [user_from_row(row) for row in ws.warehouse.query(f"{SELECT} ORDER BY user_id")]
