"""What the PostgreSQL benches share: the admin URL, a stderr clock, creating and dropping their databases."""

from __future__ import annotations

import os
import sys
import time

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

#: where the benches create and drop their databases (the server's maintenance database, never a test one);
#: ``use_admin_url`` (each bench's ``--admin-url``) replaces it for the run
ADMIN_URL = os.environ.get("CHARTER_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
STARTED = time.perf_counter()


def log(message: str) -> None:
    """Progress on stderr, with seconds since the bench started; stdout is kept for the JSON."""
    print(f"[{time.perf_counter() - STARTED:7.1f}s] {message}", file=sys.stderr, flush=True)


def libpq(url: str) -> str:
    """The SQLAlchemy URL as psycopg's own connection string (for COPY through raw psycopg)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def use_admin_url(url: str) -> None:
    global ADMIN_URL  # a bench is one run against one server: a module setting is all it needs
    ADMIN_URL = url


def create_database(name: str) -> str:
    """A new empty database ``name`` (an older one of that name dropped first); its URL."""
    drop_database(name)
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def drop_database(name: str) -> None:
    admin = create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()
