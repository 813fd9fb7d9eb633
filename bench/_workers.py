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
:class:`CeleryPool` is the same three methods over real ``charter worker``
processes (Celery on the local Redis): ``start`` launches them and waits until
each has carried out a warm-up request, ``run_all`` sends the request ids
through Charter's own job queue and waits until every run is finished in
Charter's database, reading when each started and finished (and which worker
did its steps) from ``execution_runs`` and ``execution_steps``.

A job is ``("charter", public_id)`` (``Runner.run``) or ``("sql", e-mail,
label)`` (the hand-written baseline, on a connection the worker keeps).
"""

from __future__ import annotations

import multiprocessing as mp
import os
import queue
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import _proc
import _redis

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
        """Stop the workers (each finishes its job first); any still alive after 30 s is terminated."""
        for _ in self.processes:
            self.jobs.put(None)
        peaks: dict[int, float] = {}
        while len(peaks) < len(self.processes):
            try:
                item = self.done.get(timeout=120)
            except queue.Empty:
                break
            if isinstance(item, tuple) and item[0] == "rss":  # else a job left over from a failed round
                peaks[item[1]] = round(item[2], 1)
        for process in self.processes:
            process.join(timeout=30)
            if process.is_alive():
                process.terminate()
                process.join(timeout=10)
        return peaks


def cpu_seconds() -> dict[str, float]:
    """CPU seconds used so far (user + system, reaped children included) by the bench's own processes, by
    group: this process, the worker processes it spawned (``ProcessPool``), the ``charter worker`` processes
    it started (``CeleryPool``), each with the processes under it. Differences around a round say where its
    CPU went. The PostgreSQL and Redis servers are not counted: they serve other clients on this machine too."""
    me = os.getpid()
    out = {"bench process": _proc.cpu_seconds(me), "worker processes": 0.0, "charter worker": 0.0}
    for pid in _proc.tree(me)[1:]:
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        group = "charter worker" if " worker " in f"{command} " and "charter" in command else "worker processes"
        out[group] += _proc.cpu_seconds(pid)
    return out


POLL_S = 0.005
CHARTER = shutil.which("charter") or str(Path(sys.executable).parent / "charter")
_FINISHED = """
SELECT r.public_id, x.started_at, x.finished_at, x.status,
       (SELECT min(s.claimed_by) FROM execution_steps s WHERE s.run_id = x.id)
FROM privacy_requests r JOIN execution_runs x ON x.request_id = r.id
WHERE r.public_id = ANY(%s) AND x.finished_at IS NOT NULL
"""


class CeleryPool:
    """``workers`` real ``charter worker`` processes (``--concurrency`` threads each) on a queue of their own
    on the local Redis; requests go through ``charter.jobs.celery_queue.CeleryQueue`` as the API sends them.
    Only ``("charter", public_id, _)`` jobs: the SQL baseline has no place on Charter's queue."""

    def __init__(
        self,
        setup: WorkerSetup,
        warm_up: list[str],
        *,
        workers: int,
        concurrency: int,
        broker_url: str,
        key_prefix: str | None = None,
    ) -> None:
        from charter.settings import JobSettings, Settings

        self.setup = setup
        self.warm_up = warm_up
        self.workers = workers
        self.concurrency = concurrency
        self.broker_url = broker_url
        #: every key Celery writes for this pool starts with it (kombu's global_keyprefix); deleted by close()
        self.key_prefix = key_prefix or f"{_redis.default_prefix('celery')}_{uuid.uuid4().hex[:6]}:"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
        self.env.update(
            CHARTER_ENV="test",
            CHARTER_HOME=str(setup.home),
            CHARTER_DATABASE_URL=setup.state_url,
            CHARTER_DATAMAP_PATH=str(setup.datamap_dir),
            CHARTER_JOBS_BACKEND="celery",
            CHARTER_JOBS_BROKER_URL=broker_url,
            CHARTER_JOBS_KEY_PREFIX=self.key_prefix,
            CHARTER_JOBS_QUEUE="charter",
            CHARTER_JOBS_SWEEP_SECONDS="0",
            **{setup.url_env: setup.store_url},
        )
        jobs = JobSettings(
            backend="celery", broker_url=broker_url, key_prefix=self.key_prefix, queue="charter", sweep_seconds=0
        )
        self.settings = Settings.load(env="test", home=setup.home, jobs=jobs)
        self.logs = [setup.folder / f"charter-worker-{n + 1}.log" for n in range(workers)]
        self.procs: list[subprocess.Popen[bytes]] = []
        self.keys_removed = 0

    def start(self) -> None:
        for log in self.logs:
            with log.open("wb") as handle:
                self.procs.append(
                    subprocess.Popen(  # noqa: S603 - Charter's own command, fixed arguments
                        [
                            CHARTER,
                            "worker",
                            "--concurrency",
                            str(self.concurrency),
                            "--loglevel",
                            "warning",
                            "--sweep-every",
                            "0",
                        ],
                        env=self.env,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                        start_new_session=True,
                    )
                )
        self.run_all([("charter", public_id, "") for public_id in self.warm_up])

    def _submit(self, public_id: str) -> None:
        from charter.jobs.celery_queue import CeleryQueue

        CeleryQueue(self.settings).submit_run(public_id)

    def run_all(self, jobs: list[Job]) -> tuple[float, list[Done]]:
        """A run ends, for the bench, when it sees the run finished in Charter's database, i.e. after Charter's
        final commit (polled every ``POLL_S``: an end may be late by that much, never early). Charter's own
        ``finished_at`` is stamped inside that last transaction, before its commit, so it is not used."""
        import psycopg
        from _pg import libpq

        ids = [value for kind, value, _ in jobs if kind == "charter"]
        if len(ids) != len(jobs):
            raise ValueError("a CeleryPool carries out Charter requests only")
        offset = time.time() - time.monotonic()
        released = time.monotonic()
        for public_id in ids:
            self._submit(public_id)
        deadline = released + 600
        seen: dict[str, tuple[float, Any]] = {}
        with psycopg.connect(libpq(self.setup.state_url), autocommit=True) as conn:
            while len(seen) < len(ids):
                waiting = [i for i in ids if i not in seen]
                rows = conn.execute(_FINISHED, (waiting,)).fetchall()
                now = time.monotonic()
                for row in rows:
                    seen[row[0]] = (now, row)
                if len(seen) == len(ids):
                    break
                for proc, log in zip(self.procs, self.logs, strict=True):
                    if proc.poll() is not None:
                        raise RuntimeError(f"charter worker exited ({proc.returncode}): {log.read_text()[-2000:]}")
                if now > deadline:
                    raise RuntimeError(f"{len(ids) - len(seen)} runs did not finish in 600 s")
                time.sleep(POLL_S)
        failed = [public_id for public_id, (_at, row) in seen.items() if row[3] != "completed"]
        if failed:
            raise RuntimeError(f"{len(failed)} runs did not complete, e.g. {failed[0]}")
        done = [
            Done(("charter", public_id, ""), int(str(row[4]).split(":")[1]), row[1].timestamp() - offset, at)
            for public_id, (at, row) in seen.items()
        ]
        return released, done

    def close(self) -> dict[int, float]:
        peaks: dict[int, float] = {}
        for proc in self.procs:
            try:
                for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks[proc.pid] = round(int(line.split()[1]) / 1024, 1)
            except OSError:
                pass
            proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.procs = []
        self.keys_removed = _redis.delete_prefix(self.broker_url, self.key_prefix)
        return peaks
