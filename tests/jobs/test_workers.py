"""Real ``charter worker`` processes on the real Redis, Charter's state in PostgreSQL, the stores in PostgreSQL.

Promises: P-RGT-3 (a deletion is carried out, once, and certified even when
workers race or die). Issue 4's "Done when": two workers never execute the
same step twice; kill -9 the worker in the middle of an erasure, and after a
restart it finishes with nothing left and nothing deleted twice.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from sqlalchemy import Connection, Engine, create_engine, select, text

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.demo import stores
from charter.execution import claims
from charter.execution.certificate import certificate_of
from charter.execution.models import ExecutionStep
from charter.jobs.celery_queue import CeleryQueue
from charter.requests import review
from charter.requests.kinds import RequestKind
from tests.jobs.conftest import Stack, Workers

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.xdist_group("workers"),
    pytest.mark.parametrize("database", ["postgresql"], indirect=True),
]
PEOPLE = ("ana@example.org", "ben@example.org", "chloe@example.org", "dev@example.org")


def _steps(database: Database, public_id: str) -> list[ExecutionStep]:
    with database.session() as session:
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None
        return claims.steps_of(session, run.id)


def _erase_audits(database: Database, public_id: str) -> Counter[str]:
    with database.session() as session:
        entries = session.scalars(
            select(AuditEntry).where(
                AuditEntry.target == f"request:{public_id}", AuditEntry.action == "execution.erase"
            )
        )
        return Counter(str((e.data or {}).get("step")) for e in entries)


def _answered(stack: Stack, ids: list[str]) -> bool:
    return all(stack.status(i) in ("completed", "failed") for i in ids)


def _held_rows(conn: Connection, email: str) -> dict[str, int]:
    """How many rows the person has in each collection a deletion erases (the certificate must say the same)."""
    customer = conn.execute(text("SELECT id FROM customers WHERE email = :e"), {"e": email}).scalar_one()
    orders = [r[0] for r in conn.execute(text("SELECT id FROM orders WHERE customer_id = :c"), {"c": customer})]
    tickets = [r[0] for r in conn.execute(text("SELECT id FROM tickets WHERE email = :e"), {"e": email})]

    def count(sql: str, **params: Any) -> int:
        return int(conn.execute(text(sql), params).scalar_one())

    return {
        "west_shop.customers": 1,
        "west_shop.addresses": count("SELECT count(*) FROM addresses WHERE customer_id = :c", c=customer),
        "west_shop.payments": count("SELECT count(*) FROM payments WHERE order_id = ANY(:o)", o=orders),
        "west_support.tickets": len(tickets),
        "west_support.messages": count("SELECT count(*) FROM messages WHERE ticket_id = ANY(:t)", t=tickets),
    }


def _waiting_on_a_lock(engine: Engine) -> int:
    """Store backends waiting on a row lock (a new transaction each time: activity is a per-transaction snapshot)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query ILIKE 'UPDATE customers%'"
                )
            ).scalar_one()
        )


def _erased_everywhere(conn: Connection, email: str, customer: int) -> None:
    assert conn.execute(text("SELECT count(*) FROM customers WHERE email = :e"), {"e": email}).scalar_one() == 0
    names = conn.execute(text("SELECT first_name, phone FROM customers WHERE id = :c"), {"c": customer}).one()
    assert names == ("(erased)", None)
    assert conn.execute(text("SELECT count(*) FROM addresses WHERE customer_id = :c"), {"c": customer}).scalar() == 0
    assert conn.execute(text("SELECT count(*) FROM tickets WHERE email = :e"), {"e": email}).scalar_one() == 0


def test_two_workers_on_the_same_runs_never_do_a_step_twice_p_rgt_3(
    stack: Stack, workers: Workers, store_url: str
) -> None:
    """Each run is submitted twice and two worker processes take them: one claim and one erasure per step."""
    engine = create_engine(store_url)
    with engine.connect() as conn:
        customers = {
            email: conn.execute(text("SELECT id FROM customers WHERE email = :e"), {"e": email}).scalar_one()
            for email in PEOPLE
        }
    ids = [stack.approved(RequestKind.DELETION, email) for email in PEOPLE]
    first = workers.start("--concurrency", "2", "--sweep-every", "0")
    second = workers.start("--concurrency", "2", "--sweep-every", "0")
    workers.wait_ready()
    queue = CeleryQueue(stack.settings)
    for public_id in ids:
        queue.submit_run(public_id)
        queue.submit_run(public_id)  # a duplicate delivery: both workers may work on this run at once

    workers.wait_for(lambda: _answered(stack, ids), "every request to be answered")

    pids: set[str] = set()
    for public_id in ids:
        assert stack.status(public_id) == "completed", workers.output()
        steps = _steps(stack.database, public_id)
        assert steps and all(s.status == claims.DONE for s in steps)
        assert [s.step_id for s in steps if s.attempts != 1] == [], "a step was claimed more than once"
        erase_steps = {s.step_id for s in steps if s.action == "erase"}
        assert _erase_audits(stack.database, public_id) == Counter({step: 1 for step in erase_steps})
        assert certificate_of(stack.database, public_id)["verified"] is True
        pids |= {str(s.claimed_by).split(":")[1] for s in steps}
    assert pids == {str(first.pid), str(second.pid)}, "both worker processes carried out steps"
    with engine.connect() as conn:
        for email, customer in customers.items():
            _erased_everywhere(conn, email, customer)
        assert conn.execute(text("SELECT count(*) FROM customers")).scalar_one() == 30  # the others untouched
    engine.dispose()


