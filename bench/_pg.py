"""What the PostgreSQL benches share: the admin URL, a stderr clock, creating and dropping their databases.

Every bench that creates a database takes ``--admin-url`` (default ``CHARTER_BENCH_POSTGRES_URL``, then the
local server's maintenance database ``postgres``) and one option per database it creates, whose default
is a name of its own with the bench's pid (``default_name``): two benches, or two runs of one, never
share a database, and none is named ``test`` or after the admin database (``create_database`` refuses).
What a bench created is dropped in a ``finally`` (KeyboardInterrupt included) unless ``--keep``.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: the local server's maintenance database: where databases are created and dropped, never used for data
DEFAULT_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
#: where the benches create and drop their databases; ``use_admin_url`` (each bench's ``--admin-url``)
#: replaces it for the run
ADMIN_URL = os.environ.get("CHARTER_BENCH_POSTGRES_URL", DEFAULT_ADMIN_URL)
STARTED = time.perf_counter()
#: names a bench may never create or drop, whatever its options say
RESERVED = frozenset({"postgres", "template0", "template1", "test", "mysql", "information_schema", "sys"})


def log(message: str) -> None:
    """Progress on stderr, with seconds since the bench started; stdout is kept for the JSON."""
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def default_name(stem: str) -> str:
    """A database name of this run's own: ``charter_bench_<stem>_<pid>``."""
    return f"charter_bench_{stem}_{os.getpid()}"


def add_admin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--admin-url",
        default=ADMIN_URL,
        help="PostgreSQL URL the bench creates and drops its databases through (default: "
        "CHARTER_BENCH_POSTGRES_URL, else the local server's 'postgres' database)",
    )


def libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg's own connection string (for COPY through raw psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def use_admin_url(url: str) -> None:
    global ADMIN_URL  # a bench is one run against one server: a module setting is all it needs
    ADMIN_URL = url


def database_url(name: str) -> str:
    """The URL of database ``name`` on the admin URL's server."""
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def check_name(name: str) -> str:
    """``name`` if a bench may create and drop it: not the admin database, ``test``, nor a system one."""
    if not name or name.lower() in RESERVED or name == make_url(ADMIN_URL).database or '"' in name:
        raise SystemExit(f"refusing to create or drop the database {name!r}: give the bench a name of its own")
    return name


def create_database(name: str) -> str:
    """A new empty database ``name`` (an older one of that name dropped first); its URL."""
    drop_database(name)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return database_url(name)


def drop_database(name: str) -> None:
    check_name(name)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def database_exists(name: str) -> bool:
    admin = create_engine(ADMIN_URL)
    try:
        with admin.connect() as conn:
            found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first()
    finally:
        admin.dispose()
    return found is not None
