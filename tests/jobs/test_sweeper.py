"""The sweeper on SQLite and PostgreSQL, with the demo's SQLite stores and a recording queue.

Promises: P-RGT-3 (a deletion a dead worker left mid-way is resumed, not
forgotten). A "dead worker" is a runner whose fault hook raises something
that is not a Charter error: its step stays claimed until its lease runs
out, exactly as after kill -9 (tests/jobs/test_workers.py does the real
kill). Time is passed to the sweeper, never waited for.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from charter.db import Database
from charter.db.base import utcnow
from charter.demo import stores
from charter.errors import Unavailable
from charter.execution import claims, service
from charter.execution import jobs as execution_jobs
from charter.execution.runner import Runner, digest
from charter.execution.steps import Action, Step
from charter.jobs.sweeper import GRACE, Chore, chores, sweep
from charter.requests import notices, review
from charter.requests.kinds import RequestKind
from charter.services import Services
from tests.requests.conftest import approved_request, datamap_services
from tests.subjects.factories import publish_examples

ANA = "ana@example.org"
BEN = "ben@example.org"


class Died(Exception):
    """What a killed process looks like to the runner: not a Charter error, so nothing is cleaned up."""


@dataclass
class Recording:
    """A job queue that only remembers what it was given."""

    backend: str = "recording"
    submitted: list[str] = field(default_factory=list)

    def submit_run(self, public_id: str) -> None:
        self.submitted.append(public_id)


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    publish_examples(database)
    stores.create(tmp_path / "home", count=10)
    built = datamap_services(database, tmp_path / "home")
    yield built
    built.close()


def approved(services: Services, email: str = ANA, kind: RequestKind = RequestKind.DELETION) -> str:
    return approved_request(services, kind, email)


def outbox(services: Services) -> list[Path]:
    """The messages the services' outbox mailer has written so far."""
    folder = getattr(services.mailer, "folder", None)
    assert isinstance(folder, Path)
    return sorted(folder.glob("*")) if folder.exists() else []


def died_mid_erasure(services: Services, public_id: str, *, at: datetime | None = None) -> None:
    """Run until the first erase step is claimed, then 'die' there (the step keeps its claim and lease)."""

    def fault(where: str, step: Step) -> None:
        if where == "before" and step.action == Action.ERASE:
            raise Died

    datamap = service.load_datamap(services.settings)
    clock = (lambda: at) if at is not None else utcnow
    runner = Runner(services.database, services.settings, services.vault, datamap, fault=fault, clock=clock)
    with pytest.raises(Died):
        runner.run(public_id)


def test_a_run_whose_lease_ran_out_is_submitted_again_p_rgt_3(services: Services) -> None:
    public_id = approved(services)
    died_mid_erasure(services, public_id)
    lease = timedelta(seconds=services.settings.execution.lease_seconds)
    queue = Recording()

    report = sweep(services, queue, now=utcnow() + lease + timedelta(seconds=1), periodic=[])

    assert queue.submitted == [public_id]
    assert report.as_dict() == {"backend": "recording", "resumed": [public_id], "started": [], "chores": {}}


def test_a_run_under_a_live_lease_is_left_alone(services: Services) -> None:
    public_id = approved(services)
    died_mid_erasure(services, public_id)
    queue = Recording()
    report = sweep(services, queue, now=utcnow(), periodic=[])
    assert queue.submitted == [] and report.resumed == []


def test_a_run_with_pending_steps_and_nobody_on_them_is_submitted_again(services: Services) -> None:
    """The worker died between opening the run and claiming its first step: nothing is claimed at all."""
    public_id = approved(services)
    datamap = service.load_datamap(services.settings)
    with services.database.session() as session:
        row = review.get(session, public_id)
        plan = service.plan_request(session, public_id, datamap, vault=services.vault)
        review.start(session, row, actor="test")
        claims.open_run(session, row.id, plan, digest(plan), now=utcnow())
    queue = Recording()
    sweep(services, queue, now=utcnow(), periodic=[])
    assert queue.submitted == [public_id]


def test_nothing_to_do_submits_nothing(services: Services) -> None:
    done = approved(services, BEN)
    Runner(services.database, services.settings, services.vault, service.load_datamap(services.settings)).run(done)
    waiting = approved(services)  # approved, autorun off: waits for the office to run it
    queue = Recording()
    report = sweep(services, queue, now=utcnow() + timedelta(days=1), periodic=[])
    assert queue.submitted == [] and report.resumed == [] and report.started == []
    with services.database.session() as session:
        assert review.get(session, waiting).status == "approved"


