"""A store that is briefly unavailable does not fail a request: a row lock held by another connection for ten
seconds, on a real PostgreSQL store, with a statement timeout of one second.

Promises: P-RGT-3 (the deletion is carried out and certified although the store made it wait), P-RGT-8 (a
request is not failed — and so not left unanswered — by a store that is busy for seconds).
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import create_engine, select

from charter.demo import stores
from charter.execution import claims, service
from charter.execution.certificate import certificate_of
from charter.execution.runner import Runner
from charter.requests import review
from charter.requests.kinds import RequestKind
from tests.jobs.conftest import Stack

pytestmark = [pytest.mark.postgres, pytest.mark.parametrize("database", ["postgresql"], indirect=True)]
ANA = "ana@example.org"


def test_a_row_lock_held_for_seconds_is_retried_and_the_request_completes(stack: Stack, store_url: str) -> None:
    settings = stack.settings
    settings.connectors.statement_timeout = 1.0  # the UPDATE waiting on the lock is cancelled after 1 s
    settings.execution.retry_base, settings.execution.retry_max = 0.5, 1.0  # the default window: 15 minutes
    public_id = stack.approved(RequestKind.DELETION, ANA)
    engine = create_engine(store_url)
    locked, release = threading.Event(), threading.Event()

    def hold() -> None:
        with engine.begin() as conn:
            conn.execute(select(stores.customers).where(stores.customers.c.email == ANA).with_for_update())
            locked.set()
            release.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    # the other connection lets go after ten seconds: more than five tries (the old limit) last, well in the window
    timer = threading.Timer(10.0, release.set)
    try:
        assert locked.wait(10), "the row lock was not taken"
        timer.start()
        datamap = service.load_datamap(settings)
        outcome = Runner(stack.database, settings, stack.services.vault, datamap, env=stack.env).run(public_id)
    finally:
        release.set()
        timer.cancel()
        holder.join(30)
        engine.dispose()
    assert outcome.status == "completed", outcome.error
    assert certificate_of(stack.database, public_id)["verified"] is True
    with stack.database.session() as session:
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None
        steps = {(s.action, s.collection): s for s in claims.steps_of(session, run.id)}
    assert steps[("erase", "west_shop.customers")].attempts >= 2  # cancelled by its timeout, then tried again
