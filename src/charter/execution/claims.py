"""Step state in Charter's database: open a run, claim a ready step under a lease, finish or fail it.

A claim is one conditional UPDATE (``rowcount == 1`` means the step is
ours): a step is claimable while ``pending``, or ``claimed`` with a lease
that has run out (its worker died). Finishing is conditional on still
holding the claim, so a worker whose lease ran out and was taken over
cannot overwrite the worker that took over. Dependencies are checked by the
runner before it claims: ``done`` never goes back, so a dependency seen
done stays done. A claim also needs the run to be still ``running``, so a
runner whose view of the steps is old cannot start a step after another
worker failed the run. This needs no ``SELECT … FOR UPDATE`` and works the
same on SQLite and PostgreSQL.

The runner reads the step rows once (:func:`view_of`) and keeps that view
up to date from its own writes; it reads again only when a claim fails
(someone else moved). It claims a batch of steps with one statement
(:func:`claim_many`, ``RETURNING`` the ones it got), and finishes a batch
(:func:`finish_many`, one executemany) and claims the next in one
transaction.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, or_, select, update
from sqlalchemy.orm import Session

from charter.db.base import rowcount
from charter.execution.models import ExecutionRun, ExecutionStep
from charter.execution.steps import Plan, Step

PENDING, CLAIMED, DONE, FAILED = "pending", "claimed", "done", "failed"
RUNNING, COMPLETED = "running", "completed"
MAX_ERROR = 300


def step_digest(step: Step) -> str:
    """What a step does (action, store, inputs, strategy), as SHA-256: a retry keeps a done step only when the new
    plan holds the same one (its id names only the collection and the action)."""
    shown = {key: value for key, value in step.as_dict().items() if key != "depends_on"}
    return hashlib.sha256(json.dumps(shown, sort_keys=True).encode()).hexdigest()


def open_run(
    session: Session,
    request_id: int,
    plan: Plan,
    digest: str,
    *,
    now: datetime,
    claimed: Collection[str] = (),
    worker: str = "",
    lease: timedelta = timedelta(0),
) -> int:
    """The run of a request with a row per step of its plan, all ``pending`` but ``claimed``: those are
    written already claimed by ``worker`` under ``lease``, as :func:`claim_many` would have claimed them (the
    run is not visible to anyone else before this transaction commits, so nobody could have taken them
    first); its id."""
    connection = session.connection()
    run_id = int(connection.execute(OPEN_RUN, run_values(request_id, digest, now=now)).scalar_one())
    rows = step_rows(run_id, plan, now=now, claimed=claimed, worker=worker, lease=lease)
    connection.execute(STEP_ROWS, rows)  # one executemany, not a statement per step
    return run_id


def run_values(request_id: int, digest: str, *, now: datetime) -> dict[str, Any]:
    """The row :data:`OPEN_RUN` inserts (:func:`open_run`, and the pipelined open)."""
    return {"request_id": request_id, "plan_digest": digest, "status": RUNNING, "started_at": now}


def step_rows(
    run_id: int, plan: Plan, *, now: datetime, claimed: Collection[str], worker: str, lease: timedelta
) -> list[dict[str, Any]]:
    """The rows :data:`STEP_ROWS` inserts, one per step of the plan: ``claimed`` ones already ours."""
    ours = set(claimed)
    return [
        step_row(run_id, position, step, claimed_by=worker if step.id in ours else None, now=now, lease=lease)
        for position, step in enumerate(plan.steps)
    ]


def step_row(
    run_id: int,
    position: int,
    step: Step,
    *,
    claimed_by: str | None = None,
    now: datetime | None = None,
    lease: timedelta = timedelta(0),
) -> dict[str, Any]:
    """A step's row as first written: pending, or (``claimed_by``) claimed at ``now`` under ``lease``."""
    claimed = claimed_by is not None and now is not None
    return {
        "run_id": run_id,
        "step_id": step.id,
        "position": position,
        "action": step.action.value,
        "system": step.system,
        "collection": step.collection,
        "digest": step_digest(step),
        "status": CLAIMED if claimed else PENDING,
        "attempts": 1 if claimed else 0,
        "claimed_by": claimed_by if claimed else None,
        "lease_until": now + lease if claimed and now is not None else None,
        "started_at": now if claimed else None,
    }


