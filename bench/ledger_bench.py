"""Ledger figures on SQLite and PostgreSQL: appends, state lookups, rebuild (issue 3, "Figures").

For each backend, in a fresh migrated database:

1. bulk-load ``--people`` people (one e-mail identity each, hashed and
   sealed as Charter stores them) and ``--events`` events spread over them
   (COPY on PostgreSQL, ``executemany`` on SQLite) — a ledger of that size
   without going through ``record`` one by one;
2. ``rebuild``: recompute every state from the events (timed; this is also
   what fills the projection after the bulk load);
3. ``append``: ``--append`` events through ``ledger.record`` (projection
   update and audit entry included), one transaction each, then in
   transactions of 100;
4. ``lookup``: ``--lookups`` state lookups of random people by e-mail
   (keyed-hash resolve + stored state), with p50/p99 latency.

Prints one JSON document. The 1M-people / 10M-events PostgreSQL figures
(fast COPY load, lookups against a naive fold, full rebuild, profile) are
``bench/ledger_scale_bench.py``; see docs/bench.md.

Run: ``.venv/bin/python bench/ledger_bench.py [--people N] [--events N] [--backends sqlite,postgresql]``.
PostgreSQL: ``--database`` (default ``charter_bench_ledger_<pid>``) is created through ``--admin-url``
(default ``CHARTER_BENCH_POSTGRES_URL``, else the local server's ``postgres`` database) and dropped
afterwards, whatever happens. SQLite: a file in a temporary folder, removed afterwards. Every timing
ends after the transaction it measures has committed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _pg import add_admin_option, check_name, create_database, default_name, drop_database, use_admin_url

from charter.crypto import KeyRing
from charter.db import Database, migrate
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.subjects import service as subjects
from charter.subjects.normalize import IdentityKind

PURPOSES = [
    "analytics_trends_benchmarks",
    "analytics_usage_engagement",
    "analytics_customer_insight",
    "marketing_new_services",
    "email_open_tracking",
]
START = datetime(2023, 1, 2, tzinfo=UTC)
VAULT = subjects.Vault(KeyRing(b"bench secret key, not for production use"), "US")
CHUNK = 20_000


def email(n: int) -> str:
    return f"person{n}@example.org"


def _event(rng: random.Random) -> tuple[str, datetime, str, dict[str, Any]]:
    at = START + timedelta(seconds=rng.randrange(0, 600 * 86_400))
    roll = rng.random()
    if roll < 0.55:
        kind = EventKind.CONSENT_GIVEN if rng.random() < 0.7 else EventKind.CONSENT_WITHDRAWN
        return kind.value, at, Source.BANNER.value, {"purpose": rng.choice(PURPOSES)}
    if roll < 0.7:
        return EventKind.SIGNAL_GPC.value, at, Source.BROWSER_SIGNAL.value, {"on": rng.random() < 0.8}
    if roll < 0.85:
        return EventKind.PREFERENCE_SET.value, at, Source.PRIVACY_CENTER.value, {"key": "newsletter", "value": True}
    if roll < 0.95:
        return EventKind.UNSUBSCRIBED.value, at, Source.EMAIL_LINK.value, {}
    return EventKind.SALE_SHARING_OPTED_OUT.value, at, Source.PRIVACY_CENTER.value, {}


def people_rows(count: int) -> Iterator[tuple[int, str, datetime]]:
    for n in range(1, count + 1):
        yield n, f"{n:032x}", START


def identity_rows(count: int) -> Iterator[tuple[int, int, str, str, bytes, datetime]]:
    kind = IdentityKind.EMAIL
    for n in range(1, count + 1):
        digest = VAULT.lookup_hash(kind, email(n))
        yield n, n, kind.value, digest, VAULT.seal(kind, email(n), digest), START


def event_rows(people: int, events: int, rng: random.Random) -> Iterator[tuple[Any, ...]]:
    for n in range(events):
        person = n % people + 1 if n < people else rng.randint(1, people)
        kind, at, source, data = _event(rng)
        yield person, kind, at, START, source, "2023-01-01", "US-CA", "{}", json.dumps(data)


def _chunks(rows: Iterator[tuple[Any, ...]]) -> Iterator[list[tuple[Any, ...]]]:
    chunk: list[tuple[Any, ...]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


EVENT_COLUMNS = "person_id, kind, at, recorded_at, source, statement_version, jurisdiction, evidence, data"


def iso(rows: list[tuple[Any, ...]]) -> list[list[Any]]:
    """Rows with datetimes as text in UTC, the way SQLAlchemy stores Charter's UTCDateTime in SQLite."""
    return [[_sqlite_time(v) if isinstance(v, datetime) else v for v in row] for row in rows]


