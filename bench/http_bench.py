"""POST /api/v1/decisions over real HTTP: batch throughput and open-loop latency (issue 4 figures).

Set-up, in a temporary CHARTER_HOME (embedded SQLite file database):
migrate, publish both example statements (2019, then 2023), an
engineer with an API token, and ``--people`` people with ``--events``
ledger events bulk-loaded as Charter stores them (``bench/_synthetic.py``),
their states filled by ``ledger.rebuild``.

The server is uvicorn on ``charter.web.app:create_app`` (``--factory``; the
same app ``charter serve`` runs, which has no ``--workers`` option), access
log on as with ``charter serve``: 1 worker with the uvicorn CLI, 2 workers
with ``bench/_serve.py`` (uvicorn's supervisor on a socket that keeps
TCP_NODELAY, uvicorn issue #3149), then a short probe of ``uvicorn
--workers 2`` as shipped (``--nagle-probe``). For each:

(a) batch throughput: ``--batches`` requests of ``--batch`` decisions
    each, one after another on one keep-alive connection (and, with 2
    workers, also two clients at once) → decisions/s. Baseline: the same
    decisions one request each, sequentially on one keep-alive
    connection → decisions/s, and the ratio;
(b) open loop: single decisions at each of ``--rates`` requests/s for
    ``--duration`` s, sent on a fixed schedule whatever the responses do
    (httpx2.AsyncClient, a pool of ``--connections``); latency counts from
    the *scheduled* send time, so a stalled server is not hidden
    (coordinated omission). Achieved rate, p50/p90/p99/max, errors.

The question mix: CPNI for billing, sale of personal information, analytics
and marketing e-mail for a known person by e-mail or by public id (some
consented, some withdrew), an unknown person, transfers CN → US.

The load generator runs on the same machine as the server and shares its
cores. CPU figures are the bench's own: the server's (uvicorn and every process
under it) and the load generator's (this process); the machine's load average
(every process on it) is reported as such. Nothing outlives the run: the
database is a SQLite file in a temporary ``CHARTER_HOME``, removed at the end,
no CHARTER_* variable of the calling shell reaches the server, and no
PostgreSQL or Redis is used.

An in-process part (``--profile-requests``) times authenticate +
``decide_many`` per single decision with a cProfile, and one batch through
``decide_many`` with the decision log on and off (SQL statements counted).

Run: ``.venv/bin/python bench/http_bench.py`` (≈ 12 min on 2 cores). Below
saturation: ``--phases open --rates 50,100``. Smaller:
``--batches 1 --batch 2000 --duration 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import random
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _proc
import _synthetic as syn

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
URL = "/api/v1/decisions"
CHUNK = 20_000
STARTED = time.perf_counter()

ANALYTICS = (
    "analytics_trends_benchmarks",
    "analytics_usage_engagement",
    "analytics_customer_insight",
)
CATEGORIES = (["user.contact.email"], ["user.name", "user.contact.email"], ["user.device.cookie_id"])


def log(message: str) -> None:
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


# --- set-up ---------------------------------------------------------------------------------------


def prepare_home(home: Path, people: int, events: int, seed: int) -> dict[str, Any]:
    """Database, statements, token and people in ``home``; returns the token and some public ids."""
    for name in [k for k in os.environ if k.startswith("CHARTER_")]:
        del os.environ[name]  # this process too runs with the bench's settings only
    os.environ.update(server_env(home))
    from charter.auth import passwords
    from charter.auth import service as auth
    from charter.auth.roles import Role, permissions_of
    from charter.db import migrate
    from charter.ledger import service as ledger
    from charter.services import Services

    services = Services.from_env()
    migrate(services.database)
    with services.database.session() as session:
        syn.publish_statements(session)
    with services.database.session() as session:
        username = "bench-engineer"
        auth.create_user(session, username=username, role=Role.ENGINEER, password=passwords.generate(), actor="bench")
        token, _row = auth.create_token(
            session, username=username, name="bench", scopes=sorted(permissions_of(Role.ENGINEER)), actor="bench"
        )
    with services.database.session() as session:
        found = syn.templates(session)
    begun = time.perf_counter()
    _load_sqlite(services.database, found, people, events, seed)
    with services.database.session() as session:
        report = ledger.rebuild(session)
    loaded = time.perf_counter() - begun
    raw = services.database.engine.raw_connection()
    try:
        rows = raw.cursor().execute("SELECT id, public_id FROM people ORDER BY id").fetchall()
    finally:
        raw.close()
    services.close()
    return {
        "token": token,
        "public_ids": {int(i): p for i, p in rows},
        "load_s": round(loaded, 1),
        "rebuild": report.as_dict(),
    }


def _load_sqlite(database: Any, found: list[syn.Template], people: int, events: int, seed: int) -> None:
    clock = syn.Clock(postgres=False)
    start = clock(0)
    slots = syn.picker(found)
    raw = database.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(
            "INSERT INTO people (id, public_id, created_at) VALUES (?, ?, ?)",
            [(i, p, start) for i, p in syn.people_rows(people, seed)],
        )
        cur.executemany(
            "INSERT INTO identities (id, person_id, kind, lookup_hash, sealed, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            [(*syn.identity_row(n), start) for n in range(1, people + 1)],
        )
        batch: list[tuple[Any, ...]] = []
        for person, at, recorded, draw in syn.plan(people, events, seed):
            t = found[slots[draw % len(slots)]]
            batch.append(
                (
                    person,
                    t.kind,
                    clock(at),
                    clock(recorded + 1),
                    t.source,
                    t.statement_version,
                    t.jurisdiction,
                    t.evidence,
                    t.data,
                )
            )
            if len(batch) >= CHUNK:
                _insert_events(cur, batch)
                batch.clear()
        if batch:
            _insert_events(cur, batch)
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()


def _insert_events(cur: Any, rows: list[tuple[Any, ...]]) -> None:
    cur.executemany(
        "INSERT INTO ledger_events (person_id, kind, at, recorded_at, source, statement_version, jurisdiction,"
        " evidence, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


def server_env(home: Path) -> dict[str, str]:
    return {
        "CHARTER_HOME": str(home),
        "CHARTER_SECRET_KEY": syn.SECRET,
        "CHARTER_ENV": "development",
        "CHARTER_DATABASE_URL": "",
    }


# --- questions ------------------------------------------------------------------------------------


def questions(count: int, people: int, public_ids: dict[int, str], rng: random.Random) -> list[dict[str, Any]]:
    """A realistic mix of decision requests (JSON bodies of single decisions)."""
    out = []
    for _ in range(count):
        roll = rng.random()
        n = rng.randint(1, people)
        by_email = {"identity": {"kind": "email", "value": syn.email(n)}}
        if roll < 0.25:
            body: dict[str, Any] = {"purpose": "cpni_a_provide_service", "categories": ["user.cpni.billing"]}
        elif roll < 0.35:
            body = {"purpose": "sell_personal_information", "categories": ["user.contact.email"]}
        elif roll < 0.65:
            body = {"purpose": rng.choice(ANALYTICS), "categories": rng.choice(CATEGORIES), "person": by_email}
        elif roll < 0.75:
            body = {
                "purpose": rng.choice(ANALYTICS),
                "categories": ["user.contact.email"],
                "person": {"id": public_ids[n]},
            }
        elif roll < 0.8:
            unknown = {"identity": {"kind": "email", "value": f"stranger{n}@example.net"}}
            body = {"purpose": rng.choice(ANALYTICS), "categories": ["user.contact.email"], "person": unknown}
        elif roll < 0.9:
            body = {
                "purpose": "provide_services",
                "categories": ["user.contact.email"],
                "action": "transfer",
                "origin": "CN",
                "destination": "US",
                "person": by_email,
            }
        else:
            body = {
                "purpose": "marketing_new_services",
                "categories": ["user.contact.email"],
                "channel": "email",
                "person": by_email,
            }
        out.append(body)
    return out


# --- server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """uvicorn on the app factory, in its own process group (stopped by its pid only).

    ``launcher``: ``"uvicorn"`` is ``uvicorn --factory charter.web.app:create_app --workers N``
    as shipped; ``"nodelay"`` is ``bench/_serve.py``, the same with a listening socket
    that keeps TCP_NODELAY for N > 1 (uvicorn issue #3149).
    """

    def __init__(self, home: Path, workers: int, launcher: str = "uvicorn") -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.logfile = open(home / f"uvicorn-{launcher}-{workers}.log", "wb")  # noqa: SIM115 - closed in stop()
        if launcher == "uvicorn":
            command = [
                str(VENV_BIN / "uvicorn"), "--factory", "charter.web.app:create_app",
                "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
                "--log-level", "info", "--no-proxy-headers",
            ]  # fmt: skip
        else:
            serve = str(Path(__file__).resolve().parent / "_serve.py")
            command = [sys.executable, serve, "127.0.0.1", str(self.port), str(workers)]
        # the bench's own settings only: no CHARTER_* variable of the calling shell reaches the server
        env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTER_")} | server_env(home)
        self.process = subprocess.Popen(  # noqa: S603 - our own fixed command line
            command, env=env, stdout=self.logfile, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            self._wait_healthy()
        except BaseException:  # Ctrl-C included: the server is in a session of its own and would outlive us
            self.stop()
            raise

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx2.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx2.HTTPError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited with {self.process.returncode}; see {self.logfile.name}")
            time.sleep(0.2)
        raise RuntimeError("uvicorn did not answer /healthz within 60 s")

    def cpu_seconds(self) -> float:
        """User+system CPU so far of the server's processes: uvicorn and every process under it (/proc)."""
        return _proc.tree_cpu_seconds(self.process.pid)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)  # the group this Popen created, nothing else
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.logfile.close()