def run_of(session: Session, request_id: int) -> ExecutionRun | None:
    return session.scalar(select(ExecutionRun).where(ExecutionRun.request_id == request_id))


def steps_of(session: Session, run_id: int) -> list[ExecutionStep]:
    found = session.scalars(
        select(ExecutionStep).where(ExecutionStep.run_id == run_id).order_by(ExecutionStep.position)
    )
    return list(found)


#: what a certificate reads of each step (a plain SELECT: loading 33 ORM objects cost more than the query)
_OUTCOME_ROWS = (
    select(ExecutionStep.action, ExecutionStep.collection, ExecutionStep.summary, ExecutionStep.finished_at)
    .where(ExecutionStep.run_id == bindparam("run"))
    .order_by(ExecutionStep.position)
)


def outcome_rows(session: Session, run_id: int) -> list[Any]:
    """Each step's action, collection, summary and finish time, in plan order (rows with those attributes)."""
    return list(session.connection().execute(_OUTCOME_ROWS, {"run": run_id}).all())


@dataclass
class StepState:
    """What a runner knows of one step row: its status and lease."""

    step_id: str
    status: str
    lease_until: datetime | None = None


@dataclass
class RunView:
    """A runner's view of its run: the run's status and its steps in plan order (kept up to date by its writes)."""

    status: str
    steps: dict[str, StepState]
    done: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.done = {s.step_id for s in self.steps.values() if s.status == DONE}

    def failed(self) -> bool:
        return self.status != RUNNING or any(s.status == FAILED for s in self.steps.values())

    def all_done(self) -> bool:
        return len(self.done) == len(self.steps)

    def all_ready(
        self, now: datetime, depends_on: Mapping[str, tuple[str, ...]], *, finishing: Collection[str] = ()
    ) -> list[str]:
        """Steps claimable as far as this view knows, in plan order: pending (or lease run out), every
        dependency done. ``finishing``: steps being marked done in the same transaction (count as done)."""
        ready = []
        for state in self.steps.values():
            if state.step_id in finishing or state.step_id in self.done:
                continue
            expired = state.status == CLAIMED and state.lease_until is not None and state.lease_until < now
            if (state.status == PENDING or expired) and all(
                d in self.done or d in finishing for d in depends_on[state.step_id]
            ):
                ready.append(state.step_id)
        return ready

    def claimable(self, now: datetime) -> set[str]:
        """Steps a claim could take now, dependencies aside: pending, or claimed with a lease run out."""
        return {
            s.step_id
            for s in self.steps.values()
            if s.status == PENDING or (s.status == CLAIMED and s.lease_until is not None and s.lease_until < now)
        }

    def mark(self, step_id: str, status: str, lease_until: datetime | None = None) -> None:
        self.steps[step_id] = StepState(step_id, status, lease_until)
        if status == DONE:
            self.done.add(step_id)
        else:
            self.done.discard(step_id)


