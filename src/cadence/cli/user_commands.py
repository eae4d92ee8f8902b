"""`cadence users …`: add users, give them roles, reset passwords, disable them, list and revoke sessions.

Passwords never appear on the command line: `--password-stdin` reads the first line of standard input.
A user added without one signs in only through OpenID Connect. Every change is audited with the actor
`cli:<your OS user>`.
"""

from __future__ import annotations

import getpass
import sys
from typing import Annotated

import typer

from cadence.cli.console import console
from cadence.cli.main import FormatOption, Output, app, open_workspace
from cadence.cli.render import Sheet, View, render, supports

users_app = typer.Typer(help="Who may sign in to `cadence serve`: users, roles, passwords and sessions.")
app.add_typer(users_app, name="users")

NameArgument = Annotated[str, typer.Argument(help="Sign-in name (user_id).")]
TeamOption = Annotated[str | None, typer.Option("--team", help="The team a manager leads, as people.team spells it.")]
PersonOption = Annotated[str | None, typer.Option("--person-id", help="Who they are in `people` (needed for a rep).")]
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="Read the password from the first line of "
                                                                      "standard input.")]


def cli_actor() -> str:
    """Who did it, for the audit log: `cli:` and the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (OSError, KeyError):
        return "cli:unknown"


def _password_from_stdin() -> str:
    return sys.stdin.readline().rstrip("\r\n")


@users_app.command()
def add(
    name: NameArgument,
    role: Annotated[str, typer.Option("--role", help="admin, executive, manager, rep, recruiter or viewer.")],
    team: TeamOption = None,
    person_id: PersonOption = None,
    email: Annotated[str | None, typer.Option("--email", help="Where deliveries go.")] = None,
    display_name: Annotated[str | None, typer.Option("--display-name", help="Name shown on pages.")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """Add a user; without --password-stdin they sign in only through OpenID Connect."""
    from cadence.accounts.users import add_user

    password = _password_from_stdin() if password_stdin else None
    with open_workspace() as ws:
        user = add_user(ws, name, role, password=password, team=team, person_id=person_id, email=email,
                        display_name=display_name, actor=cli_actor())
    sign_in = "" if password is not None else "; OpenID Connect sign-in only"
    console.print(f"added {user.user_id} ({user.describe()}{sign_in})", markup=False)


@users_app.command("list")
@supports(Output.csv, Output.markdown)
def list_(output: FormatOption = Output.table) -> None:
    """Every user with their role, team, person and whether they are disabled."""
    from cadence.accounts.users import list_users

    with open_workspace() as ws:
        rows = [user.as_dict() for user in list_users(ws)]
    columns = ["user_id", "role", "display_name", "team", "person_id", "email", "disabled"]
    render(View(rows, [Sheet(f"{len(rows)} users", rows, columns)]), output)


@users_app.command("set-role")
def set_role(
    name: NameArgument,
    role: Annotated[str, typer.Argument(help="admin, executive, manager, rep, recruiter or viewer.")],
    team: TeamOption = None,
    person_id: PersonOption = None,
) -> None:
    """Give a user another role (audited with the role before and after)."""
    from cadence.accounts.users import set_role as change_role

    with open_workspace() as ws:
        user = change_role(ws, name, role, team=team, person_id=person_id, actor=cli_actor())
    console.print(f"{user.user_id} is now {user.describe()}", markup=False)


@users_app.command()
def disable(name: NameArgument) -> None:
    """Stop a user signing in and end their sessions."""
    from cadence.accounts.users import disable_user

    with open_workspace() as ws:
        ended = disable_user(ws, name, actor=cli_actor())
    console.print(f"disabled {name}; ended {ended} session{'' if ended == 1 else 's'}", markup=False)


@users_app.command()
def password(name: NameArgument, password_stdin: PasswordStdin = False) -> None:
    """Set a user's password, read from standard input."""
    from cadence.accounts.users import set_password
    from cadence.errors import InputError

    if not password_stdin:
        raise InputError("a password is read only from standard input",
                         hint=f"echo … | cadence users password {name} --password-stdin")
    with open_workspace() as ws:
        set_password(ws, name, _password_from_stdin(), actor=cli_actor())
    console.print(f"changed the password of {name}", markup=False)


@users_app.command()
@supports(Output.csv, Output.markdown)
def sessions(
    user: Annotated[str | None, typer.Option("--user", help="Only this user's sessions.")] = None,
    revoke: Annotated[bool, typer.Option("--revoke", help="End the sessions (with --user or --all).")] = False,
    every: Annotated[bool, typer.Option("--all", help="Every session: with --revoke, end them all; "
                                                      "otherwise list ended ones too.")] = False,
    output: FormatOption = Output.table,
) -> None:
    """List live sessions (by the start of their hash, never the token), or end them with --revoke."""
    from cadence.accounts.sessions import list_sessions, revoke_sessions
    from cadence.errors import InputError

    if revoke and not (user or every):
        raise InputError("--revoke needs --user NAME or --all", hint="cadence users sessions --revoke --user ana")
    with open_workspace() as ws:
        if revoke:
            ended = revoke_sessions(ws, user_id=user, actor=cli_actor())
            console.print(f"revoked {ended} session{'' if ended == 1 else 's'}", markup=False)
            return
        rows = list_sessions(ws, user_id=user, active_only=not every)
    title = f"{len(rows)} {'sessions' if every else 'live sessions'}" + (f" of {user}" if user else "")
    render(View(rows, [Sheet(title, rows, ["session_id", "user_id", "created_at", "last_seen_at", "expires_at",
                                           "revoked_at", "address", "user_agent", "active"])]), output)
