"""The Celery backend: runs travel over Redis to ``charter worker`` processes, on any number of machines.

Two sides, so that a process loads only its own:

* **Sending** (the web server, the sweeper, the CLI): :class:`CeleryQueue`
  ``LPUSH``es Celery's task message (:mod:`charter.jobs.celery_message`)
  on the queue's list with redis-py, one connection pool per broker
  configuration. It imports neither Celery nor kombu: the server would
  carry them (about 5 MB) for its whole life only to write one list entry.
  A publish that fails is tried again as Celery's publish retry policy did
  (twice, after 0.1 and 0.3 s), then is :class:`BrokerUnavailable`.
* **Consuming** (``charter worker``): :func:`worker_app` builds a Celery
  application from the settings, with the task bound to the worker's
  :class:`~charter.services.Services`; importing Charter never builds one.

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
import time
from typing import TYPE_CHECKING, Any

from charter.jobs.base import BrokerUnavailable, masked
from charter.jobs.celery_message import task_message
from charter.settings import JobSettings, Settings

if TYPE_CHECKING:
    import redis
    from celery import Celery

    from charter.services import Services

RUN_TASK = "charter.run_request"
CONNECT_TIMEOUT = 5.0
#: waits before the second and third attempt of a publish (Celery's publish retry policy, as configured before)
PUBLISH_RETRY_WAITS = (0.1, 0.3)


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
def _client(broker_url: str) -> redis.Redis:
    """One client (one connection pool) per broker URL and process; retries are :func:`_publish`'s."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis.from_url(
        broker_url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=CONNECT_TIMEOUT,
        retry=Retry(NoBackoff(), 0),
    )


def _publish(jobs: JobSettings, payload: bytes) -> None:
    """``LPUSH`` the message on the queue's list (the key kombu's Redis transport reads, with its prefix)."""
    import redis

    client = _client(jobs.broker_url)
    for wait in (*PUBLISH_RETRY_WAITS, None):
        try:
            client.lpush(f"{jobs.key_prefix}{jobs.queue}", payload)
            return
        except (redis.ConnectionError, redis.TimeoutError):
            if wait is None:
                raise
            time.sleep(wait)


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
            _publish(jobs, task_message(RUN_TASK, [public_id], queue=jobs.queue))
        except Exception as exc:  # redis-py raises many types (connection, auth, response); all mean "not sent"
            raise BrokerUnavailable(
                f"the job broker {masked(jobs.broker_url)} did not take the run ({type(exc).__name__}); "
                "nothing was started"
            ) from exc
