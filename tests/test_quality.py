"""`cadence check`: each data-quality check finds exactly the problems planted, and nothing on clean data."""

from __future__ import annotations

import csv
import math
import random
import re
import statistics
import time
from collections.abc import Iterator
from datetime import date
from difflib import SequenceMatcher
from typing import Any

import ibis
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import cadence
from cadence.analysis.quality import Finding, check_data_quality
from cadence.analysis.quality.duplicates import (
    NAME_SIMILARITY,
    _similar_pairs,
    duplicate_names,
    normalised_domain,
    normalised_name,
)
from cadence.analysis.quality.findings import sort_findings
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.workspace import Workspace, init_workspace
from tests.datasets import Dataset

TODAY = date(2025, 6, 15)
Rows = list[dict[str, Any]]


def load(ws: Workspace, table: str, rows: Rows, file: str | None = None) -> None:
    """Write `rows` through the shared import path (validation, quarantine, reconciliation)."""
    frame = pd.DataFrame(rows)
    frame["_line"] = range(2, len(frame) + 2)
    if table == "opportunities":
        frame["pipeline"] = "default"
    file = file or f"{table}.csv"
    batch = ImportBatch("csv", [SourceFile(file, len(frame))], [CanonicalFrame(table, frame, file)])
    ws.load(prepare(batch, ws.stages()))


def deal(opportunity_id: str, stage: str, **fields: Any) -> dict[str, Any]:
    """A healthy deal unless `fields` says otherwise: owned, on an account, typical amount, dates in order."""
    row: dict[str, Any] = {"opportunity_id": opportunity_id, "stage": stage, "owner_id": "p1", "account_id": "a01",
                           "kind": "new", "amount": 2500, "created_at": "2025-01-10", "close_date": "2025-09-30"}
    if stage.startswith("Closed"):
        row |= {"close_date": "2025-03-31", "closed_at": "2025-03-31"}
    return row | fields


# -- a clean company -----------------------------------------------------------------------------------------------

PEOPLE: Rows = [{"person_id": f"p{i}", "name": f"Rep {i}"} for i in (1, 2, 3)]
ACCOUNTS: Rows = [
    {"account_id": "a01", "name": "Acme", "domain": "acme.com", "owner_id": "p1"},
    {"account_id": "a02", "name": "Globex Corporation", "domain": "https://globex.com", "owner_id": "p2"},
    {"account_id": "a03", "name": "Soylent", "domain": "soylent.com", "owner_id": "p3"},
    {"account_id": "a04", "name": "Stark Industries", "domain": "stark.com", "owner_id": "p1"},
    {"account_id": "a05", "name": "Wayne Enterprises", "domain": None, "owner_id": "p2"},
]
_STAGES = ["Prospecting", "Discovery", "Demo", "Proposal", "Negotiation", "Closed Won", "Closed Lost"]
CLEAN_DEALS = [
    deal(f"o{i:02d}", _STAGES[i % 7], owner_id=f"p{i % 3 + 1}", account_id=f"a0{i % 5 + 1}",
         amount=1000 + 170 * i, created_at=f"2025-0{i % 3 + 1}-03")
    for i in range(1, 25)
]
CLEAN_HISTORY: Rows = [
    {"opportunity_id": "o05", "changed_at": "2025-01-03", "stage": "Prospecting"},
    {"opportunity_id": "o05", "changed_at": "2025-02-01", "stage": "Demo"},
    {"opportunity_id": "o05", "changed_at": "2025-03-01", "stage": "Closed Won"},
    {"opportunity_id": "o06", "changed_at": "2025-01-03", "stage": "Discovery"},
    {"opportunity_id": "o06", "changed_at": "2025-02-01", "stage": "Closed Lost"},
]
CLEAN_ACTIVITIES: Rows = [{"activity_id": f"act{i}", "person_id": f"p{i % 3 + 1}", "kind": "call",
                     "occurred_at": "2025-02-01"} for i in range(1, 6)]


