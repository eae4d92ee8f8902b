"""A real Latin-American Salesforce org, end to end through the command line, as a new user meets it.

The org (tests/latam_org.py) has four currencies, cp1252 text, Spanish stages, close dates written
with a time, deals won on a quarter's last evening in Mexico City, a broken line, its own calendar and
its exchange rates. Every figure is recomputed here from the deals as written, with plain Python.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.latam_org import OPEN_STAGES, Org, build_org, rate_on

CADENCE = [sys.executable, "-m", "cadence.cli"]


def cadence(workspace: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CADENCE")}
    env["COLUMNS"] = "80"
    return subprocess.run([*CADENCE, "-w", str(workspace), *args], capture_output=True, text=True, env=env,
                          timeout=300)


def _json(result: subprocess.CompletedProcess[str]) -> dict:  # type: ignore[type-arg]
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def _quarter(day: date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def _close(deal: dict[str, str]) -> date:
    return date.fromisoformat(deal["CloseDate"][:10])


def _closed(org: Org) -> list[dict[str, str]]:
    return [d for d in org.deals if d["IsClosed"] == "true"]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def org_workspace(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Path, Org, dict]:  # type: ignore[type-arg]
    org = build_org(tmp_path / "org")
    root = tmp_path / "ws"
    args = ["init", str(root), "--company", "Andina Software"]
    if request.param == "postgres":
        args += ["--warehouse", request.getfixturevalue("postgres_url")]
    subprocess.run([*CADENCE, *args], check=True, capture_output=True, timeout=120)
    summary = _json(cadence(root, "ingest", str(org.folder), "--from", "salesforce", "--format", "json"))
    return root, org, summary


def test_the_org_imports_whole_with_its_encoding_named(org_workspace: tuple[Path, Org, dict]) -> None:  # type: ignore[type-arg]
    _, org, summary = org_workspace
    assert summary["read"] == summary["loaded"] + summary["quarantined"]
    assert summary["tables"]["opportunities"] == {"loaded": len(org.deals), "quarantined": 1}
    assert "cp1252" in summary["encoding"]
    by_file = {Path(f["path"]).name: f for f in summary["files"]}
    assert by_file["Opportunity.csv"]["encoding"] == "cp1252"
    assert by_file["Opportunity.csv"]["read"] == len(org.deals) + 1  # the broken line was read, and quarantined
    assert {"Period.csv", "FiscalYearSettings.csv", "CurrencyType.csv", "DatedConversionRate.csv"} <= set(by_file)
    assert not summary["skipped"]


def test_bookings_per_quarter_are_in_the_corporate_currency(org_workspace: tuple[Path, Org, dict]) -> None:  # type: ignore[type-arg]
    root, org, _ = org_workspace
    expected: dict[str, float] = defaultdict(float)
    for deal in org.deals:
        if deal["IsWon"] == "true":
            expected[_quarter(_close(deal))] += float(deal["Amount"]) / rate_on(deal["CurrencyIsoCode"], _close(deal))
    rows = _json(cadence(root, "metric", "bookings", "--grain", "quarter", "--format", "json"))["rows"]
    got = {r["period"]: r["value"] for r in rows}
    assert got.keys() == expected.keys()
    for quarter, value in expected.items():
        assert got[quarter] == pytest.approx(value, abs=0.01), quarter


def test_win_rate_per_quarter_is_by_the_crm_close_date(org_workspace: tuple[Path, Org, dict]) -> None:  # type: ignore[type-arg]
    root, org, _ = org_workspace
    won: dict[str, int] = defaultdict(int)
    closed: dict[str, int] = defaultdict(int)
    for deal in _closed(org):
        closed[_quarter(_close(deal))] += 1
        won[_quarter(_close(deal))] += deal["IsWon"] == "true"
    rows = _json(cadence(root, "metric", "win_rate", "--grain", "quarter", "--format", "json"))["rows"]
    assert {r["period"]: r["value"] for r in rows} == pytest.approx({q: won[q] / closed[q] for q in closed})
    assert org.evening_wins  # the deals whose UTC close moment falls in the next quarter are in the set above


def test_funnel_lists_only_the_org_own_stages(org_workspace: tuple[Path, Org, dict]) -> None:  # type: ignore[type-arg]
    root, org, _ = org_workspace
    funnel = _json(cadence(root, "funnel", "--format", "json"))
    text = json.dumps(funnel, ensure_ascii=False)
    assert "Negociación" in text and "Diseño Propuesta" in text
    for phantom in ("Prospecting", "Qualification", "Needs Analysis", "Value Proposition", "Id. Decision Makers",
                    "Perception Analysis", "Proposal/Price Quote", "Negotiation/Review"):
        assert phantom not in text
    stages = [s.get("stage") for s in funnel.get("stages", [])]
    assert [s for s in stages if s in OPEN_STAGES] == [s for s in OPEN_STAGES if s in stages]
    for step in funnel.get("stages", []):
        rate = step.get("conversion")
        assert rate is None or 0 <= rate <= 1


def test_without_rates_money_is_refused_and_counts_still_work(tmp_path: Path) -> None:
    org = build_org(tmp_path / "org", with_rates=False)
    root = tmp_path / "ws"
    subprocess.run([*CADENCE, "init", str(root)], check=True, capture_output=True, timeout=120)
    _json(cadence(root, "ingest", str(org.folder), "--from", "salesforce", "--format", "json"))
    refused = cadence(root, "metric", "bookings", "--grain", "quarter", "--format", "json")
    assert refused.returncode == 1
    assert "Traceback" not in refused.stderr
    lines = [line for line in refused.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, refused.stderr
    for code in ("COP", "MXN", "PEN"):
        assert code in lines[0]
    assert refused.stdout.strip() == ""
    assert _json(cadence(root, "metric", "win_rate", "--grain", "quarter", "--format", "json"))["rows"]
    check = cadence(root, "check", "--format", "json")
    assert check.returncode in (0, 1), check.stderr
    assert "COP" in check.stdout


def test_import_says_when_cadence_yml_disagrees_with_the_org_calendar(tmp_path: Path) -> None:
    org = build_org(tmp_path / "org")
    root = tmp_path / "ws"
    subprocess.run([*CADENCE, "init", str(root)], check=True, capture_output=True, timeout=120)
    config = root / "cadence.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("fiscal_year_start_month: 1",
                                                                 "fiscal_year_start_month: 4"), encoding="utf-8")
    assert "fiscal_year_start_month: 4" in config.read_text(encoding="utf-8")
    summary = _json(cadence(root, "ingest", str(org.folder), "--from", "salesforce", "--format", "json"))
    (note,) = summary["notes"]
    assert "April" in note and "January" in note and "fiscal_year_start_month: 1" in note


def test_scorecard_without_rates_shows_counts_and_says_which_money_it_leaves_out(tmp_path: Path) -> None:
    org = build_org(tmp_path / "org", with_rates=False)
    root = tmp_path / "ws"
    subprocess.run([*CADENCE, "init", str(root)], check=True, capture_output=True, timeout=120)
    with (root / "cadence.yml").open("a", encoding="utf-8") as config:
        config.write("teams:\n  - name: Ventas\n    kind: sales\n    kpis:\n"
                     "      - {metric: bookings, target: 200000, period: quarter}\n"
                     "      - {metric: won_deals, target: 10, period: quarter}\n")
    _json(cadence(root, "ingest", str(org.folder), "--from", "salesforce", "--format", "json"))
    card = _json(cadence(root, "scorecard", "--format", "json"))
    kpis = next(s for s in card["sections"] if s["key"] == "kpis")
    (won,) = kpis["figures"]  # bookings is left out; won deals, a count, needs no rate
    as_of = date.fromisoformat(card["as_of"])  # the first day after the week under review
    last_day = as_of - timedelta(days=1)
    quarter_start = date(last_day.year, 3 * ((last_day.month - 1) // 3) + 1, 1)
    expected = sum(1 for d in org.deals if d["IsWon"] == "true" and quarter_start <= _close(d) < as_of)
    assert (won["metric"], won["value"]) == ("won_deals", expected)
    refused = [n for s in card["sections"] for n in s["notes"] if "no exchange rate" in n]
    assert refused and all(code in refused[0] for code in ("COP", "MXN", "PEN"))
    assert "Ventas — bookings: not shown" in " ".join(kpis["notes"])
