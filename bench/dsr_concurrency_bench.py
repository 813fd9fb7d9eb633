"""20 access requests at once on the 11-table shape, carried out by 2 worker processes (issue 4, "Figures").

Issue 4's fourth figure: Fides 2.86.2 completes 0.78 requests/s when 20 access
requests arrive at once (11 tables, webserver + one Celery worker); Charter's
target is at least 50 requests/s with 2 workers.

The store is ``dsr_bench``'s wide shape (``_wide.py``: ``customer`` + 5 child +
5 grandchild tables, 46 rows per person, ``--people`` people, COPY). Requests
are created, verified and approved outside the clock. Then, per round, the 20
request ids are put on one shared queue at once and ``--workers`` processes
(``_workers.ProcessPool``: each builds Charter once and runs ``Runner.run`` per
request taken from the queue) carry them out. Workers are warmed up first (one
access request each: imports, engines, the schema cache), as running workers are.

Reported per round and over all rounds: requests/s = requests / (last finish −
release); latency per request from the release (queueing included) p50/p95;
service time (taken → finished) p50/p95; each worker's peak RSS. Baseline in the
same run: the hand-written SQL access of ``_wide.access_sql`` (customer by
e-mail, one ``= ANY`` query per table, JSON written) for 20 other people, by the
same 2 processes from the same queue, each on a connection it keeps.

``--celery``: the Charter requests are carried out by real ``charter worker``
processes instead (``_workers.CeleryPool``: Celery on the local Redis,
``--concurrency`` threads each, requests sent through Charter's job queue as
the API sends them, start and finish read from Charter's database); the
baseline still runs in the two plain processes.

Databases ``--store-db`` and ``--state-db`` (default ``charter_bench_conc_{store,state}_<pid>``) are
created through ``--admin-url`` and dropped at the end, whatever happens, unless ``--keep``. With
``--celery`` the broker is ``--redis-url`` / ``--redis-db``; every key Celery writes starts with
``--redis-prefix`` (one of the run's own by default) and those keys are deleted at the end. A Celery run
ends when the bench sees it finished in Charter's database, i.e. after its final commit. CPU per request
counts the bench's own processes only (this one, its workers, its ``charter worker`` processes), not the
PostgreSQL or Redis server.

Run::

    .venv/bin/python bench/dsr_concurrency_bench.py            # 10,000 people, 20 at once, 5 rounds
    .venv/bin/python bench/dsr_concurrency_bench.py --celery   # the same on 2 `charter worker` processes
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _redis
import _wide
from _charter import Charter, RequestKind, percentile, rss_mb
from _pg import add_admin_option, check_name, create_database, default_name, drop_database, log, use_admin_url
from _workers import POLL_S, CeleryPool, Done, Job, ProcessPool, WorkerSetup, cpu_seconds

#: the rate issue 4 quotes for Fides (reported as quoted, never divided by: the peer is measured elsewhere)
FIDES_RPS = 0.78
TARGET_RPS = 50


def summary(rounds: list[tuple[float, list[Done]]]) -> dict[str, Any]:
    rates = [len(done) / (max(d.ended for d in done) - released) for released, done in rounds]
    latency = [d.ended - released for released, done in rounds for d in done]
    service = [d.ended - d.started for _released, done in rounds for d in done]
    per_worker: dict[int, int] = {}
    for _released, done in rounds:
        for d in done:
            per_worker[d.worker] = per_worker.get(d.worker, 0) + 1
    return {
        "requests_per_s": {
            "median_of_rounds": round(statistics.median(rates), 1),
            "min": round(min(rates), 1),
            "max": round(max(rates), 1),
            "rounds": [round(r, 1) for r in rates],
        },
        "latency_from_release_ms": {
            "p50": round(statistics.median(latency) * 1000, 1),
            "p95": round(percentile(latency, 0.95) * 1000, 1),
            "max": round(max(latency) * 1000, 1),
        },
        "service_time_ms": {
            "p50": round(statistics.median(service) * 1000, 1),
            "p95": round(percentile(service, 0.95) * 1000, 1),
        },
        "jobs_per_worker": sorted(per_worker.values()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--at-once", type=int, default=20, help="requests released together")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20)
    parser.add_argument("--keep", action="store_true", help="leave the databases in place")
    parser.add_argument("--celery", action="store_true", help="Charter's requests on real `charter worker` processes")
    parser.add_argument("--concurrency", type=int, default=2, help="with --celery: threads per worker (its default)")
    parser.add_argument(
        "--store-db", default=default_name("conc_store"), help="the store's database (created, dropped)"
    )
    parser.add_argument("--state-db", default=default_name("conc_state"), help="Charter's database (created, dropped)")
    add_admin_option(parser)
    _redis.add_options(parser)
    parser.add_argument(
        "--redis-prefix",
        default=None,
        help="with --celery: the prefix of every key Celery writes (default: one of this run's own); "
        "those keys, and only those, are deleted at the end",
    )
    args = parser.parse_args()
    use_admin_url(args.admin_url)
    check_name(args.store_db)
    check_name(args.state_db)
    rng = random.Random(args.seed)
    children = 5
    out: dict[str, Any] = {
        "bench": "dsr_concurrency_bench",
        "people": args.people,
        "tables": 1 + 2 * children,
        "at_once": args.at_once,
        "workers": args.workers,
        "rounds": args.rounds,
        "worker_kind": (
            f"`charter worker --concurrency {args.concurrency}` (Celery on Redis)"
            if args.celery
            else "multiprocessing (spawn), in-process Runner per request; stand-in for `charter worker`"
        ),
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "loadavg_1min_whole_machine_before": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory(prefix="charter-conc-bench-") as tmp, ExitStack() as cleanup:
        folder = Path(tmp)
        if not args.keep:  # registered first, so they run last: after the workers are stopped
            cleanup.callback(drop_database, args.state_db)
            cleanup.callback(drop_database, args.store_db)
        store_url = create_database(args.store_db)
        state_url = create_database(args.state_db)
        log(f"loading {args.people} people x 46 rows with COPY")
        out["load"] = _wide.load(store_url, args.people, children)
        datamap_dir = _wide.write_datamap(folder / "datamap", children)
        charter = Charter(state_url, {_wide.URL_ENV: store_url}, folder / "home", datamap_dir)
        cleanup.callback(charter.close)
        spare = 2 * args.workers * args.concurrency if args.celery else 0
        need = args.workers + spare + 2 * args.rounds * args.at_once
        chosen = rng.sample(range(1, args.people + 1), need)
        warm, rest = chosen[: args.workers], chosen[args.workers + spare :]
        celery_warm = [charter.approved(RequestKind.ACCESS, _wide.email(p)) for p in chosen[args.workers :][:spare]]
        log(f"creating and approving {len(warm) + args.rounds * args.at_once} access requests (not timed)")
        warm_jobs: list[Job] = [("charter", charter.approved(RequestKind.ACCESS, _wide.email(p)), "") for p in warm]
        charter_rounds: list[list[Job]] = []
        base_rounds: list[list[Job]] = []
        for r in range(args.rounds):
            people = rest[r * 2 * args.at_once : (r + 1) * 2 * args.at_once]
            charter_rounds.append(
                [("charter", charter.approved(RequestKind.ACCESS, _wide.email(p)), "") for p in people[: args.at_once]]
            )
            base_rounds.append([("sql", _wide.email(p), str(p)) for p in people[args.at_once :]])
        setup = WorkerSetup(state_url, store_url, _wide.URL_ENV, folder / "home", datamap_dir, children, folder)
        # each worker warms up on its own access request and one baseline access
        warm_up = [[job, ("sql", _wide.email(p), f"warm{p}")] for job, p in zip(warm_jobs, warm, strict=True)]
        pool = ProcessPool(setup, warm_up)
        pools: dict[str, Any] = {"pool": pool}
        cleanup.callback(lambda: pools["pool"] and pools["pool"].close())
        log(f"starting {args.workers} workers (each warms up on one request)")
        pool.start()
        celery: CeleryPool | None = None
        if args.celery:
            broker = _redis.url_of(args)
            log(f"starting {args.workers} `charter worker` processes (warm-up: {len(celery_warm)} requests)")
            celery = CeleryPool(
                setup,
                celery_warm,
                workers=args.workers,
                concurrency=args.concurrency,
                broker_url=broker,
                key_prefix=args.redis_prefix,
            )
            pools["celery"] = celery
            cleanup.callback(lambda: pools["celery"] and pools["celery"].close())
            celery.start()
        charter_done: list[tuple[float, list[Done]]] = []
        cpu: dict[str, float] = {}
        base_done: list[tuple[float, list[Done]]] = []
        for r in range(args.rounds):
            log(f"round {r + 1}: {args.at_once} Charter access requests at once, then the baseline")
            before = cpu_seconds()
            charter_done.append((celery or pool).run_all(charter_rounds[r]))
            for group, used in cpu_seconds().items():
                cpu[group] = cpu.get(group, 0.0) + used - before.get(group, 0.0)
            base_done.append(pool.run_all(base_rounds[r]))
        out["worker_peak_rss_mb"] = list(pool.close().values())
        pools["pool"] = None
        if celery is not None:
            out["charter_worker_peak_rss_mb"] = list(celery.close().values())
            pools["celery"] = None
            out["redis"] = {"prefix": celery.key_prefix, "keys_removed": celery.keys_removed}
            out["run_end"] = f"seen committed in Charter's database (polled every {POLL_S * 1000:g} ms)"
        out["charter"] = summary(charter_done)
        served = args.rounds * args.at_once
        out["charter"]["cpu_ms_per_request"] = {g: round(1000 * s / served, 1) for g, s in sorted(cpu.items()) if s}
        out["charter"]["cpu_counted"] = "the bench's own processes only; not the PostgreSQL or Redis server"
        out["baseline_sql"] = summary(base_done)
        c_rate = out["charter"]["requests_per_s"]["median_of_rounds"]
        b_rate = out["baseline_sql"]["requests_per_s"]["median_of_rounds"]
        out["ratio_baseline_rate_over_charter"] = round(b_rate / c_rate, 1)
        out["target_requests_per_s"] = TARGET_RPS
        # quoted, not measured: no ratio is computed from it (bench/peers/fides_bench.py measures Fides)
        out["fides_requests_per_s_quoted"] = FIDES_RPS
        out["fides_note"] = "quoted from issue 4, not measured here; dsr_bench.py --with-fides measures Fides"
    out["bench_process_peak_rss_mb"] = round(rss_mb(), 1)
    out["loadavg_1min_whole_machine_after"] = os.getloadavg()[0]
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
