"""What the MariaDB benches share: the admin URL (``--mariadb-admin-url``), creating and dropping databases.

The admin URL names a server and an account allowed to create databases; its database part is not used
(``CHARTER_BENCH_MARIADB_URL``, default root on 127.0.0.1:3306). Names are checked as in ``_pg``.
"""

from __future__ import annotations

import argparse
import os
from typing import Any

import pymysql
from _pg import RESERVED
from sqlalchemy.engine import make_url

DEFAULT_ADMIN_URL = "mysql+pymysql://root@127.0.0.1:3306"
ADMIN_URL = os.environ.get("CHARTER_BENCH_MARIADB_URL", DEFAULT_ADMIN_URL)


def add_admin_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mariadb-admin-url",
        default=ADMIN_URL,
        help="MariaDB URL the bench creates and drops its databases through (default: CHARTER_BENCH_MARIADB_URL, "
        "else root on 127.0.0.1:3306)",
    )


def use_admin_url(url: str) -> None:
    global ADMIN_URL  # one server per run, as in _pg
    ADMIN_URL = url


def check_name(name: str) -> str:
    if not name or name.lower() in RESERVED or name.lower() == "performance_schema" or "`" in name:
        raise SystemExit(f"refusing to create or drop the MariaDB database {name!r}: give the bench a name of its own")
    return name


def database_url(name: str, admin_url: str | None = None) -> str:
    return make_url(admin_url or ADMIN_URL).set(database=name).render_as_string(hide_password=False)


def connect(database: str | None = None, *, admin_url: str | None = None, autocommit: bool = True) -> Any:
    """A PyMySQL connection to the admin URL's server (``LOAD DATA LOCAL INFILE`` allowed)."""
    url = make_url(admin_url or ADMIN_URL)
    return pymysql.connect(
        host=url.host or "127.0.0.1",
        port=url.port or 3306,
        user=url.username or "root",
        password=url.password or "",
        database=database,
        local_infile=True,
        autocommit=autocommit,
    )


def create_database(name: str) -> str:
    """A new empty database ``name`` (utf8mb4; an older one of that name dropped first); its URL."""
    drop_database(name)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    return database_url(name)


def drop_database(name: str) -> None:
    check_name(name)
    with connect() as conn, conn.cursor() as cur:
        cur.execute(f"DROP DATABASE IF EXISTS `{name}`")


def database_exists(name: str) -> bool:
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM information_schema.schemata WHERE schema_name = %s", (name,))
        return bool(cur.fetchone()[0])
