"""A living worker keeps its step while the step runs longer than the lease; a dead one loses it."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from charter.db import Database
from charter.db.base import utcnow
from charter.execution import claims, service
from charter.execution.lease import LeaseKeeper
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved

LEASE = timedelta(seconds=0.3)


def _claimed_step(database: Database, config: Settings, vault: Vault, datamap: Any) -> tuple[int, str]:
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    with database.session() as session:
        row = review.get(session, public_id)
        plan = service.plan_request(session, public_id, datamap, vault=vault)
        run_id = claims.open_run(session, row.id, plan, "digest", now=utcnow())
    with database.session() as session:
        assert claims.claim(session, run_id, plan.steps[0].id, worker="a", now=utcnow(), lease=LEASE)
    return run_id, plan.steps[0].id


def _until(condition: Callable[[], bool], what: str, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, f"{what}: not within {within} s"
        time.sleep(0.05)


def test_a_step_longer_than_its_lease_stays_its_workers(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """While the step runs its lease is renewed: another worker cannot take it over (no step done twice)."""
    run_id, step_id = _claimed_step(database, config, vault, datamap)
    with LeaseKeeper(database, run_id, worker="a", lease=LEASE, clock=utcnow) as keeper, keeper.holding(step_id):
        _until(lambda: keeper.renewals >= 3, "three renewals")
        with database.session() as session:
            assert not claims.claim(session, run_id, step_id, worker="b", now=utcnow(), lease=LEASE)
    assert not keeper.lost
    with database.session() as session:
        assert claims.finish(session, run_id, step_id, worker="a", now=utcnow(), summary={}, sealed=None)


def test_a_worker_that_lost_its_step_stops_renewing(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """Once another worker took the step over (the first was paused past its lease), the first keeps nothing."""
    run_id, step_id = _claimed_step(database, config, vault, datamap)
    later: Callable[[], datetime] = lambda: utcnow() + timedelta(seconds=1)  # noqa: E731
    with database.session() as session:
        assert claims.claim(session, run_id, step_id, worker="b", now=later(), lease=timedelta(minutes=5))
    with LeaseKeeper(database, run_id, worker="a", lease=LEASE, clock=utcnow) as keeper, keeper.holding(step_id):
        _until(lambda: step_id in keeper.lost, "the keeper seeing the step lost")
    assert keeper.renewals == 0
    with database.session() as session:
        assert not claims.finish(session, run_id, step_id, worker="a", now=utcnow(), summary={}, sealed=None)
        assert claims.finish(session, run_id, step_id, worker="b", now=utcnow(), summary={}, sealed=None)


def test_one_thread_renews_for_every_run_and_stops_with_each(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """Runs in parallel (a worker's threads) share the process's one renewing thread; a run that ended is
    renewed no more (its claim was left: another worker may take it once the lease runs out)."""
    first, second = _claimed_step(database, config, vault, datamap), _claimed_step(database, config, vault, datamap)
    with LeaseKeeper(database, first[0], worker="a", lease=LEASE, clock=utcnow) as one, one.holding(first[1]):
        with LeaseKeeper(database, second[0], worker="a", lease=LEASE, clock=utcnow) as two, two.holding(second[1]):
            _until(lambda: one.renewals >= 2 and two.renewals >= 2, "both renewed")
            assert [t.name for t in threading.enumerate()].count("charter-leases") == 1
        stopped, going = two.renewals, one.renewals
        _until(lambda: one.renewals >= going + 2, "the first renewed on")
    assert two.renewals == stopped
