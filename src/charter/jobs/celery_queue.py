"""The Celery backend: runs travel over Redis to ``charter worker`` processes, on any number of machines.

The Celery application is built from the settings when first needed, never
at import: importing Charter does not need Redis, nor even Celery loaded.
A sender (the web server, the sweeper) keeps one application per broker
configuration, i.e. one connection pool (:func:`sender_app`); a worker
builds its own with the task bound to its :class:`~charter.services.Services`
(:func:`worker_app`).

Delivery is at least once and that is fine: the task only calls
:func:`charter.execution.jobs.run_logged`, and the step claims in Charter's
database decide who does a step, so a message delivered twice, or two
workers on one run, never do a step twice. ``acks_late`` with
``reject_on_worker_lost`` keeps a message until its run returned, so a
worker killed mid-run has its message delivered again (after
``CHARTER_JOBS_VISIBILITY_SECONDS`` on Redis); the sweeper is the faster
safety net. Results are not stored: nothing reads them, the state is in the
database.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from charter.jobs.base import BrokerUnavailable, masked
from charter.settings import JobSettings, Settings

if TYPE_CHECKING:
    from celery import Celery

    from charter.services import Services

RUN_TASK = "charter.run_request"
CONNECT_TIMEOUT = 5.0


def _configure(app: Celery, jobs: JobSettings) -> None:
    transport: dict[str, Any] = {
        "visibility_timeout": jobs.visibility_seconds,
        "socket_connect_timeout": CONNECT_TIMEOUT,
    }
    if jobs.key_prefix:
        transport["global_keyprefix"] = jobs.key_prefix
    app.conf.update(
        broker_url=jobs.broker_url,
        broker_transport_options=transport,
        broker_connection_timeout=CONNECT_TIMEOUT,
        broker_connection_retry_on_startup=False,
        task_default_queue=jobs.queue,
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_publish_retry_policy={"max_retries": 2, "interval_start": 0.1, "interval_step": 0.2},
        worker_prefetch_multiplier=1,  # a worker holds only the runs it is carrying out
        worker_enable_remote_control=False,  # no broadcast queue: nothing in Charter uses it
        worker_redirect_stdouts=False,
    )


def _new_app(jobs: JobSettings) -> Celery:
    from celery import Celery

    app = Celery("charter", set_as_current=False)
    _configure(app, jobs)
    return app


@functools.lru_cache(maxsize=8)
def _sender(broker_url: str, queue: str, key_prefix: str, visibility_seconds: int) -> Celery:
    jobs = JobSettings(broker_url=broker_url, queue=queue, key_prefix=key_prefix, visibility_seconds=visibility_seconds)
    return _new_app(jobs)


def sender_app(settings: Settings) -> Celery:
    """The application that sends runs for this broker configuration (built once per process and broker)."""
    jobs = settings.jobs
    return _sender(jobs.broker_url, jobs.queue, jobs.key_prefix, jobs.visibility_seconds)


def worker_app(services: Services) -> Celery:
    """An application whose task carries out runs with ``services`` (the worker's database, vault, mailer)."""
    from charter.execution.jobs import run_logged  # the domain's job; imported late (it imports this package)

    app = _new_app(services.settings.jobs)

    def run_request(public_id: str) -> str | None:
        return run_logged(services, public_id)

    run_request.__doc__ = "Carry out (or resume) one approved request; a duplicate delivery is harmless."
    app.task(name=RUN_TASK, acks_late=True, reject_on_worker_lost=True, ignore_result=True)(run_request)
    return app


class CeleryQueue:
    backend = "celery"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def submit_run(self, public_id: str) -> None:
        jobs = self.settings.jobs
        try:
            sender_app(self.settings).send_task(RUN_TASK, args=[public_id], queue=jobs.queue)
        except Exception as exc:  # kombu and redis raise many types; all mean "not sent"
            raise BrokerUnavailable(
                f"the job broker {masked(jobs.broker_url)} did not take the run ({type(exc).__name__}); "
                "nothing was started"
            ) from exc
