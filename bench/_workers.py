"""Worker processes that carry out data-subject requests taken from one shared queue.

This is the bench's stand-in for ``charter worker`` (Celery on Redis, being
written): N processes, each a fresh interpreter (``spawn``) that builds Charter
once (database, settings, vault, data map — what a worker does at start-up),
then takes jobs from a shared ``multiprocessing`` queue and runs each with the
in-process ``Runner`` — exactly what the Celery task will call
(``execution.jobs.run_request``).

The bench talks to workers only through :class:`Pool`: ``start`` (workers up
and warmed), ``run_all(jobs)`` (release every job at once, wait for all, return
when each one started and ended on the shared monotonic clock) and ``close``.
To measure real ``charter worker`` processes later, write a ``CeleryPool``
with the same three methods: ``start`` launches ``charter worker`` processes
and waits for them to answer a ping, ``run_all`` enqueues the request ids
(``apply_async``) and waits until ``execution_runs.finished_at`` is set for
each, reading ``started_at``/``finished_at`` from Charter's database — nothing
else in ``dsr_concurrency_bench.py`` changes.

A job is ``("charter", public_id)`` (``Runner.run``) or ``("sql", e-mail,
label)`` (the hand-written baseline, on a connection the worker keeps).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

Job = tuple[str, str, str]


@dataclass(frozen=True)
class Done:
    """One finished job: which worker, when it was taken and finished (``time.monotonic``, system-wide)."""

    job: Job
    worker: int
    started: float
    ended: float
    error: str | None = None


@dataclass(frozen=True)
class WorkerSetup:
    """What a worker needs to build Charter and the baseline by itself (picklable)."""

    state_url: str
    store_url: str
    url_env: str
    home: Path
    datamap_dir: Path
    children: int
    folder: Path


class Pool(Protocol):
    def start(self) -> None: ...

    def run_all(self, jobs: list[Job]) -> tuple[float, list[Done]]:
        """Release ``jobs`` at once; (the release time, every job's ``Done``), on ``time.monotonic``."""
        ...

    def close(self) -> dict[int, float]:
        """Stop the workers; each one's peak resident set (VmHWM, MB) by pid."""
        ...


def _work(setup: WorkerSetup, warm_up: list[Job], jobs: Any, done: Any, ready: Any) -> None:
    """One worker: build Charter once, run its own warm-up jobs, then take shared jobs until a ``None``."""
    import _wide
    import psycopg
    from _charter import Charter, vm_hwm_mb
    from _pg import libpq

    charter = Charter(
        setup.state_url, {setup.url_env: setup.store_url}, setup.home, setup.datamap_dir, migrate_state=False
    )
    conn = psycopg.connect(libpq(setup.store_url))
    pid = os.getpid()

    def perform(job: Job) -> None:
        kind, value, label = job
        if kind == "charter":
            charter.run(value)
        else:
            _wide.access_sql(conn, value, setup.folder, f"{pid}-{label}", setup.children)

    for job in warm_up:
        perform(job)
    ready.put(pid)
    while (job := jobs.get()) is not None:
        started = time.monotonic()
        error = None
        try:
            perform(job)
        except Exception as exc:  # noqa: BLE001 - reported to the bench, which fails loudly on it
            error = f"{type(exc).__name__}: {exc}"[:300]
        done.put(Done(job, pid, started, time.monotonic(), error))
    conn.close()
    charter.close()
    done.put(("rss", pid, vm_hwm_mb()))


class ProcessPool:
    """Spawned processes on one shared job queue (see the module docstring); ``warm_up``: each worker's own
    jobs, run before it reports ready (imports, engines, the schema cache — as a worker that has been up)."""

    def __init__(self, setup: WorkerSetup, warm_up: list[list[Job]]) -> None:
        self.setup = setup
        context = mp.get_context("spawn")
        self.jobs = context.Queue()
        self.done = context.Queue()
        self.ready = context.Queue()
        self.processes = [
            context.Process(target=_work, args=(setup, own, self.jobs, self.done, self.ready), daemon=True)
            for own in warm_up
        ]

    def start(self) -> None:
        for process in self.processes:
            process.start()
        for _ in self.processes:
            self.ready.get(timeout=300)

    def run_all(self, jobs: list[Job]) -> tuple[float, list[Done]]:
        released = time.monotonic()
        for job in jobs:
            self.jobs.put(job)
        finished = [self.done.get(timeout=600) for _ in jobs]
        failed = [d for d in finished if d.error]
        if failed:
            raise RuntimeError(f"{len(failed)} jobs failed, e.g. {failed[0].error}")
        return released, finished

    def close(self) -> dict[int, float]:
        for _ in self.processes:
            self.jobs.put(None)
        peaks: dict[int, float] = {}
        for _ in self.processes:
            _tag, pid, mb = self.done.get(timeout=120)
            peaks[pid] = round(mb, 1)
        for process in self.processes:
            process.join(timeout=30)
        return peaks