def _sqlite_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def bulk_load(database: Database, people: int, events: int, rng: random.Random) -> float:
    started = time.perf_counter()
    raw = database.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if database.engine.dialect.name == "postgresql":
            with cursor.copy("COPY people (id, public_id, created_at) FROM STDIN") as copy:
                for person_row in people_rows(people):
                    copy.write_row(person_row)
            with cursor.copy(
                "COPY identities (id, person_id, kind, lookup_hash, sealed, created_at) FROM STDIN"
            ) as copy:
                for identity_row in identity_rows(people):
                    copy.write_row(identity_row)
            with cursor.copy(f"COPY ledger_events ({EVENT_COLUMNS}) FROM STDIN") as copy:
                for row in event_rows(people, events, rng):
                    copy.write_row(row)
            for table in ("people", "identities"):
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            cursor.execute("ANALYZE")
        else:
            for chunk in _chunks(people_rows(people)):
                cursor.executemany("INSERT INTO people (id, public_id, created_at) VALUES (?, ?, ?)", iso(chunk))
            for chunk in _chunks(identity_rows(people)):
                cursor.executemany(
                    "INSERT INTO identities (id, person_id, kind, lookup_hash, sealed, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    iso(chunk),
                )
            for chunk in _chunks(event_rows(people, events, rng)):
                cursor.executemany(
                    f"INSERT INTO ledger_events ({EVENT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", iso(chunk)
                )
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def measure(database: Database, people: int, events: int, appends: int, lookups: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    result: dict[str, Any] = {"people": people, "events": events}
    result["bulk_load_s"] = round(bulk_load(database, people, events, rng), 2)

    started = time.perf_counter()
    with database.session() as session:
        report = ledger.rebuild(session, batch=1000)
    result["rebuild_s"] = round(time.perf_counter() - started, 2)
    result["rebuild"] = report.as_dict()

    def append(count: int, per_transaction: int) -> float:
        started = time.perf_counter()
        done = 0
        while done < count:
            with database.session() as session:
                for _ in range(min(per_transaction, count - done)):
                    person = subjects.resolve(
                        session, "email", email(rng.randint(1, people)), vault=VAULT, create=False
                    )
                    assert person is not None
                    kind, _at, source, data = _event(rng)
                    at = datetime.now(UTC) - timedelta(seconds=rng.randrange(0, 86_400))  # some back-dated
                    event = Event(kind=EventKind(kind), at=at, source=Source(source), data=data)
                    ledger.record(session, person, event, actor="bench")
                    done += 1
        return count / (time.perf_counter() - started)

    result["append_events_per_s_1_per_txn"] = round(append(appends, 1))
    result["append_events_per_s_100_per_txn"] = round(append(appends, 100))

    latencies = []
    started = time.perf_counter()
    for _ in range(lookups):
        begin = time.perf_counter()
        with database.session() as session:
            person = subjects.resolve(session, "email", email(rng.randint(1, people)), vault=VAULT, create=False)
            assert person is not None
            ledger.state_of(session, person)
        latencies.append(time.perf_counter() - begin)
    elapsed = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=100)
    result["lookups_per_s"] = round(lookups / elapsed)
    result["lookup_p50_ms"] = round(cuts[49] * 1000, 3)
    result["lookup_p99_ms"] = round(cuts[98] * 1000, 3)

    with database.session() as session:
        check = ledger.rebuild(session)
    result["rebuild_after_appends_changed"] = check.changed  # 0: the live projection equals the rebuild
    return result


def run_sqlite(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        database = Database(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate(database)
        try:
            return measure(database, args.people, args.events, args.append, args.lookups, args.seed)
        finally:
            database.dispose()


def run_postgresql(args: argparse.Namespace) -> dict[str, Any]:
    use_admin_url(args.admin_url)
    database: Database | None = None
    try:
        database = Database(create_database(args.database))
        migrate(database)
        return measure(database, args.people, args.events, args.append, args.lookups, args.seed)
    finally:
        if database is not None:
            database.dispose()
        drop_database(args.database)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=10_000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--append", type=int, default=2_000, help="Events appended through ledger.record.")
    parser.add_argument("--lookups", type=int, default=5_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--database", default=default_name("ledger"), help="PostgreSQL database (created, dropped)")
    add_admin_option(parser)
    args = parser.parse_args()
    check_name(args.database)
    if args.events < args.people:
        parser.error("--events must be at least --people (every person gets one event or more)")
    runners = {"sqlite": run_sqlite, "postgresql": run_postgresql}
    figures: dict[str, Any] = {"python": sys.version.split()[0], "cpus": os.cpu_count()}
    for backend in args.backends.split(","):
        figures[backend] = runners[backend](args)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
