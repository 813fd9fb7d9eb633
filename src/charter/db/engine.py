"""Engines and sessions, built once per process from the settings."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from charter.db.pipeline import Pipeline
from charter.errors import InvalidInput, Unavailable

if TYPE_CHECKING:
    from alembic.config import Config


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, *, echo: bool = False) -> Engine:
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, echo=echo, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


class Database:
    """An engine and its session factory; the one handle services receive."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.engine = make_engine(url, echo=echo)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._relaxed_pool: Engine | None = None
        self._relaxed_lock = threading.Lock()

    def relaxed_engine(self) -> Engine:
        """On PostgreSQL, a second engine (pool) whose connections are born with ``synchronous_commit = off``
        (see :class:`PinnedDatabase`): no setting to change and change back on every run. Elsewhere the
        engine itself. Disposed with this database."""
        if self.engine.dialect.name != "postgresql":
            return self.engine
        with self._relaxed_lock:
            if self._relaxed_pool is None:
                self._relaxed_pool = create_engine(
                    self.url,
                    echo=self.engine.echo,
                    pool_pre_ping=True,
                    connect_args={"options": "-c synchronous_commit=off"},
                )
            return self._relaxed_pool

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A unit of work: commits on success, rolls back on any error."""
        with _unit_of_work(self.sessions()) as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
        with self._relaxed_lock:
            relaxed, self._relaxed_pool = self._relaxed_pool, None
        if relaxed is not None:
            relaxed.dispose()


class _Committing:
    """A session's commit, sent from a thread: the database flushes its log while the caller goes on."""

    def __init__(self, session: Session, *, commit: Callable[[Session], None] | None = None) -> None:
        self._session = session
        self._commit_with = commit
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._commit, name="charter-commit", daemon=True)
        self._thread.start()

    def _commit(self) -> None:
        try:
            with _unit_of_work(self._session, commit=self._commit_with):
                pass
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by wait()
            self._error = exc

    def wait(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise self._error


@contextmanager
def _unit_of_work(session: Session, *, commit: Callable[[Session], None] | None = None) -> Iterator[Session]:
    try:
        yield session
        (commit or Session.commit)(session)
    except OperationalError as exc:
        session.rollback()
        raise Unavailable("the database did not answer; nothing was changed") from exc
    except DataError as exc:
        session.rollback()
        raise InvalidInput(
            "the database refused a value (for example a NUL character or an over-long text); nothing was changed"
        ) from exc
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def _durable_commit(session: Session) -> None:
    """Commit durably on a relaxed connection (``synchronous_commit = off``): ``SET LOCAL synchronous_commit TO
    on`` and the COMMIT go in one round trip (psycopg's pipeline), where the SET sent first, alone, was a round
    trip of its own in every durable transaction. The setting in force when COMMIT runs is the one that counts,
    so it may come last. SQLAlchemy's own commit follows and finds the transaction over (psycopg sends nothing)."""
    import psycopg  # only ever on PostgreSQL through psycopg (PinnedDatabase's relaxed engine)

    session.flush()
    connection = session.connection()
    raw = connection.connection.dbapi_connection
    assert isinstance(raw, psycopg.Connection)
    if raw.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:  # not committed already (db.pipeline)
        Pipeline(connection).sync(commit=True, durable=True)  # raises as SQLAlchemy would: _unit_of_work maps it
    session.commit()


class PinnedDatabase(Database):
    """The same database, every session on one connection held until :meth:`release`.

    For work made of many short transactions in a row (a run: a commit per
    step): the connection is checked out of the pool, and pinged, once rather
    than per transaction. Each ``session()`` is still its own transaction. A
    session opened while another is open (not done today) gets a connection of
    its own, as with :class:`Database`. A connection that failed is dropped and
    the next session takes a fresh one.

    ``relaxed``: on PostgreSQL, commits do not wait for the WAL flush
    (``synchronous_commit = off``) except in ``session(durable=True)``. For
    records whose loss in a crash of the database server only means redoing
    idempotent work (a step's progress); a durable commit also makes every
    earlier one durable. Its connections come from the database's relaxed
    engine (:meth:`Database.relaxed_engine`), never from the shared pool.
    """

    def __init__(self, database: Database, *, relaxed: bool = False) -> None:
        self.url = database.url
        self._database = database
        self._relaxed = relaxed and database.engine.dialect.name == "postgresql"
        self.engine = database.relaxed_engine() if self._relaxed else database.engine
        self.sessions = database.sessions
        self._connection: Connection | None = None
        self._busy = False
        self._pending: _Committing | None = None

    @contextmanager
    def session(self, *, durable: bool = False, overlap: bool = False) -> Iterator[Session]:
        """A unit of work on the held connection (a nested one gets its own connection).

        ``overlap`` (PostgreSQL, ``relaxed``): the commit is sent from a thread and this returns at once, so
        the caller works on other connections (a store's transaction) while the database flushes its log;
        the caller must :meth:`settle` before anything that relies on the commit (a store's commit), and the
        next ``session()`` settles first. Elsewhere ``overlap`` commits here, as usual."""
        self.settle()
        if self._busy:
            with self._database.session() as session:
                yield session
            return
        connection = self._connect()
        self._busy = True
        if overlap and self._relaxed:
            with self._overlapped(connection, durable=durable) as session:
                yield session
            return
        commit = _durable_commit if durable and self._relaxed else None
        with self._holding(), _unit_of_work(Session(bind=connection, expire_on_commit=False), commit=commit) as session:
            yield session

    @contextmanager
    def _holding(self) -> Iterator[None]:
        """The held connection in use until this ends: then free again, its transaction (if any) ended, and
        dropped if the database did not answer (the next session connects afresh)."""
        try:
            yield
        except Unavailable:
            self.release()
            raise
        finally:
            self._busy = False
            if self._connection is not None and self._connection.in_transaction():
                self._connection.rollback()

    @contextmanager
    def _overlapped(self, connection: Connection, *, durable: bool) -> Iterator[Session]:
        session = Session(bind=connection, expire_on_commit=False)
        try:
            yield session
        except BaseException as exc:  # re-raised, mapped as a session() maps it
            with self._holding(), _unit_of_work(session):  # rolls back, and says what the failure means
                raise exc
        # the held connection stays busy until settle()
        self._pending = _Committing(session, commit=_durable_commit if durable else None)

    def settle(self) -> None:
        """Wait for an overlapped commit (``session(overlap=True)``); raise what it raised (``Unavailable``
        if the database did not answer), after which nothing of that unit of work holds."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        with self._holding():
            pending.wait()

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.invalidated or self._connection.closed:
            try:
                self._connection = self.engine.connect()
            except OperationalError as exc:
                self.release()
                raise Unavailable("the database did not answer; nothing was changed") from exc
        return self._connection

    def release(self) -> None:
        if self._pending is not None:
            with contextlib.suppress(Exception):  # released anyway: the caller is already handling a failure
                self.settle()
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    def relaxed_engine(self) -> Engine:
        return self._database.relaxed_engine()

    def dispose(self) -> None:
        self.release()  # the engines are the database's: never disposed from here


def alembic_config(url: str) -> Config:
    # Alembic (and Mako, Pygments) only when migrating: a worker or a web process never needs them (~10 MB).
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("charter.db") / "migrations"))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def migrate(database: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe to run again."""
    from alembic import command

    config = alembic_config(database.url)
    try:
        with database.engine.begin() as connection:
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    except OperationalError as exc:
        raise Unavailable("the database did not answer; no migration was applied") from exc


#: The migration this code needs (the newest under ``migrations/versions``; a test keeps the two equal). Known
#: without importing Alembic, so ``charter serve`` and ``charter worker`` can check it at start-up cheaply.
SCHEMA_REVISION = "0014"


class SchemaOutdated(InvalidInput):
    """Charter's database is at another migration than this code needs (an upgrade without ``db upgrade``)."""

    code = "schema_outdated"
    status = 503
    title = "Charter's database needs an upgrade"


def require_schema(database: Database) -> None:
    """Refuse to start on a database at another migration: the first query would otherwise fail somewhere deep,
    as a database that "did not answer". One line, naming the fix; exit 2 from the CLI."""
    try:
        with database.engine.connect() as connection:
            found = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except OperationalError:
        found = None  # no such table (SQLite), or no database at all: either way, not migrated
    except Exception:  # noqa: BLE001 - PostgreSQL's "relation does not exist" is a ProgrammingError
        found = None
    if found != SCHEMA_REVISION:
        at = f"migration {found}" if found else "no migration"
        raise SchemaOutdated(
            f"Charter's database is at {at}; this version needs {SCHEMA_REVISION}: run 'charter db upgrade' first"
        )
