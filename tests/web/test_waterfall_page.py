"""The pipeline waterfall on the pipeline page: scoped to what each viewer may see (a rep's waterfall sums their own
deals only, checked against a plain SQL reading of opportunity_history), each bar linking to its deals, JSON twin."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from tests.web.conftest import MANAGER_TEAM, WebCompany

PLAIN = """
WITH latest AS (
    SELECT h.opportunity_id, h.stage, h.amount, h.close_date, o.pipeline, o.owner_id,
           row_number() OVER (PARTITION BY h.opportunity_id ORDER BY h.changed_at DESC) AS n
    FROM opportunity_history h JOIN opportunities o ON o.opportunity_id = h.opportunity_id
    WHERE o.deleted_at IS NULL AND h.changed_at < $1
)
SELECT coalesce(sum(l.amount), 0), count(*)
FROM latest l JOIN stages s ON s.pipeline = l.pipeline AND s.stage = l.stage
JOIN people p ON p.person_id = l.owner_id
WHERE l.n = 1 AND NOT s.is_won AND NOT s.is_lost AND l.close_date >= $2 AND l.close_date <= $3
"""


def plain_pipeline(web: WebCompany, moment: date, start: date, end: date, where: str, value: str) -> tuple[float, int]:
    """The period's open pipeline at the start of `moment`, for the owners `where` selects: each deal's latest
    history row before the moment, open, closing from `start` to `end`."""
    rows = web.ws.warehouse.query(PLAIN + f" AND {where} = $4", (moment, start, end, value))
    return float(rows[0][0]), int(rows[0][1])


def _day(text: str) -> date:
    return date.fromisoformat(text)


def test_a_reps_waterfall_sums_their_own_deals_only(web: WebCompany, client: Any) -> None:
    w = client("rep").get("/pipeline.json").json()["waterfall"]
    start, end = _day(w["period_start"]), _day(w["period_end"])
    assert len(w["rows"]) >= 2
    for row in (w["rows"][0], w["rows"][len(w["rows"]) // 2], w["rows"][-1]):
        for moment, bar in ((_day(row["from"]), "start"), (_day(row["to"]) + timedelta(days=1), "end")):
            amount, count = plain_pipeline(web, moment, start, end, "p.person_id", web.rep_person)
            assert (row[bar], row[f"{bar}_count"]) == (pytest.approx(amount, abs=0.01), count), (moment, bar)
    company = client("executive").get("/pipeline.json").json()["waterfall"]
    assert company["rows"][0]["start_count"] > w["rows"][0]["start_count"] > 0
    whole, _ = plain_pipeline(web, _day(company["rows"][0]["from"]), start, end, "1", "1")
    assert company["rows"][0]["start"] == pytest.approx(whole, abs=0.01)  # no owner filter: every deal


def test_every_deal_behind_a_managers_bars_is_their_teams(web: WebCompany, client: Any) -> None:
    c = client("manager")
    w = c.get("/pipeline.json", params={"grain": "month"}).json()["waterfall"]
    team = set(web.team_people[MANAGER_TEAM])
    owners = dict(web.ws.warehouse.query("SELECT opportunity_id, owner_id FROM opportunities"))
    moved = 0
    for bar in ("start", "created", "won", "lost", "end"):
        deals = c.get("/pipeline/waterfall.json", params={"period": w["period"], "grain": "month", "bar": bar}).json()
        assert {owners[d["opportunity_id"]] for d in deals["deals"]} <= team, bar
        total = w["total"] if bar not in ("start", "end") else w["rows"][0 if bar == "start" else -1]
        assert len(deals["deals"]) == total[f"{bar}_count"]
        assert sum(d["amount"] for d in deals["deals"]) == pytest.approx(total[bar], abs=0.01)
        moved += len(deals["deals"])
    assert moved > 0
    start, end = _day(w["period_start"]), _day(w["period_end"])
    amount, count = plain_pipeline(web, _day(w["rows"][0]["from"]), start, end, "p.team", MANAGER_TEAM)
    assert (w["rows"][0]["start"], w["rows"][0]["start_count"]) == (pytest.approx(amount, abs=0.01), count)


def test_the_page_shows_the_chart_and_links_each_bar_to_its_deals(web: WebCompany, client: Any) -> None:
    c = client("executive")
    page = c.get("/pipeline", params={"grain": "month"})
    assert page.status_code == 200 and 'id="waterfall"' in page.text
    w = c.get("/pipeline.json", params={"grain": "month"}).json()["waterfall"]
    link = f"/pipeline/waterfall?period={w['period']}&amp;grain=month&amp;bar=won"
    assert f'xlink:href="{link}"' in page.text  # the chart's bar
    assert f'href="{link}&amp;step={w["rows"][0]["from"]}"' in page.text  # the table's figure, one step
    drill = c.get("/pipeline/waterfall", params={"period": w["period"], "grain": "month", "bar": "won",
                                                 "step": w["rows"][0]["from"]})
    assert drill.status_code == 200 and "before stage" in drill.text
    twin = c.get("/pipeline/waterfall.json", params={"period": w["period"], "grain": "month", "bar": "won",
                                                     "step": w["rows"][0]["from"]}).json()
    assert len(twin["deals"]) == w["rows"][0]["won_count"]
    won_stages = {row[0] for row in web.ws.warehouse.query("SELECT stage FROM stages WHERE is_won")}
    assert {d["after_stage"] for d in twin["deals"]} <= won_stages
    # a deal created and won within the step has no "before": it was not there when the step began
    assert any(d["before_stage"] for d in twin["deals"])


def test_bad_waterfall_input_is_one_line(client: Any) -> None:
    c = client("executive")
    grain = c.get("/pipeline.json", params={"grain": "day"})
    assert grain.status_code == 400 and "grain=week" in grain.json()["error"]
    bar = c.get("/pipeline/waterfall.json", params={"bar": "moved"})
    assert bar.status_code == 404 and "pushed_out" in bar.json()["error"]
    step = c.get("/pipeline/waterfall.json", params={"bar": "won", "step": "last week"})
    assert step.status_code == 400 and step.json()["error"].count("\n") == 0
    assert client("recruiter").get("/pipeline/waterfall.json", params={"bar": "won"}).status_code == 403
    page = c.get("/pipeline", params={"period": "2031-Q5"})  # the form again, naming the field
    assert page.status_code == 400 and '<p class="field-error" id="period-error">' in page.text
    assert 'value="2031-Q5"' in page.text and 'id="waterfall"' in page.text
