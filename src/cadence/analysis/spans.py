"""Each deal's stage history as spans of time, built once per version of the data in the engine.

A history row says what a deal was from `changed_at` until its next row (`valid_until`; a deal's latest row holds
to `OPEN_END`). The engine builds one row per history row carrying the deal's full state over that span: amount,
close date and forecast category carried forward from earlier rows when a row leaves them empty (a CRM records
only what changed), amounts in the reporting currency at the deal's rate (`metrics/money.py` `convert_history`),
the stage's facts (won, lost, its rank among open stages) and, for a closed row, since when the deal had been
closed. It is kept in the warehouse like the revenue grid (`store/derived.py`; the import builds it), so "what was
this deal on that day" is written once, here, and every analysis asks the engine for the spans holding its days:
the forecast's replays, the pipeline waterfall's steps, feature influence's ship days.
"""

from __future__ import annotations

from typing import Any

import ibis
import numpy as np
import pandas as pd

from cadence.metrics.money import convert_history, reporting_currency, require_rates
from cadence.metrics.relations import TableSource, deals

HISTORY_COLUMNS = ("opportunity_id", "changed_at", "stage", "amount", "close_date", "forecast_category")
STATE = ["opportunity_id", "stage", "open_rank", "known_stage", "amount", "close_date", "is_won", "is_lost",
         "closed_since", "forecast_category"]
CARRIED = ("amount", "close_date", "forecast_category")  # a row that leaves them empty keeps the deal's last value
OPEN_END = pd.Timestamp("2200-01-01")  # `valid_until` of a deal's latest row (within what every engine hands pandas)
NAME = "history_spans"


def stage_facts(tables: TableSource) -> pd.DataFrame:
    """pipeline, stage, position, probability, is_won, is_lost, open_rank (1 for a pipeline's first open stage)."""
    stages = tables.table("stages").to_pandas().sort_values(["pipeline", "position"]).reset_index(drop=True)
    stages["is_won"] = stages["is_won"].astype(bool)
    stages["is_lost"] = stages["is_lost"].astype(bool)
    stages["probability"] = pd.to_numeric(stages["probability"], errors="coerce").astype("float64")
    is_open = ~(stages["is_won"] | stages["is_lost"])
    stages["open_rank"] = np.nan
    stages.loc[is_open, "open_rank"] = stages[is_open].groupby("pipeline").cumcount() + 1
    return stages[["pipeline", "stage", "position", "probability", "is_won", "is_lost", "open_rank"]]


def kept_spans(tables: TableSource, stages: pd.DataFrame | None = None) -> Any:
    """The spans as an engine table: kept for this version of the data where `tables` keeps tables (a workspace),
    else the query that builds them."""
    relation = deals(tables)
    facts = stage_facts(tables) if stages is None else stages
    cache = getattr(tables, "materialised", None)
    if cache is None:
        return spans(tables, relation, facts)
    return cache(f"{NAME}_{reporting_currency(tables).lower()}", lambda _: spans(tables, relation, facts))


def dated(relation: Any, tables: TableSource, columns: tuple[str, ...]) -> Any:
    """`columns` of the deals in `relation`, with `first_seen` (the deal's first history row) and `created_at`
    taken from it where the CRM does not date the deal (Maven's Prospecting deals): a deal is known to exist from
    its first history row. With neither it stays undated."""
    history = tables.table("opportunity_history")
    firsts = history.group_by(_f_id=history.opportunity_id).aggregate(_first=history.changed_at.min())
    chosen = relation.select(*columns)
    joined = chosen.left_join(firsts, chosen.opportunity_id == firsts._f_id)
    first_seen = joined._first.cast("timestamp")
    return joined.select(*[c for c in columns if c != "created_at"], first_seen=first_seen,
                         created_at=ibis.coalesce(joined.created_at.cast("timestamp"), first_seen))


