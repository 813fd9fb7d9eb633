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

from charter.connectors.base import Miscounted
from charter.db.pipeline import Pipeline, Sent, pipelines


def by_key(table: Table, column: Column[Any]) -> bool:
    """Is ``column`` the table's one primary key (so a write by it changes one row per value at most)?"""
    keys = list(table.primary_key.columns)
    return len(keys) == 1 and keys[0].name == column.name


class QueuedWrites:
    """Writes of one unit waiting to go together (PostgreSQL through psycopg only: :func:`possible`), each with
    the count it must have, on a :class:`charter.db.pipeline.Pipeline` in the unit's transaction."""

    def __init__(self, system_id: str, connection: Connection) -> None:
        self.system_id = system_id
        self._connection = connection
        self._pipeline: Pipeline | None = None
        self._expected: list[tuple[Sent, int]] = []

    @staticmethod
    def possible(connection: Connection) -> bool:
        return pipelines(connection)

    def add(self, table: Table, statement: Any, params: Sequence[Mapping[str, Any]], expect: int) -> int:
        """Queue ``statement`` for each set of ``params`` (one executemany); ``expect``: the rows it must change
        in all, which is returned. Compiled once per table (its ``info``: a table reflected again brings its own)."""
        if self._pipeline is None:
            self._pipeline = Pipeline(self._connection)
        cache = table.info.setdefault("charter.compiled", {})
        self._expected.append((self._pipeline.add(statement, list(params), cache=cache), expect))
        return expect

    def send(self) -> None:
        """Send what is queued in one round trip, in the order queued; Miscounted if a count is not the one
        expected (the caller rolls the unit back: nothing of it holds)."""
        pipeline, expected = self._pipeline, self._expected
        self._pipeline, self._expected = None, []
        if pipeline is None:
            return
        pipeline.sync()
        for sent, expect in expected:
            if sent.rowcount != expect:
                raise Miscounted(
                    f"system '{self.system_id}': a write changed {sent.rowcount} rows where {expect} were found; "
                    "the batch is written again one statement at a time"
                )
