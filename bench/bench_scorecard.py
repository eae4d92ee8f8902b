"""The weekly scorecard on a workspace ten times the demo's size, against pandas and one raw DuckDB pass.

Cadence's side is the scorecard's own figure queries (every period-to-date, previous-period,
this-week and last-week value behind the mission metric, the team KPIs and pipeline coverage),
replayed exactly as the scorecard asks for them. The references compute the same figures: (a) with
pandas from DataFrames already in memory, (b) with one hand-written DuckDB SQL statement per source
table (each figure a FILTERed aggregate). The three must agree before any time is reported.
The full scorecard, with every section (alignment, data quality, …), is timed too.

Each timed run of Cadence's figures is a fresh session's: the day-by-day series are asked again and the stored
revenue grid and deals relation are found again by their tables' fingerprints (store/derived.py). Building those
two tables, which an import or a sync does once its rows are written, is timed on its own, and so is the first
session after it.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import cadence
from bench.run import best_of
from bench.scale import scale_workspace
from cadence.demo import build_demo
from cadence.report.scorecard import build_scorecard, week_context

Call = tuple[str, date, date, str | None]
FACTOR = 10
DEAL_METRICS = {"bookings", "open_pipeline", "pipeline_created"}
MRR_METRICS = {"net_new_mrr", "expansion_mrr"}


def record_calls(ws: Any, week: str) -> list[Call]:
    """Run the scorecard once and note every figure (metric, start, end, where) it computed."""
    from cadence.report.sections import kpis, mission, pipeline

    calls: list[Call] = []
    original = kpis.range_value

    def recording(ws_: Any, metric: str, start: date, end: date, where: str | None = None) -> float | None:
        calls.append((metric, start, end, where))
        return original(ws_, metric, start, end, where)

    modules = (kpis, mission, pipeline)
    for module in modules:
        module.range_value = recording  # type: ignore[attr-defined]
    try:
        build_scorecard(ws, week=week, fresh=True)  # computed, not read back from a kept scorecard
    finally:
        for module in modules:
            module.range_value = original  # type: ignore[attr-defined]
    return calls


# -- (a) pandas ------------------------------------------------------------------------------------------
def _pandas_where(where: str | None) -> str | None:
    if not where:
        return None
    text = re.sub(r"(?<![<>!=])=(?!=)", "==", where)
    return text.replace(" AND ", " and ").replace(" OR ", " or ").replace(" IN (", " in (")


def load_frames(con: Any) -> dict[str, pd.DataFrame]:
    deals = con.execute(
        "SELECT o.amount::DOUBLE AS amount, o.is_won, o.is_closed, o.kind, o.created_at, o.close_date, "
        "COALESCE(o.closed_at, o.close_date::TIMESTAMP) AS closed_on, a.segment "
        "FROM opportunities o LEFT JOIN accounts a USING (account_id)").df()
    subs = con.execute("SELECT account_id, mrr::DOUBLE AS mrr, started_at, ended_at FROM subscriptions").df()
    usage = con.execute("SELECT week, active_paying_users FROM usage").df()
    return {"deals": deals, "subscriptions": subs, "usage": usage}


def _mrr_changes(subs: pd.DataFrame, today: date) -> pd.DataFrame:
    """Per customer and month: MRR on the month's last day, and its change from the month before."""
    first = pd.Timestamp(subs["started_at"].min()).to_period("M").to_timestamp()
    last_end = max(pd.Timestamp(subs["ended_at"].max()), pd.Timestamp(today))
    months = pd.date_range(first, last_end.to_period("M").to_timestamp(), freq="MS")
    month_ends = (months + pd.offsets.MonthEnd(0)).values
    starts = subs["started_at"].values.astype("datetime64[ns]")
    ends = subs["ended_at"].fillna(pd.Timestamp.max.normalize()).values.astype("datetime64[ns]")
    active = (starts[:, None] <= month_ends[None, :]) & (ends[:, None] > month_ends[None, :])
    values = np.where(active, subs["mrr"].values[:, None], 0.0)
    per_account = pd.DataFrame(values, columns=months).groupby(subs["account_id"].values).sum()
    previous = per_account.shift(1, axis=1).fillna(0.0)
    change = (per_account - previous).stack().rename("change").to_frame()
    change["mrr"] = per_account.stack()
    change["prev"] = previous.stack()
    return change.reset_index(names=["account_id", "month"])


