"""Several statements of one transaction in one round trip: psycopg's pipeline mode, on PostgreSQL.

A transaction of Charter's bookkeeping is a handful of writes whose results nobody reads before the last one
is sent: a run's end marks its steps done, closes the run, stores the package, moves the request and queues
its notice. Sent one by one, each is a round trip, and on the bench each round trip cost as much CPU as it
waited. PostgreSQL can take them all at once (psycopg's pipeline): they go together, and their row counts are
read when the answers come back.

The statements are SQLAlchemy's own, compiled for the dialect once per statement object, their values passed
through the bind processors SQLAlchemy would apply (:func:`sql_and_params`), so a row written here is the row
``Connection.execute`` would write. SQLAlchemy itself cannot pipeline: it reads each statement's row count
and description as soon as it is sent. Only PostgreSQL through psycopg has it (:func:`available`, :func:`pipelines`);
callers keep their one-by-one path for every other database. Used by a run's opening and end
(``execution.pipelined``), a store unit's queued writes (``connectors.sql_queue``) and the durable commit
(``engine._durable_commit``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.sql.dml import Insert

if TYPE_CHECKING:
    import psycopg

Compiled = dict[tuple[int, tuple[str, ...] | None], tuple[Any, Any]]
#: statement objects compiled once: (the statement itself, kept so its id is never another's; its compiled form).
#: Only module-level statements come here (a statement built per call would be compiled, and kept, per call).
_COMPILED: Compiled = {}


def sql_and_params(
    statement: Any, values: Mapping[str, Any], dialect: Any, cache: Compiled | None = None
) -> tuple[str, dict[str, Any]]:
    """The statement's SQL for this dialect (compiled once per statement object, kept in ``cache``) and its
    parameters as SQLAlchemy would send them (its bind processors applied). An INSERT of a whole model names the
    columns given, as ``Connection.execute`` does (the others keep their defaults)."""
    built = _COMPILED if cache is None else cache
    keys = tuple(sorted(values)) if isinstance(statement, Insert) else None
    kept = built.get((id(statement), keys))
    if kept is None:
        compiled = statement.compile(dialect=dialect, column_keys=list(keys) if keys is not None else None)
        processors = {  # chosen once per compiled statement: the type's processor for this dialect
            name: process
            for name, bind in compiled.binds.items()
            if (process := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        kept = built[(id(statement), keys)] = (statement, (compiled, processors))
    compiled, processors = kept[1]
    params = compiled.construct_params(dict(values))
    # the model's Python-side defaults (``default=``, ``onupdate=``) for the columns not given, as SQLAlchemy's
    # execution context fills them in before it sends a statement (compile only names the columns)
    for column in (*compiled.insert_prefetch, *compiled.update_prefetch):
        given = column.key in values
        default = column.default if isinstance(statement, Insert) else column.onupdate
        if not given and default is not None and default.is_scalar:
            params[column.key] = default.arg
        elif not given and default is not None and default.is_callable:
            params[column.key] = default.arg(None)  # SQLAlchemy wraps a callable of no argument to take the context
    for name, process in processors.items():
        if name in params:
            params[name] = process(params[name])
    return compiled.string, params


def available(session: Session) -> bool:
    """Can this session's connection pipeline (PostgreSQL through psycopg)?"""
    dialect = session.get_bind().dialect
    return dialect.name == "postgresql" and dialect.driver == "psycopg"


@dataclass
class Sent:
    """A statement sent; after :meth:`Pipeline.sync`, its row count and the rows it returned."""

    rowcount: int = -1
    rows: list[tuple[Any, ...]] = field(default_factory=list)


def pipelines(connection: Connection) -> bool:
    """Can this connection pipeline (PostgreSQL through psycopg)?"""
    return connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg"


class Pipeline:
    """Statements added in order, sent together by :meth:`sync`, in the connection's transaction.

    Only where :func:`pipelines` holds. A statement the server refuses raises at :meth:`sync`, as SQLAlchemy
    would have raised it (so ``Unavailable``/``InvalidInput`` mapping still applies), and the transaction is
    then failed: the caller rolls back. ``cache``: where compiled statements are kept (a reflected table's
    ``info`` for a store's statements; this module's own cache for Charter's)."""

    def __init__(self, connection: Connection, *, cache: Compiled | None = None) -> None:
        self._dialect = connection.dialect
        raw = connection.connection.dbapi_connection
        assert raw is not None
        self._raw: psycopg.Connection[Any] = raw  # type: ignore[assignment]
        self._cache = cache
        self._queued: list[tuple[str, dict[str, Any] | list[dict[str, Any]], Sent]] = []

    @classmethod
    def of(cls, session: Session) -> Pipeline:
        """A pipeline in the session's transaction, the session's own pending changes sent first."""
        session.flush()
        return cls(session.connection())

    def add(
        self,
        statement: Any,
        values: Mapping[str, Any] | Sequence[Mapping[str, Any]],
        *,
        cache: Compiled | None = None,
    ) -> Sent:
        """Queue ``statement`` with one set of values, or several (an executemany; its row count is the sum);
        ``cache``: where its compiled form is kept, if not this pipeline's."""
        kept = cache if cache is not None else self._cache
        if isinstance(values, Mapping):
            sql, params = sql_and_params(statement, values, self._dialect, kept)
            sent = Sent()
            self._queued.append((sql, params, sent))
            return sent
        many = [sql_and_params(statement, one, self._dialect, kept) for one in values]
        if any(sql != many[0][0] for sql, _params in many):  # rows naming other columns: not one statement
            raise ValueError("an executemany's rows must name the same columns")
        sent = Sent()
        if many:
            self._queued.append((many[0][0], [params for _sql, params in many], sent))
        else:
            sent.rowcount = 0
        return sent

    def sync(self, *, commit: bool = False, durable: bool = False) -> None:
        """Send what was queued (and, ``commit``, the COMMIT after it; ``durable``: with ``synchronous_commit``
        on for it whatever the connection's default) and wait for every answer."""
        import psycopg

        queued, self._queued = self._queued, []
        if not queued and not commit:
            return
        cursors = []
        try:
            with self._raw.pipeline():
                for sql, params, sent in queued:
                    cursor = self._raw.cursor()
                    if isinstance(params, list):
                        cursor.executemany(sql, params)
                    else:
                        cursor.execute(sql, params)
                    cursors.append((cursor, sent))
                if commit and durable:
                    self._raw.execute("SET LOCAL synchronous_commit TO on")
                if commit:
                    self._raw.commit()
            for cursor, sent in cursors:
                sent.rowcount = cursor.rowcount
                if cursor.pgresult is not None and cursor.pgresult.nfields:
                    sent.rows = cursor.fetchall()
                cursor.close()
        except psycopg.Error as exc:  # as SQLAlchemy would have raised it, for the session's unit of work to map
            raise DBAPIError.instance("(pipeline)", None, exc, psycopg.Error) from exc
