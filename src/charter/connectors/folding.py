"""How identities compare in SQL, as people expect: e-mail trimmed and lower-cased, a phone by its digits.

The SQL side of ``connectors.base.matching`` (which folds the values the same way), the functional index
that serves it on each dialect (``charter datamap check --live`` prints it), and reading a table's indexes
back as text to tell whether one does. Issue 11, finding 2; docs/design/proven-requests.md.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, func, literal_column

from charter.connectors.base import PHONE_MARKS, Match

#: What folding an e-mail trims from both ends, as each dialect writes it: spaces, tabs and line ends (a CSV
#: import leaves a ``\r``). Written as SQL literals, never bound: a functional index serves a query only when
#: the query's expression is the index's own, constants included (``folded_index`` writes that index).
_PG_BLANKS = "E' \\t\\n\\r'"
_SQLITE_BLANKS = "' ' || char(9) || char(10) || char(13)"
_LINE_MARKS = ("char(9)", "char(10)", "char(13)")


def _dialect(name: str) -> str:
    return "mysql" if name in ("mysql", "mariadb") else name


def compared(column: ColumnElement[Any], match: Match, dialect: str = "sqlite") -> ColumnElement[Any]:
    """The column as an identity of kind ``match`` is compared: the e-mail trimmed of spaces, tabs and line
    ends and lower-cased, a phone by its digits alone (spaces, dashes, dots, brackets, ``/`` and ``+`` removed by
    nested REPLACE: every dialect has it, where a regular-expression replace is not in SQLite). Both sides get
    the same folding (:func:`matching`). An index on the bare column does not serve these:
    ``charter datamap check --live`` names the functional index (:func:`folded_index`) where a store lacks one."""
    empty: ColumnElement[Any] = literal_column("''")
    if match == "email":
        kind = _dialect(dialect)
        if kind == "postgresql":
            return func.lower(func.btrim(column, literal_column(_PG_BLANKS)))
        if kind == "mysql":  # TRIM removes one string: tabs and line ends go first (never inside an address)
            folded: ColumnElement[Any] = column
            for mark in _LINE_MARKS:
                folded = func.replace(folded, literal_column(mark), empty)
            return func.lower(func.trim(folded))
        return func.lower(func.trim(column, literal_column(_SQLITE_BLANKS)))
    if match == "phone":
        digits: ColumnElement[Any] = column
        for mark in PHONE_MARKS:
            digits = func.replace(digits, literal_column(_quoted(mark)), empty)
        return digits
    return column


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def folded_index(dialect: str, table: str, column: str, match: Match) -> str | None:
    """The CREATE INDEX that serves :func:`compared` for ``match`` on this dialect (None: MariaDB cannot)."""
    kind = _dialect(dialect)
    if kind == "mysql":
        return None
    if match == "email":
        blanks = _PG_BLANKS if kind == "postgresql" else _SQLITE_BLANKS
        trim = "btrim" if kind == "postgresql" else "trim"
        return f"CREATE INDEX ON {table} (lower({trim}({column}, {blanks})))"
    folded = column
    for mark in PHONE_MARKS:
        folded = f"replace({folded}, {_quoted(mark)}, '')"
    return f"CREATE INDEX ON {table} ({folded})"


def indexes_of(conn: Connection, inspector: Any, table: str, schema: str | None) -> tuple[str, ...]:
    """The table's indexes as text (``LiveCollection.indexes``). SQLAlchemy does not reflect SQLite's
    expression indexes (it skips them with a warning): there, the index's own SQL is read from the catalog."""
    if conn.dialect.name == "sqlite":
        catalog = f'"{schema}".sqlite_master' if schema else "sqlite_master"
        rows = conn.exec_driver_sql(
            f"SELECT sql FROM {catalog} WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",  # noqa: S608
            (table,),
        ).scalars()
        return tuple(_squeeze(sql[sql.index("(") + 1 : sql.rindex(")")]) for sql in rows if "(" in sql)
    return tuple(_index_text(ix) for ix in inspector.get_indexes(table, schema=schema))


def _squeeze(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch not in ' "`').replace("::text", "")


def _index_text(index: Any) -> str:
    """An index as text (see ``LiveCollection.indexes``): its expressions where the dialect reports them
    (PostgreSQL, SQLite), else its columns."""
    parts = index.get("expressions") or index.get("column_names") or []
    text = ",".join(str(p) for p in parts if p is not None)
    return "".join(ch for ch in text.lower() if ch not in ' "`').replace("::text", "")
