"""Shipments from real export formats: Jira and Linear CSV exports, GitHub releases JSON, a podcast RSS feed and a
plain CSV log, each built here with the source's own headers and field names, counted by a tempo mapping."""

from __future__ import annotations

import csv
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from cadence.analysis.tempo import Track, load_tempo, track_status
from cadence.entries import set_target
from cadence.errors import InputError
from cadence.ingest.tempo_sources import parse_shipped
from cadence.workspace import Workspace

JIRA_HEADER = ["Summary", "Issue key", "Issue id", "Issue Type", "Status", "Project key", "Project name",
               "Project type", "Project lead", "Priority", "Resolution", "Assignee", "Reporter", "Creator",
               "Created", "Updated", "Last Viewed", "Resolved", "Fix Version/s", "Component/s", "Due Date",
               "Labels", "Labels", "Description"]
LINEAR_HEADER = ["ID", "Team", "Title", "Description", "Status", "Estimate", "Priority", "Project ID", "Project",
                 "Creator", "Assignee", "Labels", "Cycle Number", "Cycle Name", "Cycle Start", "Cycle End", "Created",
                 "Updated", "Started", "Triaged", "Completed", "Canceled", "Archived", "Due Date", "Parent issue",
                 "Initiatives", "Project Milestone ID", "Project Milestone", "SLA Status", "Roadmaps"]