def monthly_leads(source: str, per_month: dict[str, int]) -> Rows:
    return [{"lead_id": f"{source}-{month}-{n}", "created_at": f"{month}-{n % 28 + 1:02d}", "source": source}
            for month, count in per_month.items() for n in range(count)]


CLEAN_LEADS = {"marketing": {"2025-01": 10, "2025-02": 11, "2025-03": 10},
               "crm": {"2025-01": 10, "2025-02": 10, "2025-03": 10}}  # February 9% apart: within tolerance


def build_clean(ws: Workspace, leads: dict[str, dict[str, int]] = CLEAN_LEADS) -> None:
    load(ws, "people", PEOPLE)
    load(ws, "accounts", ACCOUNTS)
    load(ws, "opportunities", CLEAN_DEALS)
    load(ws, "opportunity_history", CLEAN_HISTORY)
    load(ws, "activities", CLEAN_ACTIVITIES)
    for source, per_month in leads.items():
        load(ws, "leads", monthly_leads(source, per_month), file=f"{source}_leads.csv")


# -- the same company with problems planted ----------------------------------------------------------------------

PLANTED_ACCOUNTS: Rows = [
    {"account_id": "a06", "name": "Initrode Systems", "domain": "HTTP://WWW.Initech.io/contact", "owner_id": "p1"},
    {"account_id": "a07", "name": "Umbrella", "domain": "initech.io", "owner_id": "p1"},
    {"account_id": "a08", "name": "Hooli, Inc.", "domain": "hooli.com", "owner_id": "p1"},
    {"account_id": "a09", "name": "HOOLI L.L.C.", "domain": "hooli.xyz", "owner_id": "p2"},
    {"account_id": "a10", "name": "Vandelay Industries", "domain": None, "owner_id": "p2"},
    {"account_id": "a11", "name": "Vandelay Industires", "domain": None, "owner_id": "p3"},
    {"account_id": "a12", "name": "Wonka", "domain": "wonka.com", "owner_id": None},
    {"account_id": "a13", "name": "Store 12", "domain": None, "owner_id": "p1"},  # numbered stores are
    {"account_id": "a14", "name": "Store 13", "domain": None, "owner_id": "p1"},  # distinct companies
]
PLANTED_DEALS = [
    deal("o25", "Demo", close_date="2025-05-01"),
    deal("o26", "Proposal", close_date="2025-06-14"),
    deal("o27", "Discovery", owner_id=None),
    deal("o28", "Demo", amount=None),
    deal("o29", "Closed Won", amount=None),
    deal("o30", "Closed Lost", amount=None),  # a lost deal without amount is fine
    deal("o31", "Closed Won", amount=0),
    deal("o32", "Demo", account_id="a99"),
    deal("o33", "Demo", owner_id="p9"),
    deal("o34", "Closed Won", closed_at="2025-07-01"),
    deal("o35", "Closed Lost", close_date=None, closed_at=None),
    deal("o36", "Discovery"),
    deal("o37", "Negotiation"),
    deal("o38", "Closed Lost"),
    deal("o39", "Demo", close_date="2025-06-15"),  # closes today: not yet past
    deal("o40", "Proposal", amount=50_000_000),
    deal("o41", "Closed Won", amount=1),
    *[deal(f"o{n}", "Demo", kind="renewal", amount=a)  # too few renewals to call any of them unusual
      for n, a in zip(range(42, 47), (100, 200, 300, 400, 1_000_000), strict=True)],
    deal("o47", "Nowhere"),  # an unknown stage: quarantined
]
PLANTED_HISTORY: Rows = [
    {"opportunity_id": "o36", "changed_at": "2025-01-10", "stage": "Prospecting"},
    {"opportunity_id": "o36", "changed_at": "2025-02-10", "stage": "Demo"},
    {"opportunity_id": "o36", "changed_at": "2025-03-10", "stage": "Discovery"},
    {"opportunity_id": "o37", "changed_at": "2025-01-10", "stage": "Closed Lost"},
    {"opportunity_id": "o37", "changed_at": "2025-02-10", "stage": "Negotiation"},
    {"opportunity_id": "o38", "changed_at": "2025-01-10", "stage": "Closed Won"},
    {"opportunity_id": "o38", "changed_at": "2025-02-10", "stage": "Closed Lost"},
]
PLANTED_LEADS = {"marketing": {"2025-01": 10, "2025-02": 11, "2025-03": 10, "2025-04": 5},
                 "crm": {"2025-01": 10, "2025-02": 10, "2025-03": 8, "2025-05": 10}}
