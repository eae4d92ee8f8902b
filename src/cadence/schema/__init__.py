"""The canonical schema: the contract between ingest and everything else.

Each table's columns, types and checks are declared once in `tables.py` and used for
validation (`validate.py`), DDL (`ddl.py`) and the generated reference (`reference.py`).
"""

from cadence.schema.model import Column, DateOrder, Table
from cadence.schema.tables import TABLES, table_named

SCHEMA_VERSION = 6

__all__ = ["SCHEMA_VERSION", "TABLES", "Column", "DateOrder", "Table", "table_named"]