def pandas_value(frames: dict[str, pd.DataFrame], mrr: pd.DataFrame, call: Call) -> float | None:
    metric, start, end, where = call
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)
    if metric in DEAL_METRICS:
        deals = frames["deals"]
        if metric == "bookings":
            rows = deals[deals["is_won"] & (deals["closed_on"] >= lo) & (deals["closed_on"] < hi)]
        elif metric == "pipeline_created":
            rows = deals[(deals["created_at"] >= lo) & (deals["created_at"] < hi)]
        else:
            close = pd.to_datetime(deals["close_date"])
            rows = deals[~deals["is_closed"] & (close >= lo) & (close < hi)]
        query = _pandas_where(where)
        if query:
            rows = rows.query(query)
        return float(rows["amount"].sum()) if len(rows) else None
    if metric in MRR_METRICS:
        rows = mrr[(mrr["month"] >= lo) & (mrr["month"] < hi)]
        if metric == "expansion_mrr":
            rows = rows[(rows["prev"] > 0) & (rows["mrr"] > rows["prev"])]
        return float(rows["change"].sum()) if len(rows) else None
    if metric == "weekly_active_paying_users":
        usage = frames["usage"]
        weeks = pd.to_datetime(usage["week"])
        rows = usage[(weeks >= lo) & (weeks < hi)]
        return float(rows["active_paying_users"].sum()) if len(rows) else None
    raise ValueError(f"the benchmark has no pandas reference for {metric}")


# -- (b) raw DuckDB SQL ----------------------------------------------------------------------------------
def _between(column: str, start: date, end: date) -> str:
    return f"{column} >= TIMESTAMP '{start}' AND {column} < TIMESTAMP '{end}'"