# --- (a) batches and the sequential baseline ------------------------------------------------------


def _client(base: str, token: str) -> httpx2.Client:
    return httpx2.Client(
        base_url=base,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        timeout=120,
    )


def batch_throughput(base: str, token: str, bodies: list[bytes], decisions: int, clients: int) -> dict[str, Any]:
    """Each body is one batch; ``clients`` threads send them (each its own keep-alive connection)."""
    seconds: list[float] = []
    statuses: list[int] = []
    allowed = [0]
    lock = threading.Lock()
    queue = list(bodies)

    def work() -> None:
        with _client(base, token) as client:
            while True:
                with lock:
                    if not queue:
                        return
                    body = queue.pop()
                begun = time.perf_counter()
                response = client.post(URL, content=body)
                elapsed = time.perf_counter() - begun
                ok = response.status_code == 200
                count = sum(d["allowed"] for d in response.json()["decisions"]) if ok else 0
                with lock:
                    seconds.append(elapsed)
                    statuses.append(response.status_code)
                    allowed[0] += count

    threads = [threading.Thread(target=work) for _ in range(clients)]
    begun = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - begun
    per_batch = decisions // len(bodies)
    return {
        "clients": clients,
        "batches": len(bodies),
        "decisions_per_batch": per_batch,
        "errors": sum(s != 200 for s in statuses),
        "batch_seconds": [round(s, 3) for s in sorted(seconds)],
        "decisions_per_s": round(decisions / wall),
        "best_batch_decisions_per_s": round(per_batch / min(seconds)),
        "allowed_share": round(allowed[0] / decisions, 3),
    }


