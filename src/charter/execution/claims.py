"""Step state in Charter's database: open a run, claim a ready step under a lease, finish or fail it.

A claim is one conditional UPDATE (``rowcount == 1`` means the step is
ours): a step is claimable while ``pending``, or ``claimed`` with a lease
that has run out (its worker died). Finishing is conditional on still
holding the claim, so a worker whose lease ran out and was taken over
cannot overwrite the worker that took over. Dependencies are checked by the
runner before it claims: ``done`` never goes back, so a dependency seen
done stays done. This needs no ``SELECT … FOR UPDATE`` and works the same on
SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from charter.db.base import rowcount
from charter.execution.models import ExecutionRun, ExecutionStep
from charter.execution.steps import Plan

PENDING, CLAIMED, DONE, FAILED = "pending", "claimed", "done", "failed"
RUNNING, COMPLETED = "running", "completed"
MAX_ERROR = 300


def open_run(session: Session, request_id: int, plan: Plan, digest: str, *, now: datetime) -> ExecutionRun:
    """The run of a request with a row per step of its plan, all ``pending``."""
    run = ExecutionRun(request_id=request_id, plan_digest=digest, status=RUNNING, started_at=now)
    session.add(run)
    session.flush()
    session.add_all(
        ExecutionStep(
            run_id=run.id,
            step_id=step.id,
            position=position,
            action=step.action.value,
            system=step.system,
            collection=step.collection,
            status=PENDING,
            attempts=0,
        )
        for position, step in enumerate(plan.steps)
    )
    session.flush()
    return run


def run_of(session: Session, request_id: int) -> ExecutionRun | None:
    return session.scalar(select(ExecutionRun).where(ExecutionRun.request_id == request_id))


def steps_of(session: Session, run_id: int) -> list[ExecutionStep]:
    found = session.scalars(
        select(ExecutionStep).where(ExecutionStep.run_id == run_id).order_by(ExecutionStep.position)
    )
    return list(found)


def claim(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Take the step if it is pending or its lease ran out; True if it is now ours."""
    changed = session.execute(
        update(ExecutionStep)
        .where(
            ExecutionStep.run_id == run_id,
            ExecutionStep.step_id == step_id,
            or_(
                ExecutionStep.status == PENDING,
                (ExecutionStep.status == CLAIMED) & (ExecutionStep.lease_until < now),
            ),
        )
        .values(
            status=CLAIMED,
            claimed_by=worker,
            lease_until=now + lease,
            attempts=ExecutionStep.attempts + 1,
            started_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


def _mine(run_id: int, step_id: str, worker: str) -> Any:
    return (
        (ExecutionStep.run_id == run_id)
        & (ExecutionStep.step_id == step_id)
        & (ExecutionStep.status == CLAIMED)
        & (ExecutionStep.claimed_by == worker)
    )


def retry(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Count one more try and renew the lease; False if the step is no longer ours."""
    changed = session.execute(
        update(ExecutionStep)
        .where(_mine(run_id, step_id, worker))
        .values(attempts=ExecutionStep.attempts + 1, lease_until=now + lease)
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


def attempts_of(session: Session, run_id: int, step_id: str) -> int:
    found = session.scalar(
        select(ExecutionStep.attempts).where(ExecutionStep.run_id == run_id, ExecutionStep.step_id == step_id)
    )
    return int(found or 0)


def finish(
    session: Session,
    run_id: int,
    step_id: str,
    *,
    worker: str,
    now: datetime,
    summary: Mapping[str, Any],
    sealed: bytes | None,
) -> bool:
    """Store the step's outcome and mark it done, in the caller's transaction; False if we lost the claim."""
    changed = session.execute(
        update(ExecutionStep)
        .where(_mine(run_id, step_id, worker))
        .values(status=DONE, summary=dict(summary), sealed=sealed, finished_at=now, lease_until=None, error=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


def fail(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, error: str) -> bool:
    changed = session.execute(
        update(ExecutionStep)
        .where(_mine(run_id, step_id, worker))
        .values(status=FAILED, error=error[:MAX_ERROR], finished_at=now, lease_until=None)
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


def close_run(session: Session, run_id: int, status: str, *, now: datetime, **values: Any) -> bool:
    """Move the run from running to ``status`` once (of two workers finishing at once, one wins)."""
    changed = session.execute(
        update(ExecutionRun)
        .where(ExecutionRun.id == run_id, ExecutionRun.status == RUNNING)
        .values(status=status, finished_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    return rowcount(changed) == 1


def forget_outcomes(session: Session, run_id: int) -> None:
    """Drop the sealed rows once the request is answered (the package keeps its own sealed copy)."""
    session.execute(
        update(ExecutionStep)
        .where(ExecutionStep.run_id == run_id)
        .values(sealed=None)
        .execution_options(synchronize_session=False)
    )