def write_csv(path: Path, header: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        for row in rows:
            labels = row.get("Labels", [])
            cells, seen = [], 0
            for name in header:
                if name == "Labels":  # Jira repeats the column once per label
                    cells.append(labels[seen] if seen < len(labels) else "")
                    seen += 1
                else:
                    cells.append(row.get(name, ""))
            writer.writerow(cells)
    return path


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def shipments(ws: Workspace) -> pd.DataFrame:
    return ws.table("shipments").order_by("shipment_id").to_pandas().set_index("shipment_id")


def quarantine(ws: Workspace) -> dict[int, list[tuple[str, str]]]:
    frame = ws.table("quarantine").to_pandas()
    out: dict[int, list[tuple[str, str]]] = {}
    for line, column, reason in zip(frame["line"], frame["column_name"], frame["reason"], strict=True):
        out.setdefault(int(line), []).append((column, reason))
    return out


# -- Jira ----------------------------------------------------------------------------------------------------------

def jira_export(tmp_path: Path) -> Path:
    def issue(key: str, summary: str, kind: str, status: str, resolution: str, resolved: str, assignee: str,
              labels: list[str]) -> dict[str, Any]:
        return {"Summary": summary, "Issue key": key, "Issue id": key.split("-")[1], "Issue Type": kind,
                "Status": status, "Project key": "PRD", "Project name": "Platform", "Project type": "software",
                "Project lead": "Amara Mendez", "Priority": "Medium", "Resolution": resolution, "Assignee": assignee,
                "Reporter": "Lucas Holm", "Creator": "Lucas Holm", "Created": "02/Jan/26 09:12 AM",
                "Updated": "21/Jan/26 10:00 AM", "Resolved": resolved, "Labels": labels,
                "Description": "h2. Goal\nShip it, with \"quotes\" and a second line"}

    return write_csv(tmp_path / "jira.csv", JIRA_HEADER, [
        issue("PRD-101", "Usage-based pricing", "Epic", "Done", "Done", "14/Jan/26 04:40 PM", "Amara Mendez",
              ["launch", "big-launch"]),
        issue("PRD-102", "Dark mode", "Story", "Done", "Done", "20/Jan/26 11:05 AM", "Lucas Holm", ["launch"]),
        issue("PRD-103", "Fix login loop", "Bug", "Done", "Fixed", "07/Jan/26 09:00 AM", "Kwame Larsen", []),
        issue("PRD-104", "Export to PDF", "Story", "In Progress", "", "", "Amara Mendez", ["launch"]),
        issue("PRD-105", "Old idea", "Story", "Closed", "Won't Do", "02/Dec/25 10:00 AM", "", ["launch"]),
        issue("PRD-106", "Calendar sync", "Story", "Done", "Done", "31/Feb/26 10:00 AM", "Kwame Larsen", ["launch"]),
        issue("PRD-107", "Refactor billing", "Task", "Done", "Done", "09/Jan/26 02:15 PM", "Lucas Holm", []),
    ])


JIRA_MAPPING = """
team: Product
rules:
  - {deliverable: launch, size: big, labels: big-launch}
  - {deliverable: launch, labels: [launch], status: Done}
  - {deliverable: hotfix, type: Bug, unplanned: true}
owners: {Amara Mendez: P049, Lucas Holm: P050, Kwame Larsen: P051}
link: "https://acme.atlassian.net/browse/{key}"
"""


def test_a_jira_export_counts_issues_by_the_mapping_and_quarantines_the_rest(workspace: Workspace,
                                                                             tmp_path: Path) -> None:
    export, mapping = jira_export(tmp_path), write_yaml(tmp_path / "tempo.yml", JIRA_MAPPING)
    prepared = workspace.ingest(export, "jira", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (7, 3, 4)
    rows = shipments(workspace)
    assert rows.loc["jira:PRD-101", ["deliverable", "size", "owner_id"]].tolist() == ["launch", "big", "P049"]
    assert rows.loc["jira:PRD-101", "shipped_at"] == pd.Timestamp("2026-01-14 16:40")
    assert rows.loc["jira:PRD-101", "link"] == "https://acme.atlassian.net/browse/PRD-101"
    assert pd.isna(rows.loc["jira:PRD-102", "size"]) and rows.loc["jira:PRD-102", "deliverable"] == "launch"
    assert rows.loc["jira:PRD-103", ["deliverable", "unplanned", "team"]].tolist() == ["hotfix", True, "Product"]
    refused = quarantine(workspace)  # each Description holds a newline: issue n starts on line 2n
    assert "not shipped yet: no Resolved" in refused[8][0][1]
    assert refused[10] == [("deliverable", "resolved as Won't Do: not shipped; no rule of tempo.yml counts it "
                                          "(type Story, status Closed, labels launch)")]
    assert refused[12] == [("shipped_at", "Resolved '31/Feb/26 10:00 AM' is not a date Cadence reads "
                                          "(set date_format in the mapping)")]
    assert refused[14][0][0] == "deliverable" and "no rule of tempo.yml counts it (type Task" in refused[14][0][1]
    again = workspace.ingest(export, "jira", mapping=mapping)
    assert again.loaded == 3 and workspace.warehouse.count("shipments") == 3  # re-importing updates, never doubles


def test_a_jira_export_without_its_resolved_column_is_refused_with_the_column(workspace: Workspace,
                                                                              tmp_path: Path) -> None:
    header = [h for h in JIRA_HEADER if h != "Resolved"]
    export = write_csv(tmp_path / "jira.csv", header, [{"Summary": "x", "Issue key": "PRD-1"}])
    with pytest.raises(InputError, match=r"jira\.csv, line 1: missing required column 'Resolved'"):
        workspace.ingest(export, "jira", mapping=write_yaml(tmp_path / "tempo.yml", JIRA_MAPPING))
    assert workspace.warehouse.count("shipments") == 0


def test_the_ingest_command_reads_a_jira_export(workspace: Workspace, tmp_path: Path) -> None:
    from cadence.cli.main import app, register_commands

    register_commands()
    export, mapping = jira_export(tmp_path), write_yaml(tmp_path / "tempo.yml", JIRA_MAPPING)
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "ingest", str(export), "--from", "jira",
                                      "--mapping", str(mapping), "--format", "json"], catch_exceptions=False)
    summary = json.loads(result.stdout)
    assert (summary["read"], summary["loaded"], summary["quarantined"]) == (7, 3, 4)
    assert summary["tables"] == {"shipments": {"loaded": 3, "quarantined": 4}}


