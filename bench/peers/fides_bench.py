"""Fides (the peer product, PyPI ``ethyca-fides``) on dsr_bench's "wide" shape, measured on this machine.

Why: ``dsr_bench.py`` used to quote Fides medians from the issue; a ratio against a figure from another
machine and another day says little. This script measures Fides in the same run, on the same shape,
loaded by the same code (``bench/_wide.py``: same ``--people``, ``--children``, COPY, indexes).

What it does, and cleans up after (unless ``--keep``):

1. a virtualenv of its own (``--venv``, default ``~/.cache/charter-bench/fides-<version>``) with
   ``ethyca-fides==--fides-version`` installed by pip — never into Charter's venv;
2. two PostgreSQL databases through ``--admin-url`` (``bench/_pg.py``): Fides' application database and the
   store, loaded with the wide shape;
3. one Redis database (``--redis-db``; default 15, refused if it is not empty): Fides' cache; at the end the
   keys that were not there before are deleted (never FLUSHDB);
4. ``fides webserver`` as a subprocess on a free port, configured by environment (``FIDES__…``), in a temp
   folder (it writes its uploads and migration backups to its working directory). Celery runs with
   ``task_always_eager`` (Fides' default): the request runs inside the API process, as Charter's runner runs
   in-process in dsr_bench; ``--worker`` instead starts ``fides worker`` (Celery on the same Redis db) and
   the webserver queues to it. Manual approval is required so the clock can start at the approval, as
   Charter's does ("a request that needs no further approval");
5. through Fides' REST API: a postgres connection + secrets, a dataset equivalent to ``_wide.dataset_yaml``,
   local JSON storage, an access policy (target ``user``) and an erasure policy (HMAC for the e-mail,
   ``null_rewrite`` for the other personal fields — Fides cannot delete rows on PostgreSQL, see README);
6. for ``--samples`` random people, one access and one erasure request each (different people), created
   outside the clock; each timed from the approval call until a status poll (every ``--poll-ms``) sees
   ``complete``. Fides' own ``reviewed_at`` → ``finished_processing_at`` is reported too (no polling in it).

JSON on stdout, progress on stderr. Not part of ``make test``.

Run (Charter's venv: it has psycopg, SQLAlchemy and redis)::

    .venv/bin/python bench/peers/fides_bench.py --people 2000 --samples 10
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent.parent
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import _wide  # noqa: E402  (bench/ is not a package: the shared shape lives beside dsr_bench.py)
import psycopg  # noqa: E402
import redis  # noqa: E402
from _pg import create_database, drop_database, libpq, log, use_admin_url  # noqa: E402
from _wide import email  # noqa: E402

#: the newest release that installs on Python 3.11 (Charter's): 2.79 and later require Python >= 3.13, so
#: a newer Fides needs ``--python`` pointing at a 3.13 interpreter (see README)
FIDES_VERSION = "2.78.2"
VENV_ROOT = Path.home() / ".cache" / "charter-bench"
DEFAULT_REDIS_DB = 15
CLIENT_ID = "charterbench"
CONNECTION = "bench_pg"
DATASET = "bench_store"
STORAGE = "bench_local"
DONE = {"complete", "error", "canceled", "denied"}


# --- statistics (the same nearest-rank rule as bench/_charter.py, so the two JSONs compare) ---------------


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def stats(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "median_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(percentile(values, 0.95) * 1000, 2),
        "max_ms": round(max(values) * 1000, 2),
    }


# --- the virtualenv -----------------------------------------------------------------------------------------


def ensure_venv(venv: Path, version: str, python: str) -> Path:
    """The venv's ``fides`` executable, ``ethyca-fides==version`` installed there first if it is not.

    Its own venv because Fides pins its own SQLAlchemy (1.4), FastAPI and Celery: in Charter's venv it would
    break Charter, and Charter's pins would change what is measured."""
    fides = venv / "bin" / "fides"
    pip = venv / "bin" / "pip"
    if fides.exists():
        shown = subprocess.run(  # noqa: S603 - the venv's own pip, fixed arguments
            [str(pip), "show", "ethyca-fides"], capture_output=True, text=True, check=False
        )
        if f"Version: {version}" in shown.stdout:
            return fides
    if not (venv / "bin" / "python").exists():
        log(f"creating the Fides virtualenv {venv}")
        subprocess.run([python, "-m", "venv", str(venv)], check=True)  # noqa: S603 - the interpreter given
    log(f"pip install ethyca-fides=={version} into {venv} (about a minute)")
    subprocess.run(  # noqa: S603 - the venv's own pip, a pinned package
        [str(pip), "install", "--quiet", "--disable-pip-version-check", f"ethyca-fides=={version}"],
        check=True,
        stdout=sys.stderr,
    )
    return fides


