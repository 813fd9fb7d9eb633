"""The run message the web server sends without Celery is the one Celery's ``send_task`` writes, key for key.

The sender (``charter.jobs.celery_message`` + ``CeleryQueue``) writes Celery's
task protocol and kombu's Redis envelope itself so that ``charter serve``
never imports Celery or kombu. These tests hold the two equal on the real
Redis, so a Celery or kombu upgrade that changes the format fails here
rather than leaving runs unread; ``tests/jobs/test_workers.py`` has real
``charter worker`` processes carry out requests sent this way.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import redis

from charter.jobs.celery_message import task_message
from charter.jobs.celery_queue import RUN_TASK, CeleryQueue, _new_app
from charter.settings import JobSettings, Settings

PUBLIC_ID = "0123456789abcdef0123456789abcdef"
#: differ on every send, whoever sends (the delivery tag), or name Celery's reply queue, which nothing reads
#: (results are not kept): ours is empty, as Celery writes it when it is given none
PER_SEND = {"delivery_tag", "reply_to"}


def _jobs(url: str, prefix: str) -> JobSettings:
    return JobSettings(broker_url=url, key_prefix=f"{prefix}:", queue="runs")


def _sent(url: str, key: str) -> list[dict[str, Any]]:
    client = redis.Redis.from_url(url)
    try:
        return [json.loads(m) for m in reversed(client.lrange(key, 0, -1))]  # LPUSH: the oldest is last
    finally:
        client.close()


def test_the_message_is_the_one_celery_sends(redis_prefix: tuple[str, str]) -> None:
    url, prefix = redis_prefix
    jobs = _jobs(url, prefix)
    celery_app = _new_app(jobs)
    celery_app.send_task(RUN_TASK, args=[PUBLIC_ID], queue=jobs.queue, task_id="t-1")
    redis.Redis.from_url(url).lpush(f"{prefix}:runs", task_message(RUN_TASK, [PUBLIC_ID], queue="runs", task_id="t-1"))
    theirs, ours = _sent(url, f"{prefix}:runs")
    assert ours.keys() == theirs.keys()
    assert ours["headers"] == theirs["headers"]  # task, id, argsrepr, origin: all of them
    assert {k: v for k, v in ours["properties"].items() if k not in PER_SEND} == {
        k: v for k, v in theirs["properties"].items() if k not in PER_SEND
    }
    assert ours["properties"]["reply_to"] == ""
    assert base64.b64decode(ours["body"]) == base64.b64decode(theirs["body"])
    assert {k: v for k, v in ours.items() if k not in ("headers", "properties")} == {
        k: v for k, v in theirs.items() if k not in ("headers", "properties")
    }


def test_a_submitted_run_goes_on_the_list_the_worker_reads(settings: Settings, redis_prefix: tuple[str, str]) -> None:
    """The worker's Celery app reads the queue ``runs`` under the key prefix: the same key is written."""
    url, prefix = redis_prefix
    settings.jobs = _jobs(url, prefix)
    CeleryQueue(settings).submit_run(PUBLIC_ID)
    CeleryQueue(settings).submit_run(PUBLIC_ID)  # twice is harmless (claims decide) and is two messages
    sent = _sent(url, f"{prefix}:runs")
    assert [m["headers"]["argsrepr"] for m in sent] == [repr([PUBLIC_ID])] * 2
    assert sent[0]["headers"]["id"] != sent[1]["headers"]["id"]
    body = json.loads(base64.b64decode(sent[0]["body"]))
    assert body[0] == [PUBLIC_ID] and body[1] == {}


def test_the_served_app_sends_runs_without_loading_celery(tmp_path: Path, redis_prefix: tuple[str, str]) -> None:
    """The app ``charter serve`` runs submits a run; neither Celery nor kombu, amqp or billiard is loaded."""
    url, prefix = redis_prefix
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")},
        "CHARTER_HOME": str(tmp_path / "home"),
        "CHARTER_JOBS_BACKEND": "celery",
        "CHARTER_JOBS_BROKER_URL": url,
        "CHARTER_JOBS_KEY_PREFIX": f"{prefix}:",
    }
    code = (
        "import sys\n"
        "from charter.web.app import create_served_app\n"
        "from charter.jobs.celery_queue import CeleryQueue\n"
        "from charter.settings import Settings\n"
        "create_served_app()\n"
        f"CeleryQueue(Settings.load()).submit_run({PUBLIC_ID!r})\n"
        "print(sorted(m for m in ('celery', 'kombu', 'amqp', 'billiard') if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
    assert len(_sent(url, f"{prefix}:charter")) == 1
