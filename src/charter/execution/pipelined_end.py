"""An access run's end in two round trips on PostgreSQL: the same rows as :func:`ending.complete_in`, sent together.

The end of an access or portability run is a transaction of writes nobody reads back before the last: its steps
marked done, the run closed with its package, the package stored, the request completed, the person's notice
queued, two audit entries. One by one that was ten round trips, the largest share of an access request's time
(issue 11). Here (:mod:`charter.db.pipeline`) they go in one round trip with the audit chain's lock and head,
and the audit entries, ``SET LOCAL synchronous_commit`` and the COMMIT in a second.

Three of those writes only hold under a condition, as their one-by-one forms check: every step still ours
(``claims.finish_many``), the run still running (``claims.close_run``), the request still in progress
(``transitions.move``). If any did not hold, the transaction is rolled back before its COMMIT is sent and the
caller ends the run one statement at a time, which finds out and says what happened exactly as before. The rows
come from the same builders (``claims.finish_params``, ``package.store_values``, ``transitions.moving``,
``notices.queue_values``, ``audit.chained``), so the two ways write the same thing; a test holds them equal.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from charter.audit import service as audit
from charter.db import pipeline
from charter.execution import claims, ending, package
from charter.execution.actions import StepContext
from charter.execution.ending import ACTOR, Known
from charter.execution.steps import Plan
from charter.requests import notices, transitions
from charter.requests.kinds import RequestKind, Status
from charter.subjects.service import Vault

#: (step id, summary, sealed outcome or None, finished at): what ``claims.finish_many`` stores per step
Stored = tuple[str, Mapping[str, Any], bytes | None, datetime]


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

    sending = pipeline.Pipeline(session)
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
    link = audit.link_after((head.rows[0][0], head.rows[0][1]) if head.rows else None)
    sending.add(audit.INSERT, audit.rows_of(audit.chained(entries, link)))
    sending.sync(commit=True)
    return True
