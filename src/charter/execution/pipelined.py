"""A run's opening and an access run's end, each in two round trips on PostgreSQL: the rows the one-by-one forms
write (``review.start`` + ``claims.open_run``; ``ending.complete_in``), sent together.

Each is a transaction of writes nobody reads back before the last. The end of an access or portability run marks
its steps done, closes the run with its package, stores the package, completes the request, queues the person's
notice and writes two audit entries; the opening moves the request to in progress, inserts the run and its steps
(the first batch already claimed) and audits it. One by one that was ten and seven round trips, the largest share
of an access request's time (issue 11). Here (:mod:`charter.db.pipeline`) the writes go in one round trip with
the audit chain's lock and head, and the rest with the COMMIT in a second (the end's ``synchronous_commit`` on).

Some writes only hold under a condition, as their one-by-one forms check: every step still ours
(``claims.finish_many``), the run still running (``claims.close_run``), the request still in the state it was
read in (``transitions.move``). If one did not hold, the transaction is rolled back before its COMMIT is sent
and the caller goes the one-by-one way, which finds out and says what happened exactly as before. The rows
come from the same builders (``claims.finish_params``, ``claims.step_rows``, ``package.store_values``,
``transitions.moving``, ``notices.queue_values``, ``audit.chained``), so the two ways write the same thing;
tests hold them equal by SQL.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from charter.audit import service as audit
from charter.db import pipeline
from charter.execution import claims, ending, package
from charter.execution.actions import StepContext
from charter.execution.ending import ACTOR, Known
from charter.execution.models import ExecutionRun
from charter.execution.steps import Plan
from charter.requests import notices, transitions
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.subjects.service import Vault

#: (step id, summary, sealed outcome or None, finished at): what ``claims.finish_many`` stores per step
Stored = tuple[str, Mapping[str, Any], bytes | None, datetime]


def opens(session: Session) -> bool:
    """Can this session open a run in two round trips (PostgreSQL through psycopg)?"""
    return pipeline.available(session)


def open_run(
    session: Session,
    row: PrivacyRequest,
    plan: Plan,
    digest: str,
    *,
    now: datetime,
    claimed: Collection[str],
    worker: str,
    lease: timedelta,
) -> int | None:
    """Start the approved request and open its run with the ``claimed`` steps ours, committed (not durably:
    nothing has changed in any store yet); the run's id. None if the request was not approved any more (another
    runner started it a moment ago): nothing was committed, the transaction is rolled back."""
    moved_params, started = transitions.moving(row, Status.IN_PROGRESS, actor=ACTOR, now=now)
    entries = audit.check([started])
    sending = pipeline.Pipeline.of(session)
    moved = sending.add(transitions.MOVE, moved_params)
    opened = sending.add(_OPEN_RUN_ONCE, claims.run_values(row.id, digest, now=now))
    sending.add(audit.LOCK, {})
    head = sending.add(audit.HEAD_ROW, {})
    sending.sync()
    if moved.rowcount != 1 or not opened.rows:
        session.rollback()
        return None
    run_id = int(opened.rows[0][0])
    sending.add(claims.STEP_ROWS, claims.step_rows(run_id, plan, now=now, claimed=claimed, worker=worker, lease=lease))
    sending.add(audit.INSERT, audit.rows_of(audit.chained(entries, _link(head))))
    sending.sync(commit=True)
    set_committed_value(row, "status", Status.IN_PROGRESS.value)  # as transitions.move leaves the row
    set_committed_value(row, "updated_at", now)
    return run_id


#: claims.OPEN_RUN, but a run opened by another runner meanwhile (its request moved under our feet: our UPDATE
#: found nothing to change) is no error: both go in one round trip, so the INSERT is sent whatever the UPDATE did
_OPEN_RUN_ONCE = (
    postgresql.insert(ExecutionRun).on_conflict_do_nothing(index_elements=["request_id"]).returning(ExecutionRun.id)
)


def _link(head: pipeline.Sent) -> tuple[int, str]:
    return audit.link_after((head.rows[0][0], head.rows[0][1]) if head.rows else None)


def applies(session: Session, plan: Plan, known: Known, *, whole: bool) -> bool:
    """An access or portability run this runner opened and performed whole, on PostgreSQL through psycopg."""
    return (
        whole
        and RequestKind(plan.kind) in (RequestKind.ACCESS, RequestKind.PORTABILITY)
        and known.request is not None
        and known.times is not None
        and pipeline.available(session)
    )


def complete(
    session: Session,
    vault: Vault,
    plan: Plan,
    run_id: int,
    context: StepContext,
    stored: Sequence[Stored],
    *,
    worker: str,
    known: Known,
    now: datetime,
) -> bool:
    """Store the steps and complete the run and the request, committed durably: True. False if a condition did
    not hold; then nothing was committed and the transaction is rolled back (the caller ends it one by one)."""
    row, times = known.request, known.times
    assert row is not None and times is not None  # applies()
    started, last = times
    built, data = ending.packaged(vault, plan, context, dated=last or started)
    found = built.rows > 0
    data["found"] = found
    moved_params, completed = transitions.moving(row, Status.COMPLETED, actor=ACTOR, now=now, data={"found": found})
    note = None if found else notices.NOTHING_FOUND

    sending = pipeline.Pipeline.of(session)
    finished = sending.add(claims.FINISH, claims.finish_params(run_id, stored, worker=worker))
    closed = sending.add(
        claims.CLOSE_WITH_PACKAGE, claims.close_values(run_id, now=now, package=built.name, package_sha256=built.sha256)
    )
    sending.add(package.STORE, package.store_values(run_id, built, now=now))
    moved = sending.add(transitions.MOVE, moved_params)
    sending.add(notices.QUEUE, notices.queue_values(row, notices.COMPLETED, note=note))
    sending.add(audit.LOCK, {})
    head = sending.add(audit.HEAD_ROW, {})
    sending.sync()
    if finished.rowcount != len(stored) or closed.rowcount != 1 or moved.rowcount != 1:
        session.rollback()  # nothing was committed: the one-by-one end finds out which and says so
        return False
    entries = audit.check([audit.Entry(ACTOR, "execution.finished", f"request:{plan.request}", data), completed])
    sending.add(audit.INSERT, audit.rows_of(audit.chained(entries, _link(head))))
    sending.sync(commit=True, durable=True)
    return True
