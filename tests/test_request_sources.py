"""Feature requests from Productboard and Canny exports, and one typed in: every row loaded or quarantined with a
reason, idempotent, and the command line's mistakes in one line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import cadence
from cadence.analysis.roadmap.data import load_roadmap_data
from cadence.errors import InputError
from cadence.ingest.request_sources import CERTAINTY_LABELS, NewRequest, certainty_value, manual_request_batch
from cadence.workspace import Workspace, init_workspace

PRODUCTBOARD_NOTES = """\
Note ID,Note title,Note text,Company name,Company domain,User email,Owner email,Tags,State,Created at,Display URL
n-101,SSO with Okta,"We need SAML SSO before we sign, our security team insists.",Acme,https://www.acme.com/,\
ann@acme.com,pm@northwind.io,security,Processed,2025-03-01T10:00:00.000Z,https://pb.example/n-101
n-102,,"Please add a dark mode, our analysts work late.",Globex,globex.com,bob@globex.com,pm@northwind.io,,\
Unprocessed,2025-03-02T09:30:00Z,https://pb.example/n-102
n-103,Old ask,Not needed any more,Initech,initech.com,,pm@northwind.io,,Archived,2025-01-05T08:00:00Z,
"""

PRODUCTBOARD_INSIGHTS = """\
Note ID,Feature ID,Feature name,Feature status,Importance,Note title,Company domain,Owner email,Created at
n-101,F1,SAML single sign-on,Planned,Critical (+3),SSO with Okta,acme.com,pm@northwind.io,2025-03-01T10:00:00Z
n-101,F2,SCIM provisioning,Candidate,Nice-to-have (+1),SSO with Okta,acme.com,pm@northwind.io,2025-03-01T10:00:00Z
n-104,F3,Dark mode,Released,Important (+2),Dark mode,globex.com,pm@northwind.io,2025-03-04T10:00:00Z
n-105,F3,Dark mode,Released,Somewhat,Dark theme,globex.com,pm@northwind.io,2025-03-05T10:00:00Z
n-106,F3,Dark mode,Released,Unknown,Night theme,globex.com,pm@northwind.io,
"""

CANNY_POSTS = """\
Board,Title,Details,Status,Category,Tags,Author,Author Email,Owner,Created At,Votes,URL
Feature Requests,Okta SSO (SAML),Needed for our audit,under review,Security,,Ann,ann@acme.com,Pat,2025-04-01 09:00:00,\
12,https://northwind.canny.io/feature-requests/p/okta-sso-saml
Feature Requests,Dark mode,,complete,UI,,Bob,bob@globex.com,Pat,2025-04-02 09:00:00,3,
Feature Requests,Bulk import,,in progress,Data,,Cy,cy@initech.com,Pat,2025-04-03 09:00:00,5,
Feature Requests,Something odd,,archived-ish,UI,,Cy,cy@initech.com,Pat,2025-04-04 09:00:00,1,
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def requests_of(ws: Workspace) -> pd.DataFrame:
    return ws.table("feature_requests").to_pandas().set_index("request_id").sort_index()


def test_productboard_notes_export(workspace: Workspace, tmp_path: Path) -> None:
    prepared = workspace.ingest(write(tmp_path, "notes.csv", PRODUCTBOARD_NOTES), "productboard")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 3, 0)
    rows = requests_of(workspace)
    assert list(rows.index) == ["pb-n-101", "pb-n-102", "pb-n-103"]
    assert rows.loc["pb-n-101", "title"] == "SSO with Okta"
    # a note without a title is named by the start of its text
    assert rows.loc["pb-n-102", "title"] == "Please add a dark mode, our analysts work late."
    assert list(rows["account_id"]) == ["acme.com", "globex.com", "initech.com"]
    assert list(rows["requested_by"]) == ["pm@northwind.io"] * 3
    assert list(rows["status"]) == ["open", "open", "declined"]  # an archived note was let go
    assert rows["certainty"].isna().all()  # notes carry no importance: the analyses use the median
    assert str(rows.loc["pb-n-102", "requested_at"]) == "2025-03-02 09:30:00"


def test_productboard_insights_export_one_request_per_link(workspace: Workspace, tmp_path: Path) -> None:
    prepared = workspace.ingest(write(tmp_path, "insights.csv", PRODUCTBOARD_INSIGHTS), "productboard")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (5, 3, 2)
    rows = requests_of(workspace)
    assert list(rows.index) == ["pb-n-101-F1", "pb-n-101-F2", "pb-n-104-F3"]
    assert list(rows["certainty"]) == [0.9, 0.3, 0.6]
    assert list(rows["feature_id"]) == ["F1", "F2", "F3"]
    assert list(rows["status"]) == ["planned", "open", "shipped"]
    problems = workspace.table("quarantine").to_pandas().sort_values("line")
    assert list(problems["line"]) == [5, 6]
    assert problems["column_name"].tolist() == ["certainty", "requested_at"]
    assert "critical" in problems["reason"].iloc[0] and problems["value"].iloc[0] == "Somewhat"


