"""The consent ledger at scale on PostgreSQL: 1M people / 10M events (issue 3, "Figures").

In a fresh database (``--database``, default ``charter_bench_scale_<pid>``, created through ``--admin-url``
and dropped at the end, whatever happens, unless ``--keep``):

1. migrate, publish both example statements;
2. bulk-load ``--people`` people (one e-mail identity each: keyed lookup
   hash and sealed value from the Vault) and ``--events`` events with COPY;
   rows are those Charter writes (see ``bench/_synthetic.py``). The events
   table's secondary index and foreign key are dropped during the load and
   recreated from their own definitions afterwards, then VACUUM ANALYZE;
3. fill ``subject_states``: fold each person's events with ``project`` and
   COPY ``json.dumps(codec.encode(state))`` (byte-compared with what
   ``ledger`` writes for sample people);
4. lookups of random people by e-mail, the API's path (``subjects.resolve``
   + ``ledger.state_of``, one session each) against the naive baseline
   that folds all the person's events (``ledger.events_of`` + ``project``),
   p50/p90/p99/max; also for "heavy" people (1 % with ~10x the events);
5. ``ledger.rebuild`` over the whole ledger (no progress bar; a deadline
   ``--rebuild-timeout``), which must report ``changed == 0``;
6. cProfile of ``ledger.rebuild`` on a ``--profile-events`` slice (its own
   small database) — where a rebuild spends its time.

Progress goes to stderr, one JSON document to stdout.

Run (≈ 20 min on 2 cores)::

    .venv/bin/python bench/ledger_scale_bench.py --people 1000000 --events 10000000

Quick check: ``--people 10000 --events 100000``. Server: ``--admin-url`` (default
``CHARTER_BENCH_POSTGRES_URL``, else ``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``). The
profile's slice has a database of its own (``--profile-database``), dropped at once. ``--keep`` then
``--reuse --database NAME`` measures lookups (and the rebuild) again on the kept database. Every timing
ends after the commit of what it measures; a rebuild stopped by its deadline is rolled back and says so.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import namedtuple_row
from sqlalchemy import select, text

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _pg
import _synthetic as syn
from _pg import (
    STARTED,
    add_admin_option,
    check_name,
    create_database,
    database_url,
    default_name,
    drop_database,
    libpq,
    log,
    use_admin_url,
)

from charter.db import Database, migrate
from charter.decisions.state import EMPTY
from charter.ledger import service as ledger
from charter.ledger.codec import encode
from charter.ledger.models import SubjectState
from charter.ledger.projection import apply, project
from charter.subjects import service as subjects

LINES_PER_WRITE = 20_000


def prepare(url: str) -> tuple[Database, list[syn.Template]]:
    database = Database(url)
    migrate(database)
    with database.session() as session:
        syn.publish_statements(session)
    with database.session() as session:
        found = syn.templates(session)
    return database, found


# --- bulk load ------------------------------------------------------------------------------------


def _definitions(conn: psycopg.Connection[Any]) -> list[tuple[str, str]]:
    """(drop, create) statements for ledger_events' secondary index and foreign key, from the catalog."""
    out = []
    for name, definition in conn.execute(
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE conrelid = 'ledger_events'::regclass AND contype = 'f'"
    ):
        out.append(
            (
                f'ALTER TABLE ledger_events DROP CONSTRAINT "{name}"',
                f'ALTER TABLE ledger_events ADD CONSTRAINT "{name}" {definition}',
            )
        )
    for name, definition in conn.execute(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'ledger_events'"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE conrelid = 'ledger_events'::regclass)"
    ):
        out.append((f'DROP INDEX "{name}"', definition))
    return out


def _schema_snapshot(conn: psycopg.Connection[Any]) -> list[tuple[Any, ...]]:
    indexes = conn.execute("SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'")
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE connamespace = 'public'::regnamespace"
    )
    return sorted([*indexes.fetchall(), *constraints.fetchall()])