def sql_values(con: Any, calls: list[Call], today: date) -> list[float | None]:
    """One SQL statement per source table; each figure a FILTERed aggregate in that one pass."""
    deal_parts, mrr_parts, usage_parts = [], [], []
    for index, (metric, start, end, where) in enumerate(calls):
        extra = f" AND ({where})" if where else ""
        if metric == "bookings":
            deal_parts.append(f"SUM(amount) FILTER (WHERE is_won AND {_between('closed_on', start, end)}{extra}) "
                              f"AS f{index}")
        elif metric == "pipeline_created":
            deal_parts.append(f"SUM(amount) FILTER (WHERE {_between('created_at', start, end)}{extra}) AS f{index}")
        elif metric == "open_pipeline":
            deal_parts.append(f"SUM(amount) FILTER (WHERE NOT is_closed AND "
                              f"{_between('close_date', start, end)}{extra}) AS f{index}")
        elif metric == "net_new_mrr":
            mrr_parts.append(f"SUM(change) FILTER (WHERE {_between('month', start, end)}) AS f{index}")
        elif metric == "expansion_mrr":
            mrr_parts.append(f"SUM(change) FILTER (WHERE prev > 0 AND mrr > prev AND "
                             f"{_between('month', start, end)}) AS f{index}")
        elif metric == "weekly_active_paying_users":
            usage_parts.append(f"SUM(active_paying_users) FILTER (WHERE {_between('week', start, end)}) AS f{index}")
    results: dict[str, Any] = {}
    if deal_parts:
        sql = ("SELECT " + ", ".join(deal_parts) + " FROM (SELECT o.amount::DOUBLE AS amount, o.is_won, o.is_closed, "
               "o.kind, o.created_at, o.close_date, COALESCE(o.closed_at, o.close_date::TIMESTAMP) AS closed_on, "
               "a.segment FROM opportunities o LEFT JOIN accounts a USING (account_id))")
        results.update(con.execute(sql).df().iloc[0].to_dict())
    if mrr_parts:
        sql = f"""
            WITH bounds AS (SELECT date_trunc('month', MIN(started_at)) AS first,
                                   GREATEST(MAX(ended_at), DATE '{today}') AS last FROM subscriptions),
            months AS (SELECT m::DATE AS month, (m + INTERVAL 1 MONTH - INTERVAL 1 DAY)::DATE AS month_end
                       FROM bounds, range(bounds.first, bounds.last + INTERVAL 1 DAY, INTERVAL 1 MONTH) t(m)),
            paid AS (SELECT s.account_id, months.month, SUM(s.mrr::DOUBLE) AS mrr FROM months
                     JOIN subscriptions s ON s.started_at <= months.month_end
                      AND (s.ended_at IS NULL OR s.ended_at > months.month_end) GROUP BY ALL),
            grid AS (SELECT c.account_id, months.month, COALESCE(paid.mrr, 0) AS mrr
                     FROM (SELECT DISTINCT account_id FROM subscriptions) c CROSS JOIN months
                     LEFT JOIN paid USING (account_id, month)),
            moves AS (SELECT month::TIMESTAMP AS month, mrr,
                             COALESCE(LAG(mrr) OVER (PARTITION BY account_id ORDER BY month), 0) AS prev FROM grid)
            SELECT {", ".join(mrr_parts)} FROM (SELECT *, mrr - prev AS change FROM moves)"""
        results.update(con.execute(sql).df().iloc[0].to_dict())
    if usage_parts:
        sql = ("SELECT " + ", ".join(usage_parts)
               + " FROM (SELECT week::TIMESTAMP AS week, active_paying_users FROM usage)")
        results.update(con.execute(sql).df().iloc[0].to_dict())
    values = [results.get(f"f{i}") for i in range(len(calls))]
    return [None if v is None or pd.isna(v) else float(v) for v in values]


def _agree(name: str, ours: list[float | None], theirs: list[float | None], calls: list[Call]) -> None:
    for call, a, b in zip(calls, ours, theirs, strict=True):
        same = (a is None and b in (None, 0.0)) or (b is None and a in (None, 0.0)) or \
            (a is not None and b is not None and abs(a - b) <= 1e-6 * max(1.0, abs(a)))
        if not same:
            raise AssertionError(f"{name} disagrees with Cadence on {call}: {b} vs {a}")


def ask_backtest(ws: Any, *, fresh: bool = False) -> dict[str, Any]:
    """What `cadence forecast backtest --format json` prints, through the kept answers as the command asks."""
    from cadence.analysis.forecast import backtest, backtest_report
    from cadence.report.kept_answers import kept_answer

    return kept_answer(ws, ("cadence forecast backtest",), lambda: backtest_report(backtest(ws, ws.calendar)),
                       fresh=fresh)


