"""The data-quality pages: /quality is what `cadence check` reports, /quality/quarantine what `cadence quarantine`
lists, by import — checked against the CLI's JSON and plain SQL on a workspace whose two imports of interview
scores left rows in quarantine (one with `<script>` where a score should be); only admins and executives see
them, and the CSV download is recorded as an export."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cadence.cli.main import app as cli_app
from cadence.cli.main import register_commands, state
from tests.web.conftest import PASSWORD, sign_in

register_commands()

SCRIPT = "<script>alert('quarantine')</script>"
FILES = {
    "spring.csv": [("QC-1", "QI-1", "coachability", "7"), ("QC-1", "QI-1", "curiosity", SCRIPT),
                   ("QC-2", "QI-1", "coachability", "11"), ("QC-2", "QI-2", "curiosity", "0")],
    "autumn.csv": [("QC-3", "QI-2", "coachability", "ten"), ("QC-3", "QI-2", "curiosity", "6"),
                   ("", "QI-2", "curiosity", "4")],
}


@dataclass
class Shop:
    ws: Any
    root: Path
    admin: TestClient
    executive: TestClient


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    """A workspace with two imports of interview scores, each leaving rows in quarantine; an admin and an
    executive signed in."""
    import cadence
    from cadence.accounts.users import add_user
    from cadence.web.app import create_app
    from cadence.web.holder import WorkspaceHolder
    from cadence.web.settings import Settings
    from cadence.workspace import init_workspace

    base = tmp_path_factory.mktemp("quality")
    root = init_workspace(base / "shop", company="Quality Shop")
    ws = cadence.open(root)
    for name, rows in FILES.items():
        path = base / name
        with path.open("w", newline="", encoding="utf-8") as out:
            writer = csv.writer(out)
            writer.writerow(["candidate_id", "interviewer_id", "criterion", "score", "interviewed_at"])
            writer.writerows([(*row, "2025-03-04") for row in rows])
        ws.ingest(path, "interview-scores")
    add_user(ws, "quinn", "admin", password=PASSWORD, display_name="Quinn Admin", email="quinn@example.test")
    add_user(ws, "etta", "executive", password=PASSWORD, display_name="Etta Exec", email="etta@example.test")
    app = create_app(Settings(workspace=root), holder=WorkspaceHolder(root, workspace=ws))
    admin, executive = sign_in(app, "quinn"), sign_in(app, "etta")
    yield Shop(ws, root, admin, executive)
    admin.close()
    executive.close()
    ws.close()


def cli_json(root: Path, *args: str) -> Any:
    result = CliRunner().invoke(cli_app, ["-w", str(root), *args, "--format", "json"])
    state.today = None
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _sql(shop: Shop, sql: str) -> list[tuple[Any, ...]]:
    return list(shop.ws.warehouse.query(sql))


def test_quality_json_is_what_cadence_check_prints(shop: Shop) -> None:
    data = shop.executive.get("/quality.json").json()
    assert data == cli_json(shop.root, "check")
    per_import = {str(r[0]): int(r[1]) for r in _sql(shop, "SELECT file, COUNT(DISTINCT line) FROM quarantine "
                                                           "GROUP BY file")}
    found = {f["message"].split(" from ", 1)[1].split(" ", 1)[0]: f["count"]
             for f in data["findings"] if f["check"] == "quarantine"}
    assert found == {Path(file).name: lines for file, lines in per_import.items()}


def test_the_quality_page_lists_each_rule_with_its_count_and_examples(shop: Shop) -> None:
    data = shop.admin.get("/quality.json").json()
    page = shop.admin.get("/quality")
    assert page.status_code == 200
    rows = re.findall(r'<tr data-check="([^"]+)">(.*?)</tr>', page.text, flags=re.S)
    assert [check for check, _ in rows] == [f["check"] for f in data["findings"]] and rows
    for finding, (_, row) in zip(data["findings"], rows, strict=True):
        assert f'<td class="num">{finding["count"]:,}</td>' in row
        assert all(example in row for example in finding["examples"])


def test_quarantine_counts_equal_a_plain_count_of_its_rows(shop: Shop) -> None:
    total = _sql(shop, "SELECT COUNT(*) FROM quarantine")[0][0]
    data = shop.admin.get("/quality/quarantine.json").json()
    assert data["total"] == total == len(data["rows"]) == sum(len(rows) for rows in FILES.values()) - 2
    page = shop.admin.get("/quality/quarantine")
    assert f"{total:,} problems in quarantine" in page.text
    for key, problems in _sql(shop, "SELECT import_key, COUNT(*) FROM quarantine GROUP BY import_key"):
        section = page.text.split(f'data-import="{key}"', 1)[1].split("</section>", 1)[0]
        assert f"{problems:,} problem" in section
        assert section.count("<tr>") - 1 == problems  # a header row, then one row per problem


def test_quarantine_json_is_what_cadence_quarantine_prints(shop: Shop) -> None:
    web = shop.admin.get("/quality/quarantine.json?limit=20").json()
    cli = cli_json(shop.root, "quarantine", "--limit", "20")
    assert web["total"] == cli["total"]
    assert _rows(web["rows"]) == _rows(cli["rows"])


def _rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows in one order, the timestamp read as a time (the CLI prints it with a space, JSON twins in ISO)."""
    same = [{**r, "quarantined_at": datetime.fromisoformat(r["quarantined_at"])} for r in rows]
    return sorted(same, key=lambda r: (r["file"], r["line"], r["column_name"], r["reason"]))