# marketing's webinar file, where two rows have no lead id (required): quarantined. An undated lead is
# legitimate (a list without dates); a lead nobody can refer to is not.
BAD_LEADS: Rows = [{"lead_id": "w1", "created_at": "2025-01-02", "source": "marketing"},
             {"lead_id": None, "created_at": "2025-01-03", "source": "marketing"},
             {"lead_id": "", "created_at": "2025-01-04", "source": "marketing"}]

EXPECTED = {
    "orphan_opportunity": ("error", 1, ["o32"]),
    "opportunity_unknown_owner": ("error", 1, ["o33"]),
    "activity_unknown_owner": ("error", 1, ["act9"]),
    "future_close": ("error", 1, ["o34"]),
    # o34's close date (2025-03-31) and the day it closed (2025-07-01) are two fiscal quarters apart
    "close_date_differs": ("warning", 1, ["o34: close date 2025-03-31, closed 2025-07-01 (2 quarters later)"]),
    "duplicate_account_domain": ("warning", 2, ["a06=a07"]),
    "duplicate_account_name": ("warning", 4, ["a08=a09", "a10=a11"]),
    "open_past_close_date": ("warning", 2, ["o25", "o26"]),
    "opportunity_missing_owner": ("warning", 1, ["o27"]),
    "opportunity_missing_amount": ("warning", 2, ["o28", "o29"]),
    "won_zero_amount": ("warning", 1, ["o31"]),
    "closed_without_date": ("warning", 1, ["o35"]),
    "stage_regression": ("warning", 2, ["o36", "o37"]),
    "amount_outlier": ("warning", 2, ["o40", "o41"]),  # furthest from the median first
    "lead_count_mismatch": ("warning", 2, ["2025-03 (crm 8, marketing 10)", "2025-04 (crm 0, marketing 5)"]),
    "account_missing_owner": ("info", 1, ["a12"]),
}


def build_planted(ws: Workspace) -> None:
    build_clean(ws, leads=PLANTED_LEADS)
    load(ws, "accounts", PLANTED_ACCOUNTS, file="more_accounts.csv")
    load(ws, "opportunities", PLANTED_DEALS, file="more_deals.csv")
    load(ws, "opportunity_history", PLANTED_HISTORY, file="more_history.csv")
    load(ws, "activities", [{"activity_id": "act9", "person_id": "p9", "kind": "email", "occurred_at": "2025-03-01"}],
         file="more_activities.csv")
    load(ws, "leads", BAD_LEADS, file="webinar_leads.csv")


def by_check(findings: list[Finding]) -> dict[str, tuple[str, int, list[str]]]:
    return {f.check: (f.severity, f.count, f.examples) for f in findings if f.check != "quarantine"}


# -- the tests ---------------------------------------------------------------------------------------------------

def test_clean_company_has_no_findings(any_workspace: Workspace) -> None:
    build_clean(any_workspace)
    assert check_data_quality(any_workspace, today=TODAY) == []


def test_every_planted_problem_is_found_exactly(any_workspace: Workspace) -> None:
    build_planted(any_workspace)
    findings = check_data_quality(any_workspace, today=TODAY)
    assert by_check(findings) == EXPECTED
    waiting = sorted((f.count, f.examples) for f in findings if f.check == "quarantine")
    unknown_stage_line = [d["opportunity_id"] for d in PLANTED_DEALS].index("o47") + 2
    assert waiting == [(1, [f"line {unknown_stage_line}"]), (2, ["line 3", "line 4"])]
    assert findings == sort_findings(findings)
    assert [f.severity for f in findings] == sorted((f.severity for f in findings),
                                                    key=["error", "warning", "info"].index)