# --- Redis: one database, only the keys this run made are deleted ------------------------------------------


class RedisDb:
    """The Redis database Fides caches in. Why the care: a shared Redis may hold other work in other
    databases (and, given ``--redis-db`` explicitly, in this one), so nothing is flushed: the keys present
    before are remembered and only the others are deleted at the end."""

    def __init__(self, url: str, db: int, explicit: bool) -> None:
        self.client = redis.Redis.from_url(url, db=db)
        self.db = db
        self.before = {bytes(k) for k in self.client.scan_iter(count=1000)}
        if self.before and not explicit:
            raise SystemExit(
                f"Redis database {db} holds {len(self.before)} keys: pick an empty one with --redis-db "
                "(given explicitly, its existing keys are kept and only this run's are deleted)"
            )

    def clean(self) -> int:
        made = [k for k in self.client.scan_iter(count=1000) if bytes(k) not in self.before]
        for start in range(0, len(made), 500):
            self.client.delete(*made[start : start + 500])
        self.client.close()
        return len(made)


# --- the Fides server -----------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fides_env(
    app_url: str, redis_url: str, redis_db: int, secret: str, manual_approval: bool, eager: bool
) -> dict[str, str]:
    """The server's (and worker's) whole configuration, as environment (no fides.toml: the temp folder holds
    none). Analytics off (no traffic leaves the machine); Celery eager unless a worker runs the requests."""
    app = urllib.parse.urlsplit(libpq(app_url))
    cache = urllib.parse.urlsplit(redis_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FIDES__")}
    env.update(
        {
            "FIDES__DATABASE__SERVER": app.hostname or "127.0.0.1",
            "FIDES__DATABASE__PORT": str(app.port or 5432),
            "FIDES__DATABASE__USER": urllib.parse.unquote(app.username or "postgres"),
            "FIDES__DATABASE__PASSWORD": urllib.parse.unquote(app.password or ""),
            "FIDES__DATABASE__DB": app.path.lstrip("/"),
            "FIDES__REDIS__HOST": cache.hostname or "127.0.0.1",
            "FIDES__REDIS__PORT": str(cache.port or 6379),
            "FIDES__REDIS__PASSWORD": urllib.parse.unquote(cache.password or ""),
            "FIDES__REDIS__DB_INDEX": str(redis_db),
            "FIDES__SECURITY__APP_ENCRYPTION_KEY": secret[:32],
            "FIDES__SECURITY__OAUTH_ROOT_CLIENT_ID": CLIENT_ID,
            "FIDES__SECURITY__OAUTH_ROOT_CLIENT_SECRET": secret,
            "FIDES__USER__ANALYTICS_OPT_OUT": "true",
            "FIDES__CELERY__TASK_ALWAYS_EAGER": "true" if eager else "false",
            "FIDES__EXECUTION__REQUIRE_MANUAL_REQUEST_APPROVAL": "true" if manual_approval else "false",
        }
    )
    if eager:
        # Fides' watchdog for requests whose Celery worker died marks "in progress without a task id" as
        # error; in eager mode the task id is cached only once the request is done, so every 300 s it failed
        # whichever long request (51 tables: 10-25 s) was running — not Fides' behaviour with a worker
        env["FIDES__EXECUTION__INTERRUPTED_TASK_REQUEUE_INTERVAL"] = "86400"
    return env


@contextmanager
def fides_process(
    fides: Path, command: list[str], env: dict[str, str], folder: Path, log_name: str
) -> Iterator[subprocess.Popen[bytes]]:
    """``fides COMMAND`` in its own process group (so its children stop with it), its log in ``folder``;
    stopped (TERM, then KILL) on exit."""
    # Fides reads its SaaS connector templates from ./data/saas/config, which its git repository has and its
    # wheel has not; 2.86 stops at startup without the folder (2.78 logged it). None is used here: empty.
    (folder / "data" / "saas" / "config").mkdir(parents=True, exist_ok=True)
    logfile = (folder / log_name).open("wb")
    proc = subprocess.Popen(  # noqa: S603 - the venv's fides, arguments we built
        [str(fides), *command],
        cwd=folder,
        env=env,
        stdout=logfile,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        logfile.close()


def wait_worker(proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> None:
    """Until the Celery worker's log says it is ``ready`` (it then consumes Fides' queues on Redis)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if proc.poll() is not None:
            raise RuntimeError(f"fides worker exited with {proc.returncode}:\n{text[-3000:]}")
        if " ready." in text:
            return
        time.sleep(0.5)
    raise RuntimeError(f"fides worker not ready after {timeout:.0f} s (log: {log_path})")


def peak_rss_mb(pid: int) -> float | None:
    """The kernel's high-water mark of the server's resident set (``VmHWM``), MB, read before it stops."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


class Api:
    """Fides' REST API over plain ``http.client``, a new connection per call.

    Why not keep-alive: uvicorn's accepted sockets may lack TCP_NODELAY, and a kept connection can then
    wait ~40 ms per request for a delayed ACK (see bench/_serve.py) — that would be charged to Fides."""

    def __init__(self, port: int, logs: list[Path] | None = None) -> None:
        self.port = port
        self.token = ""
        self.logs = logs or []

    def log_lines(self, request_id: str) -> list[str]:
        """The server's (and worker's) log lines about a request that failed, and its errors: the folder
        they are in is deleted at the end (unless ``--keep``), so they are shown on stderr."""
        out: list[str] = []
        for path in self.logs:
            if path.exists():
                text = path.read_text(errors="replace").splitlines()
                out += [x for x in text if request_id in x and ("ERROR" in x or "rror" in x)]
                out += [x for x in text if x.startswith(("psycopg2.", "sqlalchemy.exc."))][-5:]
        return out

    def call(self, method: str, path: str, body: Any = None, form: bool = False, prefix: str = "/api/v1") -> Any:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=900)
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        data: str | None = None
        if body is not None:
            data = urllib.parse.urlencode(body) if form else json.dumps(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded" if form else "application/json"
        try:
            conn.request(method, prefix + path, body=data, headers=headers)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        if response.status >= 300:
            raise RuntimeError(f"Fides {method} {path}: HTTP {response.status}: {raw[:800]!r}")
        out = json.loads(raw) if raw else None
        if isinstance(out, dict) and out.get("failed"):
            raise RuntimeError(f"Fides {method} {path}: failed: {json.dumps(out['failed'])[:800]}")
        return out

    def wait_healthy(self, proc: subprocess.Popen[bytes], log_path: Path, timeout: float) -> str:
        """Fides' version once ``/health`` answers (startup migrates the application database: ~1 min)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"fides webserver exited with {proc.returncode}:\n{tail}")
            try:
                return str(self.call("GET", "/health", prefix="")["version"])
            except (OSError, RuntimeError, http.client.HTTPException):
                time.sleep(0.5)
        raise RuntimeError(f"fides webserver not healthy after {timeout:.0f} s (log: {log_path})")

    def login(self, secret: str) -> None:
        body = {"client_id": CLIENT_ID, "client_secret": secret, "grant_type": "client_credentials"}
        self.token = self.call("POST", "/oauth/token", body, form=True)["access_token"]


# --- what Fides is told: the store, the dataset, the policies -------------------------------------------


def fides_field(name: str, category: str, **meta: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": name, "data_categories": [category]}
    if meta:
        out["fides_meta"] = meta
    return out


def fides_ref(collection: str) -> list[dict[str, str]]:
    return [{"dataset": DATASET, "field": f"{collection}.id", "direction": "from"}]


def fides_dataset(children: int) -> dict[str, Any]:
    """``_wide.dataset_yaml`` as Fides takes it, minus the ``charter:`` strategies.

    Two categories differ, or Fides' erasure would null them: ``customer.id`` and ``childN.customer_id``
    are ``user.unique_id`` in Charter's map (Charter never rewrites keys), here ``system.operations``:
    Fides' ``null_rewrite`` applies to every field of a targeted category, primary and foreign keys too,
    and the NOT NULL constraints then fail the request."""
    collections: list[dict[str, Any]] = [
        {
            "name": "customer",
            "fields": [
                fides_field("id", "system.operations", primary_key=True, data_type="integer"),
                fides_field("email", "user.contact.email", identity="email", data_type="string"),
                fides_field("first_name", "user.name.first"),
                fides_field("last_name", "user.name.last"),
                fides_field("phone", "user.contact.phone_number"),
                fides_field("created_at", "system.operations"),
            ],
        }
    ]
    for i in range(1, children + 1):
        collections.append(
            {
                "name": f"child{i}",
                "fields": [
                    fides_field("id", "system.operations", primary_key=True, data_type="integer"),
                    fides_field("customer_id", "system.operations", references=fides_ref("customer")),
                    fides_field("label", "user.behavior.purchase_history"),
                    fides_field("amount_cents", "user.behavior.purchase_history"),
                    fides_field("note", "user.content"),
                ],
            }
        )
    for i in range(1, children + 1):
        collections.append(
            {
                "name": f"grand{i}",
                "fields": [
                    fides_field("id", "system.operations", primary_key=True, data_type="integer"),
                    fides_field(f"child{i}_id", "system.operations", references=fides_ref(f"child{i}")),
                    fides_field("detail", "user.content"),
                    fides_field("value", "system.operations"),
                ],
            }
        )
    return {"fides_key": DATASET, "name": "Bench store", "collections": collections}


#: erasure rules: Charter's keyed_hash on the e-mail is Fides' policy-level ``hmac`` (a field-level override
#: with secrets is refused); set_null on names and phone, and delete_row on the child tables, are
#: ``null_rewrite`` on their personal fields (Fides deletes rows only on BigQuery)
ERASURE_RULES = {
    "bench_erasure_email": ("hmac", ["user.contact.email"]),
    "bench_erasure_rest": (
        "null_rewrite",
        ["user.name", "user.contact.phone_number", "user.behavior.purchase_history", "user.content"],
    ),
}


def configure(api: Api, store_url: str, children: int) -> None:
    """The connection, its secrets (tested by Fides on save), the dataset, storage and both policies."""
    store = urllib.parse.urlsplit(libpq(store_url))
    api.call(
        "PATCH",
        "/connection",
        [{"name": "Bench store", "key": CONNECTION, "connection_type": "postgres", "access": "write"}],
    )
    secrets = {
        "host": store.hostname or "127.0.0.1",
        "port": store.port or 5432,
        "dbname": store.path.lstrip("/"),
        "username": urllib.parse.unquote(store.username or "postgres"),
        "password": urllib.parse.unquote(store.password or ""),
    }
    tested = api.call("PUT", f"/connection/{CONNECTION}/secret", secrets)
    if tested.get("test_status") != "succeeded":
        raise RuntimeError(f"Fides could not reach the store: {tested}")
    api.call("PATCH", f"/connection/{CONNECTION}/dataset", [fides_dataset(children)])
    storage = {"name": "Bench local", "key": STORAGE, "type": "local", "format": "json"}
    api.call("PATCH", "/storage/config", [{**storage, "details": {"naming": "request_id"}}])
    api.call("PATCH", "/dsr/policy", [{"name": "Bench access", "key": "bench_access"}])
    rule = {"name": "Bench access", "key": "bench_access_rule", "action_type": "access"}
    api.call("PATCH", "/dsr/policy/bench_access/rule", [{**rule, "storage_destination_key": STORAGE}])
    api.call(
        "PATCH",
        "/dsr/policy/bench_access/rule/bench_access_rule/target",
        [{"name": "bench_access_user", "key": "bench_access_user", "data_category": "user"}],
    )
    api.call("PATCH", "/dsr/policy", [{"name": "Bench erasure", "key": "bench_erasure"}])
    for key, (strategy, categories) in ERASURE_RULES.items():
        rule = {"name": key, "key": key, "action_type": "erasure"}
        api.call(
            "PATCH",
            "/dsr/policy/bench_erasure/rule",
            [{**rule, "masking_strategy": {"strategy": strategy, "configuration": {}}}],
        )
        targets = [{"name": f"{key}_{n}", "key": f"{key}_{n}", "data_category": c} for n, c in enumerate(categories)]
        api.call("PATCH", f"/dsr/policy/bench_erasure/rule/{key}/target", targets)


# --- the requests ---------------------------------------------------------------------------------------


def submit(api: Api, person: int, policy: str) -> str:
    made = api.call("POST", "/privacy-request", [{"identity": {"email": email(person)}, "policy_key": policy}])
    return str(made["succeeded"][0]["id"])


def status(api: Api, request_id: str) -> dict[str, Any]:
    found = api.call("GET", f"/privacy-request?request_id={urllib.parse.quote(request_id)}")
    return dict(found["items"][0])


def stamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def run_one(api: Api, request_id: str, approve: bool, poll_s: float) -> dict[str, float]:
    """One request timed: approval (or, with ``--clock submit``, nothing: it was just submitted) until a
    poll sees it finished. Returns the client's view (until ``complete`` seen), the approval call alone,
    Fides' own ``reviewed_at`` → ``finished_processing_at``, and the number of polls."""
    begun = time.perf_counter()
    if approve:
        api.call("PATCH", "/privacy-request/administrate/approve", {"request_ids": [request_id]})
    called = time.perf_counter()
    polls = 0
    while True:
        polls += 1
        seen = status(api, request_id)
        if seen["status"] in DONE:
            break
        time.sleep(poll_s)
    ended = time.perf_counter()
    if seen["status"] != "complete":
        log(f"Fides request {request_id} ended {seen['status']} after {ended - begun:.1f} s; its log lines:")
        for line in api.log_lines(request_id)[-40:]:
            log("  " + line[:400])
        return {"client": ended - begun, "call": called - begun, "server": 0.0, "polls": polls, "failed": 1.0}
    start = seen.get("reviewed_at") or seen["created_at"]
    server = (stamp(seen["finished_processing_at"]) - stamp(start)).total_seconds()
    return {"client": ended - begun, "call": called - begun, "server": server, "polls": polls, "failed": 0.0}


def timed_requests(api: Api, people: list[int], policy: str, args: argparse.Namespace) -> dict[str, Any]:
    """Requests for ``people`` made first (not timed, as dsr_bench approves Charter's outside the clock),
    then run one after another. With ``--clock submit`` the POST is timed instead of the approval."""
    poll_s = args.poll_ms / 1000
    runs: list[dict[str, float]] = []
    if args.clock == "approve":
        ids = [submit(api, p, policy) for p in people]
        runs = [run_one(api, rid, True, poll_s) for rid in ids]
    else:
        for p in people:
            begun = time.perf_counter()
            rid = submit(api, p, policy)
            run = run_one(api, rid, False, poll_s)
            run["client"] = time.perf_counter() - begun
            runs.append(run)
    return summarize(runs, approved=args.clock == "approve")


def summarize(runs: list[dict[str, float]], approved: bool = True) -> dict[str, Any]:
    """Statistics of ``run_one`` results, the shape dsr_bench reads (``until_complete_seen`` is the figure).

    Requests Fides ended in ``error`` are counted and their times listed, but left out of the statistics: a
    request that failed did not do the work (the store check then shows what it left)."""
    done = [r for r in runs if not r.get("failed")] or runs
    return {
        "until_complete_seen": stats([r["client"] for r in done]),
        "approve_call": stats([r["call"] for r in done]) if approved else None,
        "fides_reviewed_to_finished": stats([r["server"] for r in done]),
        "polls_median": statistics.median([r["polls"] for r in done]),
        "failed": sum(1 for r in runs if r.get("failed")),
        "failed_ms": [round(r["client"] * 1000, 1) for r in runs if r.get("failed")],
        "raw_ms": [round(r["client"] * 1000, 1) for r in done],
    }


def count(conn: psycopg.Connection[Any], sql: str, params: tuple[Any, ...]) -> int:
    row = conn.execute(sql, params).fetchone()
    return int(row[0]) if row else 0


def check_store(store_url: str, erased: list[int], children: int) -> dict[str, int]:
    """After Fides' erasures: the e-mails still findable, and personal fields still set, of those people."""
    with psycopg.connect(libpq(store_url)) as c:
        left = count(c, "SELECT count(*) FROM customer WHERE email = ANY(%s)", ([email(p) for p in erased],))
        left += count(
            c,
            "SELECT count(*) FROM customer WHERE id = ANY(%s)"
            " AND (first_name IS NOT NULL OR last_name IS NOT NULL OR phone IS NOT NULL)",
            (erased,),
        )
        for i in range(1, children + 1):
            left += count(
                c,
                f"SELECT count(*) FROM child{i} WHERE customer_id = ANY(%s)"
                " AND (label IS NOT NULL OR amount_cents IS NOT NULL OR note IS NOT NULL)",
                (erased,),
            )
            left += count(
                c,
                f"SELECT count(*) FROM grand{i} g JOIN child{i} c ON c.id = g.child{i}_id"
                " WHERE c.customer_id = ANY(%s) AND g.detail IS NOT NULL",
                (erased,),
            )
        kept_rows = count(c, "SELECT count(*) FROM child1 WHERE customer_id = ANY(%s)", (erased,))
    return {"personal_values_left": left, "child1_rows_kept_not_deleted": kept_rows, "people": len(erased)}


# --- main ------------------------------------------------------------------------------------------------


class Peer:
    """A running, configured Fides on its own store: what dsr_bench and this script's ``bench`` time."""

    def __init__(self, api: Api, store_url: str, server: subprocess.Popen[bytes], poll_ms: float) -> None:
        self.api = api
        self.store_url = store_url
        self.server = server
        self.worker: subprocess.Popen[bytes] | None = None
        self.poll_s = poll_ms / 1000

    def time(self, person: int, policy: str) -> dict[str, float]:
        """One request for ``person`` created (not timed), then timed from its approval (``run_one``)."""
        return run_one(self.api, submit(self.api, person, policy), True, self.poll_s)

    def rss(self) -> dict[str, float | None]:
        return {
            "server_peak_rss_mb": peak_rss_mb(self.server.pid),
            "worker_peak_rss_mb": peak_rss_mb(self.worker.pid) if self.worker else None,
        }


@contextmanager
def running_fides(args: argparse.Namespace, cache: RedisDb, folder: Path, info: dict[str, Any]) -> Iterator[Peer]:
    """Fides from nothing to ready: venv, its two databases (the store loaded by ``_wide.load``), webserver
    (and worker), token, connection, dataset, policies. ``info`` gets the version, startup and load times.
    On exit: processes stopped, then the databases dropped (unless ``--keep``)."""
    venv = Path(args.venv) if args.venv else VENV_ROOT / f"fides-{args.fides_version}"
    fides = ensure_venv(venv, args.fides_version, args.python)
    app_url = create_database(args.app_db)
    store_url = create_database(args.store_db)
    try:
        rows = _wide.rows_per_person(args.children)
        log(f"Fides' store: {args.people} people x {rows} rows ({1 + 2 * args.children} tables) with COPY")
        info["load"] = _wide.load(store_url, args.people, args.children)
        secret = os.urandom(24).hex()
        port = args.port or free_port()
        env = fides_env(app_url, args.redis_url, cache.db, secret, args.clock == "approve", not args.worker)
        log(f"starting fides webserver on 127.0.0.1:{port} (log {folder / 'fides-server.log'})")
        with ExitStack() as running:
            server = running.enter_context(
                fides_process(fides, ["webserver", "--port", str(port)], env, folder, "fides-server.log")
            )
            peer = Peer(
                Api(port, [folder / "fides-server.log", folder / "fides-worker.log"]), store_url, server, args.poll_ms
            )
            begun = time.perf_counter()
            info["fides_version"] = peer.api.wait_healthy(server, folder / "fides-server.log", args.start_timeout)
            info["fides_startup_s"] = round(time.perf_counter() - begun, 1)
            if args.worker:
                log(f"starting fides worker (Celery on Redis db {cache.db}, log {folder / 'fides-worker.log'})")
                peer.worker = running.enter_context(fides_process(fides, ["worker"], env, folder, "fides-worker.log"))
                wait_worker(peer.worker, folder / "fides-worker.log", args.start_timeout)
            peer.api.login(secret)
            configure(peer.api, store_url, args.children)
            yield peer
    finally:
        if args.keep:
            log(f"kept databases {args.app_db}, {args.store_db} and {folder}")
        else:
            drop_database(args.app_db)
            drop_database(args.store_db)


def describe(args: argparse.Namespace) -> dict[str, Any]:
    """What was measured and how: the head of this script's JSON and of dsr_bench's ``wide.fides``."""
    return {
        "people": args.people,
        "samples": args.samples,
        "children": args.children,
        "tables": 1 + 2 * args.children,
        "rows_per_person": _wide.rows_per_person(args.children),
        "fides_version_asked": args.fides_version,
        "clock": args.clock,
        "execution": "celery worker" if args.worker else "eager (in the webserver process)",
        "poll_ms": args.poll_ms,
    }


def bench(args: argparse.Namespace, cache: RedisDb, folder: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"bench": "fides_peer", **describe(args)}
    out.update({"cores": os.cpu_count(), "load_before": os.getloadavg()[0]})
    rng = random.Random(args.seed)
    chosen = rng.sample(range(1, args.people + 1), 2 * args.samples + 2)
    warm_access, warm_erasure = chosen[-2:]
    access_people, erase_people = chosen[: args.samples], chosen[args.samples : 2 * args.samples]
    with running_fides(args, cache, folder, out) as peer:
        log("warm-up: one access and one erasure request, not counted")
        out["warmup_ms"] = [
            timed_requests(peer.api, [p], policy, args)["raw_ms"][0]
            for p, policy in ((warm_access, "bench_access"), (warm_erasure, "bench_erasure"))
        ]
        log(f"access: {args.samples} requests")
        out["access"] = timed_requests(peer.api, access_people, "bench_access", args)
        log(f"erasure: {args.samples} requests")
        out["erasure"] = timed_requests(peer.api, erase_people, "bench_erasure", args)
        out.update(peer.rss())
        out["check"] = check_store(peer.store_url, erase_people, args.children)
    out["load_after"] = os.getloadavg()[0]
    return out


def make_parser() -> argparse.ArgumentParser:
    """This script's options; dsr_bench parses its ``--fides-arg`` list with the same parser."""
    pid = os.getpid()
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--children", type=int, default=5, help="child tables (5: 11 tables, 25: 51 tables)")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--venv", default=None, help="Fides' own virtualenv (default under ~/.cache/charter-bench)")
    parser.add_argument("--fides-version", default=FIDES_VERSION, help="ethyca-fides version to install")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the venv is made from")
    parser.add_argument("--admin-url", default=None, help="PostgreSQL admin URL (default CHARTER_BENCH_POSTGRES_URL)")
    parser.add_argument("--app-db", default=f"charter_bench_fides_app_{pid}", help="Fides' application database")
    parser.add_argument("--store-db", default=f"charter_bench_fides_store_{pid}", help="the store's database")
    parser.add_argument("--redis-url", default=os.environ.get("CHARTER_BENCH_REDIS_URL", "redis://127.0.0.1:6379"))
    parser.add_argument(
        "--redis-db", type=int, default=None, help=f"Redis db for Fides' cache (default {DEFAULT_REDIS_DB}, if empty)"
    )
    parser.add_argument("--port", type=int, default=0, help="the Fides webserver's port (default: a free one)")
    parser.add_argument("--poll-ms", type=float, default=5.0, help="pause between status polls")
    parser.add_argument(
        "--clock",
        choices=("approve", "submit"),
        default="approve",
        help="start the clock at the approval (as dsr_bench does for Charter) or at the submission (no approval)",
    )
    parser.add_argument(
        "--worker",
        action="store_true",
        help="run requests on a separate `fides worker` (Celery on Redis) instead of eagerly in the webserver",
    )
    parser.add_argument("--start-timeout", type=float, default=300.0, help="seconds to wait for Fides to start")
    parser.add_argument("--keep", action="store_true", help="leave the databases and the server's folder")
    return parser


def open_redis(args: argparse.Namespace) -> RedisDb:
    """The Redis db Fides will use: the given one, or the default one if it is empty (else exit)."""
    explicit = args.redis_db is not None
    return RedisDb(args.redis_url, args.redis_db if explicit else DEFAULT_REDIS_DB, explicit)


def main() -> None:
    args = make_parser().parse_args()
    if args.admin_url:
        use_admin_url(args.admin_url)
    cache = open_redis(args)
    folder = Path(tempfile.mkdtemp(prefix="charter-fides-bench-"))
    try:
        out = bench(args, cache, folder)
    finally:
        deleted = cache.clean()
        log(f"deleted {deleted} Redis keys from db {cache.db}")
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