def bulk_load(url: str, found: list[syn.Template], people: int, events: int, seed: int) -> dict[str, float]:
    timings: dict[str, float] = {}
    clock = syn.Clock(postgres=True)
    start_text = clock(0)
    with psycopg.connect(libpq(url)) as conn:
        conn.execute("SET maintenance_work_mem = '1GB'")
        before = _schema_snapshot(conn)
        definitions = _definitions(conn)

        begun = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY people (id, public_id, created_at) FROM STDIN") as copy:
            for person_id, public_id in syn.people_rows(people, seed):
                copy.write_row((person_id, public_id, start_text))
        conn.commit()
        timings["people_s"] = time.perf_counter() - begun
        log(f"people: {people:,} in {timings['people_s']:.1f}s")

        begun = time.perf_counter()
        with (
            conn.cursor() as cur,
            cur.copy("COPY identities (id, person_id, kind, lookup_hash, sealed, created_at) FROM STDIN") as copy,
        ):
            for n in range(1, people + 1):
                copy.write_row((*syn.identity_row(n), start_text))
                if n % 250_000 == 0:
                    log(f"identities: {n:,} hashed and sealed")
        conn.commit()
        timings["identities_s"] = time.perf_counter() - begun
        log(f"identities: {people:,} in {timings['identities_s']:.1f}s")

        for table in ("people", "identities"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        for drop, _create in definitions:
            conn.execute(drop)
        conn.commit()

        begun = time.perf_counter()
        tails = [t.tail() for t in found]
        slots = syn.picker(found)
        width = len(slots)
        with (
            conn.cursor() as cur,
            cur.copy(
                "COPY ledger_events (person_id, at, recorded_at, kind, source, statement_version,"
                " jurisdiction, evidence, data) FROM STDIN"
            ) as copy,
        ):
            lines: list[str] = []
            append = lines.append
            for index, (person, at, recorded, draw) in enumerate(syn.plan(people, events, seed)):
                append(f"{person}\t{clock(at)}\t{clock(recorded + 1)}\t{tails[slots[draw % width]]}\n")
                if len(lines) >= LINES_PER_WRITE:
                    copy.write("".join(lines))
                    lines.clear()
                    if (index + 1) % 1_000_000 == 0:
                        log(f"events: {index + 1:,} copied")
            if lines:
                copy.write("".join(lines))
        conn.commit()
        timings["events_copy_s"] = time.perf_counter() - begun
        log(f"events: {events:,} copied in {timings['events_copy_s']:.1f}s")

        begun = time.perf_counter()
        for _drop, create in definitions:
            conn.execute(create)
        conn.commit()
        timings["events_index_fk_s"] = time.perf_counter() - begun
        log(f"events: index and foreign key recreated in {timings['events_index_fk_s']:.1f}s")
        assert _schema_snapshot(conn) == before, "the schema after the load differs from the migrated one"

    begun = time.perf_counter()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
    timings["vacuum_analyze_s"] = time.perf_counter() - begun
    log(f"VACUUM ANALYZE in {timings['vacuum_analyze_s']:.1f}s")
    return {k: round(v, 2) for k, v in timings.items()}


def fill_projection(url: str) -> float:
    """Fold every person's events with the ledger's ``project`` and COPY the encoded states."""
    begun = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    with (
        psycopg.connect(libpq(url), row_factory=namedtuple_row) as reader,
        psycopg.connect(libpq(url)) as writer,
    ):
        reader.execute("SET TimeZone = 'UTC'")
        reader.execute("SET work_mem = '512MB'")
        with (
            reader.cursor(name="fold") as rows,
            writer.cursor() as out,
            out.copy("COPY subject_states (person_id, state, last_event_id, last_at, updated_at) FROM STDIN") as copy,
        ):
            rows.itersize = 20_000
            rows.execute(
                "SELECT id, person_id, kind, at, source, statement_version, jurisdiction, evidence, data"
                " FROM ledger_events ORDER BY person_id, at, id"
            )
            current = None
            state = EMPTY
            last = None
            done = 0

            def flush() -> None:
                assert last is not None
                copy.write_row((current, json.dumps(encode(state)), last.id, last.at.isoformat(), now))

            row: Any
            for row in rows:
                if row.person_id != current:
                    if current is not None:
                        flush()
                        done += 1
                        if done % 250_000 == 0:
                            log(f"projection: {done:,} people folded")
                    current, state = row.person_id, EMPTY
                state = apply(state, ledger.to_event(row))
                last = row
            if current is not None:
                flush()
        writer.commit()
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE subject_states")
    return time.perf_counter() - begun


def check_projection_bytes(database: Database, people: int, samples: int, seed: int) -> dict[str, int]:
    """For sample people: the ledger's own write of their state (rolled back) has the same JSON text."""
    rng = random.Random(seed + 3)
    same = 0
    for _ in range(samples):
        person_id = rng.randint(1, people)
        with database.engine.connect() as conn:
            mine = conn.execute(
                text("SELECT state::text FROM subject_states WHERE person_id = :p"), {"p": person_id}
            ).scalar()
        session = database.sessions()
        try:
            row = session.scalar(select(SubjectState).where(SubjectState.person_id == person_id))
            session.delete(row)
            session.flush()
            ledger._recompute(session, person_id, None)  # what record() writes for a first event
            session.flush()
            theirs = session.execute(
                text("SELECT state::text FROM subject_states WHERE person_id = :p"), {"p": person_id}
            ).scalar()
        finally:
            session.rollback()
            session.close()
        same += mine == theirs
    return {"sampled": samples, "identical_json_text": same}


# --- lookups --------------------------------------------------------------------------------------


def _quantiles(values: list[float]) -> dict[str, float] | None:
    if len(values) < 2:  # e.g. no unpreempted lookup on a busy machine
        return None
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {
        "p50_ms": round(cuts[49] * 1000, 3),
        "p90_ms": round(cuts[89] * 1000, 3),
        "p99_ms": round(cuts[98] * 1000, 3),
        "max_ms": round(max(values) * 1000, 3),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
    }


def lookups(database: Database, people: int, count: int, seed: int, pick: Callable[[random.Random], int]) -> Any:
    """Projection lookups and the naive fold, interleaved in random order, for the same people."""
    rng = random.Random(seed)
    projected: list[float] = []
    folded: list[float] = []
    unpreempted: dict[str, list[float]] = {"projection": [], "naive": []}
    events_seen: list[int] = []
    for _ in range(count):
        n = pick(rng)
        first_projection = rng.random() < 0.5
        for which in ("projection", "naive") if first_projection else ("naive", "projection"):
            switches = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
            begun = time.perf_counter()
            with database.session() as session:
                person = subjects.resolve(session, "email", syn.email(n), vault=syn.VAULT, create=False)
                assert person is not None
                if which == "projection":
                    state = ledger.state_of(session, person)
                else:
                    history = ledger.events_of(session, person)
                    naive = project(history)
            elapsed = time.perf_counter() - begun
            (projected if which == "projection" else folded).append(elapsed)
            if resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw == switches:
                unpreempted[which].append(elapsed)
        assert state == naive, f"projection and fold differ for person {n}"
        events_seen.append(len(history))
    figures: dict[str, Any] = {
        "lookups": count,
        "events_per_person_mean": round(statistics.fmean(events_seen), 1),
        "events_per_person_max": max(events_seen),
        "projection": _quantiles(projected),
        "naive_fold": _quantiles(folded),
        # Lookups during which this process was never preempted by another one: the
        # machine is shared, so these show the lookup's own latency (the database
        # server's backend may still have waited for a core).
        "unpreempted_share": round(len(unpreempted["projection"]) / count, 3),
        "projection_unpreempted": _quantiles(unpreempted["projection"]),
        "naive_fold_unpreempted": _quantiles(unpreempted["naive"]),
        "loadavg_1min_whole_machine_after": round(os.getloadavg()[0], 2),
    }
    assert figures["projection"] is not None and figures["naive_fold"] is not None, "--lookups must be 2 or more"
    figures["ratio_naive_over_projection_p50"] = round(
        figures["naive_fold"]["p50_ms"] / figures["projection"]["p50_ms"], 2
    )
    figures["ratio_naive_over_projection_p99"] = round(
        figures["naive_fold"]["p99_ms"] / figures["projection"]["p99_ms"], 2
    )
    return figures


def api_lookups(database: Database, people: int, count: int, seed: int) -> dict[str, Any]:
    """The decisions API's own person lookup (``decisions.service._states`` for one identity), one session each."""
    from charter.decisions import service as decisions

    rng = random.Random(seed)
    latencies: list[float] = []
    for _ in range(count):
        ref = decisions.PersonRef(identity_kind="email", identity_value=syn.email(rng.randint(1, people)))
        begun = time.perf_counter()
        with database.session() as session:
            found = decisions._states(session, [(0, ref)], syn.VAULT)
        latencies.append(time.perf_counter() - begun)
        assert found[ref][0] is not None, "a known person must be found"
    return {"lookups": count, "path": "charter.decisions.service._states", **(_quantiles(latencies) or {})}


# --- rebuild --------------------------------------------------------------------------------------


class _Deadline(Exception):
    pass


def timed_rebuild(database: Database, timeout: float, people: int, events: int) -> dict[str, Any]:
    marks: list[tuple[float, int]] = []
    begun = time.perf_counter()

    def progress(done: int, total: int) -> None:
        now = time.perf_counter() - begun
        marks.append((now, done))
        if done % 100_000 == 0:
            log(f"rebuild: {done:,}/{total:,} people in {now:.0f}s")
        if now > timeout:
            raise _Deadline

    try:
        with database.session() as session:
            report = ledger.rebuild(session, batch=1000, progress=progress)
    except _Deadline:
        seconds, done = marks[-1]
        share = done / people
        return {
            "finished": False,
            "committed": False,  # the deadline's exception rolled the rebuild back: rates of uncommitted work
            "timeout_s": timeout,
            "people_done": done,
            "seconds": round(seconds, 1),
            "people_per_s": round(done / seconds),
            "events_per_s_estimated": round(events * share / seconds),
            "projected_total_s": round(seconds / share),
        }
    seconds = time.perf_counter() - begun
    return {
        "finished": True,
        "seconds": round(seconds, 1),
        "people": report.people,
        "events": report.events,
        "changed": report.changed,
        "people_per_s": round(report.people / seconds),
        "events_per_s": round(report.events / seconds),
    }


def profile_rebuild(name: str, people: int, events: int, seed: int, top: int = 25) -> dict[str, Any]:
    try:
        url = create_database(name)
        database, found = prepare(url)
        bulk_load(url, found, people, events, seed)
        fill_projection(url)
        profiler = cProfile.Profile()
        begun = time.perf_counter()
        profiler.enable()
        with database.session() as session:
            report = ledger.rebuild(session, batch=1000)
        profiler.disable()  # after the session's commit: the profile includes it
        wall = time.perf_counter() - begun
        database.dispose()
    finally:
        drop_database(name)
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    stats.sort_stats("tottime").print_stats(top)
    print(stream.getvalue(), file=sys.stderr)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = []
    for (path, line, func), (_cc, calls, tottime, cumtime, _callers) in sorted(
        stats.stats.items(),  # type: ignore[attr-defined]
        key=lambda item: -item[1][2],
    )[:top]:
        rows.append(
            {
                "function": f"{_short(path)}:{line}({func})",
                "calls": calls,
                "tottime_s": round(tottime, 3),
                "cumtime_s": round(cumtime, 3),
            }
        )
    return {
        "people": people,
        "events": events,
        "wall_s_under_profile": round(wall, 2),
        "profiled_s": round(total, 2),
        "changed": report.changed,
        "buckets_share_of_tottime": _buckets(stats, total),
        "top_by_tottime": rows,
    }


def _short(path: str) -> str:
    for marker in ("site-packages/", "src/"):
        if marker in path:
            return path.split(marker, 1)[1]
    return path


def _buckets(stats: pstats.Stats, total: float) -> dict[str, float]:
    """Share of own time by where the code lives."""
    buckets: dict[str, float] = {}
    for (path, _line, func), (_cc, _calls, tottime, _cumtime, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if "sqlalchemy" in path:
            key = "sqlalchemy"
        elif "psycopg" in path or func.startswith("<method 'fetch") or "psycopg" in func:
            key = "psycopg (driver, C calls)"
        elif "/json/" in path:
            key = "json (stdlib: parsing the JSON columns)"
        elif "charter/ledger/codec" in path:
            key = "charter.ledger.codec (decode/compare)"
        elif "charter/ledger/projection" in path or "dataclasses" in path:
            key = "charter.ledger.projection (apply) + dataclasses.replace"
        elif "charter/ledger/service" in path:
            key = "charter.ledger.service (to_event, rebuild loop)"
        elif "pydantic" in path:
            key = "pydantic (model_construct)"
        elif path == "~":
            key = "builtins / C methods"
        else:
            key = "other python"
        buckets[key] = buckets.get(key, 0.0) + tottime
    return {k: round(v / total, 3) for k, v in sorted(buckets.items(), key=lambda kv: -kv[1])}


def environment() -> dict[str, Any]:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],  # noqa: S607 - git from PATH, read-only
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "src"],  # noqa: S607 - git from PATH, read-only
                cwd=root,
                capture_output=True,
                text=True,
                check=False,
            ).stdout.strip()
        )
    except OSError:
        commit, dirty = "?", True
    with psycopg.connect(libpq(_pg.ADMIN_URL)) as conn:
        server = conn.execute("SHOW server_version").fetchone()
        buffers = conn.execute("SHOW shared_buffers").fetchone()
    return {
        "python": sys.version.split()[0],
        "cpus": os.cpu_count(),
        "loadavg_whole_machine_at_start": [round(x, 2) for x in os.getloadavg()],
        "postgresql": server[0] if server else "?",
        "shared_buffers": buffers[0] if buffers else "?",
        "commit": commit,
        "src_dirty": dirty,
        "date": datetime.now(UTC).date().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--lookups", type=int, default=2_000)
    parser.add_argument("--heavy-lookups", type=int, default=500)
    parser.add_argument(
        "--api-lookups", type=int, default=200, help="Lookups through decisions.service._states; 0: none."
    )
    parser.add_argument("--rebuild-timeout", type=float, default=1200.0, help="Seconds before rebuild is abandoned.")
    parser.add_argument("--profile-people", type=int, default=10_000)
    parser.add_argument("--profile-events", type=int, default=100_000, help="0: no profile.")
    parser.add_argument("--database", default=default_name("scale"), help="The database (created, dropped).")
    parser.add_argument(
        "--profile-database", default=default_name("scale_profile"), help="The profile's database (created, dropped)."
    )
    add_admin_option(parser)
    parser.add_argument("--keep", action="store_true", help="Keep the database afterwards.")
    parser.add_argument(
        "--reuse", action="store_true", help="Use the database left by --keep: no load, lookups (and rebuild) only."
    )
    parser.add_argument("--no-rebuild", action="store_true", help="Skip the full rebuild.")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.events < args.people:
        parser.error("--events must be at least --people (every person gets one event or more)")
    if args.reuse and args.database == default_name("scale"):
        parser.error("--reuse measures on a database kept by --keep: name it with --database")
    use_admin_url(args.admin_url)
    check_name(args.database)
    check_name(args.profile_database)

    result: dict[str, Any] = {"environment": environment(), "people": args.people, "events": args.events}
    if args.profile_events:
        log(f"profile: rebuild of a {args.profile_events:,}-event slice under cProfile")
        result["rebuild_profile"] = profile_rebuild(
            args.profile_database, args.profile_people, args.profile_events, args.seed
        )

    database = None
    try:
        if args.reuse:
            url = database_url(args.database)
            with psycopg.connect(libpq(url)) as conn:
                people = conn.execute("SELECT count(*) FROM people").fetchone()
                events = conn.execute("SELECT count(*) FROM ledger_events").fetchone()
            args.people, args.events = int(people[0]) if people else 0, int(events[0]) if events else 0
            result.update(people=args.people, events=args.events, reused_database=args.database)
            log(f"reusing {args.database}: {args.people:,} people, {args.events:,} events")
        else:
            url = create_database(args.database)
            log(f"database {args.database} created")
        if args.reuse:
            database = Database(url)
        else:
            database, found = prepare(url)
            result["event_templates"] = len(found)
            begun = time.perf_counter()
            result["bulk_load"] = bulk_load(url, found, args.people, args.events, args.seed)
            result["bulk_load"]["total_s"] = round(time.perf_counter() - begun, 1)
            log("projection: folding every person's events")
            seconds = fill_projection(url)
            result["projection_fill"] = {"seconds": round(seconds, 1), "events_per_s": round(args.events / seconds)}
            log(f"projection filled in {seconds:.1f}s")
        result["projection_bytes_check"] = check_projection_bytes(database, args.people, 50, args.seed)
        with psycopg.connect(libpq(url)) as conn:
            sizes = conn.execute(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
                " WHERE relname IN ('people', 'identities', 'ledger_events', 'subject_states')"
            ).fetchall()
        result["table_sizes_mb"] = {name: round(size / 2**20) for name, size in sorted(sizes)}

        log("lookups: warming up")
        lookups(database, args.people, 200, args.seed + 10, lambda rng: rng.randint(1, args.people))
        log(f"lookups: {args.lookups:,} random people")
        result["lookup_random_person"] = lookups(
            database, args.people, args.lookups, args.seed + 11, lambda rng: rng.randint(1, args.people)
        )
        log(json.dumps(result["lookup_random_person"]))
        heavy_count = max(1, args.people // 100)
        result["lookup_heavy_person"] = lookups(
            database,
            args.people,
            args.heavy_lookups,
            args.seed + 12,
            lambda rng: (rng.randrange(heavy_count) + 1) * 100,
        )
        log(json.dumps(result["lookup_heavy_person"]))

        if args.api_lookups:
            log(f"lookups: {args.api_lookups:,} through the decisions API's person lookup")
            result["lookup_decisions_api_path"] = api_lookups(database, args.people, args.api_lookups, args.seed + 13)
            log(json.dumps(result["lookup_decisions_api_path"]))

        if not args.no_rebuild:
            log("rebuild: the whole ledger (ledger.rebuild, batch 1000)")
            result["rebuild"] = timed_rebuild(database, args.rebuild_timeout, args.people, args.events)
            log(json.dumps(result["rebuild"]))
    finally:
        if database is not None:
            database.dispose()
        if not args.keep:
            drop_database(args.database)
            log(f"database {args.database} dropped")
    result["total_run_s"] = round(time.perf_counter() - STARTED, 1)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