def test_messages_state_the_rule_and_findings_serialise() -> None:
    finding = Finding("won_zero_amount", "warning", 3, "3 won opportunities have an amount of 0 (rule: …)", ["o1"])
    assert finding.as_dict() == {"severity": "warning", "check": "won_zero_amount", "count": 3,
                                 "message": "3 won opportunities have an amount of 0 (rule: …)", "examples": ["o1"]}
    with pytest.raises(AttributeError):
        finding.count = 4  # type: ignore[misc]


def test_each_message_names_its_rule(workspace: Workspace) -> None:
    build_planted(workspace)
    for finding in check_data_quality(workspace, today=TODAY):
        assert "rule:" in finding.message, finding.check
        assert f"{finding.count:,}" in finding.message, finding.check


def test_quarantine_finding_names_file_and_commonest_reason(workspace: Workspace) -> None:
    build_planted(workspace)
    waiting = {f.count: f.message for f in check_data_quality(workspace, today=TODAY) if f.check == "quarantine"}
    assert "webinar_leads.csv" in waiting[2]
    assert "(lead_id): required value is missing" in waiting[2]
    assert "more_deals.csv" in waiting[1] and "not a stage" in waiting[1]


def test_owners_are_not_checked_without_people(workspace: Workspace) -> None:
    load(workspace, "opportunities", [deal("o1", "Demo", owner_id="nobody", account_id=None)])
    assert check_data_quality(workspace, today=date(2025, 1, 1)) == []


def test_orphans_say_when_no_accounts_were_imported(workspace: Workspace) -> None:
    load(workspace, "opportunities", [deal("o1", "Demo", account_id="x1")])
    (finding,) = check_data_quality(workspace, today=date(2025, 1, 1))
    assert (finding.check, finding.examples) == ("orphan_opportunity", ["o1"])
    assert "accounts table is empty" in finding.message


def test_opportunity_counts_compared_between_two_sources(workspace: Workspace) -> None:
    def opened(opportunity_id: str, created_at: str, source: str) -> dict[str, Any]:
        return deal(opportunity_id, "Demo", created_at=created_at, source=source, account_id=None)

    crm = [opened(f"c{i}", f"2025-0{1 + i % 3}-05", "crm") for i in range(30)]
    billing = [opened(f"b{i}", f"2025-0{2 + i % 3}-05", "billing") for i in range(27)]
    load(workspace, "opportunities", crm, file="crm.csv")
    load(workspace, "opportunities", billing, file="billing.csv")
    findings = check_data_quality(workspace, today=date(2025, 1, 1))
    # crm covers Jan–Mar (10 a month), billing Feb–Apr (9 a month): Feb and Mar compared, 10% apart is within
    assert findings == []
    load(workspace, "opportunities", [opened("c99", "2025-03-06", "crm")], file="late.csv")
    (finding,) = check_data_quality(workspace, today=date(2025, 1, 1))
    assert (finding.check, finding.count, finding.examples) == (
        "opportunity_count_mismatch", 1, ["2025-03 (billing 9, crm 11)"])


@pytest.mark.parametrize(("raw", "expected"), [
    ("HTTPS://www.Acme.com/about?x=1", "acme.com"),
    ("  acme.com.  ", "acme.com"),
    ("www2.acme.com:8080", "acme.com"),
    ("eu.acme.com", "eu.acme.com"),
    ("acme.com#top", "acme.com"),
])
def test_domains_are_normalised(raw: str, expected: str) -> None:
    assert ibis.duckdb.connect().execute(normalised_domain(ibis.literal(raw))) == expected


@pytest.mark.parametrize(("raw", "expected"), [
    ("The ACME, Inc.", "acme"),
    ("Acme Corp", "acme"),
    ("Société Générale S.A.", "societe generale"),
    ("Müller GmbH & Co. KG", "muller"),
    ("Johnson & Johnson", "johnson and johnson"),
    ("Ltd", "ltd"),
])
def test_names_are_normalised(raw: str, expected: str) -> None:
    assert normalised_name(raw) == expected


