"""Claiming and finishing a batch of steps: each row under the same conditions as a single claim."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from charter.db import Database
from charter.db.base import utcnow
from charter.execution import claims, service
from charter.execution.steps import Plan
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import approved

LEASE = timedelta(seconds=60)


def _opened_run(database: Database, config: Settings, vault: Vault, datamap: Any, now: datetime) -> tuple[int, Plan]:
    """An approved access request's run, opened with every step pending; its id and plan."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    with database.session() as session:
        row = review.get(session, public_id)
        plan = service.plan_request(session, public_id, datamap, vault=vault)
        return claims.open_run(session, row.id, plan, "digest", now=now), plan


def test_a_batch_claim_takes_only_what_is_claimable_and_says_which(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """Two workers on one run never hold the same step (P-RGT-3): RETURNING names the rows a claim changed."""
    now = utcnow()
    run_id, plan = _opened_run(database, config, vault, datamap, now)
    first, second, third = (s.id for s in plan.steps[:3])
    with database.session() as session:
        assert claims.claim(session, run_id, first, worker="b", now=now, lease=LEASE)
    with database.session() as session:
        taken = claims.claim_many(session, run_id, [first, second, third], worker="a", now=now, lease=LEASE)
    assert taken == {second, third}  # the first is b's, under a live lease
    with database.session() as session:
        assert claims.claim_many(session, run_id, [second, third], worker="c", now=now, lease=LEASE) == set()
        assert claims.claim_many(session, run_id, [], worker="c", now=now, lease=LEASE) == set()


def test_a_batch_finish_stores_only_the_steps_still_held(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """A worker whose lease ran out on one step of its batch cannot overwrite the worker that took it over."""
    now = utcnow()
    run_id, plan = _opened_run(database, config, vault, datamap, now)
    first, second = (s.id for s in plan.steps[:2])
    with database.session() as session:
        assert claims.claim_many(session, run_id, [first, second], worker="a", now=now, lease=LEASE) == {
            first,
            second,
        }
    later = now + LEASE + timedelta(seconds=1)
    with database.session() as session:  # a was paused past its lease: b takes the second step over
        assert claims.claim(session, run_id, second, worker="b", now=later, lease=LEASE)
    outcomes = [(first, {"rows": 1}, None), (second, {"rows": 2}, None)]
    with database.session() as session:
        assert claims.finish_many(session, run_id, outcomes, worker="a", now=later) == {first}
    with database.session() as session:
        steps = {s.step_id: s for s in claims.steps_of(session, run_id)}
    assert steps[first].status == claims.DONE and steps[first].summary == {"rows": 1}
    assert steps[second].status == claims.CLAIMED and steps[second].claimed_by == "b"
