"""Job fixtures: the demo shop and support desk in a real PostgreSQL store, and ``charter worker`` processes.

Charter's own database is the PostgreSQL ``database`` fixture (two worker
processes on one SQLite file would test SQLite's locking, not ours). The
workers consume a queue under this test's own Redis key prefix
(``redis_prefix``), so parallel test runs never see each other's jobs, and
are always killed at teardown. Waits poll with a deadline and fail with the
workers' logs; nothing asserts on time.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from charter.db import Database
from charter.demo import people, stores
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.services import Services
from charter.settings import DatabaseSettings, DatamapSettings, JobSettings, Settings
from tests.conftest import EXAMPLES, POSTGRES_ADMIN_URL, missing_server
from tests.requests.conftest import approved_request
from tests.subjects.factories import publish_examples

CHARTER = Path(sys.executable).parent / "charter"
DEADLINE = 90.0  # seconds: a bound on a wait, never an assertion on speed
SYSTEMS = """
systems:
  - id: shop
    kind: sql
    url_env: JOBS_TEST_SHOP_URL
    datasets: [west_shop]
  - id: support
    kind: sql
    url_env: JOBS_TEST_SUPPORT_URL
    datasets: [west_support]
"""


@pytest.fixture(scope="session")
def store_database(worker_id: str) -> Iterator[str]:
    """A PostgreSQL database for the demo stores (both datasets: their table names do not collide)."""
    name = f"charter_test_store_{worker_id}_{os.getpid()}".replace("-", "_")
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any failure to reach the server means "unavailable"
        admin.dispose()
        missing_server("PostgreSQL", type(exc).__name__)
    yield make_url(POSTGRES_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def store_url(store_database: str) -> str:
    """The store database refilled with the demo's 30 people (the same rows every time)."""
    engine = create_engine(store_database)
    try:
        emails = people.emails(30)
        for metadata, first, rows in (
            (stores.shop, stores.customers, stores.shop_rows(emails, random.Random(stores.SEED))),
            (stores.support, stores.tickets, stores.support_rows(emails, random.Random(stores.SEED + 1))),
        ):
            metadata.drop_all(engine)
            stores.fill(engine, metadata, first, rows)
    finally:
        engine.dispose()
    return store_database


@dataclass
class Stack:
    """Settings and services of the test process, and the environment a worker process gets for the same."""

    services: Services
    env: dict[str, str]

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def database(self) -> Database:
        return self.services.database

    def approved(self, kind: RequestKind, email: str) -> str:
        """A request verified by its code and approved (facts checked), as the privacy office leaves it."""
        return approved_request(self.services, kind, email)

    def status(self, public_id: str) -> str:
        with self.database.session() as session:
            return review.get(session, public_id).status


@pytest.fixture
def stack(database: Database, store_url: str, redis_prefix: tuple[str, str], tmp_path: Path) -> Iterator[Stack]:
    """Charter on PostgreSQL with the West data map over the store database, jobs on the real Redis."""
    redis_url, prefix = redis_prefix
    home = tmp_path / "home"
    folder = tmp_path / "datamap"
    shutil.copytree(EXAMPLES / "datamap" / "datasets", folder / "datasets")
    (folder / "systems.yaml").write_text(SYSTEMS)
    publish_examples(database)
    jobs = JobSettings(backend="celery", broker_url=redis_url, key_prefix=f"{prefix}:", queue="charter")
    settings = Settings.load(
        env="test",
        home=home,
        database=DatabaseSettings(url=database.url),
        datamap=DatamapSettings(path=folder),
        jobs=jobs,
    )
    settings.secret_key()  # written once under home: the workers read the same key (same vault)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHARTER_", "JOBS_TEST_"))}
    env.update(
        CHARTER_ENV="test",
        CHARTER_HOME=str(home),
        CHARTER_DATABASE_URL=database.url,
        CHARTER_DATAMAP_PATH=str(folder),
        CHARTER_JOBS_BACKEND="celery",
        CHARTER_JOBS_BROKER_URL=redis_url,
        CHARTER_JOBS_KEY_PREFIX=f"{prefix}:",
        CHARTER_JOBS_QUEUE="charter",
        JOBS_TEST_SHOP_URL=store_url,
        JOBS_TEST_SUPPORT_URL=store_url,
    )
    built = Services(settings)
    yield Stack(built, env)
    built.close()


@dataclass
class Workers:
    """``charter worker`` processes started by a test; all killed at teardown, their logs kept for messages."""

    env: dict[str, str]
    folder: Path
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def start(self, *args: str, **env: str) -> subprocess.Popen[bytes]:
        log = self.folder / f"worker-{len(self.procs) + 1}.log"
        with log.open("wb") as handle:
            proc = subprocess.Popen(
                [str(CHARTER), "worker", "--loglevel", "info", *args],
                env={**self.env, **env},
                stdout=handle,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.procs.append(proc)
        self.logs.append(log)
        return proc

    def wait_ready(self) -> None:
        """Wait until every worker started so far consumes the queue (started together, they import in parallel)."""
        for number, log in enumerate(self.logs, start=1):
            self.wait_for(lambda log=log: "ready." in log.read_text(errors="replace"), f"worker {number} to start")

    def output(self) -> str:
        return "\n".join(f"--- {log.name}\n{log.read_text(errors='replace')[-4000:]}" for log in self.logs)

    def wait_for(self, condition: Callable[[], Any], what: str, deadline: float = DEADLINE) -> Any:
        """Poll ``condition`` until it is truthy; fail with the workers' logs after ``deadline`` seconds."""
        end = time.monotonic() + deadline
        while True:
            found = condition()
            if found:
                return found
            for proc in self.procs:
                if proc.poll() not in (None, -signal.SIGKILL):
                    pytest.fail(f"a worker exited ({proc.returncode}) while waiting for {what}\n{self.output()}")
            if time.monotonic() > end:
                pytest.fail(f"gave up waiting for {what} after {deadline:.0f} s\n{self.output()}")
            time.sleep(0.1)

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
            proc.wait()


@pytest.fixture
def workers(stack: Stack, tmp_path: Path) -> Iterator[Workers]:
    started = Workers(stack.env, tmp_path)
    try:
        yield started
    finally:
        started.stop_all()