def sequential(base: str, token: str, bodies: list[bytes]) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    with _client(base, token) as client:
        begun = time.perf_counter()
        for body in bodies:
            sent = time.perf_counter()
            response = client.post(URL, content=body)
            latencies.append(time.perf_counter() - sent)
            errors += response.status_code != 200
        wall = time.perf_counter() - begun
    return {
        "requests": len(bodies),
        "errors": errors,
        "decisions_per_s": round(len(bodies) / wall),
        "latency": quantiles(latencies),
    }


# --- (b) open loop --------------------------------------------------------------------------------


async def _open_loop(
    base: str, token: str, bodies: list[bytes], rate: float, connections: int, timeout: float
) -> dict[str, Any]:
    limits = httpx2.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    latencies: list[float] = []
    send_lag: list[float] = []
    errors: dict[str, int] = {}
    done_at: list[float] = []
    async with httpx2.AsyncClient(base_url=base, headers=headers, limits=limits, timeout=timeout) as client:
        # open the pool's connections before the clock starts
        await asyncio.gather(*(client.get("/healthz") for _ in range(min(connections, 8))))
        loop = asyncio.get_running_loop()

        async def one(body: bytes, scheduled: float) -> None:
            send_lag.append(loop.time() - scheduled)
            try:
                response = await client.post(URL, content=body)
                key = None if response.status_code == 200 else f"http_{response.status_code}"
            except httpx2.HTTPError as exc:
                key = type(exc).__name__
            finished = loop.time()
            latencies.append(finished - scheduled)
            done_at.append(finished)
            if key is not None:
                errors[key] = errors.get(key, 0) + 1

        tasks = []
        start = loop.time() + 0.05
        for index, body in enumerate(bodies):
            scheduled = start + index / rate
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, scheduled)))
        last_scheduled = start + (len(bodies) - 1) / rate
        await asyncio.gather(*tasks)
    completed = len(latencies) - sum(errors.values())
    return {
        "target_rate": rate,
        "requests": len(bodies),
        "connections": connections,
        "achieved_rate": round(completed / (max(done_at) - start), 1),
        "completed_ok": completed,
        "errors": errors,
        "drained_s_after_last_send": round(max(done_at) - last_scheduled, 2),
        "latency_from_schedule": quantiles(latencies),
        "client_send_lag_p99_ms": round(statistics.quantiles(send_lag, n=100)[98] * 1000, 2),
    }


