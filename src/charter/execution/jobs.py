"""Execution as a job: run a request now, or submit it to the job queue (charter.jobs).

``run_request`` carries a request out in the caller's thread: it loads the
data map (``CHARTER_DATAMAP_PATH``), runs the request with the
:class:`~charter.execution.runner.Runner` and sends the e-mails the change
queued. ``charter requests run ID`` calls it directly (an operator's
command, with progress); ``run_logged`` is the same for a job, where nobody
waits for the answer: it logs instead of raising.

``submit`` and ``after_approval`` go through the configured queue
(``CHARTER_JOBS_BACKEND``): the in-process default runs it in a background
thread of this process, ``celery`` sends it to ``charter worker`` over
Redis. ``submit`` checks first what can be refused at once (the request's
state, the data map, a legal hold), so the caller hears it instead of a log
line. ``after_approval`` submits only with ``CHARTER_EXECUTION_AUTORUN``; a
submission the broker refused is left to the sweeper (charter.jobs.sweeper),
which starts approved requests nobody started. ``retry`` reopens a failed
request (charter.execution.retry) and submits it the same way.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from charter.errors import CharterError
from charter.execution import service
from charter.execution.guards import refuse_held
from charter.execution.kept import KeptConnectors
from charter.execution.retry import Reopened, reopen_request
from charter.execution.runner import NotRunnable, Outcome, Runner
from charter.jobs import queue_for
from charter.jobs.inprocess import THREAD_PREFIX
from charter.requests import notices, review
from charter.requests.kinds import RequestKind, Status

if TYPE_CHECKING:
    from charter.services import Services

log = logging.getLogger("charter.execution")
RUNNABLE = frozenset({RequestKind.ACCESS, RequestKind.PORTABILITY, RequestKind.CORRECTION, RequestKind.DELETION})
#: not run again by ``submit``: answered, or failed (the office retries a failed request: :func:`retry`)
ANSWERED = frozenset({Status.COMPLETED, Status.FAILED, Status.GIVEN_UP})
__all__ = [
    "RUNNABLE",
    "THREAD_PREFIX",
    "after_approval",
    "autoruns",
    "retry",
    "run_logged",
    "run_request",
    "submit",
]


#: the worker's store connectors, kept between its runs (per thread, a minute of idleness at most)
KEPT = KeptConnectors()


def run_request(services: Services, public_id: str) -> Outcome:
    datamap = service.load_datamap(services.settings)
    outcome = Runner(services.database, services.settings, services.vault, datamap, kept=KEPT).run(public_id)
    # this request's notices only: every run sweeping the whole backlog made busy workers send each other's
    # mail (and fight over it); notices left pending by a failed send go out with the sweeper's chore
    notices.deliver(
        services.database, services.mailer, vault=services.vault, settings=services.settings, public_id=public_id
    )
    return outcome


def run_logged(services: Services, public_id: str) -> str | None:
    """``run_request`` for a job: the request's status afterwards, or None when it could not run (logged)."""
    try:
        outcome = run_request(services, public_id)
    except CharterError as exc:
        log.warning("request %s was not run: %s (%s)", public_id, exc.code, exc.detail)
        return None
    except Exception:
        log.exception("request %s: the run stopped on an unexpected error", public_id)
        return None
    log.info("request %s run: %s", public_id, outcome.status)
    return outcome.status


def autoruns(services: Services, kind: str) -> bool:
    return services.settings.execution.autorun and RequestKind(kind) in RUNNABLE


def submit(services: Services, public_id: str) -> str:
    """Submit the request's run to the queue after refusing what would not run; its status now.

    NotRunnable (409) unless the request is approved or in progress; a data map that does not load
    (DatamapInvalid, 422) and a legal hold that covers the erasure (HeldByLegalHold, 409) are refused here
    too. An answered request (completed, failed) is not submitted: its status is the answer.
    """
    datamap = service.load_datamap(services.settings)
    with services.database.session() as session:
        row = review.get(session, public_id)
        status = Status(row.status)
        if status in ANSWERED:
            return status.value
        if status not in (Status.APPROVED, Status.IN_PROGRESS):
            raise NotRunnable(f"request {row.public_id} is {status.label}; only an approved request runs")
        plan = service.plan_request(session, row.public_id, datamap, vault=services.vault)
        refuse_held(session, row, plan)
    queue_for(services).submit_run(public_id)
    return status.value


def after_approval(services: Services, public_id: str, kind: str) -> None:
    """Submit the run when autorun is on and the request has data-store steps; a refused submission is logged."""
    if not autoruns(services, kind):
        return
    try:
        queue_for(services).submit_run(public_id)
    except CharterError as exc:
        log.warning("request %s was approved but not submitted: %s; the sweeper submits it later", public_id, exc.code)


def retry(services: Services, public_id: str, *, actor: str) -> Reopened:
    """Retry a failed request (:func:`charter.execution.retry.reopen`) and submit its run to the queue.

    Refused at once: a request that is not failed (NotFailed, 409), a data map that does not load (422), a legal
    hold over the erasure (409). Once reopened, a broker that does not take the run is logged: the request is in
    progress with a running run, which the sweeper submits again."""
    datamap = service.load_datamap(services.settings)
    reopened = reopen_request(services.database, services.vault, datamap, public_id, actor=actor)
    try:
        queue_for(services).submit_run(public_id)
    except CharterError as exc:
        log.warning("request %s was retried but not submitted: %s; the sweeper submits it later", public_id, exc.code)
    return reopened
