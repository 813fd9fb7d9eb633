"""What ``charter worker`` runs: a Celery worker on Charter's queue, with the sweeper on a timer beside it.

The pool is Celery's ``threads``: a run waits on databases, not on the CPU,
and one process per worker means ``kill -9`` stops all of its work at once
(a prefork child could outlive its killed parent and go on erasing).

The sweep runs in a timer thread of each worker process rather than Celery
beat: beat needs exactly one extra process (or ``-B`` on exactly one
worker) and a schedule file, and a second beat would sweep twice as often.
Here every worker has the timer and a Redis key taken with ``SET NX PX``
(for 90 % of the period) lets one sweep per period happen across all of
them: no process to forget, none that must be unique, and sweeping goes on
as long as any worker is alive. The first sweep is at start-up, so a worker
restarted after a crash resumes what the crash stopped without waiting.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from typing import TYPE_CHECKING

from charter.errors import CharterError
from charter.jobs.base import BrokerUnavailable, JobsMisconfigured, masked, queue_for
from charter.jobs.sweeper import sweep

if TYPE_CHECKING:
    from celery import Celery
    from celery.worker import WorkController

    from charter.services import Services

log = logging.getLogger("charter.jobs")
SWEEP_KEY = "charter.sweep"
LOGLEVELS = ("debug", "info", "warning", "error", "critical")


def require_celery(services: Services) -> None:
    if services.settings.jobs.backend != "celery":
        raise JobsMisconfigured(
            f"CHARTER_JOBS_BACKEND is {services.settings.jobs.backend}: runs happen in the process that approves "
            "them; set CHARTER_JOBS_BACKEND=celery (and CHARTER_JOBS_BROKER_URL) to use `charter worker`"
        )


def check_broker(services: Services) -> None:
    """One PING to the broker; BrokerUnavailable (one line, no password) when it does not answer."""
    import redis

    url = services.settings.jobs.broker_url
    client = redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3)
    try:
        client.ping()
    except (redis.RedisError, OSError) as exc:
        raise BrokerUnavailable(f"the job broker {masked(url)} cannot be reached ({type(exc).__name__})") from exc
    finally:
        client.close()


class Sweeper:
    """Sweep every ``every`` seconds (first at once) until stopped; one sweep per period across all workers."""

    def __init__(self, services: Services, every: float) -> None:
        self.services = services
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="charter-sweeper", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _turn(self) -> bool:
        """Take this period's sweep (True) unless another worker took it. With the in-process backend there is
        no broker to agree on: each serving process sweeps (a run submitted twice is harmless)."""
        jobs = self.services.settings.jobs
        if jobs.backend != "celery":
            return True
        import redis

        client = redis.Redis.from_url(jobs.broker_url, socket_connect_timeout=3, socket_timeout=3)
        try:
            taken = client.set(
                f"{jobs.key_prefix}{SWEEP_KEY}", socket.gethostname()[:40], nx=True, px=max(int(self.every * 900), 1)
            )
        finally:
            client.close()
        return bool(taken)

    def once(self) -> None:
        try:
            if self._turn():
                sweep(self.services, queue_for(self.services))
        except CharterError as exc:
            log.warning("sweep skipped: %s (%s)", exc.code, exc.detail)
        except Exception:
            log.exception("sweep stopped on an unexpected error; the next period tries again")

    def _loop(self) -> None:
        while True:
            self.once()
            if self.stop.wait(self.every):
                return


def run(services: Services, *, concurrency: int, loglevel: str, sweep_every: float) -> None:
    """Start the worker in this process (returns when it is stopped: SIGTERM, Ctrl-C)."""
    from charter.jobs.celery_queue import worker_app

    require_celery(services)
    check_broker(services)
    app = worker_app(services)
    sweeper = Sweeper(services, sweep_every) if sweep_every > 0 else None
    if sweeper is not None:
        sweeper.start()
    try:
        _celery_worker(app, services.settings.jobs.queue, concurrency=concurrency, loglevel=loglevel).start()
    finally:
        if sweeper is not None:
            sweeper.stop.set()


def _celery_worker(app: Celery, queue: str, *, concurrency: int, loglevel: str) -> WorkController:
    """Celery's worker with the options ``celery worker --pool=threads --without-gossip --without-mingle
    --without-heartbeat`` gives it, built without going through that command line.

    ``app.worker_main`` parses its arguments with Celery's click program, which imports every ``celery``
    subcommand, and with them click-repl, prompt_toolkit and Pygments (about 10 MB of a worker's memory)
    only to read these few options; the worker it then builds and starts is this one.
    """
    from celery.utils.log import mlevel
    from celery.utils.nodenames import default_nodename, host_format

    return app.Worker(
        hostname=host_format(default_nodename(f"charter-{os.getpid()}@%h")),
        pool="threads",
        concurrency=concurrency,
        loglevel=mlevel(loglevel.upper()),
        queues=[queue],
        without_gossip=True,
        without_mingle=True,
        without_heartbeat=True,
        optimization="default",
        no_color=False,
        quiet=False,
    )
