"""`cadence sync hubspot` against a loopback stand-in of HubSpot's CRM v3 API (tests/crm_standins.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadence.sync.http import SyncAuthError, SyncError
from cadence.sync.hubspot import HubSpotConnector
from cadence.sync.run import SyncOutcome, last_success, run_sync, sync_log
from cadence.workspace import Workspace
from tests.crm_standins import FakeHubSpot, Fault, hs_time, hubspot_portal
from tests.sync_helpers import snapshot, whole_warehouse, workspace_with

TOKEN_ENV = "CADENCE_TEST_HUBSPOT_TOKEN"


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeHubSpot]:
    monkeypatch.setenv(TOKEN_ENV, "good-token")
    fake = FakeHubSpot(page_size=2)
    fake.ids = hubspot_portal(fake)  # type: ignore[attr-defined]
    fake.start()
    yield fake
    fake.stop()


def block(portal: FakeHubSpot) -> str:
    return f"  hubspot: {{api_base: '{portal.url}', token_env: {TOKEN_ENV}, cron: '30 2 * * *'}}\n"


@pytest.fixture
def ws(portal: FakeHubSpot, tmp_path: Path) -> Iterator[Workspace]:
    workspace = workspace_with(tmp_path / "ws", block(portal))
    yield workspace
    workspace.close()


def sync(ws: Workspace, portal: FakeHubSpot, *, full: bool = False, waits: list[float] | None = None,
         search_cap: int = 10_000) -> SyncOutcome:
    sleep = waits.append if waits is not None else (lambda _: None)
    connector = HubSpotConnector(ws.config.sources.hubspot, sleep=sleep, now=lambda: portal.clock,
                                 search_cap=search_cap)
    return run_sync(ws, "hubspot", connector, full=full)


def frame(ws: Workspace, sql: str) -> pd.DataFrame:
    return ws.warehouse.read_frame(sql)


def test_first_sync_pages_through_the_portal_and_maps_it_as_an_export(ws: Workspace, portal: FakeHubSpot) -> None:
    ids = portal.ids  # type: ignore[attr-defined]
    outcome = sync(ws, portal)
    assert outcome.status == "succeeded" and outcome.full
    assert any(path == "/crm/v3/owners" for _, path in portal.requests)
    deals = frame(ws, "SELECT opportunity_id, pipeline, stage, amount, currency, is_won, is_closed, owner_id, "
                      "account_id, close_date FROM opportunities").set_index("opportunity_id")
    d1, d2 = deals.loc[ids["d1"]], deals.loc[ids["d2"]]
    # stage ids became the pipeline's labels; the deal without an owner keeps an empty owner
    assert (d1.pipeline, d1.stage, d1.amount, d1.currency, d1.owner_id, d1.account_id) == \
        ("Ventas", "Calificado", 135_000.0, "USD", "501", ids["acme"])
    assert (d2.stage, d2.currency, bool(d2.is_won), bool(d2.is_closed), d2.account_id) == \
        ("Cerrado ganado", "EUR", True, True, ids["berg"])
    assert d2.owner_id is None or pd.isna(d2.owner_id)
    assert str(d1.close_date)[:10] == "2026-05-31"
    stages = frame(ws, "SELECT stage, position, probability, is_won, is_lost FROM stages WHERE pipeline = 'Ventas' "
                       "ORDER BY position")
    assert stages.values.tolist() == [["Cita agendada", 1, 0.2, False, False], ["Calificado", 2, 0.4, False, False],
                                      ["Cerrado ganado", 3, 1.0, True, False], ["Cerrado perdido", 4, 0.0, False, True]]
    # propertiesWithHistory: d1 entered 'Cita agendada' at 09:01 with 120k, moved to 'Calificado' with 135k at 09:04
    history = frame(ws, f"SELECT changed_at, stage, amount FROM opportunity_history WHERE opportunity_id = "
                        f"'{ids['d1']}' ORDER BY changed_at")
    assert [(str(t)[11:16], s, a) for t, s, a in history.values] == [("09:01", "Cita agendada", 120_000.0),
                                                                     ("09:04", "Calificado", 135_000.0)]
    people = frame(ws, "SELECT person_id, name, team FROM people ORDER BY person_id").values.tolist()
    assert people[0] == ["501", "Lucía Gómez", "Ventas LATAM"] and people[1][:2] == ["502", "Max Weber"]
    lead = frame(ws, "SELECT account_id, opportunity_id, channel, status FROM leads").values.tolist()
    assert lead == [[ids["acme"], ids["d1"], "organic_search", "qualified"]]
    read = 2 + 2 + 1 + 2  # owners, companies, contacts, deals
    assert outcome.read == read == outcome.loaded + outcome.quarantined
    assert outcome.unknown_fields == {"deals": ["churn_risk_score"]}
    assert sync_log(ws)[0]["message"].count("churn_risk_score") == 1


def test_incremental_search_reads_a_deal_changed_at_the_cursor_and_removes_an_archived_one(
        ws: Workspace, portal: FakeHubSpot) -> None:
    ids = portal.ids  # type: ignore[attr-defined]
    sync(ws, portal)
    cursor = last_success(ws, "hubspot")["cursor"]["deals"]
    portal.clock = pd.Timestamp(cursor).to_pydatetime()  # a change stamped exactly at the cursor
    portal.put("deals", ids["d1"], dealstage="closedwon", hs_is_closed="true", hs_is_closed_won="true")
    portal.tick()
    portal.archive("deals", ids["d2"])
    portal.requests.clear()
    outcome = sync(ws, portal)
    assert not outcome.full and outcome.deleted == 1
    assert ("POST", "/crm/v3/objects/deals/search") in portal.requests
    assert frame(ws, "SELECT opportunity_id, stage FROM opportunities").values.tolist() == \
        [[ids["d1"], "Cerrado ganado"]]
    stages = frame(ws, f"SELECT stage FROM opportunity_history WHERE opportunity_id = '{ids['d1']}' "
                       "ORDER BY changed_at").stage.tolist()
    # two stages in the same millisecond (09:04): the history holds the later one from that moment on
    assert stages == ["Cita agendada", "Cerrado ganado"]
    assert frame(ws, f"SELECT count(*) AS n FROM opportunity_history WHERE opportunity_id = '{ids['d2']}'").n[0] == 0
    assert sync(ws, portal).deleted == 0


def test_a_search_window_holding_more_than_search_returns_is_split(ws: Workspace, portal: FakeHubSpot) -> None:
    sync(ws, portal)
    portal.search_cap = 3
    made = []
    for n in range(8):
        portal.tick()
        made.append(portal.put("deals", dealname=f"Trato {n}", pipeline="default", dealstage="appointmentscheduled",
                               amount=str(1000 * (n + 1)), deal_currency_code="MXN", hs_is_closed="false",
                               hs_is_closed_won="false"))
    portal.requests.clear()
    outcome = sync(ws, portal, search_cap=3)
    searches = [p for m, p in portal.requests if p == "/crm/v3/objects/deals/search"]
    assert len(searches) > 3  # the window was split until each part held at most 3
    loaded = set(frame(ws, "SELECT opportunity_id FROM opportunities").opportunity_id)
    assert set(made) <= loaded and outcome.status == "succeeded"


def test_429_is_waited_out_and_an_expired_token_names_the_variable(ws: Workspace, portal: FakeHubSpot,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    portal.faults.append(Fault("/crm/v3/objects/deals", 429, {"status": "error", "category": "RATE_LIMITS",
                                                              "message": "You have reached your secondly limit."},
                               {"Retry-After": "1"}))
    waits: list[float] = []
    assert sync(ws, portal, waits=waits).status == "succeeded"
    assert waits == [1.0]
    before = whole_warehouse(ws)
    monkeypatch.setenv(TOKEN_ENV, "pat-na1-expired")
    with pytest.raises(SyncAuthError) as caught:
        sync(ws, portal)
    line = caught.value.one_line()
    assert TOKEN_ENV in line and "EXPIRED_AUTHENTICATION" in line and "pat-na1-expired" not in line
    assert whole_warehouse(ws) == before
    monkeypatch.delenv(TOKEN_ENV)
    with pytest.raises(SyncAuthError, match=f"{TOKEN_ENV} is not set"):
        sync(ws, portal)


def test_an_interrupted_sync_changes_nothing_and_keeps_the_cursor(ws: Workspace, portal: FakeHubSpot) -> None:
    sync(ws, portal)
    before, cursor = whole_warehouse(ws), last_success(ws, "hubspot")["cursor"]
    portal.tick()
    for n in range(5):
        portal.put("companies", name=f"Empresa {n}", domain=f"empresa{n}.mx")
    portal.faults.append(Fault("/crm/v3/objects/deals/search", 502, "Bad Gateway"))
    with pytest.raises(SyncError, match="HTTP 502"):
        sync(ws, portal)
    assert whole_warehouse(ws) == before
    assert last_success(ws, "hubspot")["cursor"] == cursor
    assert sync(ws, portal).read >= 5  # read again by the next sync


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rounds=st.lists(st.lists(st.tuples(st.sampled_from(["new", "stage", "amount", "archive", "company"]),
                                          st.integers(0, 9)), min_size=1, max_size=3), min_size=1, max_size=2))
def test_incremental_syncs_end_equal_to_one_full_sync(rounds: list[list[tuple[str, int]]],
                                                     tmp_path_factory: pytest.TempPathFactory,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, "good-token")
    portal = FakeHubSpot(page_size=3)
    ids = hubspot_portal(portal)
    portal.start()
    try:
        root = tmp_path_factory.mktemp("hsprop")
        with workspace_with(root / "inc", block(portal)) as incremental:
            sync(incremental, portal)
            deals = [ids["d1"], ids["d2"]]
            for round_ in rounds:
                for what, which in round_:
                    live = [d for d in deals if not portal.objects["deals"][d]["archived"]]
                    portal.tick()
                    if what == "new" or not live:
                        deals.append(portal.put("deals", dealname=f"Trato {which}", pipeline="default",
                                                dealstage="appointmentscheduled", amount=str(500 * (which + 1)),
                                                deal_currency_code="EUR", hs_is_closed="false",
                                                hs_is_closed_won="false", closedate=hs_time(portal.clock)))
                    elif what == "stage":
                        portal.put("deals", live[which % len(live)], dealstage="closedlost", hs_is_closed="true",
                                   hs_is_closed_won="false")
                    elif what == "amount":
                        portal.put("deals", live[which % len(live)], amount=str(777 * (which + 1)))
                    elif what == "archive":
                        portal.archive("deals", live[which % len(live)])
                    else:
                        portal.put("companies", ids["berg"], numberofemployees=str(80 + which))
                sync(incremental, portal)
            with workspace_with(root / "full", block(portal)) as full:
                sync(full, portal, full=True)
                assert snapshot(incremental, "hubspot") == snapshot(full, "hubspot")
    finally:
        portal.stop()


def test_the_scheduler_inside_serve_runs_a_due_sync_once(ws: Workspace, portal: FakeHubSpot) -> None:
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.scheduler import DeliveryScheduler

    scheduler = DeliveryScheduler(WorkspaceHolder(ws.root, workspace=ws))
    assert scheduler.configured()  # cadence.yml syncs HubSpot on a cron, with no delivery block
    scheduler.run_once()
    assert [(r["source"], r["status"]) for r in scheduler.last_syncs] == [("hubspot", "succeeded")]
    scheduler.run_once()  # the slot was synced: nothing is due until the next one
    assert scheduler.last_syncs == []
    assert [r["status"] for r in sync_log(ws)] == ["succeeded"]


def test_a_delivery_schedule_can_require_a_fresh_sync_first(ws: Workspace, portal: FakeHubSpot) -> None:
    from datetime import UTC, datetime

    from cadence.config import validate_config
    from cadence.config.delivery import Schedule
    from cadence.delivery.run import _synced_first
    from cadence.errors import ConfigError

    delivery = {"smtp": {"host": "127.0.0.1", "sender": "revops@acme.test"},
                "schedules": [{"name": "weekly", "cron": "0 8 * * MON", "recipients": ["ada"],
                               "require_sync": ["salesforce"]}]}
    with pytest.raises(ConfigError, match=r"require_sync: salesforce is not configured under `sources:`"):
        validate_config({"delivery": delivery})
    schedule = Schedule.model_validate({"name": "weekly", "cron": "0 8 * * MON", "recipients": ["ada"],
                                        "require_sync": ["hubspot"]})
    slot = datetime.now(UTC).replace(microsecond=0)
    _synced_first(ws, schedule, slot)  # never synced: synced now
    assert [r["status"] for r in sync_log(ws)] == ["succeeded"]
    _synced_first(ws, schedule, slot)  # synced after the slot: not again
    assert len(sync_log(ws)) == 1


def test_an_error_that_echoes_the_token_never_shows_it(ws: Workspace, portal: FakeHubSpot) -> None:
    portal.faults.append(Fault("/crm/v3/owners", 403, {"status": "error", "category": "MISSING_SCOPES",
                                                       "message": "token good-token lacks crm.objects.owners.read"}))
    with pytest.raises(SyncError) as caught:
        sync(ws, portal)
    assert "good-token" not in caught.value.one_line() and "MISSING_SCOPES" in caught.value.one_line()
    assert "good-token" not in str(sync_log(ws)[0]["message"])


def test_a_close_date_is_the_day_it_is_in_the_companys_time_zone(portal: FakeHubSpot, tmp_path: Path) -> None:
    # HubSpot stores a close date as a moment: midnight of 31 May in Berlin is 22:00 UTC on the 30th
    deal = portal.put("deals", dealname="Berg Verlängerung", pipeline="default", dealstage="qualifiedtobuy",
                      amount="9000", deal_currency_code="EUR", closedate="2026-05-30T22:00:00.000Z",
                      hs_is_closed="false", hs_is_closed_won="false")
    with workspace_with(tmp_path / "berlin", block(portal)) as ws:
        config = ws.root / "cadence.yml"
        config.write_text(config.read_text(encoding="utf-8").replace("timezone: UTC", "timezone: Europe/Berlin", 1),
                          encoding="utf-8")
    from cadence.workspace import open_workspace

    with open_workspace(tmp_path / "berlin") as ws:
        assert ws.config.timezone == "Europe/Berlin"
        sync(ws, portal)
        day = frame(ws, f"SELECT close_date FROM opportunities WHERE opportunity_id = '{deal}'").close_date[0]
        assert str(day)[:10] == "2026-05-31"
        days = frame(ws, f"SELECT close_date FROM opportunity_history WHERE opportunity_id = '{deal}'").close_date
        assert {str(d)[:10] for d in days} == {"2026-05-31"}


def test_without_the_schemas_scope_every_property_the_mapping_knows_is_asked_for(ws: Workspace,
                                                                               portal: FakeHubSpot) -> None:
    scope = {"status": "error", "category": "MISSING_SCOPES", "message": "This app hasn't been granted all "
             "required scopes to make this call."}
    portal.faults += [Fault(f"/crm/v3/properties/{name}", 403, scope) for name in ("companies", "contacts", "deals")]
    outcome = sync(ws, portal)
    assert outcome.status == "succeeded" and outcome.unknown_fields == {}
    assert frame(ws, "SELECT count(*) AS n FROM opportunities").n[0] == 2
