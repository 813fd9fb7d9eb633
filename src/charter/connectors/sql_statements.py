"""The statements the SQL connector sends, built once per reflected table and kept in its ``info``.

A fetch, a delete and a verification's search compare a column to a bound list of values, as identities are
compared (``folding.compared``). On PostgreSQL the list goes as one array, ``column = ANY(:values)``: the same SQL
text whatever the number of values, so psycopg prepares it once per connection instead of the server parsing
and planning every statement; other dialects expand ``IN (…)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, Column, ColumnElement, Enum, Select, String, Table, any_, bindparam, or_, select

from charter.connectors.base import Match
from charter.connectors.folding import compared

#: the label of a search's "which condition matched" columns (``find``): no table's column is named like it
FLAG = "charter__matched_"


def by_values(table: Table, field: str, dialect: str, verb: Callable[[Table], Any], match: Match = "exact") -> Any:
    """``SELECT``/``DELETE … WHERE field IN (:values)``, built once per reflected table, verb and field (kept
    in the table's ``info``, so it lives as long as the schema cache keeps the table)."""
    built: dict[tuple[str, str, str], Any] = table.info.setdefault("charter.by_values", {})
    key = (verb.__name__, field, match)
    statement = built.get(key)
    if statement is None:
        statement = built[key] = verb(table).where(among(table.c[field], dialect, match))
    return statement


def any_of(table: Table, dialect: str, conditions: Sequence[tuple[int, str, Match]]) -> Select[Any]:
    """``SELECT *, (c0) AS flag0, (c1) AS flag1 … WHERE c0 OR c1 …``: rows matching any of several conditions,
    each saying which it matched, in one round trip. Condition ``i`` binds ``:values_i``."""
    built: dict[tuple[tuple[int, str, str], ...], Select[Any]] = table.info.setdefault("charter.any_of", {})
    key = tuple(conditions)
    statement = built.get(key)
    if statement is None:
        tests = [(i, among(table.c[field], dialect, match, name=f"values_{i}")) for i, field, match in conditions]
        statement = built[key] = select(table, *(test.label(f"{FLAG}{i}") for i, test in tests)).where(
            or_(*(test for _, test in tests))
        )
    return statement


def among(column: Column[Any], dialect: str, match: Match = "exact", *, name: str = "values") -> ColumnElement[bool]:
    """``column`` (as :func:`compared` makes it) is one of the bound list ``:name``."""
    left = compared(column, match, dialect)
    if dialect == "postgresql":
        kind = column.type if match == "exact" else String()
        return left == any_(bindparam(name, type_=ARRAY(kind)))
    return left.in_(bindparam(name, expanding=True))


def coerce(column: Column[Any], value: Any) -> Any:
    """An ISO text back to the date or datetime the column holds (outcomes travel as JSON)."""
    if not isinstance(value, str):
        return value
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is datetime:
        return datetime.fromisoformat(value)
    if python_type is date:
        return date.fromisoformat(value[:10])
    return value


def type_name(type_: Any) -> str:
    if isinstance(type_, Enum):
        return "enum"  # PostgreSQL's would render as varchar(n), n its longest label
    try:
        return str(type_).lower()
    except Exception:  # noqa: BLE001 - some dialect types cannot render without a dialect; the class name will do
        return type(type_).__name__.lower()
