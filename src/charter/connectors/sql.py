"""Any SQLAlchemy database as a Connector: PostgreSQL (psycopg), MariaDB/MySQL (PyMySQL), SQLite.

Engines are shared per store (``sql_engines``), errors classified in ``sql_errors``, the catalogue and the
reflected tables are ``sql_schema``, identity folding is in
``folding``; this module reads and writes the tables.

Identifiers are never formatted into SQL: tables are reflected into
SQLAlchemy ``Table`` objects, which quote them. Values are bound parameters;
a fetch sends one ``IN`` query per chunk of values, never one per row.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    MetaData,
    Table,
    bindparam,
    create_engine,
    delete,
    select,
    update,
)
from sqlalchemy.engine import RootTransaction, make_url
from sqlalchemy.exc import (
    ArgumentError,
    DBAPIError,
    SQLAlchemyError,
)

from charter.connectors.base import (
    Hit,
    Match,
    Read,
    Row,
    Wanted,
    matching,
    refused,
    unavailable,
)
from charter.connectors.sql_engines import connect_args, dispose_engines, shared_engine
from charter.connectors.sql_errors import permanent, retryable, sqlstate
from charter.connectors.sql_pipeline import pipelined_reads
from charter.connectors.sql_queue import QueuedWrites, by_key
from charter.connectors.sql_schema import SYSTEM_SCHEMAS, SchemaReading
from charter.connectors.sql_statements import FLAG, any_of, by_values, coerce
from charter.errors import InvalidInput, Misconfigured

__all__ = ["SYSTEM_SCHEMAS", "SqlConnector", "dispose_engines"]


class SqlConnector(SchemaReading):
    """One data store. Table definitions are reflected once and reused by later connectors to the
    same database for ``schema_cache_seconds``: a run builds its connectors afresh, and reading the
    catalog again for every request was most of a small request's time (docs/bench.md)."""

    def __init__(
        self,
        system_id: str,
        url: str,
        *,
        connect_timeout: float = 5.0,
        chunk_size: int = 500,
        schema_cache_seconds: float = 0.0,
        statement_timeout: float = 0.0,
    ) -> None:
        self.system_id = system_id
        self.chunk_size = chunk_size
        self.schema_cache_seconds = schema_cache_seconds
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise Misconfigured(f"system '{system_id}': the URL is not a SQLAlchemy URL") from None
        self._password = parsed.password if isinstance(parsed.password, str) else None
        self._where = parsed.render_as_string(hide_password=True)
        if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
            # SQLite would create an empty file where none is: a typo must not look like an empty database.
            from pathlib import Path

            if not Path(parsed.database).exists():
                raise unavailable(system_id, FileNotFoundError("the SQLite file does not exist"))
        self._shared = parsed.get_backend_name() != "sqlite"
        try:
            if self._shared:
                self.engine: Engine = shared_engine(parsed, connect_timeout, statement_timeout)
            else:
                self.engine = create_engine(
                    parsed, connect_args=connect_args(parsed, connect_timeout), pool_pre_ping=True
                )
        except (ArgumentError, ImportError) as exc:
            raise Misconfigured(f"system '{system_id}': cannot use this kind of URL ({type(exc).__name__})") from None
        self._metadata = MetaData()
        self._tables: dict[tuple[str | None, str], Table] = {}
        self._held: Connection | None = None
        self._reader: Connection | None = None
        self._unit: RootTransaction | None = None
        self._queue: QueuedWrites | None = None

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        """The connection for reads and for writes of one statement, held until ``close`` like the writing
        one but in autocommit: these need no transaction of their own, and on PostgreSQL that saves its BEGIN
        and COMMIT round trips (of an access request's three round trips per table, two). Results are
        buffered whole, so a read may start while another one's chunks are still being handed out."""
        if self._reader is None:
            try:
                self._reader = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            except SQLAlchemyError as exc:
                raise self._failed(exc) from exc
        try:
            yield self._reader
        except SQLAlchemyError as exc:
            self._drop_reader()
            raise self._failed(exc) from exc

    def _drop_reader(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.close()

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """One transaction on the connection this connector holds for writes until ``close`` (checked out,
        and pinged, once per run rather than once per step). A failure gives the connection back to the
        pool, which throws it away if the failure was a lost connection; the next call takes a fresh one.
        Between :meth:`begin` and :meth:`commit`, the writes join that unit's transaction instead."""
        if self._unit is not None:
            assert self._held is not None  # begin() holds it
            try:
                yield self._held
            except SQLAlchemyError as exc:  # the unit's rollback() gives the connection back
                raise self._failed(exc) from exc
            return
        try:
            if self._held is None:
                self._held = self.engine.connect()
            with self._held.begin():
                yield self._held
        except SQLAlchemyError as exc:
            self._drop_held()
            raise self._failed(exc) from exc

    def _writing(self, statements: int) -> AbstractContextManager[Connection]:
        """Where a write goes: the unit's transaction; else one statement alone, atomic by itself, in
        autocommit on the reading connection (its BEGIN and COMMIT would be two round trips more); else a
        transaction of its own."""
        return self._reading() if statements == 1 and self._unit is None else self._transaction()

    def _drop_held(self) -> None:
        held, self._held = self._held, None
        if held is not None:
            held.close()

    def begin(self, *, queued: bool = False) -> None:
        """Every write until :meth:`commit` or :meth:`rollback` goes in one transaction (``Transactional``);
        ``queued`` (PostgreSQL): writes by primary key go together at the commit (``sql_queue``)."""
        if self._unit is not None:
            raise RuntimeError(f"system '{self.system_id}': a unit of writes is already open")
        try:
            if self._held is None:
                self._held = self.engine.connect()
            self._unit = self._held.begin()
        except SQLAlchemyError as exc:
            self._drop_held()
            raise self._failed(exc) from exc
        if queued and QueuedWrites.possible(self._held):
            self._queue = QueuedWrites(self.system_id, self._held)

    def send_queued(self) -> None:
        """What the unit queued goes now (before a write that cannot wait, and before the commit: ``Units``
        sends every store's first, so a miscount on one store commits none)."""
        if self._queue is not None:
            try:
                self._queue.send()
            except SQLAlchemyError as exc:
                raise self._failed(exc) from exc

    def commit(self) -> None:
        try:
            self.send_queued()
        except BaseException:
            self.rollback()  # a miscount, or the store's refusal: nothing of the unit holds
            raise
        unit, self._unit, self._queue = self._unit, None, None
        if unit is None:
            return
        try:
            unit.commit()
        except SQLAlchemyError as exc:
            self._drop_held()
            raise self._failed(exc) from exc

    def rollback(self) -> None:
        unit, self._unit, self._queue = self._unit, None, None
        if unit is None:
            return
        try:
            unit.rollback()
        except SQLAlchemyError:  # the connection is gone, and its transaction with it
            self._drop_held()

    def _failed(self, exc: BaseException) -> Exception:
        origin = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
        lasting = permanent(origin)
        if lasting is not None:  # a wrong password, a missing database, table or column: fails at once
            code, why = lasting
            return refused(self.system_id, origin, sqlstate=code, reason=why)
        if isinstance(exc, DBAPIError) and not exc.connection_invalidated and not retryable(exc):
            return refused(self.system_id, origin, sqlstate=sqlstate(origin))
        return unavailable(self.system_id, origin, secret=self._password)

    def ping(self) -> None:
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
        except SQLAlchemyError as exc:
            raise self._failed(exc) from exc

    def fetch(
        self,
        collection: str,
        field: str,
        values: Sequence[Any],
        *,
        schema: str | None = None,
        match: Match = "exact",
    ) -> Iterator[list[Row]]:
        """Rows whose ``field`` is one of ``values``: one parameterized query per chunk of values.

        ``match`` compares as people expect an identity to match (:func:`matching`): ``email`` ignores case
        and surrounding spaces, ``phone`` compares digits only, whatever the dialect's collation says."""
        table = self._table(collection, schema)
        if field not in table.c:
            raise InvalidInput(f"table '{collection}' of system '{self.system_id}' has no column '{field}'")
        statement = by_values(table, field, self.engine.dialect.name, select, match)
        distinct = list(dict.fromkeys(matching(match, values)))
        for start in range(0, len(distinct), self.chunk_size):
            chunk = distinct[start : start + self.chunk_size]
            with self._reading() as conn:
                rows = [dict(row) for row in conn.execute(statement, {"values": chunk}).mappings()]
            yield rows

    def find(self, collection: str, wanted: Sequence[Wanted], *, schema: str | None = None) -> Iterator[list[Hit]]:
        """Rows matching any of ``wanted`` (``Searcher``), with the conditions each matched: one query per
        chunk, the store saying which condition a row met (``sql_statements.any_of``)."""
        table = self._table(collection, schema)
        for statement, params in self.searches(table, collection, wanted):
            with self._reading() as conn:
                found = conn.execute(statement, params).mappings().all()
            yield [_hit(row) for row in found]

    def searches(self, table: Table, collection: str, wanted: Sequence[Wanted]) -> Iterator[tuple[Any, dict[str, Any]]]:
        """The statements (and their values) of :meth:`find`: one per chunk of values; the ``n``-th takes the
        ``n``-th chunk of every condition that still has one."""
        lists: list[tuple[int, Wanted, list[Any]]] = []
        for index, one in enumerate(wanted):
            if one.field not in table.c:
                raise InvalidInput(f"table '{collection}' of system '{self.system_id}' has no column '{one.field}'")
            distinct = list(dict.fromkeys(matching(one.match, one.values)))
            if distinct:
                lists.append((index, one, distinct))
        rounds = max((-(-len(values) // self.chunk_size) for _, _, values in lists), default=0)
        dialect = self.engine.dialect.name
        for n in range(rounds):
            part = [(i, one, values[n * self.chunk_size : (n + 1) * self.chunk_size]) for i, one, values in lists]
            part = [(i, one, chunk) for i, one, chunk in part if chunk]
            statement = any_of(table, dialect, [(i, one.field, one.match) for i, one, _ in part])
            yield statement, {f"values_{i}": chunk for i, _, chunk in part}

    def read_many(self, reads: Sequence[Read]) -> list[list[Hit]] | None:
        """Every read's hits in one round trip (``Pipelined``), on PostgreSQL through psycopg's pipeline;
        None elsewhere, or if the pipeline fails (the caller reads one by one, which reports any error)."""
        return pipelined_reads(self, reads)

    def delete(
        self,
        collection: str,
        field: str,
        values: Sequence[Any],
        *,
        schema: str | None = None,
        match: Match = "exact",
    ) -> int:
        """``DELETE … WHERE field IN (chunk)``, one statement per chunk, all in one transaction (no transaction
        when there is only one statement); ``match`` as for :meth:`fetch`."""
        table = self._table(collection, schema)
        column = self._column(table, field)
        statement = by_values(table, column.name, self.engine.dialect.name, delete, match)
        distinct = list(dict.fromkeys(matching(match, values)))
        chunks = [distinct[start : start + self.chunk_size] for start in range(0, len(distinct), self.chunk_size)]
        if self._queue is not None and match == "exact" and by_key(table, column):
            return self._queue.add(table, statement, [{"values": chunk} for chunk in chunks], len(distinct))
        self.send_queued()
        with self._writing(len(chunks)) as conn:
            return sum(max(conn.execute(statement, {"values": chunk}).rowcount, 0) for chunk in chunks)

    def rewrite(
        self, collection: str, key: str, changes: Sequence[tuple[Any, Mapping[str, Any]]], *, schema: str | None = None
    ) -> int:
        """``UPDATE … SET f = :f WHERE key = :key`` sent once per chunk of rows (executemany), in one transaction."""
        if not changes:
            return 0
        table = self._table(collection, schema)
        key_column = self._column(table, key)
        names = sorted(changes[0][1])
        columns = [self._column(table, name) for name in names]
        if any(sorted(new) != names for _, new in changes):
            raise InvalidInput(f"a rewrite of table '{collection}' must set the same columns in every row")
        statement = _rewriting(table, key_column, columns)
        params = [
            {"_key": pk, **{f"_v_{n}": coerce(c, new[c.name]) for n, c in enumerate(columns)}} for pk, new in changes
        ]
        if self._queue is not None and by_key(table, key_column) and len({pk for pk, _ in changes}) == len(changes):
            return self._queue.add(table, statement, params, len(params))
        self.send_queued()
        changed = 0
        with self._writing(len(params)) as conn:
            for start in range(0, len(params), self.chunk_size):
                result = conn.execute(statement, params[start : start + self.chunk_size])
                changed += max(result.rowcount, 0)
        return changed

    def rest(self) -> None:
        """Between two runs of a worker that keeps this connector (``execution.kept``): a unit still open is rolled
        back, the reflected tables are forgotten (the next run takes them from the shared schema cache, within
        ``schema_cache_seconds``, or reflects them again), and the held connections stay: the next run neither
        checks one out of the pool nor pings it."""
        self.rollback()
        self._tables.clear()
        self._metadata = MetaData()  # a table reflected again must not come back as the one this metadata holds

    def close(self) -> None:
        """Give the held connection back (a unit still open is rolled back with it); a shared engine stays for
        the next run, a private one goes."""
        self.rollback()
        for held in (self._held, self._reader):
            if held is not None:
                held.close()
        self._held = self._reader = None
        if not self._shared:
            self.engine.dispose()


def _rewriting(table: Table, key: Column[Any], columns: Sequence[Column[Any]]) -> Any:
    """``UPDATE … SET f = :_v_n WHERE key = :_key``, built once per table, key and columns (kept in the table's
    ``info``, like ``sql_statements.by_values``, so a queued unit compiles it once)."""
    built: dict[tuple[str, tuple[str, ...]], Any] = table.info.setdefault("charter.rewrite", {})
    shape = (key.name, tuple(c.name for c in columns))
    statement = built.get(shape)
    if statement is None:
        statement = built[shape] = (
            update(table)
            .where(key == bindparam("_key"))
            .values({c.name: bindparam(f"_v_{n}") for n, c in enumerate(columns)})
        )
    return statement


def _hit(found: Mapping[Any, Any]) -> Hit:
    """A row of ``any_of`` without its flag columns, and the conditions those say it matched."""
    row = {str(name): value for name, value in found.items()}
    flags = frozenset(int(name[len(FLAG) :]) for name, value in row.items() if name.startswith(FLAG) and value)
    return {name: value for name, value in row.items() if not name.startswith(FLAG)}, flags