class Memory:
    """A table source over in-memory frames: analyses need no workspace."""

    def __init__(self, **frames: pd.DataFrame):
        self.frames = frames

    def table(self, name: str) -> Any:
        return ibis.memtable(self.frames[name])


def test_name_matching_stays_fast_on_thousands_of_accounts() -> None:
    rng = random.Random(3)
    names = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(8, 16))).title()
             for _ in range(4000)]
    names = [f"{n} {rng.choice(['Inc', 'LLC', 'Systems', 'Labs', ''])}".strip() for n in names]
    names += ["Northwind Traders Limited", "Northwind Traders", "Contoso Pharmaceuticals",
              "Contoso Pharmaceutical Inc", "Fabrikam Residences 7", "Fabrikam Residences 8"]
    frame = pd.DataFrame({"account_id": [f"x{i:04d}" for i in range(len(names))], "name": names})
    started = time.perf_counter()
    (finding,) = duplicate_names(Memory(accounts=frame), TODAY)
    elapsed = time.perf_counter() - started
    assert (finding.count, finding.examples) == (4, ["x4000=x4001", "x4002=x4003"])
    assert elapsed < 5, f"name matching took {elapsed:.1f}s on {len(names):,} accounts"


@st.composite
def names_with_typos(draw: st.DrawFn) -> list[str]:
    """Random names, each maybe followed by a copy with one letter changed, inserted or dropped."""
    names: list[str] = []
    for base in draw(st.lists(st.text(alphabet="abcé7-", min_size=10, max_size=18), min_size=1, max_size=15)):
        names.append(base)
        if draw(st.booleans()):
            at = draw(st.integers(2, len(base) - 1))
            edit = draw(st.sampled_from(["change", "insert", "drop"]))
            letter = draw(st.sampled_from("abz9"))
            names.append(base[:at] + (letter if edit != "drop" else "") + base[at + (edit != "insert"):])
    return list(dict.fromkeys(names))


@settings(max_examples=80, deadline=None)
@given(names_with_typos())
def test_the_fast_prefilter_misses_no_similar_pair(keys: list[str]) -> None:
    def digits(key: str) -> str:
        return "".join(ch for ch in key if ch.isdigit())

    brute = {frozenset((a, b)) for i, a in enumerate(keys) for b in keys[i + 1:]
             if a[:2] == b[:2] and digits(a) == digits(b)
             and SequenceMatcher(None, a, b, autojunk=False).ratio() >= NAME_SIMILARITY}
    assert {frozenset(pair) for pair in _similar_pairs(keys)} == brute


# -- the real Maven CRM sample, against an independent reading of its files with the csv module ---------------------

MAVEN_OPEN = {"Prospecting", "Engaging"}
LEGAL_WORDS = {"inc", "incorporated", "llc", "ltd", "limited", "gmbh", "corp", "corporation", "co", "company", "plc"}


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[tuple[Workspace, Rows, Rows]]:
    root = init_workspace(tmp_path_factory.mktemp("maven") / "ws", company="Maven")
    with cadence.open(root) as ws:
        ws.ingest(dataset("maven-crm"), "maven")
        folder = dataset("maven-crm")
        with (folder / "sales_pipeline.csv").open(newline="", encoding="utf-8") as deals, \
                (folder / "accounts.csv").open(newline="", encoding="utf-8") as accounts:
            yield ws, list(csv.DictReader(deals)), list(csv.DictReader(accounts))