# -- Linear --------------------------------------------------------------------------------------------------------

def test_a_linear_export_reads_both_date_forms_and_skips_canceled_issues(workspace: Workspace,
                                                                          tmp_path: Path) -> None:
    def issue(key: str, team: str, title: str, status: str, labels: str, completed: str, canceled: str = "") \
            -> dict[str, str]:
        return {"ID": key, "Team": team, "Title": title, "Description": "", "Status": status, "Priority": "High",
                "Creator": "ada@acme.io", "Assignee": "grace@acme.io", "Labels": labels,
                "Created": "2024-05-14T08:53:33.000Z", "Completed": completed, "Canceled": canceled}

    export = tmp_path / "linear.csv"
    with export.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=LINEAR_HEADER, restval="")
        writer.writeheader()
        writer.writerows([
            issue("WEB-12", "Web", "Team billing", "Done", "Feature, Launch", "2024-05-23T16:06:19.000Z"),
            issue("WEB-13", "Web", "Onboarding tour", "Done", "Launch",
                  "Thu May 23 2024 18:06:19 GMT+0200 (Central European Summer Time)"),
            issue("WEB-14", "Web", "Abandoned", "Canceled", "Launch", "", "2024-05-20T10:00:00.000Z"),
            issue("OPS-3", "Ops", "Rotate keys", "Done", "Chore", "2024-05-21T10:00:00Z"),
        ])
    mapping = write_yaml(tmp_path / "tempo.yml", "teams: {Web: Product}\nrules:\n  - {deliverable: launch, "
                                                 "labels: launch}\nowners: {grace@acme.io: P050}\n")
    prepared = workspace.ingest(export, "linear", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (4, 2, 2)
    rows = shipments(workspace)
    assert rows.loc["linear:WEB-12", "shipped_at"] == rows.loc["linear:WEB-13", "shipped_at"] == \
        pd.Timestamp("2024-05-23 16:06:19")  # the same moment, written two ways
    assert set(rows["team"]) == {"Product"} and set(rows["owner_id"]) == {"P050"}
    refused = quarantine(workspace)
    assert "not shipped yet: no Completed" in refused[4][0][1]
    assert "no rule of tempo.yml counts it (status Done, labels Chore)" in refused[5][0][1]


# -- GitHub releases -------------------------------------------------------------------------------------------------

def test_github_releases_count_published_releases_and_leave_drafts(workspace: Workspace, tmp_path: Path) -> None:
    def release(tag: str, published: str | None, *, prerelease: bool = False, draft: bool = False) -> dict[str, Any]:
        return {"url": f"https://api.github.com/repos/acme/widget/releases/{tag}", "id": hash(tag) % 10**8,
                "html_url": f"https://github.com/acme/widget/releases/tag/{tag}", "tag_name": tag,
                "target_commitish": "main", "name": f"Widget {tag}", "draft": draft, "prerelease": prerelease,
                "created_at": "2025-03-01T10:00:00Z", "published_at": published,
                "author": {"login": "octocat", "id": 1, "type": "User"}, "assets": [], "body": "Notes"}

    export = tmp_path / "releases.json"
    export.write_text(json.dumps([
        release("v1.1.0", "2025-03-20T15:30:00Z"), release("v1.1.0-rc.1", "2025-03-10T09:00:00Z", prerelease=True),
        release("v1.2.0", None, draft=True), release("v1.0.0", "2025-02-03T12:00:00Z")]), encoding="utf-8")
    mapping = write_yaml(tmp_path / "tempo.yml", "team: Product\nrules:\n  - {deliverable: release, "
                                                 "prerelease: false}\nowners: {octocat: P049}\n")
    prepared = workspace.ingest(export, "github-releases", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (4, 2, 2)
    rows = shipments(workspace)
    assert list(rows.index) == ["github:acme/widget@v1.0.0", "github:acme/widget@v1.1.0"]
    assert rows.loc["github:acme/widget@v1.1.0", ["title", "owner_id"]].tolist() == ["Widget v1.1.0", "P049"]
    assert rows.loc["github:acme/widget@v1.1.0", "link"] == "https://github.com/acme/widget/releases/tag/v1.1.0"
    refused = quarantine(workspace)
    assert "no rule of tempo.yml counts it" in refused[3][0][1]  # the release candidate
    assert refused[4][0][1].startswith("a draft release: not published")


def test_a_file_that_is_not_a_list_of_releases_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    mapping = write_yaml(tmp_path / "tempo.yml", "team: Product\ndeliverable: release\n")
    wrong = tmp_path / "repo.json"
    wrong.write_text(json.dumps({"message": "Not Found"}), encoding="utf-8")
    with pytest.raises(InputError, match="expected a JSON list of releases"):
        workspace.ingest(wrong, "github-releases", mapping=mapping)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"tag_name": "v1"', encoding="utf-8")
    with pytest.raises(InputError, match="not JSON"):
        workspace.ingest(broken, "github-releases", mapping=mapping)


# -- a podcast feed --------------------------------------------------------------------------------------------------

FEED = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:itunes="http://www.itunes.com/dtds/podcast-1.0.dtd"
     xmlns:content="http://purl.org/rss/1.0/modules/content/">
  <channel>
    <title>The Cadence Podcast</title>
    <link>https://northwind.example/podcast</link>
    <language>en-us</language>
    <itunes:author>Northwind Analytics</itunes:author>
    <item>
      <title>Episode 42: Pipeline coverage, honestly</title>
      <pubDate>Tue, 14 Jan 2025 05:00:00 -0500</pubDate>
      <link>https://northwind.example/podcast/42</link>
      <guid isPermaLink="false">northwind-podcast-42</guid>
      <itunes:episodeType>full</itunes:episodeType>
      <itunes:author>Daniel Eriksen</itunes:author>
      <enclosure url="https://cdn.example/42.mp3" length="1234" type="audio/mpeg"/>
    </item>
    <item>
      <title>Episode 41: The first sales hire</title>
      <pubDate>Tue, 07 Jan 2025 10:00:00 GMT</pubDate>
      <link>https://northwind.example/podcast/41</link>
      <guid isPermaLink="false">northwind-podcast-41</guid>
      <itunes:episodeType>full</itunes:episodeType>
    </item>
    <item>
      <title>Season 3 trailer</title>
      <pubDate>Thu, 02 Jan 2025 10:00:00 GMT</pubDate>
      <guid isPermaLink="false">northwind-podcast-trailer-3</guid>
      <itunes:episodeType>trailer</itunes:episodeType>
    </item>
  </channel>
</rss>
"""


def test_a_podcast_feed_counts_full_episodes_toward_the_podcast_target(workspace: Workspace, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, encoding="utf-8")
    mapping = write_yaml(tmp_path / "tempo.yml", "team: Podcast\nrules:\n  - {deliverable: episode, "
                                                 "episode_type: full}\nowners: {Daniel Eriksen: P063}\n")
    prepared = workspace.ingest(feed, "rss", mapping=mapping)
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (3, 2, 1)
    rows = shipments(workspace)
    assert rows.loc["rss:northwind-podcast-42", "shipped_at"] == pd.Timestamp("2025-01-14 10:00")  # -0500 → UTC
    assert rows.loc["rss:northwind-podcast-42", "owner_id"] == "P063"
    assert rows.loc["rss:northwind-podcast-41", "link"] == "https://northwind.example/podcast/41"
    assert "episode_type trailer" in quarantine(workspace)[4][0][1]
    set_target(workspace, "Podcast", "episode", 2, "month", valid_from=date(2025, 1, 1))
    status = track_status(load_tempo(workspace), Track("Podcast", "episode"), workspace.calendar, date(2025, 2, 1))
    assert [(p.label, p.actual, p.status) for p in status.periods] == [("2025-01", 2, "met")]


def test_a_feed_that_is_not_rss_or_declares_entities_is_refused(workspace: Workspace, tmp_path: Path) -> None:
    mapping = write_yaml(tmp_path / "tempo.yml", "team: Podcast\ndeliverable: episode\n")
    cases = {"atom.xml": ('<feed xmlns="http://www.w3.org/2005/Atom"><title>x</title></feed>', "not an RSS 2.0 feed"),
             "broken.xml": ("<rss><channel><item><title>x</item></channel></rss>", "not well-formed XML"),
             "bomb.xml": ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><rss><channel/></rss>',
                          "declares XML entities")}
    for name, (text, message) in cases.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        with pytest.raises(InputError, match=message):
            workspace.ingest(tmp_path / name, "rss", mapping=mapping)


# -- a plain CSV log, and mapping mistakes ---------------------------------------------------------------------------

def test_a_plain_csv_log_needs_no_mapping_when_it_names_team_and_deliverable(workspace: Workspace,
                                                                            tmp_path: Path) -> None:
    log = tmp_path / "shipped.csv"
    log.write_text("Date,Team,Deliverable,Title,Owner,Size\n"
                   "2025-03-03,Marketing,webinar,Pricing for expansion,P059,\n"
                   "2025-03-17,Marketing,webinar,Churn autopsies,P060,\n"
                   "2025-03-20,Marketing,,Untitled kind,P060,\n"
                   "03/21/2025,Marketing,webinar,Ambiguous date,P060,\n", encoding="utf-8")
    prepared = workspace.ingest(log, "shipments")
    assert (prepared.read, prepared.loaded, prepared.quarantined) == (4, 2, 2)
    refused = quarantine(workspace)
    assert refused[4][0][0] == "deliverable"
    assert refused[5] == [("shipped_at", "shipped_at '03/21/2025' is not a date Cadence reads "
                                         "(set date_format in the mapping)")]
    dated = write_yaml(tmp_path / "tempo.yml", 'date_format: "%m/%d/%Y"\n')
    log.write_text("date,team,deliverable,title\n03/21/2025,Marketing,webinar,Dated\n", encoding="utf-8")
    assert workspace.ingest(log, "shipments", mapping=dated).loaded == 1


def test_mapping_mistakes_are_reported_at_once_with_the_file(workspace: Workspace, tmp_path: Path) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_text(FEED, encoding="utf-8")
    bad = write_yaml(tmp_path / "tempo.yml", "team: Podcast\ndeliverables: episode\nrules:\n"
                                             "  - {deliverable: episode, title: '(unclosed'}\n")
    with pytest.raises(InputError) as caught:
        workspace.ingest(feed, "rss", mapping=bad)
    message = str(caught.value)
    assert "tempo.yml" in message and "deliverables" in message and "not a regular expression" in message
    with pytest.raises(InputError, match="needs a tempo mapping file"):
        workspace.ingest(feed, "rss")


def test_the_forms_of_dates_the_sources_write() -> None:
    expected = datetime(2024, 5, 23, 16, 6)
    assert parse_shipped("23/May/24 04:06 PM", None) == expected  # Jira
    assert parse_shipped("2024-05-23T16:06:00.000Z", None) == expected  # Linear, GitHub
    assert parse_shipped("Thu May 23 2024 18:06:00 GMT+0200 (Central European Summer Time)", None) == expected
    assert parse_shipped("Thu, 23 May 2024 12:06:00 -0400", None) == expected  # RSS
    assert parse_shipped("05/23/2024 16:06", "%m/%d/%Y %H:%M") == expected
    assert parse_shipped("05/23/2024 16:06", None) is None  # day or month first? Only the mapping can say
