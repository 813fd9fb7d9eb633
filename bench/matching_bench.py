"""What matching identities as people expect costs (issue 11): e-mail compared case- and space-insensitively.

Charter looks an e-mail up as ``lower(btrim(column, E' \\t\\n\\r')) = ANY(:values)`` (PostgreSQL) or the same
folding with nested REPLACE and TRIM ``IN (…)`` (MariaDB),
so ``Eduardo@Example.com`` is found for ``eduardo@example.com``. An index on the bare column cannot serve that;
``charter datamap check --live`` names the functional index that can. This bench measures, on one table of
``--rows`` rows (default 1,000,000) with mixed-case, space-padded e-mails, the time of one lookup of
``--values`` e-mails (default 1: one request) in three ways, in the same run:

* ``exact_indexed``: ``email = ANY(:v)`` with a plain index (the old, wrong, comparison: the baseline);
* ``folded_no_index``: the folded comparison with only the plain index (what a store gets by default);
* ``folded_indexed``: the same after ``CREATE INDEX … (lower(btrim(email, E' \\t\\n\\r')))``.

MariaDB cannot index an expression; there the bench measures the folded lookup with the plain index only
(``--mariadb``). Medians of ``--samples`` lookups of random people; JSON on stdout, progress on stderr. The
database ``--database`` (default ``charter_bench_matching_<pid>``) is created through ``--admin-url``
(PostgreSQL) or ``--mariadb-admin-url`` (MariaDB) and dropped afterwards, whatever happens, unless ``--keep``. Run::

    .venv/bin/python bench/matching_bench.py --rows 1000000
    .venv/bin/python bench/matching_bench.py --rows 1000000 --mariadb
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import statistics
import time
from typing import Any

import _mariadb
import _pg
import psycopg
from _pg import libpq, log
from sqlalchemy import Engine, bindparam, create_engine, text


def _email(n: int, rng: random.Random) -> tuple[str, str]:
    """(as stored: mixed case, sometimes padded; as a person types it)."""
    typed = f"person.{n}@example{n % 97}.org"
    stored = "".join(ch.upper() if rng.random() < 0.3 else ch for ch in typed)
    return (f" {stored}" if n % 11 == 0 else stored), typed


def _median_ms(run: Any, wanted: list[list[str]]) -> float:
    """The median of one lookup per sample, after one untimed lookup (the plan prepared, the pages warm)."""
    run(wanted[0])
    times = []
    for values in wanted:
        started = time.perf_counter()
        run(values)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 3)


def postgres(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    try:
        url = _pg.create_database(args.database)
        with psycopg.connect(libpq(url), autocommit=True) as conn:
            conn.execute("CREATE TABLE customer (id integer PRIMARY KEY, email text NOT NULL, name text)")
            log(f"loading {args.rows:,} rows")
            buffer = io.StringIO()
            for n in range(args.rows):
                buffer.write(f"{n}\t{_email(n, rng)[0]}\tname {n}\n")
            buffer.seek(0)
            with conn.cursor().copy("COPY customer (id, email, name) FROM STDIN") as copy:
                copy.write(buffer.read())
            conn.execute("CREATE INDEX customer_email ON customer (email)")
            conn.execute("ANALYZE customer")
            stored, typed = _samples(args)

            def exact(values: list[str]) -> None:
                conn.execute("SELECT * FROM customer WHERE email = ANY(%s)", (values,)).fetchall()

            def folded(values: list[str]) -> None:
                found = conn.execute(
                    "SELECT * FROM customer WHERE lower(btrim(email, E' \\t\\n\\r')) = ANY(%s)", (values,)
                ).fetchall()
                assert len(found) == len(values), "every person must be found"

            log("exact, plain index")
            out = {"exact_indexed_ms": _median_ms(exact, stored)}
            log("folded, plain index only")
            out["folded_no_index_ms"] = _median_ms(folded, typed[: max(3, args.samples // 10)])
            conn.execute("CREATE INDEX customer_email_folded ON customer (lower(btrim(email, E' \\t\\n\\r')))")
            conn.execute("ANALYZE customer")
            log("folded, functional index")
            out["folded_indexed_ms"] = _median_ms(folded, typed)
    finally:
        if not args.keep:
            _pg.drop_database(args.database)
    out["ratio_folded_indexed_to_exact"] = round(out["folded_indexed_ms"] / out["exact_indexed_ms"], 2)
    out["ratio_folded_no_index_to_exact"] = round(out["folded_no_index_ms"] / out["exact_indexed_ms"], 1)
    return out


def _samples(args: argparse.Namespace) -> tuple[list[list[str]], list[list[str]]]:
    """Random people to look up: (their ids, their e-mails as stored, as they type them)."""
    people = [random.Random(n).sample(range(args.rows), args.values) for n in range(args.samples)]
    wanted = {n for group in people for n in group}
    rng = random.Random(7)  # the loader's generator, replayed: the stored spelling depends on its state
    spelled: dict[int, tuple[str, str]] = {}
    for n in range(args.rows):
        pair = _email(n, rng)
        if n in wanted:
            spelled[n] = pair
    return [[spelled[n][0] for n in g] for g in people], [[spelled[n][1] for n in g] for g in people]


def mariadb(args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(7)
    engine: Engine | None = None
    try:
        engine = create_engine(_mariadb.create_database(args.database))
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE customer (id INT PRIMARY KEY, email VARCHAR(200) NOT NULL, name TEXT)"))
            log(f"loading {args.rows:,} rows")
            batch = []
            for n in range(args.rows):
                batch.append({"id": n, "email": _email(n, rng)[0], "name": f"name {n}"})
                if len(batch) == 10_000:
                    conn.execute(text("INSERT INTO customer VALUES (:id, :email, :name)"), batch)
                    batch = []
            if batch:
                conn.execute(text("INSERT INTO customer VALUES (:id, :email, :name)"), batch)
            conn.execute(text("CREATE INDEX customer_email ON customer (email)"))
        stored, typed = _samples(args)
        with engine.connect() as conn:
            exact_statement = text("SELECT * FROM customer WHERE email IN :v").bindparams(
                bindparam("v", expanding=True)
            )
            folded_statement = text(
                "SELECT * FROM customer WHERE lower(trim(replace(replace(replace(email, char(9), ''), char(10), ''),"
                " char(13), ''))) IN :v"
            ).bindparams(bindparam("v", expanding=True))

            def exact(values: list[str]) -> None:  # an expanding IN, as the connector sends it
                conn.execute(exact_statement, {"v": values}).fetchall()

            def folded(values: list[str]) -> None:
                assert len(conn.execute(folded_statement, {"v": values}).fetchall()) == len(values)

            log("exact, plain index")
            out = {"exact_indexed_ms": _median_ms(exact, stored)}
            log("folded, plain index only")
            out["folded_no_index_ms"] = _median_ms(folded, typed[: max(3, args.samples // 10)])
    finally:
        if engine is not None:
            engine.dispose()
        if not args.keep:
            _mariadb.drop_database(args.database)
    out["ratio_folded_no_index_to_exact"] = round(out["folded_no_index_ms"] / out["exact_indexed_ms"], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--values", type=int, default=1, help="e-mails per lookup (1: one request)")
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--database", default=f"charter_bench_matching_{os.getpid()}")
    _pg.add_admin_option(parser)
    parser.add_argument("--mariadb", action="store_true", help="measure MariaDB instead of PostgreSQL")
    _mariadb.add_admin_option(parser)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()
    _pg.use_admin_url(args.admin_url)
    _mariadb.use_admin_url(args.mariadb_admin_url)
    (_mariadb if args.mariadb else _pg).check_name(args.database)
    figures = mariadb(args) if args.mariadb else postgres(args)
    store = "mariadb" if args.mariadb else "postgresql"
    print(json.dumps({"bench": "matching", "store": store, "rows": args.rows, "values": args.values, **figures}))


if __name__ == "__main__":
    main()
