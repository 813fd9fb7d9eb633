"""Memory of a running Charter: ``charter serve`` + ``charter worker`` after carrying out requests (issue 4).

The issue's figure: server + worker under 250 MB (Fides: about 1.25 GB for its
webserver and one worker). This starts both as real processes on the demo's
embedded default (SQLite state, the demo's shop and support stores, the West
data map), with jobs on the real Redis (``CHARTER_JOBS_BACKEND=celery``), then
makes ``--requests`` requests (half deletions, half access), each received,
confirmed with its code and approved through the domain API, then submitted to
the jobs queue (what the console's approval does with autorun), so the worker
takes each from Redis and carries it out; meanwhile the server serves
``--pages`` privacy-center pages.
When every request is completed it reads each process's peak resident set
(``VmHWM`` in /proc/PID/status, children included) and prints JSON.

Run::

    .venv/bin/python bench/service_memory_bench.py            # 40 requests
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
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.requests.conftest import Recorder  # noqa: E402  (an in-memory mailer: the code, without SMTP)

from charter.db.base import utcnow  # noqa: E402
from charter.demo import EXAMPLES, people  # noqa: E402
from charter.requests import intake, review  # noqa: E402
from charter.requests.kinds import RequestKind  # noqa: E402
from charter.services import Services  # noqa: E402
from charter.settings import Settings  # noqa: E402

CHARTER = ROOT / ".venv" / "bin" / "charter"


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peak_mb(pid: int) -> float:
    """VmHWM of the process and its children, in MB."""
    total = 0.0
    pids = [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        for line in Path(f"/proc/{one}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                total += int(line.split()[1]) / 1024
    return round(total, 1)


def wait_for(condition: object, what: str, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not condition():  # type: ignore[operator]
        if time.monotonic() > end:
            raise SystemExit(f"gave up waiting for {what}")
        time.sleep(0.2)


def approved(services: Services, kind: RequestKind, email: str) -> str:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--pages", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="charter-memory-bench-") as tmp:
        home = Path(tmp) / "home"
        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")}
        env.update(
            CHARTER_HOME=str(home),
            CHARTER_BASE_URL=f"http://127.0.0.1:{port}",
            CHARTER_DATAMAP_PATH=str(EXAMPLES / "datamap"),
            CHARTER_EXECUTION_AUTORUN="true",
            CHARTER_JOBS_BACKEND="celery",
            CHARTER_JOBS_BROKER_URL="redis://127.0.0.1:6379/13",
            CHARTER_JOBS_KEY_PREFIX=f"membench{os.getpid()}:",
            CHARTER_JOBS_QUEUE=f"membench{os.getpid()}",
        )
        subprocess.run([sys.executable, "-m", "charter.demo", "--no-serve"], env=env, check=True, capture_output=True)
        os.environ.update(env)
        services = Services(Settings.load())
        server = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we built
            [str(CHARTER), "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        worker_log = Path(tmp) / "worker.log"
        with worker_log.open("wb") as handle:
            worker = subprocess.Popen(  # noqa: S603 - our own CLI, arguments we built
                [str(CHARTER), "worker", "--concurrency", "2", "--loglevel", "info"],
                env=env,
                stdout=handle,
                stderr=subprocess.STDOUT,
            )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _answers(base + "/privacy"), "the server")
            wait_for(lambda: "ready." in worker_log.read_text(errors="replace"), "the worker")
            started = {"server_mb": peak_mb(server.pid), "worker_mb": peak_mb(worker.pid)}
            log(f"started: {started}")
            emails = people.emails(args.requests)
            ids = []
            for n, email in enumerate(emails):
                kind = RequestKind.DELETION if n % 2 else RequestKind.ACCESS
                public_id = approved(services, kind, email)
                ids.append(public_id)
            begun = time.perf_counter()
            for public_id in ids:  # the console's approval: autorun sends each to the worker over Redis
                _approve(base, services, public_id)
            for n in range(args.pages):
                _answers(base + ("/privacy" if n % 2 else "/privacy/requests"))
            wait_for(lambda: _all_done(services, ids), "every request to complete", seconds=600)
            took = time.perf_counter() - begun
            out = {
                "bench": "service_memory_bench",
                "requests": len(ids),
                "pages": args.pages,
                "state": "sqlite (embedded default)",
                "jobs": "celery on redis, 1 worker process, concurrency 2",
                "seconds_to_complete_all": round(took, 2),
                "at_start": started,
                "peak": {"server_mb": peak_mb(server.pid), "worker_mb": peak_mb(worker.pid)},
                "load": os.getloadavg()[0],
            }
            out["peak"]["total_mb"] = round(out["peak"]["server_mb"] + out["peak"]["worker_mb"], 1)
            out["target_total_mb"] = 250
            out["fides_total_mb"] = 1250
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


def _approve(base: str, services: Services, public_id: str) -> None:
    """Approve as the console does, then submit the run to the jobs queue (Redis), as autorun does."""
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
