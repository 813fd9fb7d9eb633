"""A unit's writes in one round trip on PostgreSQL: queued as they come, sent together before the unit commits.

An erasure batch on one store is a DELETE or UPDATE per collection (eleven on the bench's shape), each a round
trip of its own although nothing waits for its answer but a row count. Written by primary key, that count is
known before the statement is sent: the rows the discovery found, one per key. So a unit opened ``queued``
(``SqlConnector.begin(queued=True)``) queues each such write with the count it must have, answers that count at
once, and sends them all in one psycopg pipeline at its commit. If any count differs (a row deleted or added by
someone else since the discovery), nothing is committed: :class:`~charter.connectors.base.Miscounted` is raised,
the unit is rolled back, and the runner writes the batch again one statement at a time, with the counts the store
gives (``performing.BatchRunner._write_together``). A write whose count is not known in advance (not by the
table's one primary key) first sends what is queued, then goes alone, as before.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Column, Connection, Table
from sqlalchemy.exc import DBAPIError

from charter.connectors.base import Miscounted
from charter.db.pipeline import sql_and_params


def by_key(table: Table, column: Column[Any]) -> bool:
    """Is ``column`` the table's one primary key (so a write by it changes one row per value at most)?"""
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and keys[0].name == column.name


class QueuedWrites:
    """Writes of one unit waiting to go together (PostgreSQL through psycopg only: :func:`possible`)."""

    def __init__(self, system_id: str, connection: Connection) -> None:
        self.system_id = system_id
        self._connection = connection
        self._queued: list[tuple[str, list[dict[str, Any]], int]] = []

    @staticmethod
    def possible(connection: Connection) -> bool:
        dialect = connection.dialect
        return dialect.name == "postgresql" and dialect.driver == "psycopg"

    def add(self, table: Table, statement: Any, params: Sequence[Mapping[str, Any]], expect: int) -> int:
        """Queue ``statement`` for each set of ``params`` (one executemany); ``expect``: the rows it must change
        in all, which is returned."""
        cache = table.info.setdefault("charter.compiled", {})
        compiled = [sql_and_params(statement, one, self._connection.dialect, cache) for one in params]
        if any(sql != compiled[0][0] for sql, _values in compiled):  # rows naming other columns: not one statement
            raise ValueError("an executemany's rows must name the same columns")
        if compiled:
            self._queued.append((compiled[0][0], [values for _sql, values in compiled], expect))
        return expect

    def send(self) -> None:
        """Send what is queued in one round trip, in the order queued; Miscounted if a count is not the one
        expected (the caller rolls the unit back: nothing of it holds)."""
        queued, self._queued = self._queued, []
        if not queued:
            return
        import psycopg

        raw = self._connection.connection.dbapi_connection
        assert isinstance(raw, psycopg.Connection)
        cursors = []
        try:
            with raw.pipeline():
                for sql, params, expect in queued:
                    cursor = raw.cursor()
                    cursor.executemany(sql, params)
                    cursors.append((cursor, expect))
        except psycopg.Error as exc:  # as SQLAlchemy would have raised it: the connector maps it
            raise DBAPIError.instance("(queued writes)", None, exc, psycopg.Error) from exc
        for cursor, expect in cursors:
            changed = cursor.rowcount
            cursor.close()
            if changed != expect:
                raise Miscounted(
                    f"system '{self.system_id}': a write changed {changed} rows where {expect} were found; "
                    "the batch is written again one statement at a time"
                )
