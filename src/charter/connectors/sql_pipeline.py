"""Several reads in one round trip: psycopg's pipeline mode, on PostgreSQL.

A run reads a layer of its discovery (five child tables that all wait for the customer's ids) and its
verifications (one query per erased collection) one statement after another: each a round trip, most of it
waiting. PostgreSQL can take them all at once (psycopg's pipeline mode). The statements are SQLAlchemy's own
(``sql_statements.any_of``, compiled for the dialect once per shape); the values go through the bind
processors and the rows through the result processors SQLAlchemy would apply, chosen by the column's type and
the type the server reports, so a row read here is the row ``SqlConnector.find`` would return. Anything that
goes wrong returns None and the caller reads one by one, which reports the error as it always has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table

from charter.connectors.base import Hit, Read
from charter.connectors.sql_statements import FLAG
from charter.db.pipeline import sql_and_params

if TYPE_CHECKING:
    from charter.connectors.sql import SqlConnector

Processor = Callable[[Any], Any] | None


def pipelined_reads(connector: SqlConnector, reads: Sequence[Read]) -> list[list[Hit]] | None:
    """Each read's hits, every statement sent before the first answer is awaited; None if the store is not
    PostgreSQL through psycopg, or if anything fails."""
    dialect = connector.engine.dialect
    if dialect.name != "postgresql" or dialect.driver != "psycopg" or len(reads) < 2:
        return None
    try:
        sent: list[tuple[int, Table, str, dict[str, Any]]] = []
        for n, read in enumerate(reads):
            table = connector._table(read.collection, read.schema)
            for statement, values in connector.searches(table, read.collection, read.wanted):
                sql, params = _compiled(table, statement, values, dialect)
                sent.append((n, table, sql, params))
        out: list[list[Hit]] = [[] for _ in reads]
        with connector._reading() as conn:
            raw = conn.connection.dbapi_connection
            assert raw is not None
            cursors = []
            with raw.pipeline():
                for n, table, sql, params in sent:
                    cursor = raw.cursor()
                    cursor.execute(sql, params)
                    cursors.append((n, table, cursor))
            encoding = raw.info.encoding  # the client encoding's Python codec: how libpq's names are spelt
            for n, table, cursor in cursors:
                rows = cursor.fetchall()
                result = cursor.pgresult  # names and type oids straight from libpq: ``description`` builds objects
                assert result is not None
                described = [(result.fname(i).decode(encoding), result.ftype(i)) for i in range(result.nfields)]
                columns = [
                    (i, name, _result(table, name, code, dialect))
                    for i, (name, code) in enumerate(described)
                    if not name.startswith(FLAG)
                ]
                flags = [(i, int(name[len(FLAG) :])) for i, (name, _) in enumerate(described) if name.startswith(FLAG)]
                for row in rows:
                    values = {name: (row[i] if process is None else process(row[i])) for i, name, process in columns}
                    out[n].append((values, frozenset(flag for i, flag in flags if row[i])))
                cursor.close()
        return out
    except Exception:  # noqa: BLE001 - whatever failed, reading one by one reports it as it always has
        connector._drop_reader()
        return None


def _compiled(table: Table, statement: Any, values: dict[str, Any], dialect: Any) -> tuple[str, dict[str, Any]]:
    """The statement's SQL and parameters as SQLAlchemy would send them (compiled once per shape, kept in the
    table's ``info``: a table reflected again brings statements of its own)."""
    return sql_and_params(statement, values, dialect, table.info.setdefault("charter.compiled", {}))


def _result(table: Table, name: str, type_code: Any, dialect: Any) -> Processor:
    """The result processor SQLAlchemy applies to this column for the type the server reported (None for the
    flag columns, booleans as psycopg gives them)."""
    if name.startswith(FLAG) or name not in table.c:
        return None
    chosen: dict[tuple[str, Any], Processor] = table.info.setdefault("charter.result_processors", {})
    if (name, type_code) not in chosen:  # once per table, column and server type (the table lives in the cache)
        chosen[(name, type_code)] = table.c[name].type.dialect_impl(dialect).result_processor(dialect, type_code)
    return chosen[(name, type_code)]