def test_script_in_a_quarantined_value_comes_back_escaped(shop: Shop) -> None:
    page = shop.admin.get("/quality/quarantine")
    assert "<script>alert(" not in page.text
    assert "&lt;script&gt;alert(&#39;quarantine&#39;)&lt;/script&gt;" in page.text
    stored = _sql(shop, "SELECT value FROM quarantine WHERE value LIKE '%script%'")
    assert stored == [(SCRIPT,)]


def test_the_csv_download_has_every_row_and_is_recorded(shop: Shop) -> None:
    sql = "SELECT COUNT(*) FROM audit_log WHERE actor = 'quinn' AND action = 'export' AND " \
          "target = '/quality/quarantine.csv'"
    before = _sql(shop, sql)[0][0]
    response = shop.admin.get("/quality/quarantine.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text.lstrip("\ufeff"))))
    expected = _sql(shop, "SELECT file, line, column_name, value, reason FROM quarantine")
    assert sorted((r["file"], float(r["line"]), r["column_name"], r["value"], r["reason"]) for r in rows) == \
        sorted((f, float(n), c, v or "", why) for f, n, c, v, why in expected)
    assert _sql(shop, sql)[0][0] == before + 1


def test_the_limit_lists_the_first_rows_by_file_and_line(shop: Shop) -> None:
    data = shop.admin.get("/quality/quarantine.json?limit=2").json()
    first = _sql(shop, "SELECT file, line FROM quarantine ORDER BY file, line LIMIT 2")
    assert [(r["file"], r["line"]) for r in data["rows"]] == [(f, n) for f, n in first]
    page = shop.admin.get("/quality/quarantine?limit=2")
    assert re.search(r"The first 2 of \d+ problems", page.text)


@pytest.mark.parametrize("role", ["manager", "rep", "recruiter", "viewer"])
def test_only_admins_and_executives_see_data_quality(client: Any, role: str) -> None:
    c = client(role)
    for path in ("/quality", "/quality.json", "/quality/quarantine", "/quality/quarantine.json",
                 "/quality/quarantine.csv"):
        assert c.get(path, follow_redirects=False).status_code == 403, (role, path)


def test_a_write_after_a_page_was_computed_is_on_the_next_page(shop: Shop) -> None:
    """The findings are kept for the data they came from; rows written afterwards by a statement (no import logged)
    are on the next page: two accounts sharing a web domain, counted in plain SQL."""
    before = shop.admin.get("/quality.json").json()
    assert "duplicate_account_domain" not in {f["check"] for f in before["findings"]}
    shop.ws.warehouse.execute("INSERT INTO accounts (account_id, name, domain) VALUES ($1, $2, $3), ($4, $5, $6)",
                              ("QA-1", "Shop One", "https://www.shop.example/", "QA-2", "Shop Two", "shop.example"))
    shared = _sql(shop, "SELECT COUNT(*) FROM accounts WHERE domain LIKE '%shop.example%'")[0][0]
    after = shop.admin.get("/quality.json").json()
    found = {f["check"]: f["count"] for f in after["findings"]}
    assert found["duplicate_account_domain"] == shared == 2
