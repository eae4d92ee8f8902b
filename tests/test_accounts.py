"""Users, passwords, sessions, sign-in throttling and the audit log, on a real warehouse.

Each behaviour is checked with plain SQL on the warehouse tables, not with the functions under test.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from argon2 import PasswordHasher

import cadence
from cadence.accounts.audit import read_audit, record
from cadence.accounts.errors import FieldError
from cadence.accounts.sessions import end_session, list_sessions, revoke_sessions, session_user, start_session
from cadence.accounts.throttle import login_allowed
from cadence.accounts.users import (
    add_user,
    authenticate,
    disable_user,
    get_user,
    list_users,
    set_password,
    set_role,
)
from cadence.errors import InputError
from cadence.schema.tables import table_named
from cadence.workspace import Workspace, init_workspace

PASSWORD = "plum-orbit-canvas-7"
TEAM = "Mid-Market"
PEOPLE = [("P-1", "Ana Lima", TEAM, "manager"), ("P-2", "Rui Sousa", TEAM, "rep"),
          ("P-3", "Eva Mota", "Enterprise", "rep")]


def add_people(ws: Workspace) -> None:
    frame = pd.DataFrame([{"person_id": pid, "name": name, "email": None, "team": team, "role": role,
                           "manager_id": None, "region": None, "hired_at": None, "left_at": None, "source": "test"}
                          for pid, name, team, role in PEOPLE])
    with ws.warehouse.transaction() as warehouse:
        warehouse.upsert(table_named("people"), frame)


@pytest.fixture
def company(tmp_path: Path) -> Iterator[Workspace]:
    """A fresh DuckDB workspace with three people in two teams (cadence.yml names Sales, Marketing, Product)."""
    ws = cadence.open(init_workspace(tmp_path / "ws", company="Test Co"))
    add_people(ws)
    yield ws
    ws.close()


def rows(ws: Workspace, sql: str) -> list[dict[str, Any]]:
    """Plain SQL on the warehouse, blanks as None."""
    frame = ws.warehouse.read_frame(sql).astype(object)
    return frame.where(frame.notna(), None).to_dict("records")  # type: ignore[return-value]


def audit_rows(ws: Workspace, action: str) -> list[dict[str, Any]]:
    return rows(ws, f"SELECT * FROM audit_log WHERE action = '{action}' ORDER BY \"at\"")


def every_cell(ws: Workspace, table: str) -> list[str]:
    return [str(value) for record_ in rows(ws, f"SELECT * FROM {table}") for value in record_.values()]


# -- passwords and what the warehouse keeps ------------------------------------------------------------------

def test_hashes_are_argon2id_and_neither_password_nor_token_reaches_any_table(company: Workspace) -> None:
    ws = company
    add_user(ws, "ana", "manager", password=PASSWORD, team=TEAM, person_id="P-1", actor="cli:test")
    new_password = "second-password-42"
    set_password(ws, "ana", new_password, actor="cli:test")
    user = authenticate(ws, "ana", new_password)
    assert user is not None
    token = start_session(ws, user, address="10.0.0.1", user_agent="pytest")
    record(ws, "sign_in", actor="ana", target="users/ana", address="10.0.0.1",
           after={"password": new_password, "token": token, "kept": "yes"})

    stored = rows(ws, "SELECT password_hash FROM users WHERE user_id = 'ana'")[0]["password_hash"]
    assert stored.startswith("$argon2id$") and stored != new_password
    assert PasswordHasher().verify(stored, new_password)  # the hash is of the new password, checked by argon2
    sessions = rows(ws, "SELECT token_hash FROM sessions")
    assert [s["token_hash"] for s in sessions] == [hashlib.sha256(token.encode()).hexdigest()]
    for table in ("users", "sessions", "audit_log"):
        cells = every_cell(ws, table)
        for secret in (PASSWORD, new_password, token):
            assert not any(secret in cell for cell in cells), (table, secret)
    kept = json.loads(audit_rows(ws, "sign_in")[0]["after_json"])
    assert kept == {"kept": "yes"}


def test_wrong_password_fails_and_is_audited_as_the_web_records_it(company: Workspace) -> None:
    ws = company
    add_user(ws, "ana", "admin", password=PASSWORD)
    assert authenticate(ws, "ana", PASSWORD + "x") is None
    assert authenticate(ws, "nobody", PASSWORD) is None
    assert authenticate(ws, "ana", PASSWORD) == get_user(ws, "ana")
    record(ws, "sign_in_failed", actor=None, target="users/ana", address="10.0.0.9")  # as the web's /login does
    failed = audit_rows(ws, "sign_in_failed")
    assert [(r["target"], r["address"], r["actor"]) for r in failed] == [("users/ana", "10.0.0.9", None)]


def test_an_unknown_name_costs_one_argon2_verification_too(company: Workspace, monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    ws = company
    add_user(ws, "ana", "admin", password=PASSWORD)
    calls: list[str] = []
    original = PasswordHasher.verify

    def counting(self: PasswordHasher, hash: str | bytes, password: str | bytes) -> bool:
        calls.append(str(hash)[:10])
        return original(self, hash, password)

    monkeypatch.setattr(PasswordHasher, "verify", counting)
    assert authenticate(ws, "ghost", PASSWORD) is None
    assert authenticate(ws, "ana", "wrong password!") is None
    assert calls == ["$argon2id$", "$argon2id$"]


def test_an_old_weak_hash_is_replaced_on_sign_in(company: Workspace) -> None:
    ws = company
    add_user(ws, "ana", "admin", password=PASSWORD)
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
    ws.warehouse.execute("UPDATE users SET password_hash = $1 WHERE user_id = 'ana'", (weak,))
    assert authenticate(ws, "ana", PASSWORD) is not None
    stored = rows(ws, "SELECT password_hash FROM users")[0]["password_hash"]
    assert stored != weak and not PasswordHasher().check_needs_rehash(stored)


def test_a_user_without_password_cannot_sign_in_with_one(company: Workspace) -> None:
    ws = company
    add_user(ws, "oidc", "viewer", password=None)
    assert rows(ws, "SELECT password_hash FROM users")[0]["password_hash"] is None
    assert authenticate(ws, "oidc", "") is None
    assert authenticate(ws, "oidc", "anything at all") is None


# -- validation ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("user_id", "role", "extra", "field"), [
    ("", "viewer", {}, "user_id"),
    ("ana lima", "viewer", {}, "user_id"),
    ("taken", "viewer", {}, "user_id"),
    ("ana", "boss", {}, "role"),
    ("ana", "manager", {}, "team"),
    ("ana", "manager", {"team": "Nowhere"}, "team"),
    ("ana", "rep", {}, "person_id"),
    ("ana", "rep", {"person_id": "P-99"}, "person_id"),
    ("ana", "viewer", {"email": "ana.example.com"}, "email"),
    ("ana", "viewer", {"password": "short"}, "password"),
    ("ana.lima.x", "viewer", {"password": "ana.lima.x"}, "password"),
])
def test_a_refused_field_is_named_and_nothing_is_written(company: Workspace, user_id: str, role: str,
                                                         extra: dict[str, str], field: str) -> None:
    ws = company
    add_user(ws, "taken", "viewer", password=None)
    before = rows(ws, "SELECT count(*) AS n FROM users")[0]["n"]
    with pytest.raises(FieldError) as raised:
        add_user(ws, user_id, role, **{"password": PASSWORD, **extra})  # type: ignore[arg-type]
    assert raised.value.field == field
    assert field.split("_")[0] in raised.value.message
    assert isinstance(raised.value, InputError)
    assert rows(ws, "SELECT count(*) AS n FROM users")[0]["n"] == before


def test_teams_come_from_people_and_from_cadence_yml(company: Workspace) -> None:
    ws = company
    assert add_user(ws, "mia", "manager", password=None, team=TEAM).team == TEAM  # people.team
    assert add_user(ws, "max", "manager", password=None, team="Marketing").team == "Marketing"  # cadence.yml
    assert add_user(ws, "rui", "rep", password=None, person_id="P-2").person_id == "P-2"
    listed = rows(ws, "SELECT user_id, role, team, person_id FROM users ORDER BY user_id")
    assert [(r["user_id"], r["role"]) for r in listed] == [(u.user_id, u.role) for u in list_users(ws)]


def test_a_role_change_is_audited_with_before_and_after(company: Workspace) -> None:
    ws = company
    add_user(ws, "ana", "manager", password=PASSWORD, team=TEAM, person_id="P-1")
    set_role(ws, "ana", "rep", actor="cli:boss")
    row = rows(ws, "SELECT role, team, person_id FROM users")[0]
    assert (row["role"], row["team"], row["person_id"]) == ("rep", None, "P-1")
    change = audit_rows(ws, "role_change")[0]
    assert change["actor"] == "cli:boss" and change["target"] == "users/ana"
    before, after = json.loads(change["before_json"]), json.loads(change["after_json"])
    assert (before["role"], before["team"]) == ("manager", TEAM)
    assert (after["role"], after["team"]) == ("rep", None)
    assert "password_hash" not in before and "password_hash" not in after
    with pytest.raises(FieldError) as raised:
        set_role(ws, "ana", "manager", actor="cli:boss")
    assert raised.value.field == "team"


def test_each_write_and_its_audit_event_happen_together(company: Workspace) -> None:
    ws = company
    add_user(ws, "ana", "admin", password=PASSWORD, actor="cli:ops")
    added = audit_rows(ws, "user_added")
    assert [(r["actor"], r["target"]) for r in added] == [("cli:ops", "users/ana")]
    assert json.loads(added[0]["after_json"])["role"] == "admin"


# -- sessions -----------------------------------------------------------------------------------------------

def test_a_session_signs_in_until_it_ends_is_revoked_or_expires(company: Workspace) -> None:
    ws = company
    ana = add_user(ws, "ana", "admin", password=PASSWORD)
    signed_out, revoked, expired, live = (start_session(ws, ana, address=None, user_agent=None) for _ in range(4))
    assert session_user(ws, live) == ana
    assert session_user(ws, "not-a-token") is None

    end_session(ws, signed_out)
    assert session_user(ws, signed_out) is None

    listed = {s["session_id"] for s in list_sessions(ws, user_id="ana")}
    revoked_id = hashlib.sha256(revoked.encode()).hexdigest()[:12]
    assert revoked_id in listed and all(len(s) == 12 for s in listed)
    assert revoke_sessions(ws, token_hash_prefix=revoked_id, actor="ana") == 1
    assert session_user(ws, revoked) is None

    ws.warehouse.execute("UPDATE sessions SET expires_at = $1 WHERE token_hash = $2",
                         (datetime(2020, 1, 1), hashlib.sha256(expired.encode()).hexdigest()))
    assert session_user(ws, expired) is None

    assert session_user(ws, live) == ana
    ended = rows(ws, "SELECT count(*) AS n FROM sessions WHERE revoked_at IS NOT NULL")[0]["n"]
    assert ended == 2
    assert [json.loads(r["after_json"]) for r in audit_rows(ws, "session_revoked")] == [{"sessions_revoked": 1}]


def test_last_seen_is_written_at_most_once_a_minute(company: Workspace) -> None:
    ws = company
    ana = add_user(ws, "ana", "admin", password=PASSWORD)
    token = start_session(ws, ana, address="10.0.0.1", user_agent="pytest", lifetime=timedelta(hours=1))
    five_minutes_ago = datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=5)  # the warehouse: naive UTC
    ws.warehouse.execute("UPDATE sessions SET last_seen_at = $1", (five_minutes_ago,))
    session_user(ws, token)
    seen = rows(ws, "SELECT last_seen_at FROM sessions")[0]["last_seen_at"]
    assert seen > five_minutes_ago + timedelta(minutes=4)
    session_user(ws, token)
    assert rows(ws, "SELECT last_seen_at FROM sessions")[0]["last_seen_at"] == seen


def test_disabling_a_user_ends_their_sessions_and_refuses_them(company: Workspace) -> None:
    ws = company
    ana = add_user(ws, "ana", "admin", password=PASSWORD)
    bob = add_user(ws, "bob", "viewer", password=PASSWORD)
    tokens = [start_session(ws, ana, address=None, user_agent=None) for _ in range(2)]
    bobs = start_session(ws, bob, address=None, user_agent=None)
    assert disable_user(ws, "ana", actor="cli:ops") == 2
    live = rows(ws, "SELECT user_id FROM sessions WHERE revoked_at IS NULL")
    assert [r["user_id"] for r in live] == ["bob"]
    assert [session_user(ws, t) for t in tokens] == [None, None]
    assert session_user(ws, bobs) == bob
    assert authenticate(ws, "ana", PASSWORD) is None
    assert rows(ws, "SELECT disabled FROM users WHERE user_id = 'ana'")[0]["disabled"]
    assert [r["target"] for r in audit_rows(ws, "user_disabled")] == ["users/ana"]
    assert [r["target"] for r in audit_rows(ws, "session_revoked")] == ["users/ana"]


# -- throttling -----------------------------------------------------------------------------------------------

def last_failure(ws: Workspace) -> datetime:
    at: datetime = rows(ws, "SELECT max(\"at\") AS at FROM audit_log WHERE action = 'sign_in_failed'")[0]["at"]
    return at.to_pydatetime() if hasattr(at, "to_pydatetime") else at


def test_five_failures_refuse_the_name_for_fifteen_minutes_after_the_last(company: Workspace) -> None:
    ws = company
    add_user(ws, "ana", "admin", password=PASSWORD)
    for _ in range(4):
        record(ws, "sign_in_failed", actor=None, target="users/ana", address="10.0.0.1")
    assert login_allowed(ws, "ana", "10.0.0.1") == (True, 0)
    record(ws, "sign_in_failed", actor=None, target="users/ana", address="10.0.0.1")
    last = last_failure(ws)

    one_minute_on = last + timedelta(minutes=1)
    allowed, wait = login_allowed(ws, "ana", "10.0.0.2", now=one_minute_on)
    assert not allowed and wait == 14 * 60
    assert login_allowed(ws, "bob", "10.0.0.1", now=one_minute_on) == (True, 0)  # another name is not held
    assert login_allowed(ws, "ana", None, now=last + timedelta(minutes=15, seconds=1)) == (True, 0)


def test_twenty_failures_from_one_address_refuse_it_for_any_name(company: Workspace) -> None:
    ws = company
    for n in range(20):
        record(ws, "sign_in_failed", actor=None, target=f"users/guess{n}", address="203.0.113.5")
    now = last_failure(ws) + timedelta(seconds=30)
    allowed, wait = login_allowed(ws, "ana", "203.0.113.5", now=now)
    assert not allowed and wait == math.ceil(15 * 60 - 30)
    assert login_allowed(ws, "ana", "198.51.100.1", now=now) == (True, 0)


def test_a_successful_sign_in_clears_the_names_count(company: Workspace) -> None:
    ws = company
    for _ in range(4):
        record(ws, "sign_in_failed", actor=None, target="users/ana", address="10.0.0.1")
    record(ws, "sign_in", actor="ana", target="users/ana", address="10.0.0.1")
    record(ws, "sign_in_failed", actor=None, target="users/ana", address="10.0.0.1")
    assert login_allowed(ws, "ana", "10.0.0.1", now=last_failure(ws) + timedelta(seconds=1)) == (True, 0)


def test_the_throttle_holds_across_workspace_openings(company: Workspace) -> None:
    ws = company
    for _ in range(5):
        record(ws, "sign_in_failed", actor=None, target="users/ana", address=None)
    now = last_failure(ws) + timedelta(minutes=2)
    root = ws.root
    ws.close()
    with cadence.open(root) as reopened:
        assert login_allowed(reopened, "ana", None, now=now) == (False, 13 * 60)


# -- the audit log ------------------------------------------------------------------------------------------

def test_secrets_are_dropped_from_before_and_after_at_any_depth(company: Workspace) -> None:
    ws = company
    record(ws, "write", actor="ana", target="x", before={"password": "p", "nested": {"token": "t", "ok": 1},
                                                         "items": [{"password_hash": "h", "n": 2}]},
           after={"Password": "P", "when": datetime(2026, 1, 2)})
    row = audit_rows(ws, "write")[0]
    assert json.loads(row["before_json"]) == {"nested": {"ok": 1}, "items": [{"n": 2}]}
    assert json.loads(row["after_json"]) == {"when": "2026-01-02 00:00:00"}


def test_read_audit_is_newest_first_and_filters(company: Workspace) -> None:
    ws = company
    for n in range(3):
        record(ws, "export", actor="ana", target=f"/rows/{n}.csv")
    record(ws, "view", actor="bob", target="/hiring")
    ws.warehouse.execute("UPDATE audit_log SET \"at\" = $1 WHERE target = '/rows/0.csv'", (datetime(2025, 6, 1),))
    expected = [r["event_id"] for r in rows(ws, "SELECT event_id FROM audit_log ORDER BY \"at\" DESC")]
    assert [e["event_id"] for e in read_audit(ws)] == expected
    assert [e["target"] for e in read_audit(ws, actor="ana")] == ["/rows/2.csv", "/rows/1.csv", "/rows/0.csv"]
    assert [e["target"] for e in read_audit(ws, action="view")] == ["/hiring"]
    assert [e["target"] for e in read_audit(ws, actor="ana", since=datetime(2026, 1, 1))] == ["/rows/2.csv",
                                                                                             "/rows/1.csv"]
    assert len(read_audit(ws, limit=2)) == 2


# -- the same lifecycle on PostgreSQL -------------------------------------------------------------------------

def test_the_lifecycle_on_every_engine(any_workspace: Workspace) -> None:
    ws = any_workspace
    add_people(ws)
    ana = add_user(ws, "ana", "manager", password=PASSWORD, team=TEAM, person_id="P-1", email="ana@example.test")
    assert authenticate(ws, "ana", "not the password") is None
    assert authenticate(ws, "ana", PASSWORD) == ana
    token = start_session(ws, ana, address="10.0.0.1", user_agent="pytest")
    assert session_user(ws, token) == ana
    assert [s["user_id"] for s in list_sessions(ws)] == ["ana"]
    for _ in range(5):
        record(ws, "sign_in_failed", actor=None, target="users/ana", address="10.0.0.1")
    assert login_allowed(ws, "ana", None)[0] is False
    assert disable_user(ws, "ana", actor="cli:test") == 1
    assert session_user(ws, token) is None
    actions = [r[0] for r in ws.warehouse.query('SELECT action FROM audit_log ORDER BY "at"')]
    assert actions == ["user_added", *["sign_in_failed"] * 5, "user_disabled", "session_revoked"]
    stored = ws.warehouse.query("SELECT password_hash FROM users")[0][0]
    assert stored.startswith("$argon2id$")
