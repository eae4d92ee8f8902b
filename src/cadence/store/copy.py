"""Copying a workspace's warehouse to another engine (`cadence copy --to DIR`): every table, in chunks.

The target is a workspace made by `cadence init DIR --warehouse URL` on any engine. Its schema version must be
the source's, and it must hold no data of its own unless `replace` is given (what opening a workspace writes
from its cadence.yml, its pipelines' stages and exchange rates, does not count). Every table is emptied and
filled in one transaction on the target, a chunk of rows at a time (memory stays flat however large the source),
so a copy that fails leaves the target as it was. Each table is then counted in the target: the reconciliation.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from cadence.errors import WarehouseError, WorkspaceError
from cadence.schema.ddl import quote
from cadence.schema.tables import SYSTEM_TABLES, TABLES, Table
from cadence.store.migrations import schema_version
from cadence.store.warehouse import Warehouse

CHUNK_ROWS = 100_000
FROM_CONFIG = frozenset({"stages", "exchange_rates"})  # written on every open from cadence.yml


@dataclass(frozen=True)
class Copied:
    rows_copied: int
    rows_in_target: int

    def as_dict(self) -> dict[str, int]:
        return {"rows_copied": self.rows_copied, "rows_in_target": self.rows_in_target}


def copy_tables() -> tuple[Table, ...]:
    """Every table a workspace keeps: canonical, reference, system and the web app's."""
    return TABLES + SYSTEM_TABLES


def check_target(source: Warehouse, target: Warehouse, *, replace: bool) -> None:
    """Refuse a target of another schema version, or one holding data of its own (unless `replace`)."""
    mine, theirs = schema_version(source), schema_version(target)
    if theirs is None:
        raise WorkspaceError(f"the target warehouse {target.location} holds no Cadence schema",
                             hint="create it with `cadence init DIR --warehouse URL` first")
    if mine != theirs:
        raise WorkspaceError(f"the target warehouse {target.location} is at schema {theirs}, this one at {mine}",
                             hint="open both with the same Cadence (`cadence --workspace DIR summary` migrates one)")
    if replace:
        return
    holding = [t.name for t in copy_tables() if t.name not in FROM_CONFIG and target.count(t.name)]
    if holding:
        raise WorkspaceError(f"the target warehouse {target.location} already holds data (in "
                             f"{', '.join(holding[:4])}{', …' if len(holding) > 4 else ''})",
                             hint="pass --replace to empty it first, or copy into a new workspace")


def copy_warehouse(source: Warehouse, target: Warehouse, *, replace: bool = False,
                   chunk_rows: int = CHUNK_ROWS) -> dict[str, Copied]:
    """Copy every table of `source` into `target` (emptied first), in one transaction on the target."""
    check_target(source, target, replace=replace)
    copied: dict[str, int] = {}
    with target.transaction():
        for table in copy_tables():
            target.execute(f"DELETE FROM {quote(table.name)}")
            copied[table.name] = sum(target.append(table, chunk) for chunk in chunks(source, table, chunk_rows))
    return {name: Copied(rows, target.count(name)) for name, rows in copied.items()}


def chunks(source: Warehouse, table: Table, chunk_rows: int) -> Any:
    """The table's rows as pandas frames of at most `chunk_rows` rows, streamed from the source engine."""
    present = set(source.column_names(table.name))
    missing = [c for c in table.column_names if c not in present]
    if missing:
        raise WarehouseError(f"the source table {table.name} has no column {missing[0]}",
                             hint="open the source workspace once with this Cadence to migrate it")
    relation = source.table(table.name).select(*table.column_names)
    with warnings.catch_warnings():  # Ibis 12 streams from DuckDB through a call DuckDB 1.5 deprecates
        warnings.filterwarnings("ignore", message="fetch_record_batch", category=DeprecationWarning)
        reader = relation.to_pyarrow_batches(chunk_size=chunk_rows)
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            if batch.num_rows:
                yield batch.to_pandas()
