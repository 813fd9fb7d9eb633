"""Data subject requests on a realistic multi-store dataset: PostgreSQL + MariaDB + Redis (issue 4, "Figures").

The dataset (``_multistore_data.py``): 12 tables — 7 in PostgreSQL (customers,
addresses, orders, order items, payments, subscriptions, consents), 5 in
MariaDB (support tickets, ticket messages, call notes, loyalty accounts,
loyalty events) — 26 rows per person, ``--people`` people (1,000,000 → 26M
rows), plus Redis session and cart hashes for ``--redis-people`` active people.
Real foreign keys within each database, indexes on every reference and identity
column. The data map is three Fides datasets, one system per store (``url_env``),
references across stores (MariaDB's call notes and Redis' carts reference
``shop.customers.id``), identity e-mail, ``charter:`` strategies mixing
``delete_row`` with ``keyed_hash``, ``set_null``, ``redact_text`` and
``generalize_date``; loaded with Charter's own loader.

The requests run in a separate process (``spawn``) so its peak memory (VmHWM and
``ru_maxrss``) is that of a process carrying out requests, not of the loader:
compare ``--people 100000`` with ``--people 1000000``. In it, for ``--samples``
random active people (each has rows in all three stores): access (approved →
sealed package) and erasure (approved → erasure verified, certificate) with the
in-process ``Runner``, interleaved person by person with the hand-written
baseline (``_multistore_baseline.py``: the same reads, deletes and updates in
plain SQL and Redis commands, kept connections). Requests are created and
approved outside the clock. Then, over ``--diag`` more requests of each kind,
where Charter's time goes: statements and time per database (SQLAlchemy
cursor events: Charter's own database vs each store) and Redis round trips.

Databases ``--pg-db`` and ``--state-db`` (PostgreSQL, through ``--admin-url``),
``--mariadb-db`` (MariaDB, through ``--mariadb-admin-url``), and keys under
``--redis-prefix`` in ``--redis-url`` / ``--redis-db``; every default name has the
bench's pid. The bench refuses a Redis database holding keys of others (they
would slow the session SCAN it measures) unless ``--redis-shared``. Charter's
database is dropped at the end whatever happens; the stores too unless
``--keep`` (only the bench's own keys are deleted, never a whole Redis
database); ``--reuse`` measures again on kept stores of the same ``--people``,
named by the options of the ``--keep`` run, without loading (people erased by
earlier runs are remembered in ``bench_erased`` and not drawn again).

Run::

    .venv/bin/python bench/multistore_bench.py --people 100000
    .venv/bin/python bench/multistore_bench.py --people 1000000 --keep --pg-db m_pg --mariadb-db m_maria \\
        --redis-prefix m_cache   # ≈ 15 min load on 2 cores
    .venv/bin/python bench/multistore_bench.py --people 1000000 --reuse --pg-db m_pg --mariadb-db m_maria \\
        --redis-prefix m_cache
"""

from __future__ import annotations

import argparse
import cProfile
import json
import multiprocessing as mp
import os
import pstats
import random
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import _mariadb
import _multistore_baseline as baseline
import _multistore_data as data
import _redis
import psycopg
from _charter import Charter, RequestKind, StatementCounter, compare, rss_mb, stats, timed, vm_hwm_mb
from _multistore_diag import Profile, by_package
from _multistore_map import write_datamap
from _pg import (
    add_admin_option,
    check_name,
    create_database,
    database_exists,
    database_url,
    default_name,
    drop_database,
    libpq,
    log,
    use_admin_url,
)


def load(args: argparse.Namespace, stride: int) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": args.people * data.ROWS_PER_PERSON}
    begun = time.perf_counter()
    pg_url = create_database(args.pg_db)
    log(f"loading PostgreSQL: {args.people} people x 18 rows (COPY)")
    out["postgresql"] = data.load_pg(pg_url, args.people)
    _mariadb.create_database(args.mariadb_db)
    log(f"loading MariaDB: {args.people} people x 8 rows (LOAD DATA LOCAL INFILE)")
    out["mariadb"] = data.load_maria(args.mariadb_db, args.people)
    if not args.no_redis:
        log(f"loading Redis: sessions and carts of every {stride}th person")
        out["redis"] = data.load_redis(_redis.url_of(args), args.people, stride)
    out["total_s"] = round(time.perf_counter() - begun, 1)
    return out


