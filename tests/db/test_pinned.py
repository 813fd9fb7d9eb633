"""A run's bookkeeping on one held connection, and its relaxed commits on PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event, text

from charter.db import Database, PinnedDatabase
from charter.errors import Unavailable


def test_sessions_share_one_connection_until_released(database: Database) -> None:
    """Many short transactions, one checkout (and one pre-ping) instead of one per transaction."""
    checkouts: list[int] = []

    def checked_out(*_args: Any) -> None:
        checkouts.append(1)

    event.listen(database.engine, "checkout", checked_out)
    pinned = PinnedDatabase(database)
    try:
        for n in range(5):
            with pinned.session() as session:
                assert session.execute(text("SELECT :n"), {"n": n}).scalar() == n
        assert len(checkouts) == 1
        with pinned.session() as session, pinned.session() as inner:  # nested: a connection of its own
            assert inner.execute(text("SELECT 1")).scalar() == session.execute(text("SELECT 1")).scalar()
        assert len(checkouts) == 2
    finally:
        pinned.release()
        event.remove(database.engine, "checkout", checked_out)


def test_a_failed_transaction_rolls_back_and_the_next_one_works(database: Database) -> None:
    pinned = PinnedDatabase(database)

    def failing() -> None:
        with pinned.session() as session:
            session.execute(text("SELECT 1"))
            raise ZeroDivisionError

    try:
        with pytest.raises(ZeroDivisionError):
            failing()
        with pinned.session() as session:
            assert session.execute(text("SELECT 2")).scalar() == 2
    finally:
        pinned.release()


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_relaxed_commits_are_durable_where_asked_and_never_leak_to_the_pool(database: Database) -> None:
    """Progress records skip the WAL flush; the durable ones (a request's state, its certificate) do not; the
    relaxed connections are a pool of their own (born relaxed, nothing set per run), so the shared pool's
    connections keep the server's default."""
    pinned = PinnedDatabase(database, relaxed=True)
    try:
        with pinned.session() as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "off"
        with pinned.session(durable=True) as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "on"
        with pinned.session() as session:
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "off"
    finally:
        pinned.release()
    with database.engine.connect() as conn:  # the shared pool's connection
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    assert pinned.engine is database.relaxed_engine() is not database.engine


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_lost_connection_is_unavailable_and_replaced(database: Database) -> None:
    pinned = PinnedDatabase(database)
    try:
        with pinned.session() as session:
            pid = session.execute(text("SELECT pg_backend_pid()")).scalar()
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
        with pytest.raises(Unavailable), pinned.session() as session:
            session.execute(text("SELECT 1"))
        with pinned.session() as session:
            assert session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        pinned.release()
