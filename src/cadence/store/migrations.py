"""Schema versions: a workspace made by an older Cadence is migrated, never silently broken.

The version lives in the `cadence_meta` table. `migrate()` brings an older warehouse up to
`SCHEMA_VERSION` step by step, one transaction per step; a warehouse from a newer Cadence is refused.

History:
  1 — Cadence 0.0 preview: one pipeline; opportunities had no `pipeline`/`is_closed`; no `stages`
      table; quarantine kept no copy of the refused row.
  2 — pipelines and their stages in the warehouse; `is_closed`; quarantine keeps `row_json`.
  3 — real CRM orgs: `exchange_rates` and `fiscal_periods`; opportunities keep the CRM's forecast
      category, when the CRM last modified them and when a full export no longer held them
      (`deleted_at`); history keeps the forecast category; a lead's `created_at` may be empty.
  4 — saved hiring formulas live in `hiring_fits` (one version per save), no longer in JSON files.
  5 — the web app: `users`, `sessions`, `audit_log`, `snapshots`, `comments`, `deliveries`; `gap_reviews` holds KPI
      actions too (`kind`, `gap`, `recorded_by`, `closed_at`), every earlier review being a tempo one.
  6 — `forecast_calls` (each forecaster's call on a quarter, never overwritten) and `sync_runs` (CRM syncs).
"""

from __future__ import annotations

from collections.abc import Callable

from cadence.errors import WorkspaceError
from cadence.schema import SCHEMA_VERSION
from cadence.schema.app_tables import APP_TABLES
from cadence.schema.ddl import add_column_sql, create_table_sql, quote
from cadence.schema.tables import SYSTEM_TABLES, TABLES, table_named
from cadence.store.warehouse import META, Warehouse

# Columns that version 1 did not have, per table; used to build a version-1 warehouse in tests
# and to document what step 1 -> 2 adds.
ADDED_IN_2: dict[str, tuple[str, ...]] = {
    "opportunities": ("pipeline", "is_closed"),
    "quarantine": ("row_json",),
}
TABLES_ADDED_IN_2 = ("stages",)


def schema_version(warehouse: Warehouse) -> int | None:
    """The warehouse's schema version, or None when it holds no Cadence schema at all."""
    if META not in warehouse.table_names():
        return None
    rows = warehouse.query(f"SELECT value FROM {META} WHERE key = 'schema_version'")
    return int(rows[0][0]) if rows else None


def _set_version(warehouse: Warehouse, version: int) -> None:
    warehouse.execute(f"DELETE FROM {META} WHERE key = 'schema_version'")
    warehouse.execute(f"INSERT INTO {META} (key, value) VALUES ('schema_version', $1)", (str(version),))


def create_schema(warehouse: Warehouse) -> None:
    """Create every table at the current version (fresh warehouse)."""
    with warehouse.transaction():
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {META} (key VARCHAR, value VARCHAR)")
        for table in TABLES + SYSTEM_TABLES:
            warehouse.execute(create_table_sql(table, warehouse.dialect))
        _set_version(warehouse, SCHEMA_VERSION)


def create_version_1(warehouse: Warehouse) -> None:
    """The version-1 layout, exactly as Cadence 0.0 wrote it (kept to test the migration)."""
    with warehouse.transaction():
        warehouse.execute(f"CREATE TABLE IF NOT EXISTS {META} (key VARCHAR, value VARCHAR)")
        for table in TABLES + SYSTEM_TABLES:
            if table.name in TABLES_ADDED_IN_2:
                continue
            if table.name in ("exchange_rates", "fiscal_periods") or table.name in TABLES_ADDED_IN_4:
                continue
            if table in APP_TABLES:
                continue
            ddl = create_table_sql(table, warehouse.dialect)
            for column in (ADDED_IN_2.get(table.name, ()) + ADDED_IN_3.get(table.name, ())
                           + ADDED_IN_5.get(table.name, ())):
                ddl = "\n".join(line for line in ddl.splitlines() if not line.strip().startswith(quote(column)))
                ddl = ddl.replace(",\n)", "\n)")
            warehouse.execute(ddl)
        _set_version(warehouse, 1)