def keep_spans(tables: TableSource) -> bool:
    """Build the spans now (the end of an import or a sync), so the first analysis after it starts from them.
    False for a workspace without stage history; amounts that do not all convert raise `MissingRatesError`
    (every analysis reading money refuses such data, and says why)."""
    require_rates(deals(tables), tables)
    if not int(tables.table("opportunity_history").count().to_pyarrow().as_py()):
        return False
    kept_spans(tables)
    return True


def holding(rows: Any, moments: Any, deal: str | None = None) -> Any:
    """The spans of `rows` holding each moment of `moments` (an engine table with `_as_of`; with `deal`, the name
    of its column of opportunity ids, only those deals' spans on their moments): `moments`' columns beside each
    span's. A deal has one span per moment at most."""
    on = [rows.changed_at < moments._as_of, rows.valid_until >= moments._as_of]
    if deal is not None:
        on.insert(0, rows.opportunity_id == moments[deal])
    return rows.inner_join(moments, on)


def spans(tables: TableSource, relation: Any, stages: pd.DataFrame) -> Any:
    """One row per history row: STATE, its `changed_at` and `valid_until`, and the deal's `pipeline`."""
    history = convert_history(tables.table("opportunity_history"), relation).select(*HISTORY_COLUMNS)
    history = history.mutate(changed_at=history.changed_at.cast("timestamp"),
                             close_date=history.close_date.cast("timestamp"), amount=history.amount.cast("float64"),
                             forecast_category=history.forecast_category.cast("string"))
    pipelines = relation.select(_deal=relation.opportunity_id, pipeline=relation.pipeline.cast("string"))
    history = history.left_join(pipelines, history.opportunity_id == pipelines._deal).drop("_deal")
    facts = ibis.memtable(stages[["pipeline", "stage", "position", "is_won", "is_lost", "open_rank"]]
                          .rename(columns=lambda c: f"_s_{c}").astype({"_s_pipeline": "object", "_s_stage": "object"}))
    joined = history.left_join(facts, [history.pipeline == facts._s_pipeline, history.stage == facts._s_stage])
    rows = joined.select(*HISTORY_COLUMNS, "pipeline", open_rank=joined._s_open_rank.cast("float64"),
                         known_stage=joined._s_position.notnull(), is_won=joined._s_is_won.fill_null(False),
                         is_lost=joined._s_is_lost.fill_null(False))
    so_far = ibis.cumulative_window(group_by="opportunity_id", order_by="changed_at")
    ordered = ibis.window(group_by="opportunity_id", order_by="changed_at")
    closed = rows.is_won | rows.is_lost
    rows = rows.mutate(**{f"_n_{c}": rows[c].count().over(so_far) for c in CARRIED},
                       _run=ibis.cases((closed, 0), else_=1).sum().over(so_far),
                       valid_until=rows.changed_at.lead().over(ordered))
    rows = rows.mutate(**{c: rows[c].max().over(ibis.window(group_by=["opportunity_id", f"_n_{c}"]))
                          for c in CARRIED})
    # Known, kept as it is for now: a run of closed rows shares its number with the open row before it, so
    # `closed_since` is that row's time and a close is read from history only for a deal whose history begins
    # closed (every other close comes from the deal row). Taking the minimum over closed rows alone leaves the
    # demo's and Maven's forecasts exactly as they are, but moved the HubSpot sample's backtest errors several-fold
    # (its history has no amounts); which reading is right there needs its own look before the change is made.
    first_of_run = rows.changed_at.min().over(ibis.window(group_by=["opportunity_id", "_run"]))
    rows = rows.mutate(closed_since=ibis.cases((rows.is_won | rows.is_lost, first_of_run),
                                               else_=ibis.null("timestamp")),
                       valid_until=rows.valid_until.fill_null(ibis.literal(OPEN_END.to_pydatetime())))
    return rows.select(*STATE, "changed_at", "valid_until", "pipeline")
