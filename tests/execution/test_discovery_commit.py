"""The discovery's durable commit goes while the writes are sent, and holds before any of them does (P-RGT-3).

Once an identity is rewritten its rows cannot be found again, so the discovery must be durable in Charter's
database before a store keeps any write. Its commit (a flush of the log, 0.7 to 3.9 ms on the bench's disk) is
sent from a thread while the writes go in their store transactions (PostgreSQL, ``PinnedDatabase.session(
overlap=True)``); the stores commit only once it holds. If it fails, the writes are rolled back: nothing in
any store changed, and the run stops with the database's error.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, select
from sqlalchemy.exc import OperationalError

from charter.db import Database
from charter.errors import Unavailable
from charter.execution import claims
from charter.execution.models import ExecutionStep
from charter.execution.runner import Runner
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import after_lease, approved
from tests.execution.test_runner import _ana_id, _assert_erased, _snapshot

MakeRunner = Callable[..., Runner]


def _watch_discovery(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> None:
    """Mark where the discovery's outcomes are stored (the fetches' ``finish_many``)."""
    finish_many = claims.finish_many

    def finishing(session: Any, run_id: int, outcomes: Any, *, worker: str) -> set[str]:
        if any(step_id.startswith("fetch") for step_id, *_ in outcomes):
            events.append("discovery stored")
        return finish_many(session, run_id, outcomes, worker=worker)

    monkeypatch.setattr(claims, "finish_many", finishing)


#: PostgreSQL refuses the COMMIT that stores the discovery, from inside it (a deferred constraint trigger), as a
#: server shutting down would: the COMMIT goes in one round trip with its ``SET LOCAL`` (``_durable_commit``), so
#: only the server can make that very COMMIT fail
_REFUSE = """
CREATE FUNCTION charter_test_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the server is going away' USING ERRCODE = 'admin_shutdown';
END $$;
CREATE CONSTRAINT TRIGGER charter_test_refuse AFTER UPDATE ON execution_steps DEFERRABLE INITIALLY DEFERRED
  FOR EACH ROW WHEN (NEW.status = 'done' AND NEW.action = 'fetch') EXECUTE FUNCTION charter_test_refuse();
"""


@contextmanager
def _refusing_the_discovery_commit(database: Database, state: Engine, events: list[str]) -> Iterator[None]:
    """The commit that stores the discovery fails (on PostgreSQL the server itself refuses it; on SQLite, whose
    commit SQLAlchemy sends, it fails as it is sent); ``events`` gets "refused"."""
    if database.engine.dialect.name == "postgresql":
        with database.engine.begin() as conn:
            conn.exec_driver_sql(_REFUSE)
        try:
            yield
        except Unavailable:
            events.append("refused")
            raise
        finally:
            with database.engine.begin() as conn:
                conn.exec_driver_sql(
                    "DROP TRIGGER charter_test_refuse ON execution_steps; DROP FUNCTION charter_test_refuse()"
                )
        return

    def refuse(conn: Any) -> None:
        if conn.engine is state and "discovery stored" in events and "refused" not in events:
            events.append("refused")
            raise OperationalError("COMMIT", {}, Exception("server closed the connection unexpectedly"))

    event.listen(Engine, "commit", refuse)
    try:
        yield
    finally:
        event.remove(Engine, "commit", refuse)


def test_no_store_commits_before_the_discovery_is_committed(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = _snapshot(home)
    ana = _ana_id(home)
    public_id = approved(database, config, vault, RequestKind.DELETION)
    runner = make_runner()
    state = runner.database.engine
    events: list[str] = []
    lock = threading.Lock()

    def committed(conn: Any) -> None:
        with lock:
            events.append("state commit" if conn.engine is state else f"store commit {conn.engine.url.database}")

    _watch_discovery(monkeypatch, events)
    event.listen(Engine, "commit", committed)
    try:
        assert runner.run(public_id).status == "completed"
    finally:
        event.remove(Engine, "commit", committed)
    stored = events.index("discovery stored")
    discovery_commit = events.index("state commit", stored)
    store_commits = [n for n, e in enumerate(events) if e.startswith("store commit")]
    assert store_commits and min(store_commits) > discovery_commit
    _assert_erased(before, _snapshot(home), ana)


def test_a_discovery_commit_that_fails_leaves_every_store_untouched(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database drops the connection as the discovery commits: the writes sent meanwhile are rolled
    back (her rows are as they were, read by SQL), nothing of the discovery is recorded, the run stops with
    ``Unavailable``; a later run carries the deletion out."""
    before = _snapshot(home)
    ana = _ana_id(home)
    public_id = approved(database, config, vault, RequestKind.DELETION)
    runner = make_runner()
    events: list[str] = []
    _watch_discovery(monkeypatch, events)
    with pytest.raises(Unavailable), _refusing_the_discovery_commit(database, runner.database.engine, events):
        runner.run(public_id)
    assert "refused" in events
    assert _snapshot(home) == before
    with database.session() as session:
        assert review.get(session, public_id).status == "in_progress"
        assert not session.scalars(select(ExecutionStep).where(ExecutionStep.status == claims.DONE)).all()

    monkeypatch.undo()
    assert make_runner(worker="later", clock=after_lease(config)).run(public_id).status == "completed"
    _assert_erased(before, _snapshot(home), ana)