def _one_to_two(warehouse: Warehouse) -> None:
    stages = next(t for t in TABLES if t.name == "stages")
    warehouse.execute(create_table_sql(stages, warehouse.dialect))
    for table_name, columns in ADDED_IN_2.items():
        table = next(t for t in TABLES + SYSTEM_TABLES if t.name == table_name)
        present = set(warehouse.column_names(table_name))
        for column in columns:
            if column not in present:
                warehouse.execute(add_column_sql(table, column, warehouse.dialect))
    warehouse.execute("UPDATE opportunities SET pipeline = 'default' WHERE pipeline IS NULL")
    warehouse.execute(
        "UPDATE opportunities SET is_closed = (is_won OR closed_at IS NOT NULL) WHERE is_closed IS NULL"
    )


ADDED_IN_3: dict[str, tuple[str, ...]] = {
    "opportunities": ("forecast_category", "modified_at", "deleted_at"),
    "opportunity_history": ("forecast_category",),
}


def _two_to_three(warehouse: Warehouse) -> None:
    for table_name, columns in ADDED_IN_3.items():
        table = next(t for t in TABLES if t.name == table_name)
        present = set(warehouse.column_names(table_name))
        for column in columns:
            if column not in present:
                warehouse.execute(add_column_sql(table, column, warehouse.dialect))


TABLES_ADDED_IN_4 = ("hiring_fits",)


def _three_to_four(warehouse: Warehouse) -> None:
    for table in TABLES:
        if table.name in TABLES_ADDED_IN_4:
            warehouse.execute(create_table_sql(table, warehouse.dialect))


ADDED_IN_5: dict[str, tuple[str, ...]] = {"gap_reviews": ("kind", "gap", "recorded_by", "closed_at")}


def _four_to_five(warehouse: Warehouse) -> None:
    for table in APP_TABLES:
        if table.name not in TABLES_ADDED_IN_6:
            warehouse.execute(create_table_sql(table, warehouse.dialect))
    reviews = table_named("gap_reviews")
    present = set(warehouse.column_names("gap_reviews"))
    for column in ADDED_IN_5["gap_reviews"]:
        if column not in present:
            warehouse.execute(add_column_sql(reviews, column, warehouse.dialect))


TABLES_ADDED_IN_6 = ("forecast_calls", "sync_runs")


def _five_to_six(warehouse: Warehouse) -> None:
    for name in TABLES_ADDED_IN_6:
        warehouse.execute(create_table_sql(table_named(name), warehouse.dialect))


def _tempo_reviews(warehouse: Warehouse) -> None:
    warehouse.execute("UPDATE gap_reviews SET kind = 'tempo' WHERE kind IS NULL")


STEPS: dict[int, Callable[[Warehouse], None]] = {1: _one_to_two, 2: _two_to_three, 3: _three_to_four,
                                                 4: _four_to_five, 5: _five_to_six}
# data changes that must come in a transaction after their step's ALTERs (DuckDB refuses both in one)
AFTER: dict[int, Callable[[Warehouse], None]] = {4: _tempo_reviews}


def migrate(warehouse: Warehouse) -> list[int]:
    """Bring the warehouse to SCHEMA_VERSION; returns the versions it passed through."""
    version = schema_version(warehouse)
    if version is None:
        create_schema(warehouse)
        return []
    if version > SCHEMA_VERSION:
        raise WorkspaceError(
            f"this warehouse was written by a newer Cadence (schema {version}; this one knows {SCHEMA_VERSION})",
            location=None,
            hint="upgrade Cadence: pip install -U cadence",
        )
    passed = []
    # one transaction per step (DuckDB refuses a commit that alters a table twice and updates it): a
    # warehouse is always at some whole version, and the version is written with the step that reached it
    while version < SCHEMA_VERSION:
        with warehouse.transaction():
            STEPS[version](warehouse)
            if version not in AFTER:
                _set_version(warehouse, version + 1)
        if version in AFTER:
            with warehouse.transaction():
                AFTER[version](warehouse)
                _set_version(warehouse, version + 1)
        version += 1
        passed.append(version)
    with warehouse.transaction():
        for table in TABLES + SYSTEM_TABLES:  # tables new in this release are simply created
            warehouse.execute(create_table_sql(table, warehouse.dialect))
    return passed
