"""The run's last batch is stored in the transaction that completes the run (``BatchRunner._record_and_finish``).

Promises: P-RGT-1 (the access package holds the person's rows, once), P-RGT-3 (the deletion is verified and
certified whatever crashes on the way). The end of a run needs a durable commit anyway; the last batch's
records ride on it, and the outcomes it would seal only to drop a moment later are not sealed. What must
still hold: a crash before that commit leaves the batch to the next worker (nothing lost, nothing said done
that is not), and a batch of which another worker took a step falls back to the ordinary record.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select, text

from charter.db import Database
from charter.db.base import utcnow
from charter.execution import certificate, claims
from charter.execution.models import ExecutionStep
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import (
    ANA,
    after_lease,
    approved,
    crashing,
    crashing_before_the_end_commits,
    package_collections,
    read_package,
    sealed_package,
)
from tests.execution.test_runner import _ana_id, _assert_erased, _snapshot

MakeRunner = Callable[..., Runner]


def _steps(database: Database) -> list[ExecutionStep]:
    with database.session() as session:
        return list(session.scalars(select(ExecutionStep).order_by(ExecutionStep.position)))


def test_an_access_run_is_two_commits_and_seals_nothing_it_would_drop(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P-RGT-1: the whole discovery is the last batch: opened in one commit, stored with the end in another."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    runner = make_runner()
    commits: list[int] = []
    sealed: list[bytes] = []
    seal = vault.keys.seal

    def counting(data: bytes, **options: Any) -> bytes:
        sealed.append(data)
        return seal(data, **options)

    listener = lambda _conn: commits.append(1)  # noqa: E731
    monkeypatch.setattr(vault.keys, "seal", counting)
    engine = runner.database.engine  # on PostgreSQL the run's own (relaxed) engine
    event.listen(engine, "commit", listener)
    try:
        outcome = runner.run(public_id)
    finally:
        event.remove(engine, "commit", listener)
    assert outcome.status == "completed" and len(outcome.executed) == outcome.steps == 7
    assert len(commits) == 2
    assert len(sealed) == 1  # the package; no step outcome sealed only to be dropped
    steps = _steps(database)
    assert all(s.status == "done" and s.sealed is None and s.finished_at is not None for s in steps)
    assert [r["email"] for r in package_collections(database, home, vault, public_id)["west_shop.customers"]] == [ANA]


def test_a_crash_while_ending_leaves_the_discovery_to_the_next_worker(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P-RGT-1: the package fails to be stored after every fetch ran: nothing is recorded as done, the
    request is still in progress with no package, and once the lease runs out the next worker completes it."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    with crashing_before_the_end_commits(database):
        make_runner(worker="first").run(public_id)
    steps = _steps(database)
    assert {s.status for s in steps} == {"claimed"} and {s.claimed_by for s in steps} == {"first"}
    assert sealed_package(database, public_id) is None
    with database.session() as session:
        assert review.get(session, public_id).status == "in_progress"

    assert make_runner(worker="second").run(public_id).status == "in_progress"  # the lease is still theirs
    outcome = make_runner(worker="second", clock=after_lease(config)).run(public_id)
    assert outcome.status == "completed", outcome.error
    assert len(outcome.executed) == outcome.steps
    assert [r["email"] for r in package_collections(database, home, vault, public_id)["west_shop.customers"]] == [ANA]
    assert {s.claimed_by for s in _steps(database)} == {"second"}


def test_a_crash_while_certifying_redoes_the_erasures_and_proves_them(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """P-RGT-3: the stores were erased and verified, then the worker died building the certificate: the
    writes stay claimed (never "done" without the end), the next worker redoes them (idempotent) and verifies
    again; the certificate says verified, and her rows are erased exactly once as the strategies say."""
    before = _snapshot(home)
    ana = _ana_id(home)
    public_id = approved(database, config, vault, RequestKind.DELETION)
    with crashing(certificate, "build"):
        make_runner(worker="first").run(public_id)
    steps = _steps(database)
    assert {s.status for s in steps if s.action == "fetch"} == {"done"}  # stored durably before any write
    assert {s.status for s in steps if s.action != "fetch"} == {"claimed"}
    _assert_erased(before, _snapshot(home), ana)  # the stores' transaction had committed

    outcome = make_runner(worker="second", clock=after_lease(config)).run(public_id)
    assert outcome.status == "completed", outcome.error
    assert {s.status for s in _steps(database)} == {"done"}
    _assert_erased(before, _snapshot(home), ana)
    document = certificate.certificate_of(database, public_id)
    assert document["outcome"] == certificate.ERASED and document["verified"] is True


def test_a_last_batch_with_a_step_taken_over_is_stored_as_usual(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: MakeRunner
) -> None:
    """A worker paused past its lease while the last batch ran: another took one of its steps. Nothing of
    the batch is stored with an end: the steps still ours are stored (sealed, for whoever builds on them),
    the taken one is left to its new holder, and that worker completes the run."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    later = utcnow() + timedelta(seconds=config.execution.lease_seconds + 1)
    taken: list[str] = []

    def take_one(where: str, step: Step) -> None:
        if where == "after" and step.action == Action.FETCH and step.collection == "west_support.messages":
            with database.session() as session:
                run_id = session.scalars(select(ExecutionStep.run_id)).first()
                assert run_id is not None
                lease = timedelta(seconds=1)  # runs out before "second" comes back as a runner
                assert claims.claim(session, run_id, step.id, worker="second", now=later, lease=lease)
            taken.append(step.id)

    first = make_runner(worker="first", fault=take_one).run(public_id)
    assert taken and first.status == "in_progress" and taken[0] not in first.executed
    steps = {s.step_id: s for s in _steps(database)}
    assert steps[taken[0]].status == "claimed" and steps[taken[0]].claimed_by == "second"
    mine = [s for s in steps.values() if s.step_id != taken[0]]
    assert all(s.status == "done" and s.sealed is not None for s in mine)  # stored for the next worker
    assert ANA.encode() not in b"".join(s.sealed or b"" for s in mine)

    outcome = make_runner(worker="second", clock=lambda: later + timedelta(seconds=2)).run(public_id)
    assert outcome.status == "completed", outcome.error
    assert outcome.executed == [taken[0]]
    assert [r["email"] for r in package_collections(database, home, vault, public_id)["west_shop.customers"]] == [ANA]
    assert all(s.sealed is None for s in _steps(database))  # dropped once answered