def test_with_autorun_an_approved_request_never_started_is_started_after_the_grace(services: Services) -> None:
    services.settings.execution.autorun = True
    public_id = approved(services)
    access = approved(services, BEN, RequestKind.ACCESS)
    queue = Recording()
    sweep(services, queue, now=utcnow(), periodic=[])
    assert queue.submitted == []  # the approval's own submission is on its way
    report = sweep(services, queue, now=utcnow() + GRACE + timedelta(seconds=1), periodic=[])
    assert sorted(report.started) == sorted([public_id, access]) and sorted(queue.submitted) == sorted(report.started)


def test_the_batch_bounds_one_sweep(services: Services) -> None:
    first, second = approved(services), approved(services, BEN)
    at = utcnow() - timedelta(hours=1)  # their leases ran out long ago
    died_mid_erasure(services, first, at=at)
    died_mid_erasure(services, second, at=at)
    queue = Recording()
    sweep(services, queue, limit=1, periodic=[])
    assert len(queue.submitted) == 1
    sweep(services, queue, periodic=[])
    assert sorted(queue.submitted[1:]) == sorted([first, second])


def test_chores_run_after_the_submissions_and_fail_alone(services: Services) -> None:
    def broken(_services: Services, _now: datetime) -> int | None:
        raise Unavailable("the mail server is down")

    def bug(_services: Services, _now: datetime) -> int | None:
        raise RuntimeError("a bug")

    periodic = [Chore("broken", broken), Chore("bug", bug), Chore("counted", lambda _s, _n: 3)]
    report = sweep(services, Recording(), periodic=periodic)
    assert report.chores == {"broken": "failed: unavailable", "bug": "failed: unexpected error", "counted": 3}


def test_every_sweep_expires_unconfirmed_requests(services: Services) -> None:
    """P-RGT-7: a request nobody confirmed does not keep its sealed identity forever (charter.requests.expiry)."""
    assert [c.name for c in chores()] == ["expire_unverified", "drop_packages", "deliver_notices"]
    report = sweep(services, Recording())
    assert set(report.chores) == {"expire_unverified", "drop_packages", "deliver_notices"}
    assert not any(str(v).startswith("failed") for v in report.chores.values())


def test_a_run_sends_its_own_notices_and_the_sweep_sends_the_rest(services: Services) -> None:
    """A worker's run mails its own requester only; another request's pending notice (its send failed, its
    process stopped) is left to the sweeper's chore, which sends it."""
    other = approved(services, BEN, RequestKind.ACCESS)  # its "approved" notice is still pending
    with services.database.session() as session:
        waiting = len(notices.pending(session, request_id=review.get(session, other).id))
    assert waiting >= 1
    mine = approved(services, ANA, RequestKind.ACCESS)
    sent_before = len(outbox(services))
    execution_jobs.run_request(services, mine)
    with services.database.session() as session:
        assert notices.pending(session, request_id=review.get(session, mine).id) == []
        assert len(notices.pending(session, request_id=review.get(session, other).id)) == waiting
    report = sweep(services, Recording())
    assert report.chores["deliver_notices"] == waiting
    assert len(outbox(services)) > sent_before
    with services.database.session() as session:
        assert notices.pending(session, request_id=review.get(session, other).id) == []


def test_charter_serve_sweeps_and_resumes_a_run_a_restart_stopped_p_rgt_3(services: Services, tmp_path: Path) -> None:
    """With the in-process backend no `charter worker` sweeps: a real `charter serve` does, at start and every
    CHARTER_JOBS_SWEEP_SECONDS, so a deletion its previous process left mid-way (lease run out) is finished."""
    public_id = approved(services)
    lease = timedelta(seconds=services.settings.execution.lease_seconds)
    died_mid_erasure(services, public_id, at=utcnow() - lease - timedelta(seconds=5))
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env.update(
        CHARTER_ENV="test",
        CHARTER_HOME=str(services.settings.home),
        CHARTER_DATABASE_URL=services.settings.database.url,
        CHARTER_DATAMAP_PATH=str(services.settings.datamap.path),
        CHARTER_JOBS_SWEEP_SECONDS="3600",  # the sweep at start-up is the one this test waits for
    )
    log = tmp_path / "serve.log"
    with log.open("wb") as handle:
        server = subprocess.Popen(
            [str(Path(sys.executable).parent / "charter"), "serve", "--port", str(port)],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while status_of(services, public_id) != "completed":
            assert server.poll() is None, log.read_text()[-3000:]
            assert time.monotonic() < deadline, f"not resumed\n{log.read_text()[-3000:]}"
            time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)
    with services.database.session() as session:
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None and run.certificate is not None


def status_of(services: Services, public_id: str) -> str:
    with services.database.session() as session:
        return review.get(session, public_id).status