# The statements a run repeats for every step are built once, with bound parameters, and sent on the
# session's connection: building an ORM UPDATE and routing it through the Session cost more than the
# round trip itself (0.76 ms against 0.05 ms per claim; docs/bench.md).
_VIEW = (
    select(ExecutionRun.status, ExecutionStep.step_id, ExecutionStep.status, ExecutionStep.lease_until)
    .join(ExecutionStep, ExecutionStep.run_id == ExecutionRun.id)
    .where(ExecutionRun.id == bindparam("run"))
    .order_by(ExecutionStep.position)
)
_OUTCOMES = select(ExecutionStep.step_id, ExecutionStep.sealed).where(
    ExecutionStep.run_id == bindparam("run"),
    ExecutionStep.status == DONE,
    ExecutionStep.sealed.is_not(None),
    ExecutionStep.step_id.not_in(bindparam("besides", expanding=True)),
)
_THIS_STEP = (ExecutionStep.run_id == bindparam("run")) & (ExecutionStep.step_id == bindparam("step"))
_MINE = _THIS_STEP & (ExecutionStep.status == CLAIMED) & (ExecutionStep.claimed_by == bindparam("worker"))
_CLAIM_MANY = (
    update(ExecutionStep)
    .where(
        ExecutionStep.run_id == bindparam("run"),
        ExecutionStep.step_id.in_(bindparam("steps", expanding=True)),
        ExecutionStep.run_id.in_(
            select(ExecutionRun.id).where(ExecutionRun.id == bindparam("run"), ExecutionRun.status == RUNNING)
        ),
        or_(
            ExecutionStep.status == PENDING,
            (ExecutionStep.status == CLAIMED) & (ExecutionStep.lease_until < bindparam("now")),
        ),
    )
    .values(
        status=CLAIMED,
        claimed_by=bindparam("worker"),
        lease_until=bindparam("until"),
        attempts=ExecutionStep.attempts + 1,
        started_at=bindparam("now"),
    )
    .returning(ExecutionStep.step_id)
)
_RETRY = update(ExecutionStep).where(_MINE).values(attempts=ExecutionStep.attempts + 1, lease_until=bindparam("until"))
_RENEW = update(ExecutionStep).where(_MINE).values(lease_until=bindparam("until"))
FINISH = (
    update(ExecutionStep)
    .where(_MINE)
    .values(
        status=DONE,
        summary=bindparam("summary"),
        sealed=bindparam("sealed"),
        finished_at=bindparam("now"),
        lease_until=None,
        error=None,
    )
)
#: an access or portability run completed with its package, once (of two workers, one wins): :func:`close_run`
CLOSE_WITH_PACKAGE = (
    update(ExecutionRun)
    .where(ExecutionRun.id == bindparam("run"), ExecutionRun.status == RUNNING)
    .values(
        status=COMPLETED,
        finished_at=bindparam("now"),
        package=bindparam("package"),
        package_sha256=bindparam("package_sha256"),
    )
)
_RELEASE = (
    update(ExecutionStep)
    .where(
        ExecutionStep.run_id == bindparam("run"),
        ExecutionStep.step_id.in_(bindparam("steps", expanding=True)),
        ExecutionStep.status == CLAIMED,
        ExecutionStep.claimed_by == bindparam("worker"),
    )
    .values(status=PENDING, claimed_by=None, lease_until=None)
)
_FAIL = (
    update(ExecutionStep)
    .where(_MINE)
    .values(status=FAILED, error=bindparam("error"), finished_at=bindparam("now"), lease_until=None)
)
OPEN_RUN = insert(ExecutionRun).returning(ExecutionRun.id)
STEP_ROWS = insert(ExecutionStep)
_RUN_TIMES = select(
    ExecutionRun.started_at,
    select(func.max(ExecutionStep.finished_at)).where(ExecutionStep.run_id == ExecutionRun.id).scalar_subquery(),
).where(ExecutionRun.id == bindparam("run"))
_FORGET = update(ExecutionStep).where(ExecutionStep.run_id == bindparam("run")).values(sealed=None)


def fresh_view(step_ids: Iterable[str]) -> RunView:
    """The view of a run just opened: running, every step pending (known without reading it back)."""
    return RunView(RUNNING, {step_id: StepState(step_id, PENDING) for step_id in step_ids})


def view_of(session: Session, run_id: int) -> RunView:
    """The run's status and every step's status and lease, in one query."""
    rows = session.connection().execute(_VIEW, {"run": run_id}).all()
    if not rows:
        status = session.scalar(select(ExecutionRun.status).where(ExecutionRun.id == run_id)) or RUNNING
        return RunView(status, {})
    return RunView(rows[0][0], {r[1]: StepState(r[1], r[2], r[3]) for r in rows})


def outcomes_of(session: Session, run_id: int, *, besides: set[str]) -> dict[str, bytes]:
    """The sealed outcomes of the run's done steps (other than ``besides``), by step id, in one query."""
    rows = session.connection().execute(_OUTCOMES, {"run": run_id, "besides": sorted(besides)}).all()
    return {r[0]: r[1] for r in rows if r[1] is not None}


