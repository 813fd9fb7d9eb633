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

Databases ``charter_bench_multi_pg`` and ``charter_bench_multi_state``
(PostgreSQL, ``CHARTER_BENCH_POSTGRES_URL``), ``charter_bench_multi_maria``
(MariaDB, ``CHARTER_BENCH_MARIADB_URL``, default root on 127.0.0.1:3306), Redis
DB 12 (``CHARTER_BENCH_REDIS_URL``) under the key prefix ``cbm:``. All are
dropped / cleared at the end unless ``--keep``; ``--reuse`` measures again on
kept stores of the same ``--people`` without loading (people erased by earlier
runs are remembered in ``bench_erased`` and not drawn again).

Run::

    .venv/bin/python bench/multistore_bench.py --people 100000
    .venv/bin/python bench/multistore_bench.py --people 1000000 --keep   # ≈ 15 min load on 2 cores
    .venv/bin/python bench/multistore_bench.py --people 1000000 --reuse
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
from pathlib import Path
from typing import Any

import _multistore_baseline as baseline
import _multistore_data as data
import psycopg
from _charter import Charter, RequestKind, StatementCounter, compare, rss_mb, stats, timed, vm_hwm_mb
from _multistore_diag import Profile, by_package
from _multistore_map import write_datamap
from _pg import ADMIN_URL, create_database, drop_database, libpq, log
from sqlalchemy.engine import make_url

PG_DB = "charter_bench_multi_pg"
STATE_DB = "charter_bench_multi_state"
MARIA_DB = "charter_bench_multi_maria"


def load(args: argparse.Namespace, stride: int) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": args.people * data.ROWS_PER_PERSON}
    begun = time.perf_counter()
    pg_url = create_database(PG_DB)
    log(f"loading PostgreSQL: {args.people} people x 18 rows (COPY)")
    out["postgresql"] = data.load_pg(pg_url, args.people)
    data.create_maria(MARIA_DB)
    log(f"loading MariaDB: {args.people} people x 8 rows (LOAD DATA LOCAL INFILE)")
    out["mariadb"] = data.load_maria(MARIA_DB, args.people)
    log(f"loading Redis: sessions and carts of every {stride}th person")
    out["redis"] = data.load_redis(args.people, stride)
    out["total_s"] = round(time.perf_counter() - begun, 1)
    return out


def loaded_people(pg_url: str) -> int | None:
    try:
        with psycopg.connect(libpq(pg_url)) as conn:
            row = conn.execute("SELECT value FROM bench_meta WHERE key = 'people'").fetchone()
    except psycopg.Error:
        return None
    return int(row[0]) if row else None


def sizes(pg_url: str) -> dict[str, Any]:
    with psycopg.connect(libpq(pg_url)) as conn:
        pg_mb = conn.execute("SELECT pg_database_size(current_database()) / 1048576").fetchone()[0]
    with data.maria_connect(MARIA_DB) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT sum(data_length + index_length) / 1048576 FROM information_schema.tables WHERE table_schema = %s",
            (MARIA_DB,),
        )
        maria_mb = cur.fetchone()[0]
    client = data.redis_client()
    keys = client.dbsize()
    client.close()
    return {"postgresql_mb": int(pg_mb), "mariadb_mb": int(maria_mb or 0), "redis_keys_in_db": keys}


# --- the measuring process ---------------------------------------------------------------------------


def _stores(pg_url: str, with_redis: bool) -> baseline.Stores:
    cache = data.redis_client() if with_redis else None
    return baseline.Stores(psycopg.connect(libpq(pg_url)), data.maria_connect(MARIA_DB), cache)


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
    env = {data.ENV_PG: setup["pg_url"], data.ENV_MARIA: data.maria_url(MARIA_DB), data.ENV_REDIS: data.REDIS_URL}
    charter = Charter(setup["state_url"], env, Path(setup["home"]), Path(setup["datamap_dir"]))
    stores = _stores(setup["pg_url"], setup["redis"])
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
    profile = Profile({setup["state_db"]: "charter_state", PG_DB: "postgresql_store", MARIA_DB: "mariadb_store"})
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
    parser.add_argument("--reuse", action="store_true", help="measure on kept stores of the same --people")
    args = parser.parse_args()
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
        "load_before": os.getloadavg(),
    }
    pg_url = make_url(ADMIN_URL).set(database=PG_DB).render_as_string(hide_password=False)
    try:
        if args.reuse and loaded_people(pg_url) == args.people and data.maria_exists(MARIA_DB):
            log(f"reusing the stores of {args.people} people")
            out["load"] = "reused"
        else:
            out["load"] = load(args, stride)
        out["store_sizes"] = sizes(pg_url)
        out["loader_process_peak_rss_mb"] = round(rss_mb(), 1)
        out["load_average_before_requests"] = os.getloadavg()
        with tempfile.TemporaryDirectory(prefix="charter-multi-bench-") as tmp:
            state_url = create_database(STATE_DB)
            setup = {
                "pg_url": pg_url,
                "state_url": state_url,
                "state_db": STATE_DB,
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
            process = context.Process(target=measure, args=(setup, queue))
            process.start()
            result = queue.get()
            process.join()
            if "error" in result:
                raise RuntimeError(result["error"])
            out.update(result)
            out["fides"] = "no published figure for this dataset (issue 4)"
            out["speedup_note"] = "ratios are Charter / hand-written baseline in the same process and run"
            drop_database(STATE_DB)
    finally:
        if not args.keep:
            drop_database(PG_DB)
            data.drop_maria(MARIA_DB)
            client = data.redis_client()
            out["redis_keys_removed"] = data.clear_redis(client)
            client.close()
    out["load_after"] = os.getloadavg()
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
