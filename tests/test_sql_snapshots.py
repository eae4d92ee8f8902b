"""The SQL each metric compiles to, per engine, is kept in tests/sql/ so a change of definition shows in review.

When a metric's SQL changes on purpose, `make docs` (or `python -m tests.sql_snapshots --update`) writes the
snapshots again; the diff is the review.
"""

from __future__ import annotations

import pytest
import sqlglot

from cadence.metrics.catalog import build_registry
from tests.sql_snapshots import CANNOT, ENGINES, FOLDER, snapshots

CURRENT = snapshots()


@pytest.mark.parametrize("path", sorted(CURRENT), ids=lambda p: f"{p.parent.name}-{p.stem}")
def test_the_metric_compiles_to_its_snapshot(path: object) -> None:
    assert path.is_file(), f"no snapshot {path}: run `make docs`"  # type: ignore[attr-defined]
    stored = path.read_bytes().decode("utf-8")  # type: ignore[attr-defined]
    assert stored == CURRENT[path], f"{path} changed: run `make docs` and review the diff"  # type: ignore[index]


def test_every_metric_has_a_snapshot_per_engine_and_no_stale_one_is_left() -> None:
    names = set(build_registry().names())
    for engine in ENGINES:
        assert {p.stem for p in (FOLDER / engine).glob("*.sql")} == names, engine


@pytest.mark.parametrize("engine", ENGINES)
def test_each_snapshot_is_sql_of_its_engine(engine: str) -> None:
    """Read back with sqlglot in the engine's dialect: each file parses, and each reads the canonical tables."""
    for path in sorted((FOLDER / engine).glob("*.sql")):
        text = path.read_bytes().decode("utf-8")
        if text.startswith(CANNOT.format(engine=engine)):
            continue  # see the next test
        statements = [s for s in sqlglot.parse(text, read=engine) if s is not None]
        assert statements, path
        tables = {t.name for s in statements for t in s.find_all(sqlglot.exp.Table)}
        assert tables, path


def test_a_metric_an_engine_cannot_run_is_one_needing_an_exact_median() -> None:
    """Ibis 12 has no exact median on BigQuery or Trino; every other metric compiles for every engine, and a
    snapshot that cannot be written says why (so a definition that loses an engine shows up in review)."""
    for path, text in CURRENT.items():
        engine = path.parent.name
        if CANNOT.format(engine=engine) in text:
            assert engine in ("bigquery", "trino") and "'Median'" in text, path
    assert all(CANNOT.format(engine=e) not in CURRENT[FOLDER / e / "win_rate.sql"] for e in ENGINES)
