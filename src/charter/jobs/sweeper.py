"""The sweeper: find work that should be moving and is not, and submit it again; then the periodic chores.

Two indexed queries (both start from ``privacy_requests.status``, indexed
with the due date):

* **Stopped runs**: requests ``in_progress`` whose run is still ``running``
  and has no step claimed under a live lease. Their worker died (kill -9, a
  lost machine, a server restarted mid-run) or never got past opening the
  run. Whether a step's lease ran out or steps are simply pending with no
  one on them, the answer is the same: submit the run again; the runner
  resumes it, re-claims an expired step and skips done ones.
* **Approved, never started** (only with ``CHARTER_EXECUTION_AUTORUN``):
  approved requests of a kind that runs in the data stores, decided more
  than ``GRACE`` ago (the approval's own submission is usually on its way);
  e.g. the broker was down when the approval tried to submit.

Submitting something that is in fact moving (a worker between opening the
run and claiming its first step) is harmless: claims decide. Oldest due
date first, at most ``CHARTER_JOBS_SWEEP_BATCH`` of each per sweep.

**Chores** are other domains' periodic work, run after the submissions,
each in its own transaction and each failing alone (logged, the others
still run): ``expire_unverified`` (charter.requests.expiry).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sized
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from charter.db.base import utcnow
from charter.delivery import retention
from charter.errors import CharterError
from charter.execution.jobs import RUNNABLE
from charter.execution.models import ExecutionRun, ExecutionStep
from charter.jobs.base import JobQueue
from charter.requests import expiry, notices
from charter.requests.kinds import Status
from charter.requests.models import PrivacyRequest

if TYPE_CHECKING:
    from charter.services import Services

log = logging.getLogger("charter.jobs")
GRACE = timedelta(seconds=30)
RUNNING, CLAIMED = "running", "claimed"


@dataclass(frozen=True)
class Chore:
    """A domain's periodic work: ``run(services, now)`` returns a count (or None when there was nothing to do)."""

    name: str
    run: Callable[[Services, datetime], int | None]


@dataclass
class SweepReport:
    """What one sweep submitted (request ids, no personal data) and what each chore did."""

    backend: str
    resumed: list[str] = field(default_factory=list)
    started: list[str] = field(default_factory=list)
    chores: dict[str, object] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        return {"backend": self.backend, "resumed": self.resumed, "started": self.started, "chores": self.chores}


def stopped_runs(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Requests in progress whose run has no step under a live lease (nobody is working on them)."""
    live = (
        select(ExecutionStep.id)
        .where(
            ExecutionStep.run_id == ExecutionRun.id,
            ExecutionStep.status == CLAIMED,
            ExecutionStep.lease_until >= now,
        )
        .correlate(ExecutionRun)
    )
    found = session.scalars(
        select(PrivacyRequest.public_id)
        .join(ExecutionRun, ExecutionRun.request_id == PrivacyRequest.id)
        .where(PrivacyRequest.status == Status.IN_PROGRESS.value, ExecutionRun.status == RUNNING, ~exists(live))
        .order_by(PrivacyRequest.due_at, PrivacyRequest.id)
        .limit(limit)
    )
    return list(found)


def never_started(session: Session, *, now: datetime, limit: int) -> list[str]:
    """Approved requests that run in the data stores, decided more than GRACE ago (no run: approved means none)."""
    found = session.scalars(
        select(PrivacyRequest.public_id)
        .where(
            PrivacyRequest.status == Status.APPROVED.value,
            PrivacyRequest.kind.in_(sorted(k.value for k in RUNNABLE)),
            PrivacyRequest.decided_at < now - GRACE,
        )
        .order_by(PrivacyRequest.due_at, PrivacyRequest.id)
        .limit(limit)
    )
    return list(found)


def _counted(result: Any) -> int | None:
    if result is None or isinstance(result, bool):
        return None
    if isinstance(result, int):
        return result
    if isinstance(result, Sized):
        return len(result)
    return None


def _expire_unverified(services: Services, now: datetime) -> int | None:
    """charter.requests.expiry: unverified requests past CHARTER_REQUESTS_UNVERIFIED_DAYS expire."""
    with services.database.session() as session:
        result = expiry.expire_unverified(session, settings=services.settings, now=now)
    return _counted(result)


def _deliver_notices(services: Services, _now: datetime) -> int | None:
    """charter.requests.notices: notices still pending (a send that failed, a process that stopped) go out."""
    delivery = notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)
    return delivery.sent


def _drop_packages(services: Services, now: datetime) -> int | None:
    """charter.delivery.retention: packages past CHARTER_REQUESTS_PACKAGE_DAYS are deleted."""
    with services.database.session() as session:
        return retention.drop_expired(session, settings=services.settings, now=now)


def chores() -> list[Chore]:
    """The periodic chores of the other domains, each run after the submissions."""
    return [
        Chore("expire_unverified", _expire_unverified),
        Chore("drop_packages", _drop_packages),
        Chore("deliver_notices", _deliver_notices),
    ]


def sweep(
    services: Services,
    queue: JobQueue,
    *,
    now: datetime | None = None,
    limit: int | None = None,
    periodic: list[Chore] | None = None,
) -> SweepReport:
    """Submit stopped runs (and, with autorun, approved requests never started) again; then run the chores.

    A broker that does not take a submission stops the sweep (BrokerUnavailable): the next sweep tries again.
    """
    at = now or utcnow()
    batch = limit or services.settings.jobs.sweep_batch
    report = SweepReport(queue.backend)
    with services.database.session() as session:
        report.resumed = stopped_runs(session, now=at, limit=batch)
        if services.settings.execution.autorun:
            report.started = never_started(session, now=at, limit=batch)
    for public_id in [*report.resumed, *report.started]:
        queue.submit_run(public_id)
    if report.resumed or report.started:
        log.info(
            "sweep: %d stopped runs resumed, %d approved requests started", len(report.resumed), len(report.started)
        )
    for chore in chores() if periodic is None else periodic:
        try:
            report.chores[chore.name] = chore.run(services, at)
        except CharterError as exc:
            log.warning("sweep: chore %s failed: %s", chore.name, exc.code)
            report.chores[chore.name] = f"failed: {exc.code}"
        except Exception:
            log.exception("sweep: chore %s stopped on an unexpected error", chore.name)
            report.chores[chore.name] = "failed: unexpected error"
    return report
