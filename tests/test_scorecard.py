"""The weekly scorecard: KPIs judged by a stated rule, in the terminal, as JSON and as one HTML file."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import cadence
from cadence.analysis.targets import check_target
from cadence.report.html import render_html
from cadence.report.scorecard import build_scorecard
from cadence.workspace import Workspace, init_workspace
from tests.browser import chromium_page
from tests.datasets import Dataset

KPIS = [
    {"metric": "bookings", "target": 3_000_000, "period": "quarter"},
    {"metric": "win_rate", "target": 0.6, "period": "quarter"},
    {"metric": "sales_cycle", "target": 45, "period": "quarter"},
    {"metric": "bookings", "label": "GTX Pro bookings", "target": 900_000, "period": "quarter",
     "where": "product = 'GTX Pro'"},
]


@pytest.fixture(scope="module")
def maven(tmp_path_factory: pytest.TempPathFactory, dataset: Dataset) -> Iterator[Workspace]:
    root = init_workspace(tmp_path_factory.mktemp("card") / "ws", company="Maven")
    config = yaml.safe_load((root / "cadence.yml").read_text())
    config["mission"] = {"statement": "Sell hardware customers love.", "metric": "bookings", "grain": "quarter",
                         "principles": ["One set of numbers"]}
    config["teams"] = [{"name": "Sales", "kind": "sales", "kpis": KPIS}]
    (root / "cadence.yml").write_text(yaml.safe_dump(config))
    ws = cadence.open(root)
    ws.ingest(dataset("maven-crm"), "maven")
    yield ws
    ws.close()


@pytest.mark.parametrize(
    ("actual", "target", "elapsed", "additive", "up", "status"),
    [
        (50, 100, 0.5, True, True, "on_track"),  # half the target half way through
        (46, 100, 0.5, True, True, "at_risk"),  # 92% of pace
        (40, 100, 0.5, True, True, "off_track"),
        (0.55, 0.6, 0.5, False, True, "at_risk"),  # levels are not paced
        (55, 45, 0.2, False, False, "off_track"),  # lower is better: 55 days against 45 is 82% of target
        (44, 45, 0.9, False, False, "on_track"),
        (None, 10, 0.5, True, True, "no_data"),
        (10, None, 0.5, True, True, "no_target"),
    ],
)
def test_target_rule(actual: float | None, target: float | None, elapsed: float, additive: bool, up: bool,
                     status: str) -> None:
    assert check_target(actual, target, elapsed_share=elapsed, additive=additive, higher_is_better=up).status == status


def test_scorecard_reports_every_kpi_with_its_status(maven: Workspace) -> None:
    card = build_scorecard(maven, week="2017-W40")
    assert card.context.week == "2017-W40" and str(card.context.as_of) == "2017-10-09"
    kpis = next(s for s in card.sections if s.key == "kpis")
    assert [f.label for f in kpis.figures] == ["Bookings", "Win rate", "Sales cycle", "GTX Pro bookings"]
    assert all(f.status in {"on_track", "at_risk", "off_track"} for f in kpis.figures)
    bookings = kpis.figures[0]
    # 2017-Q4 to 2017-10-08: an independent sum of won deals closed in those eight days
    won = maven.table("opportunities")
    expected = won.filter(won.is_won & (won.closed_at >= "2017-10-01") & (won.closed_at < "2017-10-09")).amount
    assert bookings.value == pytest.approx(float(expected.sum().execute()))
    assert bookings.expected == pytest.approx(3_000_000 * 8 / 92)
    assert card.mission and card.mission["statement"].startswith("Sell")
    assert {d["name"] for d in card.definitions} >= {"bookings", "win_rate", "sales_cycle"}


def test_html_is_one_file_with_a_chart_and_status_per_kpi(maven: Workspace, tmp_path: Path) -> None:
    card = build_scorecard(maven, week="2017-W40")
    path = tmp_path / "scorecard.html"
    path.write_text(render_html(card), encoding="utf-8")
    requested: list[str] = []
    with chromium_page() as page:
        page.on("request", lambda request: requested.append(request.url))
        page.goto(path.as_uri())
        cards = page.locator("#section-kpis .kpi")
        assert cards.count() == len(KPIS)
        for index in range(cards.count()):
            card_element = cards.nth(index)
            assert card_element.locator("svg").count() == 1, "every KPI has its chart"
            assert card_element.locator(".status").inner_text() in {"on track", "at risk", "off track"}
            link = card_element.locator(".value a").get_attribute("href")
            assert link and page.locator(link).count() == 1, "every figure links to its definition"
    assert requested == [path.as_uri()], "the report must not need the network"
