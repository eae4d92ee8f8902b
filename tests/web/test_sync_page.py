"""The admin's Syncs page (/admin/syncs): the CRM syncs `cadence sync log` lists, in the browser.

The syncs are real: Salesforce and HubSpot synced through their connectors against the loopback stand-ins of
tests/crm_standins.py — a full sync of each, one that found nothing new ("no row changed"), a later HubSpot one,
and one that failed on an error whose text (the CRM's own) carries a `<script>`; the page is also read while that
one is still running. What the page should show is read back with plain SQL from `sync_runs` and sorted here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from cadence.sync.http import SyncError
from cadence.sync.hubspot import HubSpotConnector
from cadence.sync.run import run_sync
from cadence.sync.salesforce import SalesforceConnector
from cadence.workspace import Workspace, init_workspace, open_workspace
from tests.browser import chromium_page
from tests.crm_standins import FakeHubSpot, FakeSalesforce, Fault, hubspot_portal, latam_org
from tests.sync_helpers import workspace_with
from tests.web.conftest import PASSWORD, sign_in
from tests.web.live_server import live_server

SF_ENV, HS_ENV = "CADENCE_TEST_PAGE_SF_TOKEN", "CADENCE_TEST_PAGE_HS_TOKEN"
SCRIPT = "<script>alert('sync')</script>"
COLUMNS = ("started", "finished", "source", "kind", "outcome", "read", "loaded", "quarantined", "deleted", "message")


@dataclass
class Row:
    run_id: str
    css: str
    cells: dict[str, str]


class Rows(HTMLParser):
    """The table's rows of syncs (`<tr data-run=…>`), each cell's text; and the pager's links."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self.links: dict[str, str] = {}
        self._cells: list[str] | None = None
        self._in_cell = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "tr" and found.get("data-run"):
            self.rows.append(Row(str(found["data-run"]), str(found.get("class") or ""), {}))
            self._cells = []
        elif tag == "td" and self._cells is not None:
            self._cells.append("")
            self._in_cell = True
        elif tag == "a" and found.get("rel"):
            self.links[str(found["rel"])] = str(found["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self._in_cell = False
        elif tag == "tr" and self._cells is not None:
            self.rows[-1].cells = dict(zip(COLUMNS, (c.strip() for c in self._cells), strict=True))
            self._cells = None

    def handle_data(self, data: str) -> None:
        if self._in_cell and self._cells is not None:
            self._cells[-1] += data


def parsed(html: str) -> Rows:
    rows = Rows()
    rows.feed(html)
    return rows


class Watched:
    """A connector that calls `during()` once it starts reading the CRM: the sync's row then says running."""

    def __init__(self, inner: Any, during: Any) -> None:
        self.inner, self.during = inner, during
        self.source = inner.source

    @property
    def skipped(self) -> list[str]:
        return list(self.inner.skipped)

    def fetch(self, cursors: dict[str, str], full: bool, progress: Any) -> Any:
        self.during()
        return self.inner.fetch(cursors, full, progress)

    def to_batch(self, *args: Any) -> Any:
        return self.inner.to_batch(*args)

    def close(self) -> None:
        self.inner.close()


@dataclass
class Synced:
    ws: Workspace
    admin: TestClient
    anonymous: TestClient
    while_running: str  # the page as read during the failed sync
    failed_run: str


def _app(ws: Workspace) -> Any:
    from cadence.web.app import create_app
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.settings import Settings

    return create_app(Settings(workspace=ws.root), holder=WorkspaceHolder(ws.root, workspace=ws))


def _admin_of(ws: Workspace) -> TestClient:
    from cadence.accounts.users import add_user

    add_user(ws, "ada", "admin", password=PASSWORD, display_name="Ada")
    return sign_in(_app(ws), "ada")


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    with pytest.MonkeyPatch.context() as env:
        env.setenv(SF_ENV, "good-token")
        env.setenv(HS_ENV, "good-token")
        org, portal = FakeSalesforce(page_size=3), FakeHubSpot(page_size=2)
        org.ids = latam_org(org)  # type: ignore[attr-defined]
        portal.ids = hubspot_portal(portal)  # type: ignore[attr-defined]
        org.start()
        portal.start()
        blocks = (f"  salesforce: {{instance_url: '{org.url}', token_env: {SF_ENV}}}\n"
                  f"  hubspot: {{api_base: '{portal.url}', token_env: {HS_ENV}}}\n")
        ws = workspace_with(tmp_path_factory.mktemp("sync-page") / "ws", blocks)
        admin = _admin_of(ws)

        def salesforce() -> SalesforceConnector:
            return SalesforceConnector(ws.config.sources.salesforce, sleep=lambda _: None, poll_seconds=0)

        def hubspot() -> HubSpotConnector:
            return HubSpotConnector(ws.config.sources.hubspot, sleep=lambda _: None, now=lambda: portal.clock)

        try:
            run_sync(ws, "hubspot", hubspot())  # the first sync of each CRM is a full one
            run_sync(ws, "salesforce", salesforce())
            assert run_sync(ws, "salesforce", salesforce()).changed is False  # nothing new: no row changed
            seen: list[str] = []
            org.faults.append(Fault("/query", 500, [{"errorCode": "SERVER_UNAVAILABLE",
                                                     "message": f"{SCRIPT} try later"}]))
            with pytest.raises(SyncError, match="HTTP 500"):
                run_sync(ws, "salesforce", Watched(salesforce(), lambda: seen.append(admin.get("/admin/syncs").text)))
            failed = ws.warehouse.query("SELECT run_id FROM sync_runs WHERE status = 'failed'")
            portal.tick()
            portal.put("deals", portal.ids["d1"], dealstage="closedwon", hs_is_closed="true",  # type: ignore
                       hs_is_closed_won="true")  # a deal won since: the next HubSpot sync loads it
            run_sync(ws, "hubspot", hubspot())
            with TestClient(_app(ws), base_url="http://testserver") as anonymous:
                yield Synced(ws, admin, anonymous, seen[0], failed[0][0])
        finally:
            admin.close()
            ws.close()
            org.stop()
            portal.stop()


def newest_first(ws: Workspace, source: str | None = None) -> list[tuple[Any, ...]]:
    """sync_runs' rows by plain SQL, sorted here by their own start times, newest first."""
    rows = ws.warehouse.query("SELECT run_id, source, started_at, finished_at, status, \"full\", \"read\", loaded, "
                              "quarantined, deleted, message FROM sync_runs"
                              + (" WHERE source = $1" if source else ""), (source,) if source else None)
    return sorted(rows, key=lambda r: r[2], reverse=True)


def test_the_admin_sees_every_sync_newest_first_with_what_it_did(synced: Synced) -> None:
    page = synced.admin.get("/admin/syncs")
    assert page.status_code == 200
    expected = newest_first(synced.ws)
    assert len(expected) == 5 and {r[1] for r in expected} == {"salesforce", "hubspot"}
    shown = parsed(page.text).rows
    assert [r.run_id for r in shown] == [r[0] for r in expected]
    for row, (_, source, started, finished, status, full, read, loaded, quarantined, deleted, message) in zip(
            shown, expected, strict=True):
        cells = row.cells
        assert cells["started"] == started.strftime("%Y-%m-%d %H:%M:%S")
        assert cells["finished"] == finished.strftime("%Y-%m-%d %H:%M:%S")
        assert (cells["source"], cells["kind"], cells["outcome"]) == (source, "full" if full else "incremental",
                                                                       status)
        assert [cells[k] for k in ("read", "loaded", "quarantined", "deleted")] == \
            [f"{int(n):,}" for n in (read, loaded, quarantined, deleted)]
        assert cells["message"] == (message or "")
        assert row.css == f"run-{status}"
    statuses = [r[4] for r in expected]
    assert statuses.count("failed") == 1 and statuses.count("succeeded") == 4
    # the Salesforce sync that found nothing new says so first in its message, as `cadence sync log` does
    (quiet,) = [r[0] for r in expected if r[1] == "salesforce" and r[4] == "succeeded" and not r[5]]
    assert next(r for r in shown if r.run_id == quiet).cells["message"].startswith("no row changed (")
    assert 'aria-current="page"' in page.text and '<a href="/admin/syncs" aria-current="page">Syncs</a>' in page.text


def test_a_message_from_the_crm_is_text_never_markup(synced: Synced) -> None:
    page = synced.admin.get("/admin/syncs").text
    failed = next(r for r in parsed(page).rows if r.run_id == synced.failed_run)
    assert SCRIPT in failed.cells["message"]  # the text, as the CRM said it …
    assert SCRIPT not in page and "&lt;script&gt;alert(&#39;sync&#39;)&lt;/script&gt;" in page  # … escaped


def test_the_sync_under_way_is_marked_running(synced: Synced) -> None:
    rows = parsed(synced.while_running).rows
    assert rows[0].run_id == synced.failed_run  # the newest, read before it failed
    assert rows[0].css == "run-running" and rows[0].cells["outcome"] == "running"
    assert rows[0].cells["finished"] == "running…" and rows[0].cells["loaded"] == ""
    assert [r.css for r in rows[1:]] == ["run-succeeded"] * 3  # and the three syncs before it


def test_the_filter_by_crm_shows_only_that_crm(synced: Synced) -> None:
    for source in ("salesforce", "hubspot"):
        page = synced.admin.get("/admin/syncs", params={"source": source})
        assert page.status_code == 200
        shown = parsed(page.text).rows
        assert [r.run_id for r in shown] == [r[0] for r in newest_first(synced.ws, source)]
        assert {r.cells["source"] for r in shown} == {source}
        assert f'<option value="{source}" selected>' in page.text
    assert synced.admin.get("/admin/syncs", params={"source": ""}).status_code == 200  # "every CRM"
    assert synced.admin.get("/admin/syncs", params={"source": "pipedrive"}).status_code == 400
    assert synced.admin.get("/admin/syncs", params={"source": "' OR 1=1 --"}).status_code == 400  # never SQL
    assert synced.admin.get("/admin/syncs", params={"offset": "-3", "limit": "0"}).status_code == 200  # clamped


def test_a_page_holds_the_newest_and_links_to_the_older_ones(synced: Synced) -> None:
    expected = [r[0] for r in newest_first(synced.ws)]
    pages, url = [], "/admin/syncs?limit=2"
    while url:
        read = parsed(synced.admin.get(url).text)
        pages.append([r.run_id for r in read.rows])
        url = read.links.get("next", "")
    assert pages == [expected[0:2], expected[2:4], expected[4:5]]
    last = parsed(synced.admin.get("/admin/syncs?limit=2&offset=4").text)
    assert "next" not in last.links and last.links["prev"] == "/admin/syncs?source=&limit=2&offset=2"
    salesforce = [r[0] for r in newest_first(synced.ws, "salesforce")]
    first = parsed(synced.admin.get("/admin/syncs?source=salesforce&limit=2").text)
    assert [r.run_id for r in first.rows] == salesforce[:2]
    assert first.links["next"] == "/admin/syncs?source=salesforce&limit=2&offset=2"  # the filter is kept
    assert [r.run_id for r in parsed(synced.admin.get(first.links["next"]).text).rows] == salesforce[2:]
    assert "No older syncs" in synced.admin.get("/admin/syncs?offset=50").text
    assert len(parsed(synced.admin.get("/admin/syncs").text).rows) == len(expected)  # 50 a page: all five


def test_the_json_twin_lists_what_cadence_sync_log_lists(synced: Synced) -> None:
    from typer.testing import CliRunner

    from cadence.cli.main import app, register_commands

    register_commands()
    answer = synced.admin.get("/admin/syncs.json", params={"source": "salesforce"})
    assert answer.status_code == 200
    with pytest.MonkeyPatch.context() as patched:
        patched.chdir(synced.ws.root)
        cli = CliRunner().invoke(app, ["sync", "log", "--format", "json"])
    assert cli.exit_code == 0, cli.output
    logged = [r for r in json.loads(cli.stdout) if r["source"] == "salesforce"]
    assert [r["run_id"] for r in answer.json()] == [r["run_id"] for r in logged]
    assert [r["message"] for r in answer.json()] == [r["message"] for r in logged]


def test_signed_out_goes_to_sign_in(synced: Synced) -> None:
    page = synced.anonymous.get("/admin/syncs?source=hubspot", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/login?next=/admin/syncs%3Fsource%3Dhubspot"
    assert synced.anonymous.get("/admin/syncs.json").status_code == 401


@pytest.mark.parametrize("role", ["executive", "manager", "rep", "recruiter", "viewer"])
def test_every_other_role_is_refused(client: Any, role: str) -> None:
    for path in ("/admin/syncs", "/admin/syncs.json"):
        refused = client(role).get(path, follow_redirects=False)
        assert refused.status_code == 403, (role, path)
        assert "sync_runs" not in refused.text and "salesforce" not in refused.text


def test_with_no_sync_yet_the_page_shows_how_to_set_one_up(tmp_path: Path) -> None:
    init_workspace(tmp_path / "ws")
    ws = open_workspace(tmp_path / "ws")
    try:
        assert ws.warehouse.query("SELECT count(*) FROM sync_runs")[0][0] == 0
        with _admin_of(ws) as admin:
            page = admin.get("/admin/syncs")
            assert page.status_code == 200
            assert "No CRM sync has run yet" in page.text
            assert "cadence sync salesforce" in page.text and "token_env: CADENCE_SALESFORCE_TOKEN" in page.text
            assert parsed(page.text).rows == []
            assert admin.get("/admin/syncs.json").json() == []
    finally:
        ws.close()


@pytest.mark.skipif(os.environ.get("CADENCE_SCREENSHOTS") != "1", reason="writes docs/screenshots/ only when "
                    "CADENCE_SCREENSHOTS=1")
def test_screenshot(synced: Synced) -> None:
    """docs/screenshots/admin-syncs.png: the page after these real syncs, as the admin's browser shows it."""
    from tests.web.test_browser import TIMEOUT_MS, _shoot
    from tests.web.test_browser import sign_in as sign_in_through_the_form

    with live_server(synced.ws.root, workspace=synced.ws) as server, chromium_page() as page:
        page.set_default_timeout(TIMEOUT_MS)
        sign_in_through_the_form(page, server, "ada", "/admin/syncs")
        assert page.goto(server.at("/admin/syncs")).status == 200
        assert page.get_by_text("HTTP 500").count() >= 1  # the failed sync, with the CRM's own words
        assert _shoot(page, "admin-syncs").stat().st_size <= 300_000
