"""``charter worker`` builds Celery's worker itself, with the options Celery's command line gave it.

Celery's command line imports every ``celery`` subcommand, with click-repl,
prompt_toolkit and Pygments (about 10 MB held by the worker for its whole
life) only to read a few options; the worker is built directly instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

BUILD = """
import json, os, sys
from charter.jobs.celery_queue import worker_app
from charter.jobs.worker import _celery_worker
from charter.services import Services
from charter.settings import Settings

services = Services(Settings.load())
worker = _celery_worker(worker_app(services), services.settings.jobs.queue, concurrency=3, loglevel="warning")
print(json.dumps({
    "pool": f"{worker.pool_cls.__module__}.{worker.pool_cls.__name__}",
    "concurrency": worker.concurrency,
    "prefetch_multiplier": worker.prefetch_multiplier,
    "loglevel": worker.loglevel,
    "hostname": worker.hostname,
    "pid": os.getpid(),
    "queues": sorted(worker.app.amqp.queues),
    "imported": sorted(m for m in ("celery.bin.celery", "click_repl", "prompt_toolkit") if m in sys.modules),
}))
"""


def test_the_worker_has_the_options_charter_gives_it_without_celerys_command_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
    env |= {
        "CHARTER_HOME": str(tmp_path / "home"),
        "CHARTER_JOBS_BACKEND": "celery",
        "CHARTER_JOBS_BROKER_URL": "redis://127.0.0.1:6379/15",
        "CHARTER_JOBS_QUEUE": "charter-options-test",
    }
    done = subprocess.run([sys.executable, "-c", BUILD], capture_output=True, text=True, check=True, env=env)
    built = json.loads(done.stdout)
    assert built["pool"] == "celery.concurrency.thread.TaskPool"
    assert built["concurrency"] == 3
    assert built["prefetch_multiplier"] == 1  # the app's setting: a worker holds only the runs it carries out
    assert built["loglevel"] == 30
    assert built["hostname"].startswith(f"charter-{built['pid']}@")
    assert "%h" not in built["hostname"]
    assert built["queues"] == ["charter-options-test"]
    assert built["imported"] == []