def open_loop(
    base: str, token: str, bodies: list[bytes], rate: float, connections: int, timeout: float = 30.0
) -> dict[str, Any]:
    return asyncio.run(_open_loop(base, token, bodies, rate, connections, timeout))


def quantiles(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 2),
        "p90_ms": round(cuts[89] * 1000, 2),
        "p99_ms": round(cuts[98] * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


# --- where a single request's time goes (in process) ---------------------------------------------


def in_process_profile(
    home: Path, token: str, bodies: list[dict[str, Any]], batch: list[dict[str, Any]]
) -> dict[str, Any]:
    """The endpoint's own work per single decision, without HTTP: authenticate + decide_many.

    Timed as the route runs it (a session for the token, a session for the
    decision), then the same under cProfile to show where the time goes.
    """
    os.environ.update(server_env(home))
    from charter.auth import service as auth
    from charter.decisions import service as decisions
    from charter.services import Services
    from charter.web.api.decisions import DecisionIn

    services = Services.from_env()
    vault = services.vault
    parsed = [DecisionIn.model_validate(b).question() for b in bodies]

    def one(question: Any) -> None:
        with services.database.session() as session:
            auth.principal_from_token(session, token)
        with services.database.session() as session:
            decisions.decide_many(session, [question], vault=vault, sample_rate=1.0, system="bench")

    def history_only() -> None:
        with services.database.session() as session:
            decisions.history(session)

    for question in parsed[:50]:
        one(question)
    begun = time.perf_counter()
    for question in parsed:
        one(question)
    per_request = (time.perf_counter() - begun) / len(parsed)
    begun = time.perf_counter()
    for _ in parsed:
        history_only()
    per_history = (time.perf_counter() - begun) / len(parsed)

    profiler = cProfile.Profile()
    profiler.enable()
    for question in parsed:
        one(question)
    profiler.disable()
    batched = _batch_in_process(services, [DecisionIn.model_validate(b).question() for b in batch])
    services.close()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("cumulative").print_stats(30)
    print(stream.getvalue(), file=sys.stderr)
    wanted = {
        "decide_many": "decisions/service.py",
        "history": "decisions/service.py",
        "_states": "decisions/service.py",
        "principal_from_token": "auth/service.py",
        "commit": "orm/session.py",
        "decide_at": "decisions/engine.py",
    }
    cumulative = {}
    for (path, _line, func), (_cc, calls, _tt, cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func in wanted and path.endswith(wanted[func]):
            cumulative[func] = {"calls": calls, "ms_per_call": round(cumtime / calls * 1000, 3)}
    return {
        "requests": len(parsed),
        "ms_per_request_auth_plus_decide": round(per_request * 1000, 3),
        "ms_per_history_call_alone": round(per_history * 1000, 3),
        "profiled_cumulative": cumulative,
        "batch": batched,
    }


def _batch_in_process(services: Any, questions: list[Any]) -> dict[str, Any]:
    """One batch through ``decide_many``: SQL statements issued, and time with the decision log on and off."""
    from sqlalchemy import event

    from charter.decisions import service as decisions

    statements = [0]

    def count(*_args: Any) -> None:
        statements[0] += 1

    event.listen(services.database.engine, "before_cursor_execute", count)
    figures: dict[str, Any] = {"decisions": len(questions)}
    people = len({q.person for q in questions if q.person is not None})
    for rate in (1.0, 0.0):
        statements[0] = 0
        begun = time.perf_counter()
        with services.database.session() as session:
            decisions.decide_many(session, questions, vault=services.vault, sample_rate=rate, system="bench")
        seconds = time.perf_counter() - begun
        figures[f"log_sample_{rate:g}"] = {
            "seconds": round(seconds, 3),
            "decisions_per_s": round(len(questions) / seconds),
            "sql_statements": statements[0],
        }
    event.remove(services.database.engine, "before_cursor_execute", count)
    figures["distinct_people_named"] = people
    return figures


# --- main -----------------------------------------------------------------------------------------


def run_config(
    workers: int, launcher: str, home: Path, token: str, args: argparse.Namespace, pool: list[dict[str, Any]]
) -> dict[str, Any]:
    rng = random.Random(args.seed + workers)
    singles = [json.dumps(q).encode() for q in pool]
    total = args.batches * args.batch
    batch_bodies = [
        json.dumps({"requests": pool[i * args.batch : (i + 1) * args.batch]}).encode() for i in range(args.batches)
    ]
    result: dict[str, Any] = {"workers": workers, "launcher": launcher}
    server = Server(home, workers, launcher)
    try:
        log(f"{workers} worker(s): warming up")
        with _client(server.base, token) as client:
            for body in singles[:200]:
                assert client.post(URL, content=body).status_code == 200
            warm = client.post(URL, content=json.dumps({"requests": pool[: args.batch]}).encode())
            assert warm.status_code == 200, warm.text[:500]

        phases = set(args.phases.split(","))
        if "batch" in phases:
            cpu0, self0 = server.cpu_seconds(), _own_cpu()
            log(f"{workers} worker(s): {args.batches} batches of {args.batch:,}")
            result["batch"] = batch_throughput(server.base, token, batch_bodies, total, 1)
            if workers > 1:
                result["batch_2_clients"] = batch_throughput(server.base, token, batch_bodies, total, 2)
            result["batch"]["server_cpu_s"] = round(server.cpu_seconds() - cpu0, 1)
            result["batch"]["load_generator_cpu_s"] = round(_own_cpu() - self0, 1)
            log(f"{workers} worker(s): batch {result['batch']['decisions_per_s']:,} decisions/s")

        if "sequential" in phases:
            cpu0, self0 = server.cpu_seconds(), _own_cpu()
            log(f"{workers} worker(s): baseline, {total:,} single requests in sequence")
            result["sequential_single_requests"] = sequential(server.base, token, singles[:total])
            result["sequential_single_requests"]["server_cpu_s"] = round(server.cpu_seconds() - cpu0, 1)
            result["sequential_single_requests"]["load_generator_cpu_s"] = round(_own_cpu() - self0, 1)
            base_rate = result["sequential_single_requests"]["decisions_per_s"]
            if "batch" in result:
                result["ratio_batch_over_sequential"] = round(result["batch"]["decisions_per_s"] / base_rate, 1)
            log(f"{workers} worker(s): sequential {base_rate:,} decisions/s")

        for rate in (float(r) for r in args.rates.split(",")) if "open" in phases else ():
            count = int(rate * args.duration)
            load = [singles[rng.randrange(len(singles))] for _ in range(count)]
            log(f"{workers} worker(s): open loop, {rate:g}/s for {args.duration:g}s")
            cpu1, self1, load1 = server.cpu_seconds(), _own_cpu(), os.getloadavg()[0]  # load: the whole machine
            begun = time.perf_counter()
            figures = open_loop(server.base, token, load, rate, args.connections, args.timeout)
            wall = time.perf_counter() - begun
            figures["wall_s"] = round(wall, 1)
            figures["server_cpu_cores_used"] = round((server.cpu_seconds() - cpu1) / wall, 2)
            figures["load_generator_cpu_cores_used"] = round((_own_cpu() - self1) / wall, 2)
            figures["loadavg_1min_whole_machine_before"] = round(load1, 2)
            result[f"open_loop_{rate:g}_per_s"] = figures
            log(f"{workers} worker(s): open loop {json.dumps(figures)}")
    finally:
        server.stop()
    return result


def nagle_probe(
    workers: int, home: Path, token: str, pool: list[dict[str, Any]], args: argparse.Namespace
) -> dict[str, Any]:
    """`uvicorn --workers N` as shipped: sequential single requests on keep-alive (TCP_NODELAY lost)."""
    singles = [json.dumps(q).encode() for q in pool[: args.nagle_probe]]
    server = Server(home, workers, "uvicorn")
    try:
        log(f"{workers} workers, uvicorn CLI: {len(singles)} sequential single requests")
        with _client(server.base, token) as client:
            for body in singles[:20]:
                client.post(URL, content=body)
        probe = sequential(server.base, token, singles)
        with _client(server.base, token) as client:
            batch = client.post(URL, content=json.dumps({"requests": pool[: args.batch]}).encode())
            begun = time.perf_counter()
            batch = client.post(URL, content=json.dumps({"requests": pool[: args.batch]}).encode())
            probe["one_batch_decisions_per_s"] = round(args.batch / (time.perf_counter() - begun))
            assert batch.status_code == 200
    finally:
        server.stop()
    probe["launcher"] = "uvicorn --factory --workers N (as shipped)"
    return probe


def _own_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--rates", default="500", help="Open-loop rates, requests/s, comma-separated.")
    parser.add_argument("--phases", default="batch,sequential,open", help="Which of batch,sequential,open to run.")
    parser.add_argument("--duration", type=float, default=20.0)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--timeout", type=float, default=30.0, help="Client timeout per request (s).")
    parser.add_argument(
        "--nagle-probe",
        type=int,
        default=500,
        help="Single requests against `uvicorn --workers N` as shipped; 0: none.",
    )
    parser.add_argument("--profile-requests", type=int, default=1_000, help="0: no in-process profile.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="charter-http-bench-") as tmp:
        home = Path(tmp) / "home"
        log(f"preparing {home}: statements, token, {args.people:,} people, {args.events:,} events")
        prepared = prepare_home(home, args.people, args.events, args.seed)
        token = prepared["token"]
        rng = random.Random(args.seed)
        pool = questions(max(args.batches * args.batch, 2_000), args.people, prepared["public_ids"], rng)
        result: dict[str, Any] = {
            "date": datetime.now(UTC).date().isoformat(),
            "cpus": os.cpu_count(),
            "note": "load generator and server share this machine's cores",
            "database": "SQLite file (embedded default), WAL",
            "server": "uvicorn (asyncio loop, h11) on charter.web.app:create_app, access log on",
            "people": args.people,
            "events": args.events,
            "setup": {"load_and_rebuild_s": prepared["load_s"], "rebuild": prepared["rebuild"]},
            "loadavg_whole_machine_at_start": [round(x, 2) for x in os.getloadavg()],
        }
        if args.profile_requests:
            log(f"in-process: {args.profile_requests:,} single decisions through auth + decide_many")
            result["in_process"] = in_process_profile(home, token, pool[: args.profile_requests], pool[: args.batch])
        for workers in (int(w) for w in args.workers.split(",")):
            launcher = "uvicorn" if workers == 1 else "nodelay"
            result[f"workers_{workers}"] = run_config(workers, launcher, home, token, args, pool)
            if workers > 1 and args.nagle_probe:
                result[f"workers_{workers}_uvicorn_cli_probe"] = nagle_probe(workers, home, token, pool, args)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
