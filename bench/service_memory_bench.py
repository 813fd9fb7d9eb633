"""Memory of a running Charter: ``charter serve`` + ``charter worker`` after carrying out requests (issue 4).

The issue's figure: server + worker under 250 MB, 200 MB as deployed (Fides:
about 1.25 GB for its webserver and one worker). This starts both as real
processes with jobs on the real Redis (``CHARTER_JOBS_BACKEND=celery``), the
demo's shop and support stores and the West data map, then makes
``--requests`` requests (half deletions, half access), each received and
confirmed with its code, then approved; with autorun the approval submits the
run to Redis, the worker takes it and carries it out; meanwhile the server
serves ``--pages`` privacy-center pages. When every request is completed it
reads each process's peak resident set (``VmHWM`` in /proc/PID/status) and
its resident set at the end (``VmRSS``), children included, and prints JSON.

Two setups, so both figures can be compared:

* **as deployed** (the default): Charter's state on PostgreSQL
  (``CHARTER_DATABASE_URL``; ``--state postgresql`` creates a database of its
  own through ``--admin-url`` and drops it at the end, ``--state-url`` uses
  one you made), requests approved through the HTTP API
  (``POST /api/v1/requests/{id}/approve``) with a bearer token of a
  ``privacy_officer`` user made with ``charter users create`` and
  ``charter tokens create``, as an office's tooling does;
* **embedded** (``--state sqlite --approve-via domain``, the bench before
  2026-12-07): the SQLite file under ``CHARTER_HOME``, approved through the
  domain API in this process and submitted to the queue as autorun does.

Jobs go to Redis database ``--redis-db`` under a key prefix of this run's
own; the keys with that prefix are deleted at the end (nothing else: the
database is never flushed).

The processes run the code this bench imports (its ``src`` first on
``PYTHONPATH``), so ``PYTHONPATH=/elsewhere/src`` measures another checkout.

Run::

    .venv/bin/python bench/service_memory_bench.py                                   # as deployed
    .venv/bin/python bench/service_memory_bench.py --state sqlite --approve-via domain  # embedded
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from _pg import create_database, drop_database, use_admin_url  # noqa: E402
from tests.requests.conftest import Recorder  # noqa: E402  (an in-memory mailer: the code, without SMTP)

import charter  # noqa: E402
from charter.db.base import utcnow  # noqa: E402
from charter.demo import EXAMPLES, people  # noqa: E402
from charter.requests import intake, review  # noqa: E402
from charter.requests.kinds import RequestKind  # noqa: E402
from charter.services import Services  # noqa: E402
from charter.settings import Settings  # noqa: E402

#: the installed ``charter`` script of this interpreter; PYTHONPATH picks which checkout it runs
CHARTER = Path(sys.executable).parent / "charter"
#: the ``src`` folder of the Charter this bench imported: the processes run the same code
SRC = Path(charter.__file__).resolve().parents[1]
OFFICE_USER = "membench-office"
OFFICE_PASSWORD = "membench office password 42"  # noqa: S105 - a throwaway user of a throwaway database


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree(pid: int) -> list[int]:
    """``pid`` and all its descendants (a prefork pool's children each hold their own copy)."""
    found = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        for child in children.read_text().split():
            found += _tree(int(child))
    return found


def memory(pid: int) -> dict[str, float]:
    """Of the process and its descendants, in MB: VmHWM (peak), VmRSS (now) and the part of it that is the
    process's own (RssAnon: the heap) rather than mapped files (RssFile: code of shared libraries, which other
    processes of the machine share); and how many processes that is."""
    fields = {"VmHWM": "peak_mb", "VmRSS": "rss_mb", "RssAnon": "anon_mb", "RssFile": "file_mb"}
    found = dict.fromkeys(fields.values(), 0.0)
    pids = _tree(pid)
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in fields:
                found[fields[name]] += int(value.split()[0]) / 1024
    return {**{k: round(v, 1) for k, v in found.items()}, "processes": len(pids)}


def wait_for(condition: Callable[[], bool], what: str, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.2)


def confirmed(services: Services, kind: RequestKind, email: str) -> str:
    """A request received and confirmed with its code (in review): what the privacy center does."""
    mailer = Recorder()
    now = utcnow()
    submission = intake.Submission(kind=kind, identity_kind="email", identity=email, jurisdiction="eu", details={})
    done = intake.submit(services.database, mailer, submission, vault=services.vault, settings=services.settings)
    intake.verify_code(
        services.database,
        done.public_id,
        mailer.code(),
        vault=services.vault,
        settings=services.settings,
        now=now + timedelta(seconds=1),
    )
    return done.public_id


@contextmanager
def state_database(args: argparse.Namespace) -> Iterator[str | None]:
    """The ``CHARTER_DATABASE_URL`` of the run (None: the SQLite file under CHARTER_HOME); one created here is
    dropped at the end."""
    if args.state_url:
        yield args.state_url
        return
    if args.state == "sqlite":
        yield None
        return
    if args.admin_url:
        use_admin_url(args.admin_url)
    name = args.db_name or f"charter_membench_{os.getpid()}"
    url = create_database(name)
    try:
        yield url
    finally:
        drop_database(name)


@contextmanager
def redis_keys(url: str, prefix: str) -> Iterator[None]:
    """Delete the keys under ``prefix`` this run made in the Redis database of ``url`` (and only those)."""
    import redis

    try:
        yield
    finally:
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=500))
            if keys:
                client.delete(*keys)
            log(f"deleted {len(keys)} redis keys under {prefix}")
        finally:
            client.close()