def loaded_people(pg_url: str) -> int | None:
    try:
        with psycopg.connect(libpq(pg_url)) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'people'").fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def sizes(args: argparse.Namespace, pg_url: str) -> dict[str, Any]:
    with psycopg.connect(libpq(pg_url)) as conn:
        pg_mb = conn.execute("SELECT pg_database_size(current_database()) / 1048576").fetchone()[0]
    with data.maria_connect(args.mariadb_db) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT sum(data_length + index_length) / 1048576 FROM information_schema.tables WHERE table_schema = %s",
            (args.mariadb_db,),
        )
        maria_mb = cur.fetchone()[0]
    out = {"postgresql_mb": int(pg_mb), "mariadb_mb": int(maria_mb or 0)}
    if not args.no_redis:
        url = _redis.url_of(args)
        out["redis_keys_of_the_bench"] = _redis.count_prefix(url, f"{args.redis_prefix}:")
        out["redis_other_keys_in_db"] = _redis.other_keys(url, f"{args.redis_prefix}:")
    return out


# --- the measuring process ---------------------------------------------------------------------------


def _stores(setup: dict[str, Any]) -> baseline.Stores:
    cache = data.redis_client(setup["redis_url"]) if setup["redis"] else None
    maria = data.maria_connect(setup["maria_db"], setup["maria_admin_url"])
    return baseline.Stores(psycopg.connect(libpq(setup["pg_url"])), maria, cache)


def _customer_ids(p: int) -> tuple[list[int], list[int]]:
    return [p], [3 * (p - 1) + k + 1 for k in range(3)]


def measure(setup: dict[str, Any], results: Any) -> None:
    """Runs in its own process: Charter and the baseline on the same people; puts one dict on ``results``."""
    try:
        results.put(_measure(setup))
    except BaseException as exc:
        results.put({"error": f"{type(exc).__name__}: {exc}"})
        raise


