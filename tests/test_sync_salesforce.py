"""`cadence sync salesforce` against a loopback stand-in of the REST and Bulk 2.0 APIs (tests/crm_standins.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

import cadence
from cadence.sync.http import SyncAuthError, SyncError
from cadence.sync.run import last_success, run_sync, sync_log
from cadence.sync.salesforce import SalesforceConnector
from cadence.sync.schedule import due_sources
from cadence.workspace import Workspace
from tests.crm_standins import FakeSalesforce, Fault, latam_org, sf_time
from tests.sync_helpers import snapshot, whole_warehouse, workspace_with

TOKEN_ENV = "CADENCE_TEST_SF_TOKEN"


@pytest.fixture
def org(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeSalesforce]:
    monkeypatch.setenv(TOKEN_ENV, "good-token")
    fake = FakeSalesforce(page_size=3)
    fake.ids = latam_org(fake)  # type: ignore[attr-defined]
    fake.start()
    yield fake
    fake.stop()


def block(org: FakeSalesforce, extra: str = "") -> str:
    return f"  salesforce: {{instance_url: '{org.url}', token_env: {TOKEN_ENV}{extra}}}\n"


@pytest.fixture
def ws(org: FakeSalesforce, tmp_path: Path) -> Iterator[Workspace]:
    workspace = workspace_with(tmp_path / "ws", block(org, ", cron: '0 2 * * *'"))
    yield workspace
    workspace.close()


def sync(ws: Workspace, *, full: bool = False, waits: list[float] | None = None) -> object:
    sleep = waits.append if waits is not None else (lambda _: None)
    connector = SalesforceConnector(ws.config.sources.salesforce, sleep=sleep, poll_seconds=0)
    return run_sync(ws, "salesforce", connector, full=full)


def frame(ws: Workspace, sql: str) -> pd.DataFrame:
    return ws.warehouse.read_frame(sql)


def test_first_sync_reads_every_page_and_loads_the_org_as_an_export_would(ws: Workspace,
                                                                          org: FakeSalesforce) -> None:
    outcome = sync(ws)
    ids = org.ids  # type: ignore[attr-defined]
    assert outcome.status == "succeeded" and outcome.full
    # five deals on pages of three: the second page came through nextRecordsUrl
    assert any("/query/" in path for _, path in org.requests)
    deals = frame(ws, "SELECT opportunity_id, stage, amount, currency, is_won, is_closed, owner_id, account_id "
                      "FROM opportunities ORDER BY opportunity_id").set_index("opportunity_id")
    expected = {  # by hand, from latam_org
        ids["deal0"]: ("Negociación", 250_000.0, "MXN", False, False, ids["ana"], ids["acme"]),
        ids["deal1"]: ("Cerrada ganada", 18_000.0, "EUR", True, True, ids["jo"], ids["berg"]),
        ids["deal2"]: ("Cerrada perdida", 9_500.0, "USD", False, True, ids["ana"], ids["acme"]),
        ids["deal3"]: ("Prospección", None, "EUR", False, False, ids["jo"], ids["berg"]),
        ids["deal4"]: ("Prospección", 1_200.0, "MXN", False, False, "005000000000999AAA", ids["acme"]),
    }
    assert set(deals.index) == set(expected)
    for deal, (stage, amount, currency, won, closed, owner, account) in expected.items():
        row = deals.loc[deal]
        assert (row.stage, row.currency, bool(row.is_won), bool(row.is_closed), row.owner_id, row.account_id) == \
            (stage, currency, won, closed, owner, account)
        assert (pd.isna(row.amount) and amount is None) or row.amount == amount
    stages = frame(ws, "SELECT stage, position, is_won, is_lost FROM stages WHERE pipeline = 'salesforce' "
                       "ORDER BY position")
    assert stages.values.tolist() == [["Prospección", 1, False, False], ["Negociación", 2, False, False],
                                      ["Cerrada ganada", 3, True, False], ["Cerrada perdida", 4, False, True]]
    rates = dict(frame(ws, "SELECT currency, rate FROM exchange_rates WHERE source = 'salesforce'").values)
    assert rates == {"USD": 1.0, "EUR": 0.92, "MXN": 17.1}
    assert frame(ws, "SELECT count(*) AS n FROM opportunity_history").n[0] == 8  # 5 first stages + 3 moves
    kinds = dict(frame(ws, "SELECT activity_id, kind FROM activities").values)
    assert kinds == {ids["call"]: "call", ids["visit"]: "meeting"}
    people = {p: (n, None if pd.isna(r) else r)
              for p, n, r in frame(ws, "SELECT person_id, name, role FROM people").values}
    assert people == {ids["ana"]: ("Ana Pérez", "VP Ventas"), ids["jo"]: ("Jo Klein", None)}  # UserRole.Name
    # reconciliation: every record read is loaded or quarantined, and the run says so
    records = sum(len(v) for k, v in org.records.items() if k != "OpportunityStage")
    assert outcome.read == records == outcome.loaded + outcome.quarantined
    run = sync_log(ws)[0]
    assert (run["status"], run["read"], run["loaded"], run["deleted"]) == ("succeeded", records, records, 0)
    # a field the mapping does not know is ignored, and said once
    assert outcome.unknown_fields == {"Opportunity": ["Churn_Risk__c"]}
    assert run["message"].count("Churn_Risk__c") == 1


def test_a_record_modified_exactly_at_the_cursor_is_read_by_the_next_sync(ws: Workspace,
                                                                         org: FakeSalesforce) -> None:
    sync(ws)
    cursor = last_success(ws, "salesforce")["cursor"]["Opportunity"]
    assert cursor == sf_time(org.clock - pd.Timedelta(minutes=2))  # the newest SystemModstamp seen
    org.clock = datetime.strptime(cursor[:19], "%Y-%m-%dT%H:%M:%S")  # committed late, stamped at the cursor
    deal = org.ids["deal3"]  # type: ignore[attr-defined]
    org.put("Opportunity", Id=deal, Amount=4_200.0)
    org.requests.clear()
    outcome = sync(ws)
    assert not outcome.full
    queries = [p for m, p in org.requests if p.endswith("/queryAll")]
    assert queries  # incremental objects are read through queryAll
    assert frame(ws, f"SELECT amount FROM opportunities WHERE opportunity_id = '{deal}'").amount[0] == 4_200.0
    # the overlap re-reads what the last sync saw at the cursor; loading it twice changes nothing
    assert frame(ws, "SELECT count(*) AS n FROM opportunities").n[0] == 5


def test_a_deleted_opportunity_leaves_the_warehouse_with_its_history(ws: Workspace, org: FakeSalesforce) -> None:
    sync(ws)
    deal = org.ids["deal2"]  # type: ignore[attr-defined]
    org.tick()
    org.delete("Opportunity", deal)
    outcome = sync(ws)
    assert outcome.deleted == 1
    assert frame(ws, f"SELECT count(*) AS n FROM opportunities WHERE opportunity_id = '{deal}'").n[0] == 0
    assert frame(ws, f"SELECT count(*) AS n FROM opportunity_history WHERE opportunity_id = '{deal}'").n[0] == 0
    assert sync(ws).deleted == 0  # read again through the overlap: nothing left to delete


def test_rate_limits_are_waited_out_then_the_sync_succeeds(ws: Workspace, org: FakeSalesforce) -> None:
    org.faults += [Fault("/queryAll", 429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "slow down"}],
                         {"Retry-After": "7"}),
                   Fault("/queryAll", 403, [{"errorCode": "REQUEST_LIMIT_EXCEEDED",
                                             "message": "TotalRequests Limit exceeded."}])]
    waits: list[float] = []
    outcome = sync(ws, waits=waits)
    assert outcome.status == "succeeded"
    assert waits == [7.0, 2.0]  # Retry-After when given, else doubling back-off (1, 2, …)


def test_a_rate_limit_that_never_lifts_fails_in_one_line_after_bounded_waits(ws: Workspace,
                                                                            org: FakeSalesforce) -> None:
    org.faults += [Fault("/describe", 429, [{"errorCode": "REQUEST_LIMIT_EXCEEDED", "message": "x"}])
                   for _ in range(10)]
    waits: list[float] = []
    with pytest.raises(SyncError, match="rate limit was still reached after 5 waits"):
        sync(ws, waits=waits)
    assert waits == [1.0, 2.0, 4.0, 8.0, 16.0]


def test_an_expired_token_names_the_variable_to_set_and_changes_nothing(ws: Workspace, org: FakeSalesforce,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    before = whole_warehouse(ws)
    monkeypatch.setenv(TOKEN_ENV, "expired-session-token")
    with pytest.raises(SyncAuthError) as caught:
        sync(ws)
    line = caught.value.one_line()
    assert TOKEN_ENV in line and "INVALID_SESSION_ID" in line and "expired-session-token" not in line
    assert whole_warehouse(ws) == before
    run = sync_log(ws)[0]
    assert run["status"] == "failed" and TOKEN_ENV in run["message"] and "expired" not in run["message"].split(":")[0]


def test_with_a_refresh_flow_an_expired_token_is_renewed_once(org: FakeSalesforce, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9-consumer-key")
    monkeypatch.setenv("SF_REFRESH", "refresh-me")
    auth = (f"  salesforce: {{instance_url: '{org.url}', auth: {{flow: refresh_token, client_id_env: SF_CLIENT_ID, "
            f"refresh_token_env: SF_REFRESH, login_url: '{org.url}'}}}}\n")
    with workspace_with(tmp_path / "oauth", auth) as ws:
        connector = SalesforceConnector(ws.config.sources.salesforce, sleep=lambda _: None)
        connector.client.tokens.token()  # signed in: fresh-token-1
        org.tokens.discard("fresh-token-1")  # … which then expires
        assert run_sync(ws, "salesforce", connector).status == "succeeded"
        assert org.issued == 2
        monkeypatch.setenv("SF_REFRESH", "revoked")
        org.tokens.clear()
        with pytest.raises(SyncAuthError, match="SF_CLIENT_ID and SF_REFRESH"):
            run_sync(ws, "salesforce", SalesforceConnector(ws.config.sources.salesforce, sleep=lambda _: None))


def test_an_interrupted_sync_leaves_the_warehouse_as_it_was_and_the_cursor_where_it_was(
        ws: Workspace, org: FakeSalesforce, monkeypatch: pytest.MonkeyPatch) -> None:
    sync(ws)
    before, cursor = whole_warehouse(ws), last_success(ws, "salesforce")["cursor"]
    org.tick()
    for name in ("Prima", "Segunda", "Tercera", "Cuarta"):
        org.put("Opportunity", Name=name, AccountId=org.ids["acme"], OwnerId=org.ids["ana"],  # type: ignore
                StageName="Prospección", Amount=1_000.0, CurrencyIsoCode="MXN", CloseDate="2026-09-30")
    org.faults.append(Fault("/query/", 500, [{"errorCode": "SERVER_UNAVAILABLE", "message": "try later"}]))
    with pytest.raises(SyncError, match="HTTP 500"):
        sync(ws)  # the connection fails on the second page of opportunities
    assert whole_warehouse(ws) == before
    assert last_success(ws, "salesforce")["cursor"] == cursor

    # a failure while loading: every row written so far is rolled back
    original = ws.warehouse.upsert

    def failing(table: object, rows: pd.DataFrame) -> int:
        if getattr(table, "name", "") == "activities":
            raise KeyboardInterrupt
        return original(table, rows)  # type: ignore[arg-type]

    org.tick()
    org.put("Task", OwnerId=org.ids["ana"], Subject="Llamar", Status="Open", Priority="High",  # type: ignore
            TaskSubtype="Call", ActivityDate="2026-02-01")
    monkeypatch.setattr(ws.warehouse, "upsert", failing)
    with pytest.raises(KeyboardInterrupt):
        sync(ws)
    monkeypatch.setattr(ws.warehouse, "upsert", original)
    assert whole_warehouse(ws) == before
    assert [r["status"] for r in sync_log(ws)[:3]] == ["failed", "failed", "succeeded"]
    assert sync(ws).loaded >= 5  # the next sync reads the same changes again


def test_bulk_api_reads_the_same_org_as_rest(org: FakeSalesforce, tmp_path: Path) -> None:
    with workspace_with(tmp_path / "rest", block(org)) as rest, \
            workspace_with(tmp_path / "bulk", block(org, ", bulk: true")) as bulk:
        sync(rest)
        org.requests.clear()
        sync(bulk)
        assert any(path.endswith("/results") for _, path in org.requests)
        assert any("/jobs/query" in path for _, path in org.requests)
        assert snapshot(bulk, "salesforce") == snapshot(rest, "salesforce")


@st.composite
def changes(draw: st.DrawFn) -> list[list[tuple[str, int, int]]]:
    """Rounds of changes between syncs: (what, which deal, amount)."""
    step = st.tuples(st.sampled_from(["new", "amount", "stage", "delete", "task"]), st.integers(0, 9),
                     st.integers(1, 90).map(lambda n: n * 1000))
    return draw(st.lists(st.lists(step, min_size=1, max_size=3), min_size=1, max_size=2))


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=changes())
def test_incremental_syncs_over_a_changing_org_end_equal_to_one_full_sync(rounds: list[list[tuple[str, int, int]]],
                                                                           tmp_path_factory: pytest.TempPathFactory,
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "good-token")
    org = FakeSalesforce(page_size=4)
    ids = latam_org(org)
    org.start()
    try:
        root = tmp_path_factory.mktemp("prop")
        with workspace_with(root / "inc", block(org)) as incremental:
            sync(incremental)
            deals = [ids[f"deal{i}"] for i in range(5)]
            for round_ in rounds:
                for what, which, amount in round_:
                    live = [d for d in deals if not org.records["Opportunity"][d]["IsDeleted"]]
                    org.tick()
                    if what == "new" or not live:
                        deals.append(org.put("Opportunity", Name=f"Trato {amount}", AccountId=ids["acme"],
                                             OwnerId=ids["ana"], StageName="Prospección", Amount=float(amount),
                                             CurrencyIsoCode="EUR", CloseDate="2026-08-31"))
                    elif what == "amount":
                        org.put("Opportunity", Id=live[which % len(live)], Amount=float(amount))
                    elif what == "stage":
                        deal = live[which % len(live)]
                        org.put("Opportunity", Id=deal, StageName="Negociación")
                        org.put("OpportunityHistory", OpportunityId=deal, StageName="Negociación",
                                CreatedDate=sf_time(org.clock))
                    elif what == "delete":
                        org.delete("Opportunity", live[which % len(live)])
                    else:
                        org.put("Task", OwnerId=ids["jo"], WhatId=live[which % len(live)], Subject="Anruf",
                                Status="Completed", Priority="Normal", TaskSubtype="Call",
                                CompletedDateTime=sf_time(org.clock))
                sync(incremental)
            with workspace_with(root / "full", block(org)) as full:
                sync(full, full=True)
                assert snapshot(incremental, "salesforce") == snapshot(full, "salesforce")
    finally:
        org.stop()


def test_cli_sync_then_log_and_when_the_next_is_due(ws: Workspace, org: FakeSalesforce,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from cadence.cli.main import app, register_commands

    register_commands()
    monkeypatch.chdir(ws.root)
    assert due_sources(ws) == ["salesforce"]  # never synced
    runner = CliRunner()
    result = runner.invoke(app, ["sync", "salesforce", "--format", "json"])
    assert result.exit_code == 0, result.output
    [summary] = json.loads(result.stdout)
    assert summary["read"] == summary["loaded"] + summary["quarantined"] > 0
    shown = runner.invoke(app, ["sync", "salesforce"])
    assert shown.exit_code == 0 and "read " in shown.stdout and "= loaded" in shown.stdout
    log = runner.invoke(app, ["sync", "log", "--format", "json"])
    assert [r["status"] for r in json.loads(log.stdout)] == ["succeeded", "succeeded"]
    started = sync_log(ws)[0]["started_at"]
    slot_passed = datetime(started.year, started.month, started.day, 2, 0, tzinfo=UTC) + timedelta(days=1)
    assert due_sources(ws, now=started.replace(tzinfo=UTC)) == []
    assert due_sources(ws, now=slot_passed) == ["salesforce"]
    bad = runner.invoke(app, ["sync", "pipedrive"])
    assert bad.exit_code == 1 and "unknown sync target" in str(bad.exception)
    due = runner.invoke(app, ["sync", "--due", "--format", "json"])  # synced since the last slot: nothing due
    assert due.exit_code == 0 and json.loads(due.stdout) == []
    (ws.root / "cadence.yml").write_text((ws.root / "cadence.yml").read_text().replace(org.url, "http://127.0.0.1:9"))
    unreachable = runner.invoke(app, ["sync", "salesforce"])
    assert unreachable.exit_code == 1 and "Salesforce could not be reached" in str(unreachable.exception)


def test_the_jwt_bearer_flow_signs_in_with_the_certificates_key(org: FakeSalesforce, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from joserfc.jwk import RSAKey

    key = RSAKey.generate_key(2048)
    org.jwt_key = key
    monkeypatch.setenv("SF_CLIENT_ID", "3MVG9-consumer-key")
    monkeypatch.setenv("SF_KEY", key.as_pem(private=True).decode())
    auth = (f"  salesforce: {{instance_url: '{org.url}', auth: {{flow: jwt, client_id_env: SF_CLIENT_ID, "
            f"username: integration@acme.test, private_key_env: SF_KEY, login_url: '{org.url}'}}}}\n")
    with workspace_with(tmp_path / "jwt", auth) as ws:
        assert sync(ws).status == "succeeded" and org.issued == 1
        monkeypatch.setenv("SF_KEY", "not a key")
        with pytest.raises(SyncAuthError) as caught:
            sync(ws)
        assert "SF_KEY is not a PEM RSA key" in caught.value.one_line()


@pytest.mark.postgres
def test_on_postgresql_a_sync_a_deletion_and_a_failed_load_behave_as_on_duckdb(
        org: FakeSalesforce, tmp_path: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with workspace_with(tmp_path / "pg", block(org), warehouse=postgres_url) as pg, \
            workspace_with(tmp_path / "duck", block(org)) as duck:
        sync(pg)
        sync(duck)
        org.tick()
        org.delete("Opportunity", org.ids["deal1"])  # type: ignore[attr-defined]
        assert sync(pg).deleted == 1 and sync(duck).deleted == 1
        on_pg, on_duck = snapshot(pg, "salesforce"), snapshot(duck, "salesforce")
        for name in on_pg:
            for a, b in zip(on_pg[name], on_duck[name], strict=True):
                assert a == b, {k: (a[k], b[k]) for k in a if a[k] != b[k]}
        before = whole_warehouse(pg)
        org.tick()
        org.put("Opportunity", Id=org.ids["deal0"], Amount=1.0)  # type: ignore[attr-defined]
        original = pg.warehouse.upsert

        def failing(table: object, rows: pd.DataFrame) -> int:
            if getattr(table, "name", "") == "stages":
                raise RuntimeError("connection lost")
            return original(table, rows)  # type: ignore[arg-type]

        monkeypatch.setattr(pg.warehouse, "upsert", failing)
        with pytest.raises(RuntimeError):
            sync(pg)
        assert whole_warehouse(pg) == before
        assert sync_log(pg)[0]["message"] == "interrupted (RuntimeError)"


def test_a_refused_record_is_quarantined_and_leaves_the_quarantine_once_fixed(ws: Workspace,
                                                                              org: FakeSalesforce) -> None:
    sync(ws)
    org.tick(10)
    credit = org.put("Opportunity", Name="Nota de crédito", AccountId=org.ids["acme"],  # type: ignore[attr-defined]
                     OwnerId=org.ids["ana"], StageName="Prospección", Amount=-500.0,  # type: ignore[attr-defined]
                     CurrencyIsoCode="MXN", CloseDate="2026-03-31")

    def refused() -> list[tuple[str, str]]:
        rows = frame(ws, "SELECT target_table, column_name, row_json FROM quarantine WHERE import_key LIKE "
                         "'salesforce:salesforce://Opportunity#%'")
        return [(t, c) for t, c, j in rows.values if json.loads(j)["opportunity_id"] == credit]

    outcome = sync(ws)
    assert outcome.quarantined == 1 and outcome.read == outcome.loaded + 1
    assert refused() == [("opportunities", "amount")]
    assert sync(ws).quarantined == 1 and len(refused()) == 1  # read again through the overlap: listed once
    org.tick(10)
    org.put("Opportunity", Id=credit, Amount=500.0)
    assert sync(ws).quarantined == 0
    assert refused() == []
    assert frame(ws, f"SELECT amount FROM opportunities WHERE opportunity_id = '{credit}'").amount[0] == 500.0


def test_an_optional_object_the_user_may_not_read_is_skipped_a_required_one_fails(ws: Workspace,
                                                                                 org: FakeSalesforce) -> None:
    denied = [{"errorCode": "INSUFFICIENT_ACCESS", "message": "insufficient access rights on object"}]
    org.faults.append(Fault("/sobjects/CurrencyType/describe", 403, denied))
    outcome = sync(ws)
    assert outcome.status == "succeeded"
    assert "CurrencyType" not in [o["object"] for o in outcome.objects]
    assert outcome.message.endswith("not in this org or not readable by its user (skipped): CurrencyType, "
                                    "DatedConversionRate, FiscalYearSettings, Period")
    assert frame(ws, "SELECT count(*) AS n FROM exchange_rates WHERE source = 'salesforce'").n[0] == 0
    org.faults.append(Fault("/sobjects/Opportunity/describe", 403, denied))
    with pytest.raises(SyncError, match="HTTP 403 .*INSUFFICIENT_ACCESS"):
        sync(ws)


def test_a_sync_prepares_this_weeks_scorecard_for_its_first_reader(ws: Workspace, org: FakeSalesforce,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from cadence.cli.main import app, register_commands
    from cadence.report.scorecard import build_scorecard
    from cadence.report.sections import SECTIONS

    register_commands()
    monkeypatch.chdir(ws.root)
    result = CliRunner().invoke(app, ["sync", "salesforce", "--format", "json"])
    assert result.exit_code == 0, result.output

    def computed_again(self: object, *_: object) -> None:
        raise AssertionError(f"{type(self).__name__} computed again: the sync did not prepare it")

    with monkeypatch.context() as patched:
        for provider in SECTIONS:
            patched.setattr(type(provider), "build", computed_again)
        with cadence.open(ws.root) as reader:  # the first reader after the sync, in a session of its own
            read_back = build_scorecard(reader)
    with cadence.open(ws.root) as reader:
        assert read_back.as_dict() == build_scorecard(reader, fresh=True).as_dict()
        version = reader.warehouse.data_version()

    # the next scheduled sync finds nothing new: it reads the records at its cursor again and writes them as they
    # were, so the data keeps its version and nothing is computed again, by the sync or by its first reader
    with monkeypatch.context() as patched:
        for provider in SECTIONS:
            patched.setattr(type(provider), "build", computed_again)
        again = CliRunner().invoke(app, ["sync", "salesforce", "--format", "json"])
        assert again.exit_code == 0, again.output
        assert [r["changed"] for r in json.loads(again.stdout)] == [False]
        with cadence.open(ws.root) as reader:
            assert reader.warehouse.data_version() == version
            assert build_scorecard(reader).as_dict() == read_back.as_dict()
            latest, first = sync_log(reader, "salesforce")  # both syncs logged, newest first
            assert latest["status"] == "succeeded" and not latest["full"]
            assert latest["loaded"] > 0  # the records at the cursor, read and written again
            assert latest["message"].startswith("no row changed")  # what `cadence sync log` shows
            assert "no row changed" not in (first["message"] or "")
