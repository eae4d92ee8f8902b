"""One definition, one answer: every metric gives identical results on DuckDB, PostgreSQL and a local Spark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import cadence
from cadence.ingest import CanonicalFrame, ImportBatch, SourceFile
from cadence.ingest.prepare import prepare
from cadence.workspace import Workspace, init_workspace
from tests.spark_env import require_spark


def _frames(seed: int = 3) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 400
    created = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 700, n), unit="D")
    cycle = pd.to_timedelta(rng.integers(5, 200, n), unit="D")
    stage = rng.choice(["Closed Won", "Closed Lost", "Demo", "Proposal"], n, p=[0.3, 0.3, 0.2, 0.2])
    closed = np.where(np.isin(stage, ["Closed Won", "Closed Lost"]), (created + cycle).astype(str), None)
    deals = pd.DataFrame(
        {
            "opportunity_id": [f"o{i}" for i in range(n)],
            "account_id": [f"a{i % 50}" for i in range(n)],
            "owner_id": [f"p{i % 7}" for i in range(n)],
            "stage": stage,
            "amount": rng.integers(1_000, 90_000, n).astype(str),
            "created_at": created.astype(str),
            "closed_at": closed,
            "close_date": (created + cycle).strftime("%Y-%m-%d"),
            "kind": rng.choice(["new", "expansion"], n),
        }
    )
    accounts = pd.DataFrame(
        {
            "account_id": [f"a{i}" for i in range(50)],
            "name": [f"Acme {i}" for i in range(50)],
            "segment": rng.choice(["enterprise", "smb"], 50),
        }
    )
    people = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(7)],
            "name": [f"Rep {i}" for i in range(7)],
            "team": ["East", "West"] * 3 + ["East"],
        }
    )
    starts = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 20, 80) * 31, unit="D")
    starts = starts.to_period("M").to_timestamp()
    ends = [
        None if rng.random() < 0.4 else (s + pd.DateOffset(months=int(rng.integers(1, 12)))).date().isoformat()
        for s in starts
    ]
    subs = pd.DataFrame(
        {
            "subscription_id": [f"s{i}" for i in range(80)],
            "account_id": [f"a{i % 30}" for i in range(80)],
            "mrr": rng.integers(100, 900, 80).astype(str),
            "started_at": starts.strftime("%Y-%m-%d"),
            "ended_at": ends,
        }
    )
    activities = pd.DataFrame(
        {
            "activity_id": [f"x{i}" for i in range(600)],
            "person_id": [f"p{i % 7}" for i in range(600)],
            "kind": rng.choice(["call", "email", "demo"], 600),
            "occurred_at": (pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 600, 600), unit="D")).astype(
                str
            ),
        }
    )
    return {
        "opportunities": deals,
        "accounts": accounts,
        "people": people,
        "subscriptions": subs,
        "activities": activities,
    }


def _load(ws: Workspace) -> None:
    frames, files = [], []
    for table, frame in _frames().items():
        frame = frame.assign(_line=range(2, len(frame) + 2))
        frames.append(CanonicalFrame(table, frame, f"{table}.csv"))
        files.append(SourceFile(f"{table}.csv", len(frame)))
    prepared = prepare(ImportBatch("csv", files, frames), ws.stages())
    assert prepared.quarantined == 0, prepared.quarantine.to_dict("records")[:3]
    ws.load(prepared)


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    ws = cadence.open(init_workspace(Path(tmp_path_factory.mktemp("engines")) / "duck"))
    _load(ws)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def postgres(tmp_path_factory: pytest.TempPathFactory, postgres_server: object) -> Iterator[Workspace]:
    url = postgres_server.create_database("cadence_engines")  # type: ignore[attr-defined]
    ws = cadence.open(init_workspace(Path(tmp_path_factory.mktemp("engines")) / "pg", warehouse=url))
    _load(ws)
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    require_spark()
    ws = cadence.open(init_workspace(Path(tmp_path_factory.mktemp("engines")) / "spark", warehouse="spark://local"))
    _load(ws)
    yield ws
    ws.close()


ENGINES = [pytest.param("postgres", marks=pytest.mark.postgres),
           pytest.param("spark", marks=[pytest.mark.spark, pytest.mark.slow])]


CASES = [
    ("bookings", (), "quarter", None),
    ("bookings", ("segment",), "month", None),
    ("win_rate", ("team",), "quarter", None),
    ("win_rate_amount", (), "year", None),
    ("average_deal_size", (), "quarter", "kind = 'new'"),
    ("sales_cycle", ("segment",), "quarter", None),
    ("pipeline_created", (), "week", None),
    ("open_pipeline", (), "month", None),
    ("sales_velocity", (), "quarter", None),
    ("activities_per_rep_day", ("team",), "month", None),
    ("mrr", ("segment",), "month", None),
    ("new_mrr", (), "quarter", None),
    ("churned_mrr", (), "month", None),
    ("net_revenue_retention", (), "month", None),
    ("gross_revenue_retention", (), "quarter", None),
    ("logo_churn", (), "quarter", None),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("name", "by", "grain", "where"), CASES)
def test_same_answer_on_duckdb_postgres_and_spark(
    duck: Workspace, request: pytest.FixtureRequest, engine: str, name: str, by: tuple[str, ...], grain: str,
    where: str | None
) -> None:
    other: Workspace = request.getfixturevalue(engine)
    expected, got = (ws.metric(name, by=by, grain=grain, where=where) for ws in (duck, other))  # type: ignore[arg-type]
    assert len(expected) > 0
    pd.testing.assert_frame_equal(expected.reset_index(drop=True), got.reset_index(drop=True), check_dtype=False,
                                  rtol=1e-9)