def test_kill_9_mid_erasure_then_a_new_worker_finishes_it_once_p_rgt_3(
    stack: Stack, workers: Workers, store_url: str
) -> None:
    """The erase of the customer row (after its addresses and payments) waits on a row lock the test holds;
    the worker is killed there, then replaced."""
    email = PEOPLE[0]
    engine = create_engine(store_url)
    with engine.connect() as conn:
        held = _held_rows(conn, email)
        customer = conn.execute(text("SELECT id FROM customers WHERE email = :e"), {"e": email}).scalar_one()
    public_id = stack.approved(RequestKind.DELETION, email)
    with engine.connect() as lock:
        killed = _kill_while_locked(stack, workers, lock, public_id, customer)
    assert stack.status(public_id) == "in_progress"
    with engine.connect() as conn:  # its writes to the shop died with its transaction: her rows, all there
        assert _held_rows(conn, email) == held
    # the killed worker's claims: the customer's erase and the rest of its batch
    unfinished = {s.step_id for s in _steps(stack.database, public_id) if s.status == claims.CLAIMED}
    assert killed.step_id in unfinished

    workers.start("--concurrency", "1", "--sweep-every", "0.5", CHARTER_EXECUTION_LEASE_SECONDS="5")
    workers.wait_for(lambda: _answered(stack, [public_id]), "the new worker to finish the run")

    assert stack.status(public_id) == "completed", workers.output()
    steps = {s.step_id: s for s in _steps(stack.database, public_id)}
    assert all(s.status == claims.DONE for s in steps.values())
    assert steps[killed.step_id].attempts == 2 and steps[killed.step_id].claimed_by != killed.claimed_by
    assert {sid for sid, s in steps.items() if s.attempts != 1} == unfinished  # redone once, the rest never
    erase_steps = {s.step_id for s in steps.values() if s.action == "erase"}
    assert _erase_audits(stack.database, public_id) == Counter({step: 1 for step in erase_steps})
    certificate = certificate_of(stack.database, public_id)
    assert certificate["verified"] is True
    # every row matched and proven erased (read again by key); a write redone after the kill counts only what
    # its own statement changed (0 where the killed worker's had already committed), never more
    proven = {c["collection"]: (c["rows_matched"], c["rows_checked"]) for c in certificate["collections"]}
    assert proven == {collection: (rows, rows) for collection, rows in held.items()}
    assert all(c["rows_affected"] <= c["rows_matched"] for c in certificate["collections"])
    with engine.connect() as conn:
        _erased_everywhere(conn, email, customer)
    engine.dispose()


def _kill_while_locked(
    stack: Stack, workers: Workers, lock: Connection, public_id: str, customer: int
) -> ExecutionStep:
    """Start a worker, let its erase of the customer block on ``lock``'s row lock, kill -9 it; the step it held."""
    blocker = lock.begin()
    lock.execute(select(stores.customers).where(stores.customers.c.id == customer).with_for_update())
    first = workers.start("--concurrency", "1", "--sweep-every", "0", CHARTER_EXECUTION_LEASE_SECONDS="5")
    workers.wait_ready()
    CeleryQueue(stack.settings).submit_run(public_id)
    workers.wait_for(lambda: _waiting_on_a_lock(lock.engine), "the worker's UPDATE to wait on the test's row lock")
    before = _steps(stack.database, public_id)
    claimed = [s for s in before if s.status == claims.CLAIMED]
    # the writes and their verification are one batch; the customer's erase comes after its addresses' and
    # payments', in the same store transaction (units): killed in the middle of the erasure, none is done
    assert {s.action for s in claimed} == {"erase", "verify"}
    assert not [s for s in before if s.status == claims.DONE and s.action == "erase"]
    first.kill()  # SIGKILL: no clean-up of any kind
    first.wait()
    blocker.rollback()  # the killed worker's UPDATE proceeds in PostgreSQL, then aborts: its client is gone
    return next(s for s in claimed if s.action == "erase" and s.collection == "west_shop.customers")