def run(workdir: Path) -> list[dict[str, Any]]:
    build_demo(workdir / "demo", seed=7).close()
    root = scale_workspace(workdir / "demo", workdir / "big", FACTOR)
    ws = cadence.open(root)
    try:
        week = week_context(ws, None).week
        calls = record_calls(ws, week)
        from cadence.report.sections.kpis import range_value

        def with_cadence() -> list[float | None]:
            ws._materialised.clear()  # as a fresh session: the day-by-day series asked again,
            ws._derived.forget()  # the stored grid and deals found again by their tables' fingerprints
            return [range_value(ws, *call) for call in calls]

        def kept_by_an_import() -> list[str]:
            ws._derived.drop_all()  # as before an import's end: no table kept for this version of the data
            ws._materialised.clear()
            return ws.keep_figures_ready()  # what `cadence ingest` and a sync do once the rows are written

        keep_seconds, _ = best_of(1, kept_by_an_import)
        cold_seconds, _ = best_of(1, with_cadence)  # the first session after that import
        cadence_seconds, ours = best_of(3, with_cadence)
        ws._materialised.clear()
        full, _ = best_of(1, lambda: build_scorecard(ws, week=week, fresh=True))
        root_of_ws = ws.root

        def later_session() -> Any:  # the next `cadence scorecard` over the same data: sections read back
            with cadence.open(root_of_ws) as again:
                return build_scorecard(again, week=week)

        kept_full, _ = best_of(3, later_session)
        backtest_seconds, computed_backtest = best_of(1, lambda: ask_backtest(ws, fresh=True))

        def backtest_later() -> Any:  # the analyst's next `cadence forecast backtest` (another format, say)
            with cadence.open(root_of_ws) as again:
                return ask_backtest(again)

        kept_backtest, read_backtest = best_of(3, backtest_later)
        if json.dumps(read_backtest, sort_keys=True) != json.dumps(computed_backtest, sort_keys=True):
            raise AssertionError("the backtest read back is not the backtest computed")
        con = ws.warehouse.ibis.con
        load_seconds, frames = best_of(1, lambda: load_frames(con))
        today = date.today()
        def with_pandas() -> list[float | None]:
            mrr = _mrr_changes(frames["subscriptions"], today)  # once, as Cadence materialises its grid once
            return [pandas_value(frames, mrr, call) for call in calls]

        pandas_seconds, theirs = best_of(3, with_pandas)
        _agree("pandas", ours, theirs, calls)
        sql_seconds, raw = best_of(3, lambda: sql_values(con, calls, today))
        _agree("raw DuckDB SQL", ours, raw, calls)
        opportunities = ws.warehouse.count("opportunities")
    finally:
        ws.close()
    note = f"{len(calls)} figures, {opportunities:,} opportunities ({FACTOR}× the demo)"
    return [
        {"name": "scorecard figures", "seconds": cadence_seconds, "reference": "pandas (in memory)",
         "reference_seconds": pandas_seconds, "ratio": cadence_seconds / pandas_seconds, "note": note,
         "pandas_load_seconds": load_seconds},
        {"name": "scorecard figures", "seconds": cadence_seconds, "reference": "one raw DuckDB SQL pass",
         "reference_seconds": sql_seconds, "ratio": cadence_seconds / sql_seconds, "note": note},
        {"name": "scorecard figures, first session after an import", "seconds": cold_seconds,
         "reference": "one raw DuckDB SQL pass", "reference_seconds": sql_seconds, "ratio": cold_seconds / sql_seconds,
         "note": note + "; reads the revenue grid and the deals relation the import kept"},
        {"name": "revenue grid, deals and history spans kept at the end of an import", "seconds": keep_seconds,
         "reference": "scorecard figures", "reference_seconds": cadence_seconds,
         "ratio": keep_seconds / cadence_seconds, "note": note + "; paid once per import or sync, not per session"},
        {"name": "full scorecard (all sections), computed", "seconds": full, "reference": "scorecard figures alone",
         "reference_seconds": cadence_seconds, "ratio": full / cadence_seconds,
         "note": note + "; the first scorecard over a version of the data, or --fresh"},
        {"name": "forecast backtest (every past quarter at its start, day 30 and day 60), asked again",
         "seconds": kept_backtest, "reference": "the backtest computed", "reference_seconds": backtest_seconds,
         "ratio": kept_backtest / backtest_seconds,
         "note": note + "; `cadence forecast backtest` in a later session: opening the workspace and reading back "
                        "the answer kept for the same data"},
        {"name": "full scorecard (all sections), a later session", "seconds": kept_full,
         "reference": "scorecard figures alone", "reference_seconds": cadence_seconds,
         "ratio": kept_full / cadence_seconds,
         "note": note + "; opening the workspace and reading back the sections kept for the same data"},
    ]
