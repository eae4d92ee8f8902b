"""The handful of logical column types the canonical schema uses, and their SQL spellings."""

from __future__ import annotations

from enum import StrEnum


class ColumnType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    FLOAT = "float"
    MONEY = "money"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"

    def sql(self, dialect: str) -> str:
        """DDL type for `dialect` ('duckdb' or 'postgres')."""
        return _SQL[self][dialect]


_SQL: dict[ColumnType, dict[str, str]] = {
    ColumnType.STRING: {"duckdb": "VARCHAR", "postgres": "TEXT"},
    ColumnType.INTEGER: {"duckdb": "BIGINT", "postgres": "BIGINT"},
    ColumnType.FLOAT: {"duckdb": "DOUBLE", "postgres": "DOUBLE PRECISION"},
    ColumnType.MONEY: {"duckdb": "DECIMAL(18,2)", "postgres": "NUMERIC(18,2)"},
    ColumnType.BOOLEAN: {"duckdb": "BOOLEAN", "postgres": "BOOLEAN"},
    ColumnType.DATE: {"duckdb": "DATE", "postgres": "DATE"},
    ColumnType.TIMESTAMP: {"duckdb": "TIMESTAMP", "postgres": "TIMESTAMP"},
}