def claim(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Take the step if it is pending or its lease ran out (and the run is running); True if it is now ours."""
    return step_id in claim_many(session, run_id, [step_id], worker=worker, now=now, lease=lease)


def claim_many(
    session: Session, run_id: int, step_ids: Sequence[str], *, worker: str, now: datetime, lease: timedelta
) -> set[str]:
    """Take every step of ``step_ids`` that is still claimable (pending, or its lease ran out, and the run
    running), in one statement; the ids now ours. ``RETURNING`` says which rows the UPDATE changed, so a step
    another worker took meanwhile is simply not in the answer.
    """
    if not step_ids:
        return set()
    params = {"run": run_id, "steps": list(step_ids), "worker": worker, "now": now, "until": now + lease}
    return set(session.connection().execute(_CLAIM_MANY, params).scalars())


def retry(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Count one more try and renew the lease; False if the step is no longer ours."""
    params = {"run": run_id, "step": step_id, "worker": worker, "until": now + lease}
    return rowcount(session.connection().execute(_RETRY, params)) == 1


def renew(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, lease: timedelta) -> bool:
    """Push the lease of a step still being worked on; False if the step is no longer ours."""
    params = {"run": run_id, "step": step_id, "worker": worker, "until": now + lease}
    return rowcount(session.connection().execute(_RENEW, params)) == 1


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
    params = {"run": run_id, "step": step_id, "worker": worker, "now": now, "summary": dict(summary), "sealed": sealed}
    return rowcount(session.connection().execute(FINISH, params)) == 1


def finish_many(
    session: Session,
    run_id: int,
    outcomes: Sequence[tuple[str, Mapping[str, Any], bytes | None, datetime]],
    *,
    worker: str,
) -> set[str]:
    """Store several steps' outcomes, each with when it was performed, and mark them done in one executemany,
    each conditional on our claim as in :func:`finish`; the ids this worker still held (and so stored)."""
    if not outcomes:
        return set()
    params = finish_params(run_id, outcomes, worker=worker)
    ids = [step_id for step_id, _summary, _sealed, _at in outcomes]
    if rowcount(session.connection().execute(FINISH, params)) == len(params):
        return set(ids)
    # Some claims ran out and were taken over: ours are the ones now done under our name.
    held = select(ExecutionStep.step_id).where(
        ExecutionStep.run_id == run_id,
        ExecutionStep.step_id.in_(ids),
        ExecutionStep.status == DONE,
        ExecutionStep.claimed_by == worker,
    )
    return set(session.scalars(held))


def finish_params(
    run_id: int, outcomes: Sequence[tuple[str, Mapping[str, Any], bytes | None, datetime]], *, worker: str
) -> list[dict[str, Any]]:
    """The parameters of :data:`FINISH`, one set per step (:func:`finish_many`, and a run's pipelined end)."""
    return [
        {"run": run_id, "step": step_id, "worker": worker, "now": at, "summary": dict(summary), "sealed": sealed}
        for step_id, summary, sealed, at in outcomes
    ]


def release_many(session: Session, run_id: int, step_ids: Sequence[str], *, worker: str) -> None:
    """Give back steps this worker claimed but will not perform (they built on a step it lost): pending again,
    for whoever runs next, instead of waiting for their lease to run out."""
    if step_ids:
        session.connection().execute(_RELEASE, {"run": run_id, "steps": list(step_ids), "worker": worker})


def fail(session: Session, run_id: int, step_id: str, *, worker: str, now: datetime, error: str) -> bool:
    params = {"run": run_id, "step": step_id, "worker": worker, "now": now, "error": error[:MAX_ERROR]}
    return rowcount(session.connection().execute(_FAIL, params)) == 1


def close_run(session: Session, run_id: int, status: str, *, now: datetime, **values: Any) -> bool:
    """Move the run from running to ``status`` once (of two workers finishing at once, one wins)."""
    if status == COMPLETED and sorted(values) == ["package", "package_sha256"]:  # an access run's: one shape
        return rowcount(session.connection().execute(CLOSE_WITH_PACKAGE, close_values(run_id, now=now, **values))) == 1
    statement = (
        update(ExecutionRun)
        .where(ExecutionRun.id == run_id, ExecutionRun.status == RUNNING)
        .values(status=status, finished_at=now, **values)
    )
    return rowcount(session.connection().execute(statement)) == 1


def close_values(run_id: int, *, now: datetime, package: str, package_sha256: str) -> dict[str, Any]:
    """The parameters of :data:`CLOSE_WITH_PACKAGE` (an access run completed with its package)."""
    return {"run": run_id, "now": now, "package": package, "package_sha256": package_sha256}


def run_times(session: Session, run_id: int) -> tuple[datetime, datetime | None]:
    """When the run started, and when its last step finished (None if none has): one read."""
    started, last = session.connection().execute(_RUN_TIMES, {"run": run_id}).one()
    return started, last


def forget_outcomes(session: Session, run_id: int) -> None:
    """Drop the sealed rows once the request is answered (the package keeps its own sealed copy)."""
    session.connection().execute(_FORGET, {"run": run_id})
