"""Failure is a state the office can act on: see what a failed run did, retry it after fixing the cause, or give up.

A run fails when a step meets an error trying again cannot fix (a wrong
password, a missing table or column, a database that does not exist), when a
store stays unavailable for the whole retry window (:mod:`backoff`), or when
the data map changed under a run. The request is then ``failed``: not an
answer (the requester is not told, the deadline keeps running, P-RGT-8), and
the run keeps what it did — its done steps, their counts and the sealed rows
the fetches found.

* :func:`report`: the run step by step — done (with what each changed, counts
  only), failed (with its error, which never holds a personal value), not
  started — for the console, ``charter requests show`` and the API.
* :func:`reopen`: the office retries. The request is planned again with the
  data map as it is now; a step of the old run that is ``done`` is **kept** when
  the new plan has the same step (same id and same definition:
  :func:`claims.step_digest`), every step it depends on is kept, and (a fetch)
  its sealed rows are still there. A done step that is not kept is **redone**;
  the failed step and those never started **remain** to do (both pending
  again, their attempts from zero); steps only the new plan has are **new**,
  steps only the old run had are **dropped**. The request goes
  back to ``in_progress`` (audited with the counts) and the runner resumes the
  run. Kept erase steps are not done again, so they keep their one
  ``execution.erase`` audit entry (P-RGT-3).
* :func:`give_up`: the office closes the request as not carried out, with a
  reason the requester is e-mailed in plain words; the run keeps the reason and
  drops its sealed rows.

Only a ``failed`` request can be retried or given up (:class:`NotFailed`, 409,
exit 2). A legal hold over the erasure refuses a retry as it refuses a run.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, insert, update
from sqlalchemy.orm import Session

from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.errors import Conflict
from charter.execution import claims
from charter.execution import service as planning
from charter.execution.guards import refuse_held
from charter.execution.models import ExecutionRun, ExecutionStep
from charter.execution.runner import digest
from charter.execution.steps import Action, Plan
from charter.requests import review
from charter.requests.kinds import Status
from charter.requests.models import PrivacyRequest
from charter.subjects.service import Vault


class NotFailed(Conflict):
    code = "not_failed"
    title = "Only a failed request can be retried or given up"
    exit_code = 2  # the operator named the wrong request: one line, like bad input


@dataclass(frozen=True)
class Reopened:
    """What a retry keeps of the failed run, and what it does again."""

    request: str
    retries: int
    plan: Plan
    plan_changed: bool
    kept: list[str] = field(default_factory=list)
    redone: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)
    dropped: list[dict[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "request": self.request,
            "retries": self.retries,
            "plan_changed": self.plan_changed,
            "kept": list(self.kept),
            "redone": list(self.redone),
            "remaining": list(self.remaining),
            "new": list(self.new),
            "dropped": list(self.dropped),
            "plan": self.plan.as_dict() if self.plan_changed else None,
        }


def _require_failed(row: PrivacyRequest, doing: str) -> None:
    status = Status(row.status)
    if status != Status.FAILED:
        raise NotFailed(f"request {row.public_id} is {status.label}; only a failed request can be {doing}")


def _kept(plan: Plan, old: dict[str, ExecutionStep]) -> set[str]:
    """The done steps of the old run the new plan can keep (plan order: a step's dependencies come first)."""
    kept: set[str] = set()
    for step in plan.steps:
        was = old.get(step.id)
        if was is None or was.status != claims.DONE:
            continue
        if was.digest is not None and was.digest != claims.step_digest(step):
            continue  # the map changed what this step does
        if step.action == Action.FETCH and was.sealed is None:
            continue  # its rows were dropped (a run failed before retries existed): fetch them again
        if all(d in kept for d in step.depends_on):
            kept.add(step.id)
    return kept


_RESET = (
    update(ExecutionStep)
    .where(ExecutionStep.id == bindparam("row"))
    .values(
        position=bindparam("position"),
        digest=bindparam("digest"),
        status=claims.PENDING,
        attempts=0,
        claimed_by=None,
        lease_until=None,
        summary=None,
        sealed=None,
        error=None,
        started_at=None,
        finished_at=None,
    )
)
_MOVE = (
    update(ExecutionStep)
    .where(ExecutionStep.id == bindparam("row"))
    .values(position=bindparam("position"), digest=bindparam("digest"))
)


def reopen(session: Session, row: PrivacyRequest, plan: Plan, *, actor: str, now: datetime) -> Reopened:
    """Retry the failed request with ``plan`` (made from the data map as it is now), in the caller's transaction."""
    _require_failed(row, "retried")
    run = claims.run_of(session, row.id)
    if run is None:
        raise NotFailed(f"request {row.public_id} failed without a run; nothing can be retried")
    refuse_held(session, row, plan)
    old = {s.step_id: s for s in claims.steps_of(session, run.id)}
    kept = _kept(plan, old)
    connection = session.connection()
    redone: list[str] = []
    remaining: list[str] = []
    new: list[str] = []
    moved: list[dict[str, object]] = []
    reset: list[dict[str, object]] = []
    added: list[dict[str, object]] = []
    for position, step in enumerate(plan.steps):
        was = old.get(step.id)
        values = {"row": was.id if was else 0, "position": position, "digest": claims.step_digest(step)}
        if step.id in kept:
            moved.append(values)
        elif was is not None:
            (redone if was.status == claims.DONE else remaining).append(step.id)
            reset.append(values)
        else:
            new.append(step.id)
            added.append(claims.step_row(run.id, position, step))
    wanted = {step.id for step in plan.steps}
    gone = [s for s in old.values() if s.step_id not in wanted]
    # positions are not unique: rows can be moved, reset and added in any order
    for statement, params in ((_MOVE, moved), (_RESET, reset), (insert(ExecutionStep), added)):
        if params:
            connection.execute(statement, params)
    if gone:
        connection.execute(delete(ExecutionStep).where(ExecutionStep.id.in_([s.id for s in gone])))
    planned = digest(plan)
    changed = planned != run.plan_digest
    retries = run.retries + 1
    connection.execute(
        update(ExecutionRun)
        .where(ExecutionRun.id == run.id)
        .values(status=claims.RUNNING, error=None, finished_at=None, plan_digest=planned, retries=retries)
    )
    session.expire(run)
    counts = {
        "kept": len(kept),
        "redone": len(redone),
        "remaining": len(remaining),
        "new": len(new),
        "dropped": len(gone),
    }
    review.resume(session, row, actor=actor, now=now, data={**counts, "plan_changed": changed, "retries": retries})
    dropped = [{"id": s.step_id, "action": s.action, "collection": s.collection, "was": s.status} for s in gone]
    ordered = sorted(kept, key=_in_plan_order(plan))
    return Reopened(row.public_id, retries, plan, changed, ordered, redone, remaining, new, dropped)


def _in_plan_order(plan: Plan) -> Callable[[str], int]:
    order = {step.id: n for n, step in enumerate(plan.steps)}
    return lambda step_id: order.get(step_id, len(order))


def reopen_request(
    database: Database,
    vault: Vault,
    datamap: DataMap,
    public_id: str,
    *,
    actor: str,
    now: datetime | None = None,
) -> Reopened:
    """:func:`reopen` the stored request in one transaction (its state checked before it is planned again)."""
    with database.session() as session:
        row = review.get(session, public_id)
        _require_failed(row, "retried")
        plan = planning.plan_of(row, datamap, vault=vault)
        return reopen(session, row, plan, actor=actor, now=now or utcnow())


def give_up(session: Session, row: PrivacyRequest, *, reason: str, actor: str, now: datetime | None = None) -> None:
    """Close the failed request as not carried out; the requester is e-mailed ``reason`` (the caller delivers it).
    The run keeps the reason and drops the sealed rows its fetches found."""
    _require_failed(row, "given up")
    now = now or utcnow()
    text = review.give_up(session, row, reason=reason, actor=actor, now=now)
    run = claims.run_of(session, row.id)
    if run is not None:
        run.given_up_at, run.given_up_by, run.given_up_reason = now, actor[:200], text
        claims.forget_outcomes(session, run.id)


def _counts(summary: dict[str, Any] | None) -> dict[str, int]:
    """A step's counts (rows found, matched, changed, remaining), without the strategy names beside them."""
    return {k: v for k, v in (summary or {}).items() if isinstance(v, int) and not isinstance(v, bool)}


def report(session: Session, row: PrivacyRequest) -> dict[str, Any] | None:
    """The run step by step, for the office: status, attempts, what each changed (counts), the error. None: no run."""
    run = claims.run_of(session, row.id)
    if run is None:
        return None
    steps = claims.steps_of(session, run.id)
    shown = [
        {
            "id": s.step_id,
            "action": s.action,
            "system": s.system,
            "collection": s.collection,
            "status": s.status,
            "attempts": s.attempts,
            "changed": _counts(s.summary),
            "error": s.error,
            "finished_at": None if s.finished_at is None else s.finished_at.isoformat(),
        }
        for s in steps
    ]
    tally = {status: sum(1 for s in steps if s.status == status) for status in (claims.DONE, claims.FAILED)}
    return {
        "status": run.status,
        "error": run.error,
        "retries": run.retries,
        "started_at": run.started_at.isoformat(),
        "finished_at": None if run.finished_at is None else run.finished_at.isoformat(),
        "given_up": None
        if run.given_up_at is None
        else {"at": run.given_up_at.isoformat(), "by": run.given_up_by, "reason": run.given_up_reason},
        "done": tally[claims.DONE],
        "failed": tally[claims.FAILED],
        "steps": shown,
    }
