"""`cadence users …` and `cadence audit`, end to end: through Typer's runner, and one real process.

What each command did is read back with plain SQL on the warehouse (and argon2 itself for passwords).
"""

from __future__ import annotations

import csv
import getpass
import hashlib
import io
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

import cadence
from cadence.accounts.records import get_user
from cadence.accounts.sessions import start_session
from cadence.cli.main import app, register_commands
from cadence.workspace import init_workspace
from tests.test_accounts import TEAM, add_people

register_commands()

PASSWORD = "quiet-harbour-lantern"
ACTOR = f"cli:{getpass.getuser()}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A closed workspace (so the commands may open it) with people in two teams."""
    path = init_workspace(tmp_path / "ws", company="Test Co")
    with cadence.open(path) as ws:
        add_people(ws)
    return path


def run(root: Path, *args: str, input: str | None = None) -> str:
    result = CliRunner().invoke(app, ["-w", str(root), *args], input=input)
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def sql(root: Path, statement: str) -> list[dict[str, Any]]:
    with cadence.open(root) as ws:
        frame = ws.warehouse.read_frame(statement).astype(object)
    return frame.where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


def test_add_reads_the_password_from_stdin_and_stores_only_its_argon2id_hash(root: Path) -> None:
    out = run(root, "users", "add", "ana", "--role", "manager", "--team", TEAM, "--email", "ana@example.test",
              "--display-name", "Ana Lima", "--password-stdin", input=PASSWORD + "\nignored second line\n")
    assert out.strip() == f"added ana (manager of {TEAM})"
    [user] = sql(root, "SELECT * FROM users")
    assert (user["user_id"], user["role"], user["team"], user["email"]) == ("ana", "manager", TEAM,
                                                                           "ana@example.test")
    assert user["password_hash"].startswith("$argon2id$")
    assert PasswordHasher().verify(user["password_hash"], PASSWORD)
    [event] = sql(root, "SELECT * FROM audit_log")
    assert (event["action"], event["actor"], event["target"]) == ("user_added", ACTOR, "users/ana")
    assert PASSWORD not in json.dumps(event, default=str)


def test_without_password_stdin_the_user_signs_in_only_through_openid_connect(root: Path) -> None:
    out = run(root, "users", "add", "vic", "--role", "viewer")
    assert out.strip() == "added vic (viewer; OpenID Connect sign-in only)"
    assert sql(root, "SELECT password_hash FROM users")[0]["password_hash"] is None


