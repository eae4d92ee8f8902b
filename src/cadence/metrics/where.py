"""`--where` filters: a small SQL predicate translated to an Ibis expression over a relation.

Supports comparisons (= != <> < <= > >=), IN, BETWEEN, IS [NOT] NULL, LIKE, AND/OR/NOT and
literals; columns are checked against the relation so a typo gets "did you mean …?". Parsing
with sqlglot and building Ibis (instead of pasting text into SQL) keeps it portable and safe.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlglot
from sqlglot import expressions as exp

from cadence.errors import CadenceError, InputError, UnknownNameError


class FilterError(InputError):
    """A --where expression Cadence cannot read."""


def _literal(node: Any) -> Any:
    if isinstance(node, exp.Literal):
        if node.is_string:
            return node.this
        text = node.this
        return float(text) if any(c in text for c in ".eE") else int(text)
    if isinstance(node, exp.Boolean):
        return bool(node.this)
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Neg):
        value = _literal(node.this)
        return -value
    raise FilterError(f"expected a value, found {node.sql()!r}")


def _translate(node: Any, table: Any) -> Any:
    if isinstance(node, exp.Paren):
        return _translate(node.this, table)
    if isinstance(node, exp.Column):
        name = node.name
        if name not in table.columns:
            raise UnknownNameError("column", name, list(table.columns))
        return table[name]
    if isinstance(node, exp.And):
        return _translate(node.left, table) & _translate(node.right, table)
    if isinstance(node, exp.Or):
        return _translate(node.left, table) | _translate(node.right, table)
    if isinstance(node, exp.Not):
        return ~_translate(node.this, table)
    if isinstance(node, exp.Is):
        column = _translate(node.this, table)
        return column.isnull()
    if isinstance(node, exp.In):
        column = _translate(node.this, table)
        return column.isin([_value_for(column, node.this, v) for v in node.expressions])
    if isinstance(node, exp.Between):
        column = _translate(node.this, table)
        return column.between(_value_for(column, node.this, node.args["low"]),
                              _value_for(column, node.this, node.args["high"]))
    if isinstance(node, exp.Like):
        return _translate(node.this, table).like(_literal(node.expression))
    comparisons = {exp.EQ: "__eq__", exp.NEQ: "__ne__", exp.LT: "__lt__", exp.LTE: "__le__",
                   exp.GT: "__gt__", exp.GTE: "__ge__"}
    for kind, method in comparisons.items():
        if isinstance(node, kind):
            left, right = node.left, node.right
            lhs = _translate(left, table) if isinstance(left, exp.Column) else _literal(left)
            rhs = _translate(right, table) if isinstance(right, exp.Column) else _literal(right)
            if isinstance(left, exp.Column) and not isinstance(right, exp.Column):
                rhs = _value_for(lhs, left, right)
            elif isinstance(right, exp.Column) and not isinstance(left, exp.Column):
                lhs = _value_for(rhs, right, left)
            if not isinstance(left, exp.Column):
                lhs, rhs = rhs, lhs
                method = {"__lt__": "__gt__", "__gt__": "__lt__", "__le__": "__ge__",
                          "__ge__": "__le__"}.get(method, method)
            return getattr(lhs, method)(rhs)
    if isinstance(node, exp.Boolean):
        return node.this
    raise FilterError(f"cannot filter on {node.sql()!r}",
                      hint="use comparisons, IN, BETWEEN, IS NULL, LIKE, AND, OR, NOT")


def _value_for(column: Any, column_node: Any, node: Any) -> Any:
    """The literal `node` as a value of `column`'s type: `amount > 'x'` is refused here, naming both,
    instead of failing inside the warehouse."""
    value = _literal(node)
    if value is None or not isinstance(value, str):
        return value
    kind = column.type()
    name = column_node.name
    try:
        if kind.is_numeric():
            return float(value) if any(c in value for c in ".eE") else int(value)
        if kind.is_date():
            return date.fromisoformat(value.strip())
        if kind.is_timestamp():
            return datetime.fromisoformat(value.strip())
    except ValueError:
        expected = "a number" if kind.is_numeric() else "a date like 2024-06-30"
        raise FilterError(f"--where: {name} is {expected}, and {value!r} is not",
                          hint=f"compare {name} with {expected}, e.g. {name} > "
                               f"{'1000' if kind.is_numeric() else repr('2024-06-30')}") from None
    return value


def parse_where(text: str, table: Any) -> Any:
    """The Ibis boolean expression for `text` over `table`."""
    try:
        tree = sqlglot.parse_one(text)
    except (sqlglot.errors.ParseError, sqlglot.errors.TokenError) as exc:  # an unclosed quote is a TokenError
        raise FilterError(f"cannot read --where {text!r}: {str(exc).splitlines()[0]}") from None
    try:
        return _translate(tree, table)
    except CadenceError:
        raise
    except Exception as exc:  # an operation the column's type does not have (ibis raises its own errors)
        raise FilterError(f"cannot filter with --where {text!r}: {str(exc).splitlines()[0]}",
                          hint="compare a column with a value of its type") from None