def test_canny_posts_export(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "posts.csv", CANNY_POSTS)
    prepared = workspace.ingest(path, "canny")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (4, 3, 1)
    rows = requests_of(workspace)
    assert "canny-okta-sso-saml" in rows.index  # the post's address names it
    assert dict(zip(rows["title"], rows["status"], strict=True)) == {
        "Okta SSO (SAML)": "open", "Dark mode": "shipped", "Bulk import": "planned"}
    assert dict(zip(rows["title"], rows["account_id"], strict=True)) == {
        "Okta SSO (SAML)": "acme.com", "Dark mode": "globex.com", "Bulk import": "initech.com"}
    assert set(rows["requested_by"]) == {"ann@acme.com", "bob@globex.com", "cy@initech.com"}
    problem = workspace.table("quarantine").to_pandas().iloc[0]
    assert (problem["line"], problem["column_name"], problem["value"]) == (5, "status", "archived-ish")
    # posts without an id or address keep the same id on a second import: nothing is duplicated
    again = workspace.ingest(path, "canny")
    assert again.loaded == 3 and list(requests_of(workspace).index) == list(rows.index)


def test_an_export_missing_its_titles_is_refused_naming_the_column(workspace: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "posts.csv", "Board,Details,Created At\nFR,x,2025-01-01\n")
    with pytest.raises(InputError, match="posts.csv, line 1: missing required column 'Title'"):
        workspace.ingest(path, "canny")
    with pytest.raises(InputError, match="missing required column 'Note ID'"):
        workspace.ingest(write(tmp_path, "notes.csv", "Title,Created at\nx,2025-01-01\n"), "productboard")


def test_imported_company_domains_find_their_accounts(workspace: Workspace, tmp_path: Path) -> None:
    from tests.test_roadmap import load

    load(workspace, {"accounts": [{"account_id": "001A", "name": "Acme", "domain": "acme.com"},
                                  {"account_id": "001G", "name": "Globex", "domain": "GLOBEX.com"}]})
    workspace.ingest(write(tmp_path, "posts.csv", CANNY_POSTS), "canny")
    data = load_roadmap_data(workspace)
    accounts = dict(zip(data.requests["title"], data.requests["account_id"], strict=True))
    # a company no account matches still counts as one company asking
    assert accounts == {"Okta SSO (SAML)": "001A", "Dark mode": "001G", "Bulk import": "initech.com"}


def test_the_certainty_scale() -> None:
    assert [certainty_value(v) for v in ("Critical (+3)", "important", "Nice-to-have", "not_important", "0.35",
                                         " HIGH ", "", None)] == [0.9, 0.6, 0.3, 0.1, 0.35, 0.75, None, None]
    assert certainty_value("kinda") == "kinda"  # left for validation to refuse, with the labels it could use
    assert all(v is None or 0 <= v <= 1 for v in CERTAINTY_LABELS.values())


def test_a_request_typed_in_is_one_import(workspace: Workspace) -> None:
    from cadence.ingest.prepare import prepare

    batch = manual_request_batch(NewRequest("Okta SSO", account_id="A1", certainty="critical"))
    prepared = prepare(batch, workspace.stages())
    workspace.load(prepared)
    rows = requests_of(workspace)
    assert len(rows) == 1 and rows["certainty"].iloc[0] == 0.9 and rows["status"].iloc[0] == "open"
    log = workspace.table("imports").to_pandas()
    assert list(log["format"]) == ["requests-add"] and list(log["loaded"]) == [1]
    refused = prepare(manual_request_batch(NewRequest("x", certainty="kinda")), workspace.stages())
    assert refused.quarantined == 1 and refused.quarantine["column_name"].tolist() == ["certainty"]


CADENCE = [sys.executable, "-m", "cadence.cli"]


def run(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    return subprocess.run([*CADENCE, "-w", str(root), *args], capture_output=True, text=True, env=env, timeout=120)


def test_requests_add_from_the_command_line(tmp_path: Path) -> None:
    root = init_workspace(tmp_path / "ws")
    with cadence.open(root) as ws:
        from tests.test_roadmap import small_company

        small_company(ws)
    added = run(root, "requests", "add", "Audit log we can export", "--account", "A1", "--deal", "O1",
                "--certainty", "important", "--at", "2025-12-20", "--format", "json")
    assert added.returncode == 0, added.stderr
    request_id = json.loads(added.stdout)["request_id"]
    for args, says in ((("--account", "A9"), "no account 'A9' in accounts"),
                       (("--certainty", "kinda"), "not a certainty"),
                       (("--certainty", "1.5"), "must be at most 1"),
                       (("--at", "yesterday"), "not a date")):
        result = run(root, "requests", "add", "Something", *args)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert result.returncode == 1 and len(lines) == 1 and says in lines[0], result.stderr
    with cadence.open(root) as ws:
        rows = requests_of(ws)
        assert request_id in rows.index and len(rows) == 4  # three from the company, one added, none refused
        assert rows.loc[request_id, "certainty"] == 0.6 and rows.loc[request_id, "opportunity_id"] == "O1"
        assert ws.table("quarantine").count().execute() == 0
