"""Shared fixtures: real databases (SQLite file and PostgreSQL), settings, data.

Storage tests take the ``database`` fixture and run once per backend. A
PostgreSQL that is not reachable skips those runs locally, with the reason;
under ``CI=true`` it fails them instead, because CI must test both. The
data stores connectors read (``mariadb_url``, ``redis_prefix``) follow the
same rule.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text
from sqlalchemy.engine import make_url

from charter.db import Database, migrate
from charter.db.models import metadata
from charter.settings import Settings

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples" / "west"
POSTGRES_ADMIN_URL = os.environ.get("CHARTER_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
MARIADB_ADMIN_URL = os.environ.get("CHARTER_TEST_MARIADB_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("CHARTER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
IN_CI = os.environ.get("CI", "").lower() == "true"


def missing_server(what: str, reason: str) -> None:
    """Skip locally, fail in CI: a missing server is never silently skipped there."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but unavailable: {reason}")
    pytest.skip(f"{what} unavailable: {reason}")


@pytest.fixture(scope="session")
def postgres_url(worker_id: str) -> Iterator[str]:
    """A fresh, migrated PostgreSQL database for this test worker and process.

    The process id keeps two test runs on one machine (two engineers, or a
    developer and a helper) from dropping each other's database.
    """
    name = f"charter_test_{worker_id}_{os.getpid()}".replace("-", "_")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            for stale in _abandoned_databases(conn):
                conn.execute(text(f'DROP DATABASE IF EXISTS "{stale}" WITH (FORCE)'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "unavailable"
        admin.dispose()
        missing_server("PostgreSQL", type(exc).__name__)
    url = make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    database = Database(url)
    migrate(database)
    database.dispose()
    yield url
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _abandoned_databases(conn: Connection) -> list[str]:
    """Test databases whose run was killed: their process no longer exists."""
    names = conn.execute(text("SELECT datname FROM pg_database WHERE datname LIKE 'charter_test_%'")).scalars()
    abandoned = []
    for name in names:
        pid = name.rsplit("_", 1)[-1]
        if pid.isdigit() and not _alive(int(pid)):
            abandoned.append(name)
    return abandoned


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@pytest.fixture(scope="session")
def mariadb_url(worker_id: str) -> Iterator[str]:
    """A fresh, empty MariaDB/MySQL database for this test worker and process (a data store, not Charter's)."""
    name = f"charter_test_{worker_id}_{os.getpid()}".replace("-", "_")
    admin = create_engine(MARIADB_ADMIN_URL)
    try:
        with admin.begin() as conn:
            stale = conn.execute(text("SHOW DATABASES LIKE 'charter\\_test\\_%'")).scalars()
            for old in [n for n in stale if n.rsplit("_", 1)[-1].isdigit() and not _alive(int(n.rsplit("_", 1)[-1]))]:
                conn.execute(text(f"DROP DATABASE IF EXISTS `{old}`"))
            conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
            conn.execute(text(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4"))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "unavailable"
        admin.dispose()
        missing_server("MariaDB", type(exc).__name__)
    yield make_url(MARIADB_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.begin() as conn:
        conn.execute(text(f"DROP DATABASE IF EXISTS `{name}`"))
    admin.dispose()


@pytest.fixture
def redis_prefix(worker_id: str) -> Iterator[tuple[str, str]]:
    """(URL, key prefix) on the real Redis: the prefix is this test's own; its keys are deleted afterwards."""
    import uuid

    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        client.close()
        missing_server("Redis", type(exc).__name__)
    prefix = f"charter_test_{worker_id}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    yield REDIS_URL, prefix
    for key in client.scan_iter(match=f"{prefix}*", count=500):
        client.delete(key)
    client.close()


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'charter.db'}")
        migrate(db)
        yield db
        db.dispose()
        return
    url = request.getfixturevalue("postgres_url")
    db = Database(url)
    tables = ", ".join(f'"{t.name}"' for t in metadata.sorted_tables)
    with db.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    db.dispose()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings.load(env="test", home=tmp_path / "home")


@pytest.fixture
def statement_2019_text() -> str:
    return (EXAMPLES / "statement-2019.yaml").read_text()


@pytest.fixture
def statement_2023_text() -> str:
    return (EXAMPLES / "statement-2023.yaml").read_text()
