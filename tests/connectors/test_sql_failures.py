"""How the SQL connector fails, on real servers: what is worth retrying and what is not.

The runner retries :class:`Unavailable` with backoff and fails a step at once on
any other error, so the split decides whether a request waits out a busy store
or stops: a statement past its timeout, a deadlock or a lost connection is
retried; a constraint the store enforces is not, and its message never quotes
the row (it reaches the console and the request's history).
"""

from __future__ import annotations

import sqlite3
import threading

import pymysql
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError, OperationalError

from charter.connectors.base import StoreRefused
from charter.connectors.sql import SqlConnector, dispose_engines
from charter.errors import Unavailable
from tests.connectors.conftest import PEOPLE

Store = tuple[str, str | None]


#: SQLite has no statement timeout, no row locks and no shared pool: these are the servers' tests.
servers = pytest.mark.parametrize("sql_store", ["postgresql", "mariadb"], indirect=True)


def _lock_first_customer(url: str, schema: str | None, ready: threading.Event, release: threading.Event) -> None:
    """Hold a row lock on the first demo customer until ``release``: a writer on that row waits."""
    engine = create_engine(url)
    table = f'"{schema}".customers' if schema else "customers"
    try:
        with engine.begin() as conn:
            conn.execute(text(f"SELECT id FROM {table} WHERE email = :e FOR UPDATE"), {"e": PEOPLE[0]})
            ready.set()
            release.wait(30)
    finally:
        engine.dispose()


@servers
def test_a_statement_past_its_timeout_is_cancelled_and_retryable(sql_store: Store) -> None:
    """A store blocked by another writer does not hold a step forever: the server cancels the statement."""
    url, schema = sql_store
    ready, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=_lock_first_customer, args=(url, schema, ready, release))
    holder.start()
    connector = SqlConnector("shop", url, connect_timeout=3, statement_timeout=1.0)
    try:
        assert ready.wait(10), "the lock was not taken"
        with pytest.raises(Unavailable, match="system 'shop' is unavailable"):
            connector.rewrite("customers", "id", [(1, {"phone": None})], schema=schema)
    finally:
        release.set()
        holder.join(30)
        connector.close()
    # The connection that failed was given back: the same connector works again once the lock is gone.
    again = SqlConnector("shop", url, connect_timeout=3, statement_timeout=1.0)
    try:
        assert again.rewrite("customers", "id", [(1, {"phone": None})], schema=schema) == 1
    finally:
        again.close()


@servers
def test_a_refused_constraint_is_not_retried_and_quotes_no_value(sql_store: Store) -> None:
    url, schema = sql_store
    connector = SqlConnector("shop", url, connect_timeout=3)
    try:
        rows = [r for chunk in connector.fetch("customers", "email", PEOPLE[:2], schema=schema) for r in chunk]
        first, second = sorted(rows, key=lambda r: r["id"])
        with pytest.raises(StoreRefused) as caught:  # a unique e-mail, written twice
            connector.rewrite("customers", "id", [(second["id"], {"email": first["email"]})], schema=schema)
    finally:
        connector.close()
    assert caught.value.detail.startswith("system 'shop' refused the statement: ")
    assert first["email"] not in caught.value.detail
    assert not isinstance(caught.value, Unavailable)


@pytest.mark.parametrize(
    ("error", "retried"),
    [
        (OperationalError("UPDATE …", {}, Exception("deadlock detected")), True),
        (OperationalError("UPDATE …", {}, Exception("could not serialize access")), True),
        (IntegrityError("UPDATE …", {}, Exception("duplicate key value")), False),
    ],
)
def test_deadlocks_and_serialization_failures_are_retried(error: Exception, retried: bool, sql_store: Store) -> None:
    """Every driver reports deadlocks and serialization failures as OperationalError: trying again can work."""
    connector = SqlConnector("shop", sql_store[0], connect_timeout=3)
    try:
        translated = connector._failed(error)
    finally:
        connector.close()
    assert isinstance(translated, Unavailable) is retried
    assert isinstance(translated, StoreRefused) is not retried


@servers
def test_connectors_to_one_server_share_a_pool_across_runs(sql_store: Store) -> None:
    """A worker answering request after request reuses its connections (closing a connector keeps the pool)."""
    url, schema = sql_store
    first = SqlConnector("shop", url, connect_timeout=3)
    second = SqlConnector("shop", url, connect_timeout=3)
    try:
        assert first.engine is second.engine
        assert [len(c) for c in first.fetch("customers", "email", PEOPLE[:1], schema=schema)] == [1]
        first.close()
        assert [len(c) for c in second.fetch("customers", "email", PEOPLE[:1], schema=schema)] == [1]
    finally:
        second.close()
        dispose_engines()
    fresh = SqlConnector("shop", url, connect_timeout=3)
    try:
        assert fresh.engine is not first.engine
    finally:
        fresh.close()


@pytest.mark.parametrize("server", ["postgresql", "mariadb"])
def test_a_refused_login_or_a_missing_database_fails_at_once(server: str, request: pytest.FixtureRequest) -> None:
    """Trying again cannot fix a wrong password (PostgreSQL 28P01/28000, MariaDB 1045) or a database that does not
    exist (3D000, 1049), though the drivers report them as OperationalError: they are not ``Unavailable``."""
    from sqlalchemy.engine import make_url

    if server == "postgresql":
        base = make_url(request.getfixturevalue("postgres_url"))
        login = base.set(username="no_such_role", password="not-the-password")  # trust here: any password passes
    else:
        base = make_url(request.getfixturevalue("mariadb_url"))
        login = base.set(password="not-the-password")
    cases = {"refused the login": login, "database does not exist": base.set(database="no_such_database_here")}
    for expected, url in cases.items():
        connector = SqlConnector("shop", url.render_as_string(hide_password=False), connect_timeout=3)
        try:
            with pytest.raises(StoreRefused) as caught:
                list(connector.fetch("customers", "email", PEOPLE[:1]))
        finally:
            connector.close()
        assert expected in caught.value.detail and not isinstance(caught.value, Unavailable)
        assert "not-the-password" not in caught.value.detail


@pytest.mark.parametrize(
    "origin",
    [
        pymysql.err.OperationalError(1054, "Unknown column 'phone' in 'field list'"),
        pymysql.err.ProgrammingError(1146, "Table 'shop.customers' doesn't exist"),
        sqlite3.OperationalError("no such column: phone"),
        sqlite3.OperationalError("no such table: customers"),
    ],
)
def test_a_missing_table_or_column_is_not_retried(origin: Exception) -> None:
    """MariaDB reports an unknown column (1054) and SQLite a missing table or column as OperationalError."""
    connector = SqlConnector("shop", "sqlite://", connect_timeout=3)
    try:
        translated = connector._failed(OperationalError("UPDATE …", {}, origin))
    finally:
        connector.close()
    assert isinstance(translated, StoreRefused) and "does not exist" in translated.detail
    assert "phone" not in translated.detail and "customers" not in translated.detail
