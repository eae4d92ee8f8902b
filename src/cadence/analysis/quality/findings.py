"""What a data-quality check reports, and the one helper every row-level check shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    import ibis.expr.types as ir

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"error": 0, "warning": 1, "info": 2}
MAX_EXAMPLES = 5


class TableSource(Protocol):
    """Anything that hands out canonical tables as Ibis expressions; the Workspace is one."""

    def table(self, name: str) -> ir.Table: ...


@dataclass(frozen=True)
class Finding:
    """One problem found in the data: how bad, how many rows, what it means, and where to look.

    severity: `error` — figures are wrong because of it (rows drop out of joins, impossible dates);
    `warning` — figures are doubtful until someone fixes it; `info` — worth knowing.
    """

    check: str
    severity: Severity
    count: int
    message: str
    examples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"severity": self.severity, "check": self.check, "count": self.count,
                "message": self.message, "examples": list(self.examples)}


def sort_findings(findings: list[Finding]) -> list[Finding]:
    """Errors first, then warnings, then information; within each, the largest count first."""
    return sorted(findings, key=lambda f: (SEVERITY_ORDER[f.severity], -f.count, f.check, f.message))


def count_rows(table: ir.Table) -> int:
    return int(table.count().execute())


def rows_finding(rows: ir.Table, id_column: str, *, check: str, severity: Severity,
                 message: Callable[[int], str], order_by: Any = None) -> list[Finding]:
    """A finding over `rows` (one row per offending id), or none when there are no rows.

    `message` is written from the count; examples are the first ids by `order_by` (default: the id).
    """
    count = count_rows(rows)
    if count == 0:
        return []
    ordered = rows.order_by(order_by if order_by is not None else [rows[id_column]])
    examples = ordered.limit(MAX_EXAMPLES).select(id_column).to_pandas()[id_column]
    return [Finding(check, severity, count, message(count), [str(e) for e in examples])]

