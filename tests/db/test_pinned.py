"""A run's bookkeeping on one held connection, and its relaxed commits on PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


#: a deferred constraint trigger runs inside COMMIT: it records the synchronous_commit in force at that moment,
#: which is the one that decides whether the commit waits for the WAL flush (set later than that, it would not)
_AT_COMMIT = """
CREATE TABLE charter_test_commits (n int, setting text);
CREATE TABLE charter_test_work (n int);
CREATE FUNCTION charter_test_at_commit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.n < 0 THEN
    RAISE EXCEPTION 'the server is going away' USING ERRCODE = 'admin_shutdown';
  END IF;
  INSERT INTO charter_test_commits VALUES (NEW.n, current_setting('synchronous_commit'));
  RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER charter_test_at_commit AFTER INSERT ON charter_test_work
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION charter_test_at_commit();
"""


@pytest.fixture
def commits_seen(database: Database) -> Iterator[Callable[[], dict[int, str]]]:
    """What synchronous_commit each COMMIT ran with, by the ``n`` the transaction inserted."""
    with database.engine.begin() as conn:
        conn.exec_driver_sql(_AT_COMMIT)
    try:
        yield lambda: _read_commits(database)
    finally:
        with database.engine.begin() as conn:
            conn.exec_driver_sql(
                "DROP TABLE charter_test_work; DROP TABLE charter_test_commits; DROP FUNCTION charter_test_at_commit()"
            )


def _read_commits(database: Database) -> dict[int, str]:
    with database.engine.connect() as conn:
        return dict(conn.exec_driver_sql("SELECT n, setting FROM charter_test_commits").all())  # type: ignore[arg-type]


def _work(session: Any, n: int) -> None:
    session.execute(text("INSERT INTO charter_test_work VALUES (:n)"), {"n": n})


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_relaxed_commits_are_durable_where_asked_and_never_leak_to_the_pool(
    database: Database, commits_seen: Callable[[], dict[int, str]]
) -> None:
    """Progress records skip the WAL flush; the durable ones (a request's state, its certificate) do not, as
    the server itself says inside each COMMIT (``SET LOCAL`` goes with the COMMIT, in its round trip); the
    relaxed connections are a pool of their own (born relaxed, nothing set per run), so the shared pool's
    connections keep the server's default."""
    pinned = PinnedDatabase(database, relaxed=True)
    try:
        with pinned.session() as session:
            _work(session, 1)
        with pinned.session(durable=True) as session:
            _work(session, 2)
        with pinned.session(durable=True, overlap=True) as session:  # committed from a thread
            _work(session, 3)
        pinned.settle()
        with pinned.session() as session:
            _work(session, 4)
            assert session.execute(text("SHOW synchronous_commit")).scalar() == "off"
    finally:
        pinned.release()
    assert commits_seen() == {1: "off", 2: "on", 3: "on", 4: "off"}
    with database.engine.connect() as conn:  # the shared pool's connection
        assert conn.exec_driver_sql("SHOW synchronous_commit").scalar() == "on"
    assert pinned.engine is database.relaxed_engine() is not database.engine


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_a_durable_commit_the_server_refuses_is_unavailable_and_keeps_nothing(
    database: Database, commits_seen: Callable[[], dict[int, str]]
) -> None:
    """The COMMIT sent with its SET fails as a lone COMMIT would: Unavailable, nothing of the transaction
    kept, and the held connection serves the next session."""
    pinned = PinnedDatabase(database, relaxed=True)

    def refused() -> None:
        with pinned.session(durable=True) as session:
            _work(session, 5)
            _work(session, -1)  # the trigger refuses it at COMMIT, as a server shutting down would

    try:
        with pytest.raises(Unavailable):
            refused()
        with pinned.session(durable=True) as session:
            _work(session, 6)
    finally:
        pinned.release()
    assert commits_seen() == {6: "on"}
    with database.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT n FROM charter_test_work ORDER BY n").scalars().all() == [6]


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
