"""How a table is declared: its columns, their types and checks, its key."""

from __future__ import annotations

from dataclasses import dataclass, field

from cadence.errors import UnknownNameError
from cadence.schema.types import ColumnType


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType
    description: str
    required: bool = False
    allowed: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None


@dataclass(frozen=True)
class DateOrder:
    """`earlier` may not be after `later` when both are present."""

    earlier: str
    later: str


@dataclass(frozen=True)
class Table:
    name: str
    description: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    date_orders: tuple[DateOrder, ...] = ()
    group: str = "go-to-market"
    references: dict[str, str] = field(default_factory=dict)
    # enforced by the database itself (a UNIQUE constraint), for rows only ever inserted, never upserted: two
    # processes racing to insert the same key get one row and one refusal
    unique: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise UnknownNameError(f"column of {self.name}", name, self.column_names)


def _c(name: str, type_: ColumnType, description: str, **checks: object) -> Column:
    return Column(name, type_, description, **checks)  # type: ignore[arg-type]
