"""The rows behind a figure: they add up to the figure, honour the period, the cut and the filter, show each
input of a derived metric, and under a user's scope only ever hold that user's rows."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date

import pandas as pd
import pytest

from cadence.access.roles import Principal
from cadence.access.scope import scope_for, scoped
from cadence.errors import UnknownNameError
from cadence.metrics.drill import drill_rows
from cadence.metrics.query import DimensionError
from cadence.metrics.where import FilterError
from cadence.workspace import Workspace
from tests.test_access import EUR_PER_USD, build_company, raw

Q1 = (date(2026, 1, 1), date(2026, 4, 1))


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = build_company(tmp_path_factory.mktemp("drill") / "ws")
    yield ws
    ws.close()


def deals_in(ws: Workspace, first: date, end: date) -> pd.DataFrame:
    """Deals whose close date falls in [first, end), with the amount in USD, computed in pandas."""
    deals = raw(ws, "opportunities")
    close = pd.to_datetime(deals["close_date"]).dt.date
    deals = deals[(close >= first) & (close < end)].copy()
    deals["usd"] = [float(a) / (EUR_PER_USD if c == "EUR" else 1.0)
                    for a, c in zip(deals["amount"], deals["currency"], strict=True)]
    return deals


def figure(ws: Workspace, metric: str, period: str, **kwargs: object) -> float:
    frame = ws.metric(metric, grain="quarter", **kwargs)  # type: ignore[arg-type]
    return float(frame.loc[frame["period"] == period, "value"].iloc[0])


def test_bookings_rows_add_up_to_the_figure(company: Workspace) -> None:
    result = drill_rows(company, "bookings", "2026-Q1")
    won = deals_in(company, *Q1).query("is_won")
    assert {r["opportunity_id"] for r in result.rows} == set(won["opportunity_id"])
    assert result.total == len(result.rows) == len(won) == figure(company, "won_deals", "2026-Q1")
    assert sum(r["amount_value"] for r in result.rows) == pytest.approx(won["usd"].sum())
    assert sum(r["amount_value"] for r in result.rows) == pytest.approx(figure(company, "bookings", "2026-Q1"))
    euro = next(r for r in result.rows if r["currency"] == "EUR")
    assert euro["amount_value"] == pytest.approx(euro["amount"] / EUR_PER_USD)


def test_useful_columns_come_first_and_values_are_plain_json(company: Workspace) -> None:
    result = drill_rows(company, "bookings", "2026-Q1")
    assert result.columns[:3] == ["opportunity_id", "account_id", "name"]
    for column in ("owner_name", "team", "stage", "amount", "currency", "amount_value", "close_date"):
        assert column in result.columns[:20]
    payload = json.loads(json.dumps(result.as_dict()))
    assert payload["total"] == result.total and payload["metric"] == "bookings" and payload["period"] == "2026-Q1"
    close_dates = pd.to_datetime(raw(company, "opportunities")["close_date"]).dt.date
    assert {r["close_date"] for r in payload["rows"]} <= {d.isoformat() for d in close_dates}  # dates, not times
    activities = drill_rows(company, "activities", "2026-Q1")
    assert activities.columns[0] == "activity_id" and activities.total == len(raw(company, "activities"))


def test_months_and_weeks(company: Workspace) -> None:
    march = drill_rows(company, "closed_deals", "2026-03")
    expected = deals_in(company, date(2026, 3, 1), date(2026, 4, 1)).query("is_closed")
    assert {r["opportunity_id"] for r in march.rows} == set(expected["opportunity_id"])
    week = drill_rows(company, "closed_deals", "2026-W03")  # Monday 12 January 2026
    expected = deals_in(company, date(2026, 1, 12), date(2026, 1, 19)).query("is_closed")
    assert {r["opportunity_id"] for r in week.rows} == set(expected["opportunity_id"])


def test_a_cut_and_a_filter(company: Workspace) -> None:
    result = drill_rows(company, "bookings", "2026-Q1", by={"owner_name": "Ana Pérez"}, where="amount > 2000")
    won = deals_in(company, *Q1).query("is_won and owner_id == 'r1' and amount > 2000")
    assert {r["opportunity_id"] for r in result.rows} == set(won["opportunity_id"]) != set()
    assert sum(r["amount_value"] for r in result.rows) == pytest.approx(
        figure(company, "bookings", "2026-Q1", where="amount > 2000 AND owner_name = 'Ana Pérez'"))


def test_user_text_is_data_never_sql(company: Workspace) -> None:
    assert drill_rows(company, "bookings", "2026-Q1", by={"owner_name": "x' OR '1'='1"}).total == 0
    with pytest.raises(FilterError):
        drill_rows(company, "bookings", "2026-Q1", where="1=1; DROP TABLE opportunities")
    with pytest.raises(DimensionError):
        drill_rows(company, "bookings", "2026-Q1", by={"1=1 --": "x"})
    with pytest.raises(UnknownNameError):
        drill_rows(company, "bookings; DROP TABLE people", "2026-Q1")
    assert len(raw(company, "opportunities")) == 48 and len(raw(company, "people")) == 7


def test_a_derived_metric_marks_which_inputs_count_each_row(company: Workspace) -> None:
    result = drill_rows(company, "pipeline_coverage", "2026-Q1")
    assert result.inputs == ["open_pipeline", "bookings"]
    deals = deals_in(company, *Q1)
    open_ids = set(deals.query("not is_closed")["opportunity_id"])
    won_ids = set(deals.query("is_won")["opportunity_id"])
    rows = {r["opportunity_id"]: r for r in result.rows}
    assert set(rows) == open_ids | won_ids
    assert {i for i, r in rows.items() if r["counts_in_open_pipeline"]} == open_ids
    assert {i for i, r in rows.items() if r["counts_in_bookings"]} == won_ids


def test_limit_keeps_the_total(company: Workspace) -> None:
    result = drill_rows(company, "closed_deals", "2026-Q1", limit=3)
    assert len(result.rows) == 3 and result.total == len(deals_in(company, *Q1).query("is_closed"))
    assert result.as_dict()["truncated"] is True


def test_a_rep_drills_into_their_own_deals_only(company: Workspace) -> None:
    view = scoped(company, scope_for(company, Principal("dee", "rep", person_id="r3")))
    result = drill_rows(view, "bookings", "2026-Q1")
    mine = deals_in(company, *Q1).query("is_won and owner_id == 'r3'")
    assert {r["opportunity_id"] for r in result.rows} == set(mine["opportunity_id"]) != set()
    assert {r["owner_name"] for r in result.rows} == {"Dee Diaz"}
    assert sum(r["amount_value"] for r in result.rows) == pytest.approx(figure(view, "bookings", "2026-Q1"))
    other_teams = drill_rows(view, "bookings", "2026-Q1", by={"owner_name": "Ana Pérez"})
    assert other_teams.total == 0


def test_a_managers_drill_down_holds_their_team(company: Workspace) -> None:
    view = scoped(company, scope_for(company, Principal("maria", "manager", team="Enterprise", person_id="m1")))
    result = drill_rows(view, "pipeline_coverage", "2026-Q1")
    deals = deals_in(company, *Q1).query("owner_id in ['r1', 'r2'] and (is_won or not is_closed)")
    assert {r["opportunity_id"] for r in result.rows} == set(deals["opportunity_id"])