def expected_from_csv(deals: Rows, accounts: Rows, today: date) -> dict[str, tuple[str, int, list[str]]]:
    """What each check should report on the Maven files, computed straight from the CSV rows."""

    def found(severity: str, ids: list[str]) -> tuple[str, int, list[str]]:
        return severity, len(ids), sorted(ids)[:5]

    def slug(name: str) -> str:
        return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")

    account_names = {a["account"] for a in accounts}
    checks = {
        "opportunity_missing_amount": found("warning", [d["opportunity_id"] for d in deals if not d["close_value"]
                                                        and d["deal_stage"] in MAVEN_OPEN | {"Won"}]),
        "open_past_close_date": found("warning", [d["opportunity_id"] for d in deals if d["deal_stage"] in MAVEN_OPEN
                                                  and d["close_date"] and d["close_date"] < today.isoformat()]),
        "future_close": found("error", [d["opportunity_id"] for d in deals if d["deal_stage"] not in MAVEN_OPEN
                                        and d["close_date"] > today.isoformat()]),
        "won_zero_amount": found("warning", [d["opportunity_id"] for d in deals
                                             if d["deal_stage"] == "Won" and d["close_value"] in ("0", "0.0")]),
        "orphan_opportunity": found("error", [d["opportunity_id"] for d in deals
                                              if d["account"] and d["account"] not in account_names]),
        "account_missing_owner": found("info", [slug(a["account"]) for a in accounts]),  # the file has no owners
        "duplicate_account_name": found("warning", _similar_names([a["account"] for a in accounts])),
        "amount_outlier": found("warning", _log_mad_outliers(deals)),
    }
    return {check: result for check, result in checks.items() if result[1]}


def _similar_names(names: list[str]) -> list[str]:
    """Every name in a pair at least 92% alike (difflib, all pairs) once case, punctuation, suffixes go."""

    def key(name: str) -> str:
        words = re.sub(r"[^a-z0-9]+", " ", name.lower()).split()
        while len(words) > 1 and words[-1] in LEGAL_WORDS:
            words.pop()
        return "".join(words)

    return sorted({n for a in names for b in names if a != b for n in (a, b)
                   if SequenceMatcher(None, key(a), key(b)).ratio() >= 0.92})


def _log_mad_outliers(deals: Rows) -> list[str]:
    """All Maven deals are one pipeline and one (empty) kind: one group."""
    amounts = {d["opportunity_id"]: math.log10(float(d["close_value"])) for d in deals
               if d["close_value"] and float(d["close_value"]) > 0}
    centre = statistics.median(amounts.values())
    mad = statistics.median(abs(v - centre) for v in amounts.values())
    return [i for i, v in amounts.items() if abs(v - centre) > max(5 * mad, 1)]


@pytest.mark.parametrize("today", [date(2018, 1, 1), date(2017, 6, 30)])
def test_maven_findings_match_the_csv_files(maven: tuple[Workspace, Rows, Rows], today: date) -> None:
    ws, deals, accounts = maven
    assert ws.table("opportunities").select("pipeline", "kind").distinct().count().execute() == 1
    findings = check_data_quality(ws, today=today)
    assert by_check(findings) == expected_from_csv(deals, accounts, today)
    assert not [f for f in findings if f.check == "quarantine"]  # the import quarantined nothing
    assert not [f for f in findings if f.check == "stage_regression"]  # history derived from engage/close dates


def test_maven_open_deals_are_counted_without_amounts(maven: tuple[Workspace, Rows, Rows]) -> None:
    ws, deals, _ = maven
    (missing,) = [f for f in check_data_quality(ws, today=date(2018, 1, 1)) if f.check == "opportunity_missing_amount"]
    assert missing.count == sum(d["deal_stage"] in MAVEN_OPEN for d in deals) == 2089


def test_cadence_check_prints_the_findings_as_json(workspace: Workspace) -> None:
    import json

    from typer.testing import CliRunner

    import cadence.cli.commands  # noqa: F401 - registers `check`
    from cadence.cli.main import app

    build_planted(workspace)
    expected = [f.as_dict() for f in check_data_quality(workspace, today=TODAY)]
    workspace.close()  # the command opens the warehouse itself
    result = CliRunner().invoke(app, ["-w", str(workspace.root), "check", "--today", TODAY.isoformat(),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["findings"] == expected
