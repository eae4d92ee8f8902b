"""CREATE TABLE statements generated from the declarations, per SQL dialect.

Keys are enforced by Cadence (validation and upsert), not by database constraints: DuckDB's
index constraints reject a delete-then-insert of the same key inside one transaction.
"""

from __future__ import annotations

from cadence.schema.tables import Table


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def create_table_sql(table: Table, dialect: str) -> str:
    columns = ",\n  ".join(f"{quote(c.name)} {c.type.sql(dialect)}" for c in table.columns)
    if table.unique:
        columns += f",\n  UNIQUE ({', '.join(quote(c) for c in table.unique)})"
    return f"CREATE TABLE IF NOT EXISTS {quote(table.name)} (\n  {columns}\n)"


def add_column_sql(table: Table, column_name: str, dialect: str) -> str:
    column = table.column(column_name)
    return f"ALTER TABLE {quote(table.name)} ADD COLUMN {quote(column.name)} {column.type.sql(dialect)}"
