"""Claiming and finishing a batch of steps: each row under the same conditions as a single claim."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from charter.db import Database
from charter.db.base import utcnow
from charter.execution import batches, claims, service
from charter.execution.steps import Action, Plan
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
    outcomes = [(first, {"rows": 1}, None, later), (second, {"rows": 2}, None, later)]
    with database.session() as session:
        assert claims.finish_many(session, run_id, outcomes, worker="a") == {first}
    with database.session() as session:
        steps = {s.step_id: s for s in claims.steps_of(session, run_id)}
    assert steps[first].status == claims.DONE and steps[first].summary == {"rows": 1}
    assert steps[second].status == claims.CLAIMED and steps[second].claimed_by == "b"


def test_steps_given_back_are_pending_again_and_only_the_holders_are(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """A worker that will not perform steps it claimed (they built on a step it lost) gives them back at once;
    it cannot give back a step another worker holds (P-RGT-3)."""
    now = utcnow()
    run_id, plan = _opened_run(database, config, vault, datamap, now)
    first, second = (s.id for s in plan.steps[:2])
    with database.session() as session:
        claims.claim_many(session, run_id, [first], worker="a", now=now, lease=LEASE)
        claims.claim_many(session, run_id, [second], worker="b", now=now, lease=LEASE)
    with database.session() as session:
        claims.release_many(session, run_id, [first, second], worker="a")
    with database.session() as session:
        steps = {s.step_id: s for s in claims.steps_of(session, run_id)}
    assert steps[first].status == claims.PENDING and steps[first].claimed_by is None
    assert steps[second].status == claims.CLAIMED and steps[second].claimed_by == "b"


def test_a_batch_is_the_whole_discovery_then_the_writes_with_their_verification(
    database: Database, config: Settings, vault: Vault, datamap: Any
) -> None:
    """Reads apart from writes, and a step with its dependencies in the same batch in dependency order: every
    fetch of a deletion in the first batch (stored before any store changes), every erase and verify in the
    second, never a fetch with a write (P-RGT-3)."""
    public_id = approved(database, config, vault, RequestKind.DELETION)
    with database.session() as session:
        plan = service.plan_request(session, public_id, datamap, vault=vault)
    depends = batches.dependencies(plan)
    view = claims.fresh_view(s.id for s in plan.steps)
    now = utcnow()
    first = batches.batch_of(plan, view, now, depends)
    assert {plan.step(s).action for s in first} == {Action.FETCH}
    assert set(first) == {s.id for s in plan.of(Action.FETCH)}
    assert len({s.collection for s in plan.of(Action.FETCH)}) > 2  # several depths of references, one batch
    _in_order(plan, first, done=set())
    second = batches.batch_of(plan, view, now, depends, finishing=first)
    assert set(second) == {s.id for s in plan.steps} - set(first)
    _in_order(plan, second, done=set(first))
    writes = [plan.step(s).action in batches.WRITING for s in second]
    assert writes == sorted(writes, reverse=True)  # the writes lead: they share a store transaction (units)


def _in_order(plan: Plan, batch: list[str], *, done: set[str]) -> None:
    seen = set(done)
    for step_id in batch:
        assert set(plan.step(step_id).depends_on) <= seen, step_id
        seen.add(step_id)
