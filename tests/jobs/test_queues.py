"""The job interface and its two backends: in-process threads, Celery on the real Redis.

Architecture promises: importing Charter needs neither Redis nor Celery
(the application is built from settings when first used); a job's message
carries the request id only (P-SEC-1: no identity on the broker); a
broker that is down is one clear error without its password.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time

import pytest
import redis

from charter.jobs import BrokerUnavailable, queue_for
from charter.jobs.base import masked
from charter.jobs.celery_queue import RUN_TASK, CeleryQueue, worker_app
from charter.jobs.inprocess import THREAD_PREFIX, InProcessQueue
from charter.services import Services
from charter.settings import JobSettings, Settings


@pytest.fixture
def services(settings: Settings) -> Services:
    return Services(settings)


def test_importing_charter_loads_neither_celery_nor_a_broker_connection() -> None:
    code = (
        "import sys, charter.cli.main, charter.execution.jobs, charter.jobs.sweeper, charter.web.app; "
        "print(sorted(m for m in ('celery', 'kombu') if m in sys.modules))"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.strip() == "[]"


def test_the_registry_picks_the_configured_backend(services: Services) -> None:
    assert isinstance(queue_for(services), InProcessQueue)
    services.settings.jobs.backend = "celery"
    assert isinstance(queue_for(services), CeleryQueue)


def test_masked_hides_only_the_password() -> None:
    assert masked("redis://:s3cret@redis.internal:6380/2") == "redis://:***@redis.internal:6380/2"
    assert masked("rediss://charter:s3cret@redis.internal/0") == "rediss://charter:***@redis.internal/0"
    assert masked("redis://127.0.0.1:6379/0") == "redis://127.0.0.1:6379/0"


def test_a_bad_broker_url_is_refused_by_the_settings() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        JobSettings(broker_url="amqp://guest@localhost//")
    with pytest.raises(ValidationError):
        JobSettings(queue="two words")


def test_the_worker_app_acknowledges_late_and_has_the_run_task_bound_to_its_services(services: Services) -> None:
    app = worker_app(services)
    assert app.conf.task_acks_late and app.conf.task_reject_on_worker_lost
    assert app.conf.worker_prefetch_multiplier == 1 and app.conf.task_ignore_result
    task = app.tasks[RUN_TASK]
    assert task.acks_late and task.reject_on_worker_lost and task.ignore_result


def test_a_submitted_run_is_one_message_with_the_request_id_only(
    services: Services, redis_prefix: tuple[str, str]
) -> None:
    url, prefix = redis_prefix
    services.settings.jobs.backend = "celery"
    services.settings.jobs.broker_url = url
    services.settings.jobs.key_prefix = f"{prefix}:"
    services.settings.jobs.queue = "runs"
    queue_for(services).submit_run("0123456789abcdef0123456789abcdef")
    client = redis.Redis.from_url(url)
    try:
        messages = client.lrange(f"{prefix}:runs", 0, -1)
    finally:
        client.close()
    assert len(messages) == 1
    headers = json.loads(messages[0])["headers"]
    assert headers["task"] == RUN_TASK and headers["argsrepr"] == "['0123456789abcdef0123456789abcdef']"


def test_a_broker_that_is_down_is_one_clear_error_without_the_password(services: Services) -> None:
    services.settings.jobs.backend = "celery"
    services.settings.jobs.broker_url = "redis://:do-not-show@127.0.0.1:1/0"
    with pytest.raises(BrokerUnavailable) as raised:
        queue_for(services).submit_run("0123456789abcdef0123456789abcdef")
    assert "do-not-show" not in raised.value.detail and "redis://:***@127.0.0.1:1/0" in raised.value.detail
    assert raised.value.status == 503 and raised.value.exit_code == 2


def test_after_approval_with_the_broker_down_logs_and_leaves_it_to_the_sweeper(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    from charter.execution import jobs

    services.settings.execution.autorun = True
    services.settings.jobs.backend = "celery"
    services.settings.jobs.broker_url = "redis://127.0.0.1:1/0"
    with caplog.at_level(logging.WARNING, logger="charter.execution"):
        jobs.after_approval(services, "0123456789abcdef0123456789abcdef", "deletion")
    assert "broker_unavailable" in caplog.text and "sweeper" in caplog.text


def test_after_approval_without_autorun_submits_nothing(services: Services) -> None:
    from charter.execution import jobs

    services.settings.jobs.backend = "celery"
    services.settings.jobs.broker_url = "redis://127.0.0.1:1/0"  # would fail if anything were sent
    jobs.after_approval(services, "0123456789abcdef0123456789abcdef", "deletion")
    services.settings.execution.autorun = True
    jobs.after_approval(services, "0123456789abcdef0123456789abcdef", "objection")  # no data-store steps


def test_the_in_process_queue_runs_in_a_named_thread_or_inline(
    services: Services, caplog: pytest.LogCaptureFixture
) -> None:
    """A run that cannot start (here: no data map) is logged either way: the job never raises into its caller."""
    with caplog.at_level(logging.WARNING, logger="charter.execution"):
        InProcessQueue(services, inline=True).submit_run("0" * 32)
        assert "was not run: datamap_invalid" in caplog.text
        caplog.clear()
        InProcessQueue(services).submit_run("1" * 32)
        for thread in [t for t in threading.enumerate() if t.name == f"{THREAD_PREFIX}{'1' * 32}"]:
            thread.join()
    assert f"request {'1' * 32} was not run: datamap_invalid" in caplog.text


def test_the_in_process_queue_runs_at_most_its_threads_at_once(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CHARTER_JOBS_INPROCESS_THREADS (4): a burst of approvals waits for free slots instead of starting every
    run against the stores at once; every one of them still runs."""
    from charter.execution import jobs as execution_jobs

    running = 0
    most = 0
    done: list[str] = []
    lock = threading.Lock()
    release = threading.Event()

    def slow(_services: Services, public_id: str) -> str | None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        release.wait(10)
        with lock:
            running -= 1
            done.append(public_id)
        return "completed"

    monkeypatch.setattr(execution_jobs, "run_logged", slow)
    ids = [f"{n:032x}" for n in range(1, 8)]
    queue = InProcessQueue(services)
    for public_id in ids:
        queue.submit_run(public_id)
    deadline = time.monotonic() + 10
    while most < services.settings.jobs.inprocess_threads and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.1)  # a fifth run, were it let through, would have started by now
    assert most == services.settings.jobs.inprocess_threads == 4
    release.set()
    for thread in [t for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)]:
        thread.join(timeout=10)
    assert sorted(done) == ids
