"""The warehouse: the only place that knows about database connections."""

from cadence.store.warehouse import Warehouse, connect

__all__ = ["Warehouse", "connect"]