def test_list_set_role_password_and_disable(root: Path) -> None:
    run(root, "users", "add", "ana", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    run(root, "users", "add", "rui", "--role", "rep", "--person-id", "P-2")
    listed = json.loads(run(root, "users", "list", "--format", "json"))
    expected = sql(root, "SELECT user_id, role, person_id FROM users ORDER BY user_id")
    assert [(u["user_id"], u["role"], u["person_id"]) for u in listed] == [
        (r["user_id"], r["role"], r["person_id"]) for r in expected]
    assert all("password_hash" not in u for u in listed)
    as_csv = list(csv.DictReader(io.StringIO(run(root, "users", "list", "--format", "csv"))))
    assert [r["user_id"] for r in as_csv] == ["ana", "rui"]

    assert run(root, "users", "set-role", "rui", "manager", "--team", TEAM).strip() == f"rui is now manager of {TEAM}"
    change = sql(root, "SELECT * FROM audit_log WHERE action = 'role_change'")[0]
    assert json.loads(change["before_json"])["role"] == "rep" and json.loads(change["after_json"])["role"] == "manager"

    new_password = "another-long-password"
    run(root, "users", "password", "ana", "--password-stdin", input=new_password + "\n")
    stored = sql(root, "SELECT password_hash FROM users WHERE user_id = 'ana'")[0]["password_hash"]
    assert PasswordHasher().verify(stored, new_password)

    assert run(root, "users", "disable", "rui").strip() == "disabled rui; ended 0 sessions"
    assert sql(root, "SELECT disabled FROM users WHERE user_id = 'rui'")[0]["disabled"]


def test_sessions_are_listed_by_hash_prefix_and_revoked(root: Path) -> None:
    run(root, "users", "add", "ana", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    run(root, "users", "add", "bob", "--role", "viewer", "--password-stdin", input=PASSWORD + "x\n")
    with cadence.open(root) as ws:
        ana, bob = get_user(ws, "ana"), get_user(ws, "bob")
        assert ana is not None and bob is not None
        tokens = [start_session(ws, ana, address="10.0.0.1", user_agent="pytest") for _ in range(2)]
        start_session(ws, bob, address=None, user_agent=None)
    out = run(root, "users", "sessions", "--user", "ana", "--format", "json")
    assert sorted(s["session_id"] for s in json.loads(out)) == sorted(
        hashlib.sha256(t.encode()).hexdigest()[:12] for t in tokens)
    assert not any(token in out for token in tokens)

    assert run(root, "users", "sessions", "--revoke", "--user", "ana").strip() == "revoked 2 sessions"
    live = sql(root, "SELECT user_id FROM sessions WHERE revoked_at IS NULL")
    assert [r["user_id"] for r in live] == ["bob"]
    assert run(root, "users", "sessions", "--revoke", "--all").strip() == "revoked 1 session"
    assert sql(root, "SELECT count(*) AS n FROM sessions WHERE revoked_at IS NULL")[0]["n"] == 0
    assert json.loads(run(root, "users", "sessions", "--format", "json")) == []
    assert len(json.loads(run(root, "users", "sessions", "--all", "--format", "json"))) == 3


def test_audit_filters_by_day_actor_and_action(root: Path) -> None:
    run(root, "users", "add", "ana", "--role", "admin", "--password-stdin", input=PASSWORD + "\n")
    run(root, "users", "set-role", "ana", "executive")
    run(root, "users", "add", "old", "--role", "viewer")
    with cadence.open(root) as ws:  # an event from last year, as if recorded then
        ws.warehouse.execute("UPDATE audit_log SET \"at\" = $1 WHERE target = 'users/old'", (datetime(2025, 3, 1),))

    everything = json.loads(run(root, "audit", "--format", "json"))
    expected = sql(root, "SELECT event_id FROM audit_log ORDER BY \"at\" DESC")
    assert [e["event_id"] for e in everything] == [r["event_id"] for r in expected]

    recent = json.loads(run(root, "audit", "--since", "2026-01-01", "--format", "json"))
    assert [e["target"] for e in recent] == ["users/ana", "users/ana"]
    changes = list(csv.DictReader(io.StringIO(run(root, "audit", "--action", "role_change", "--format", "csv"))))
    assert [(c["action"], c["actor"]) for c in changes] == [("role_change", ACTOR)]
    assert json.loads(changes[0]["after"])["role"] == "executive"
    assert json.loads(run(root, "audit", "--actor", "someone-else", "--format", "json")) == []
    assert len(json.loads(run(root, "audit", "--limit", "1", "--format", "json"))) == 1


def test_a_real_process_reads_stdin_and_refuses_a_bad_field_in_one_line(root: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    command = [sys.executable, "-m", "cadence.cli", "-w", str(root), "users", "add"]
    short = subprocess.run([*command, "ana", "--role", "admin", "--password-stdin"], input="short\n",
                           capture_output=True, text=True, env=env, timeout=120)
    assert short.returncode == 1 and "Traceback" not in short.stderr
    assert [line for line in short.stderr.splitlines() if line.strip()][0].startswith("error: password must be")
    ok = subprocess.run([*command, "ana", "--role", "admin", "--password-stdin"], input=PASSWORD + "\n",
                        capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip() == "added ana (admin)"
    assert PASSWORD not in ok.stdout + ok.stderr
    assert PasswordHasher().verify(sql(root, "SELECT password_hash FROM users")[0]["password_hash"], PASSWORD)