def _measure(setup: dict[str, Any]) -> dict[str, Any]:
    started_hwm = vm_hwm_mb()
    data.set_prefix(setup["prefix"])  # this process imported the module afresh (spawn)
    env = {
        data.ENV_PG: setup["pg_url"],
        data.ENV_MARIA: _mariadb.database_url(setup["maria_db"], setup["maria_admin_url"]),
        data.ENV_REDIS: setup["redis_url"],
    }
    charter = Charter(setup["state_url"], env, Path(setup["home"]), Path(setup["datamap_dir"]))
    stores = _stores(setup)
    folder = Path(setup["folder"])
    samples, diag = setup["samples"], setup["diag"]
    erased = {r[0] for r in stores.pg.execute("SELECT person FROM bench_erased").fetchall()}
    stores.pg.commit()
    pool = [p for p in range(setup["stride"], setup["people"] + 1, setup["stride"]) if p not in erased]
    rng = random.Random(setup["seed"])
    chosen = rng.sample(pool, 3 * samples + 2 * diag + 1)
    readers, charter_erase, base_erase = (
        chosen[:samples],
        chosen[samples : 2 * samples],
        chosen[2 * samples : 3 * samples],
    )
    diag_access, diag_erase, warm = (
        chosen[3 * samples : 3 * samples + diag],
        chosen[3 * samples + diag : -1],
        chosen[-1],
    )
    stores.pg.execute(
        "INSERT INTO bench_erased SELECT unnest(%s::bigint[])", (charter_erase + base_erase + diag_erase,)
    )
    stores.pg.commit()
    key = baseline.base_key(charter.config.secret_key())
    log(f"measuring process: creating and approving {2 * samples + 2 * diag + 1} requests (not timed)")
    access_ids = [charter.approved(RequestKind.ACCESS, data.email(p)) for p in readers]
    erase_ids = [charter.approved(RequestKind.DELETION, data.email(p)) for p in charter_erase]
    diag_ids = [charter.approved(RequestKind.ACCESS, data.email(p)) for p in diag_access]
    diag_erase_ids = [charter.approved(RequestKind.DELETION, data.email(p)) for p in diag_erase]
    _took, first = charter.run(charter.approved(RequestKind.ACCESS, data.email(warm)))
    baseline.access(stores, data.email(warm), folder, "warm")
    hwm_after_warm_up = vm_hwm_mb()
    series: dict[str, list[float]] = {
        k: [] for k in ("charter_access", "base_access", "charter_erasure", "base_erasure")
    }
    steps: dict[str, int] = {"access": first.steps}
    rows: dict[str, int] = {}
    baseline.take_spent()
    base_split: dict[str, dict[str, float]] = {}
    log(f"access: {samples} people, Charter and baseline interleaved")
    for n, (p, rid) in enumerate(zip(readers, access_ids, strict=True)):
        took, _outcome = charter.run(rid)
        series["charter_access"].append(took)
        begun = time.perf_counter()
        rows["access_baseline"] = baseline.access(stores, data.email(p), folder, str(n))
        series["base_access"].append(time.perf_counter() - begun)
    base_split["access"] = {k: round(v / samples * 1000, 1) for k, v in baseline.take_spent().items()}
    log(f"erasure: {samples} people each for Charter and baseline, interleaved")
    for p, rid, q in zip(charter_erase, erase_ids, base_erase, strict=True):
        took, outcome = charter.run(rid)
        steps["erasure"] = outcome.steps
        series["charter_erasure"].append(took)
        series["base_erasure"].append(timed(baseline.erase, stores, data.email(q), key))
        del p
    base_split["erasure"] = {k: round(v / samples * 1000, 1) for k, v in baseline.take_spent().items()}
    log("checking Charter's erasures with the baseline's verification")
    left = sum(baseline._left(stores, data.email(p), *_customer_ids(p)) for p in charter_erase)
    hwm_after_timed = vm_hwm_mb()
    log(f"diagnostics: where the time goes, {diag} access and {diag} erasure runs")
    profile = Profile(
        {setup["state_db"]: "charter_state", setup["pg_db"]: "postgresql_store", setup["maria_db"]: "mariadb_store"}
    )
    counter = StatementCounter()
    where: dict[str, Any] = {}
    for kind, ids in (("access", diag_ids), ("erasure", diag_erase_ids)):
        half = len(ids) // 2 if setup["profile"] else len(ids)
        profile.start()
        counter.take()
        total = sum(charter.run(rid)[0] for rid in ids[:half])
        where[kind] = profile.stop(total, half)
        where[kind]["statements_per_run_incl_catalog"] = {k: round(v / half, 1) for k, v in counter.take().items()}
        if setup["profile"]:
            profiler = cProfile.Profile()
            profiler.enable()
            for rid in ids[half:]:
                charter.run(rid)
            profiler.disable()
            where[kind]["cprofile"] = by_package(pstats.Stats(profiler), len(ids) - half)
    counter.close()
    stores.close()
    charter.close()
    return {
        "sampled_from": f"{len(pool)} active people (every {setup['stride']}th: rows in all three stores)",
        "plan_steps": steps,
        "charter": {"access": stats(series["charter_access"]), "erasure": stats(series["charter_erasure"])},
        "baseline": {"access": stats(series["base_access"]), "erasure": stats(series["base_erasure"])},
        "ratio_charter_over_baseline": {
            "access": compare(series["charter_access"], series["base_access"]),
            "erasure": compare(series["charter_erasure"], series["base_erasure"]),
        },
        "rows_read_per_access": rows.get("access_baseline"),
        "baseline_ms_per_request_by_store": base_split,
        "where_charter_time_goes": where,
        "check_charter_erasures_values_left": left,
        "memory_mb": {
            "vm_hwm_at_start": round(started_hwm, 1),
            "vm_hwm_after_warm_up": round(hwm_after_warm_up, 1),
            "vm_hwm_after_timed_requests": round(hwm_after_timed, 1),
            "vm_hwm_end": round(vm_hwm_mb(), 1),
            "ru_maxrss_end": round(rss_mb(), 1),
        },
        "raw_ms": {k: [round(v * 1000, 2) for v in vs] for k, vs in series.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=100)
    parser.add_argument("--redis-people", type=int, default=10_000, help="active people with Redis keys")
    parser.add_argument("--diag", type=int, default=10, help="runs of each kind for the time split")
    parser.add_argument(
        "--no-redis", action="store_true", help="leave Redis out of the data map and the baseline (SQL only)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile half of the --diag runs")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--keep", action="store_true", help="leave the stores in place (for --reuse)")
    parser.add_argument(
        "--reuse", action="store_true", help="measure on stores kept by --keep (name them: --pg-db, --mariadb-db, …)"
    )
    parser.add_argument("--pg-db", default=default_name("multi_pg"), help="the PostgreSQL store's database")
    parser.add_argument("--state-db", default=default_name("multi_state"), help="Charter's own database (PostgreSQL)")
    parser.add_argument("--mariadb-db", default=default_name("multi_maria"), help="the MariaDB store's database")
    add_admin_option(parser)
    _mariadb.add_admin_option(parser)
    _redis.add_options(parser)
    parser.add_argument(
        "--redis-prefix", default=_redis.default_prefix("multi"), help="prefix of the bench's Redis keys"
    )
    parser.add_argument(
        "--redis-shared",
        action="store_true",
        help="run even if the Redis database holds keys of others (they slow the session SCAN down)",
    )
    args = parser.parse_args()
    use_admin_url(args.admin_url)
    _mariadb.use_admin_url(args.mariadb_admin_url)
    for name in (args.pg_db, args.state_db):
        check_name(name)
    _mariadb.check_name(args.mariadb_db)
    if args.reuse and args.pg_db == default_name("multi_pg"):
        parser.error(
            "--reuse measures on kept stores: name them (--pg-db, --mariadb-db, --redis-prefix of the --keep run)"
        )
    data.set_prefix(args.redis_prefix)
    redis_url = _redis.url_of(args)
    if not args.no_redis and not args.redis_shared:
        others = _redis.other_keys(redis_url, f"{args.redis_prefix}:")
        if others:
            parser.error(f"the Redis database holds {others} keys of others; use another --redis-db or --redis-shared")
    stride = data.stride_of(args.people, args.redis_people)
    out: dict[str, Any] = {
        "bench": "multistore_bench",
        "people": args.people,
        "tables": len(data.PEOPLE_TABLES),
        "rows_per_person": data.ROWS_PER_PERSON,
        "redis_active_people": args.people // stride,
        "samples": args.samples,
        "with_redis": not args.no_redis,
        "python": sys.version.split()[0],
        "cores": os.cpu_count(),
        "loadavg_whole_machine_before": os.getloadavg(),
    }
    pg_url = database_url(args.pg_db)
    with tempfile.TemporaryDirectory(prefix="charter-multi-bench-") as tmp, ExitStack() as cleanup:
        cleanup.callback(drop_database, args.state_db)  # Charter's database is never kept
        if not args.keep:
            if not args.no_redis:
                cleanup.callback(
                    lambda: out.update(redis_keys_removed=_redis.delete_prefix(redis_url, f"{data.PREFIX}:"))
                )
            cleanup.callback(_mariadb.drop_database, args.mariadb_db)
            cleanup.callback(drop_database, args.pg_db)
        reusable = args.reuse and database_exists(args.pg_db) and _mariadb.database_exists(args.mariadb_db)
        if reusable and loaded_people(pg_url) == args.people:
            log(f"reusing the stores of {args.people} people")
            out["load"] = "reused"
        else:
            out["load"] = load(args, stride)
        out["store_sizes"] = sizes(args, pg_url)
        out["loader_process_peak_rss_mb"] = round(rss_mb(), 1)
        out["loadavg_whole_machine_before_requests"] = os.getloadavg()
        state_url = create_database(args.state_db)
        setup = {
            "pg_url": pg_url,
            "pg_db": args.pg_db,
            "maria_db": args.mariadb_db,
            "maria_admin_url": args.mariadb_admin_url,
            "redis_url": redis_url,
            "prefix": args.redis_prefix,
            "state_url": state_url,
            "state_db": args.state_db,
            "home": str(Path(tmp) / "home"),
            "datamap_dir": str(write_datamap(Path(tmp) / "datamap", redis=not args.no_redis)),
            "redis": not args.no_redis,
            "folder": tmp,
            "people": args.people,
            "stride": stride,
            "samples": args.samples,
            "diag": args.diag,
            "profile": args.profile,
            "seed": args.seed + int(time.time()) % 100_000 if args.reuse else args.seed,
        }
        context = mp.get_context("spawn")
        queue = context.Queue()
        process = context.Process(target=measure, args=(setup, queue), daemon=True)
        process.start()
        cleanup.callback(_stop, process)
        result = queue.get()
        process.join()
        if "error" in result:
            raise RuntimeError(result["error"])
        out.update(result)
        out["fides"] = "no published figure for this dataset (issue 4)"
        out["speedup_note"] = "ratios are Charter / hand-written baseline in the same process and run"
    out["loadavg_whole_machine_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


def _stop(process: Any) -> None:
    """The measuring process ended (on an interrupt: stopped), before the databases it uses are dropped."""
    if process.is_alive():
        process.terminate()
    process.join(timeout=30)


if __name__ == "__main__":
    main()