def _run_times_by_sql(database: Database, public_id: str) -> tuple[str, str]:
    """The run's start and its last step's end, as stored, read by plain SQL (ISO text, UTC)."""
    with database.engine.connect() as conn:
        started, last = conn.execute(
            text(
                "SELECT r.started_at, (SELECT max(s.finished_at) FROM execution_steps s WHERE s.run_id = r.id) "
                "FROM execution_runs r JOIN privacy_requests p ON p.id = r.request_id WHERE p.public_id = :id"
            ),
            {"id": public_id},
        ).one()
    return _iso(started), _iso(last)


def _iso(value: Any) -> str:
    """A timestamp as the database gave it (SQLite: text, naive UTC; PostgreSQL: aware) as ISO text in UTC."""
    when = datetime.fromisoformat(value) if isinstance(value, str) else value
    return (when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)).isoformat()


def _statements(runner: Runner, work: Callable[[], Any]) -> list[str]:
    sent: list[str] = []
    listen = lambda *args: sent.append(" ".join(str(args[2]).split()))  # noqa: E731 - (conn, cursor, statement, ...)
    engine = runner.database.engine  # on PostgreSQL the run's own (relaxed) engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        work()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    return sent


@pytest.mark.parametrize("crash", [False, True], ids=["one worker", "resumed after a crash"])
def test_the_end_does_not_read_again_what_the_runner_holds_and_dates_as_stored(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: MakeRunner, crash: bool
) -> None:
    """P-RGT-1: the end takes the request's row and the run's times from the runner when it opened the run and
    stored every step itself (two reads fewer); a worker that resumed another's run reads them. Either way the
    package is dated by the last step as stored (by SQL), so the same run gives the same zip."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    if crash:
        with crashing_before_the_end_commits(database):
            make_runner(worker="first").run(public_id)
        runner = make_runner(worker="second", clock=after_lease(config))
    else:
        runner = make_runner()
    sent = _statements(runner, lambda: runner.run(public_id))
    requests_read = [s for s in sent if s.upper().startswith("SELECT") and "FROM privacy_requests" in s]
    times_read = [s for s in sent if "max(execution_steps.finished_at)" in s]
    # opening reads the request once; a resumed run reads it again to find its run, and reads the times at the end
    assert (len(requests_read), len(times_read)) == ((2, 1) if crash else (1, 0))
    _started, last = _run_times_by_sql(database, public_id)
    document = json.loads(
        zipfile.ZipFile(io.BytesIO(read_package(database, home, vault, public_id))).read("package.json")
    )
    assert document["generated_at"] == last


def test_a_deletion_certificate_is_dated_as_the_run_is_stored(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    """P-RGT-3: the certificate's start is the run's as stored (read by SQL), though the end did not read it."""
    public_id = approved(database, config, vault, RequestKind.DELETION)
    runner = make_runner()
    sent = _statements(runner, lambda: runner.run(public_id))
    assert not [s for s in sent if "max(execution_steps.finished_at)" in s]
    started, _last = _run_times_by_sql(database, public_id)
    assert certificate.certificate_of(database, public_id)["started_at"] == started