def cli(env: dict[str, str], *argv: str, stdin: str | None = None) -> str:
    """``charter ARGV`` (this checkout's code) in the bench's environment; its standard output."""
    done = subprocess.run(  # noqa: S603 - our own CLI, arguments we built
        [str(CHARTER), *argv], env=env, input=stdin, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"charter {' '.join(argv)} failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout


def office_token(env: dict[str, str]) -> str:
    """A privacy officer and an API token that may read and decide requests, made as an operator does."""
    cli(env, "users", "create", OFFICE_USER, "--role", "privacy_officer", "--password-stdin", stdin=OFFICE_PASSWORD)
    made = cli(
        env,
        "tokens",
        "create",
        "--user",
        OFFICE_USER,
        "--name",
        "membench",
        "--scope",
        "requests:read",
        "--scope",
        "requests:decide",
        "--json",
    )
    return str(json.loads(made)["token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--pages", type=int, default=300)
    parser.add_argument("--state", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--state-url", default=None, help="CHARTER_DATABASE_URL of an existing, empty database")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL admin URL (default CHARTER_BENCH_POSTGRES_URL)")
    parser.add_argument("--db-name", default=None, help="the database --state postgresql creates (default per pid)")
    parser.add_argument("--redis-db", type=int, default=13, help="Redis database for the jobs")
    parser.add_argument("--approve-via", choices=("api", "domain"), default="api")
    parser.add_argument("--concurrency", type=int, default=None, help="charter worker --concurrency (its default)")
    parser.add_argument("--label", default="", help="what is measured, stored in the JSON (e.g. a commit)")
    args = parser.parse_args()
    prefix = f"membench{os.getpid()}:"
    broker = f"redis://127.0.0.1:6379/{args.redis_db}"
    with (
        tempfile.TemporaryDirectory(prefix="charter-memory-bench-") as tmp,
        state_database(args) as database_url,
        redis_keys(broker, prefix),
    ):
        home = Path(tmp) / "home"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
        extra = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p and Path(p).resolve() != SRC]
        env.update(
            PYTHONPATH=os.pathsep.join([str(SRC), *extra]),  # this checkout first; other entries (diagnostics) kept
            CHARTER_HOME=str(home),
            CHARTER_BASE_URL=f"http://127.0.0.1:{port}",
            CHARTER_DATAMAP_PATH=str(EXAMPLES / "datamap"),
            CHARTER_EXECUTION_AUTORUN="true",
            CHARTER_JOBS_BACKEND="celery",
            CHARTER_JOBS_BROKER_URL=broker,
            CHARTER_JOBS_KEY_PREFIX=prefix,
            CHARTER_JOBS_QUEUE=f"membench{os.getpid()}",
        )
        if database_url:
            env["CHARTER_DATABASE_URL"] = database_url
        subprocess.run([sys.executable, "-m", "charter.demo", "--no-serve"], env=env, check=True, capture_output=True)
        token = office_token(env) if args.approve_via == "api" else ""
        os.environ.update(env)
        services = Services(Settings.load())
        server = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we built
            [str(CHARTER), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        worker_log = Path(tmp) / "worker.log"
        worker_args = ["worker", "--loglevel", "info"]
        if args.concurrency is not None:
            worker_args += ["--concurrency", str(args.concurrency)]
        with worker_log.open("wb") as handle:
            worker = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we built
                [str(CHARTER), *worker_args], env=env, stdout=handle, stderr=subprocess.STDOUT
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(base + "/privacy"), "the server")
            wait_for(lambda: "ready." in worker_log.read_text(errors="replace"), "the worker")
            started = {"server": memory(server.pid), "worker": memory(worker.pid)}
            log(f"started: {started}")
            ids = []
            for n, email in enumerate(people.emails(args.requests)):
                kind = RequestKind.DELETION if n % 2 else RequestKind.ACCESS
                ids.append(confirmed(services, kind, email))
            begun = time.perf_counter()
            for public_id in ids:
                if args.approve_via == "api":
                    _approve_api(base, token, public_id)
                else:
                    _approve_domain(services, public_id)
            approved = {"server": memory(server.pid), "worker": memory(worker.pid)}
            for n in range(args.pages):
                _answers(base + ("/privacy" if n % 2 else "/privacy/requests"))
            wait_for(lambda: _all_done(services, ids), "every request to complete", seconds=600)
            took = time.perf_counter() - begun
            end = {"server": memory(server.pid), "worker": memory(worker.pid)}
            out: dict[str, object] = {
                "bench": "service_memory_bench",
                "label": args.label,
                "requests": len(ids),
                "pages": args.pages,
                "state": "postgresql (CHARTER_DATABASE_URL)" if database_url else "sqlite (embedded default)",
                "approved_via": (
                    "HTTP API, bearer token of a privacy_officer"
                    if args.approve_via == "api"
                    else "domain API in the bench, then submitted as autorun does"
                ),
                "jobs": f"celery on redis db {args.redis_db}, 1 worker process, "
                + (f"--concurrency {args.concurrency}" if args.concurrency else "its default concurrency"),
                "seconds_to_complete_all": round(took, 2),
                "at_start": started,
                "after_approvals": approved,
                "at_end": end,
                "total_mb": {
                    "peak": round(end["server"]["peak_mb"] + end["worker"]["peak_mb"], 1),
                    "rss_at_end": round(end["server"]["rss_mb"] + end["worker"]["rss_mb"], 1),
                },
                "load": round(os.getloadavg()[0], 2),
                "target_total_mb": 200,
                "fides_total_mb_quoted": 1250,  # issue 4's figure for Fides' webserver + one worker
                "fides_note": "quoted, not measured here",
            }
            print(json.dumps(out, indent=2))
        finally:
            for proc in (server, worker):
                proc.terminate()
            for proc in (server, worker):
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
            services.close()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - a local URL this bench built
            response.read()
            return bool(response.status == 200)
    except OSError:
        return False


def _approve_api(base: str, token: str, public_id: str) -> None:
    """Approve as an office's tooling does: the API with a bearer token; with autorun the server submits the run."""
    request = urllib.request.Request(  # noqa: S310 - a local URL this bench built
        f"{base}/api/v1/requests/{public_id}/approve",
        data=json.dumps({"identity_checked": True}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        if response.status != 200:
            raise SystemExit(f"approving {public_id} answered {response.status}")


def _approve_domain(services: Services, public_id: str) -> None:
    """Approve through the domain API, then submit the run to the jobs queue (Redis), as autorun does."""
    from charter.jobs import queue_for

    with services.database.session() as session:
        review.approve(
            session, review.get(session, public_id), actor="bench", vault=services.vault, identity_checked=True
        )
    queue_for(services).submit_run(public_id)


def _all_done(services: Services, ids: list[str]) -> bool:
    with services.database.session() as session:
        states = [review.get(session, public_id).status for public_id in ids]
    failed = [s for s in states if s == "failed"]
    if failed:
        raise SystemExit(f"{len(failed)} requests failed")
    return all(s == "completed" for s in states)


if __name__ == "__main__":
    main()
