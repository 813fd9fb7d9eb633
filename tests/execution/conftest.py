"""Execution fixtures: Charter's database (SQLite and PostgreSQL), the demo's shop and support stores in tmp.

``approved(...)`` leaves a request as the privacy office does: received,
verified by its code, approved (facts checked). The stores hold the demo's
30 people; ``ana@example.org`` has orders, payments and a support ticket.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, delete, select, text, update

from charter.datamap.model import DataMap
from charter.db import Database, pipeline
from charter.db.base import utcnow
from charter.demo import stores
from charter.execution import package, service
from charter.execution.models import ExecutionPackage, ExecutionRun
from charter.execution.runner import Runner
from charter.requests import intake, review
from charter.requests.kinds import RequestKind
from charter.requests.models import PrivacyRequest
from charter.settings import DatabaseSettings, ExecutionSettings, Settings
from charter.subjects.service import Vault
from tests.conftest import EXAMPLES
from tests.requests.conftest import Recorder
from tests.subjects.factories import make_vault, publish_examples

ANA = "ana@example.org"
DATAMAP = EXAMPLES / "datamap"


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    stores.create(path, count=30)
    return path


@pytest.fixture
def config(database: Database, home: Path) -> Settings:
    publish_examples(database)
    return Settings.load(
        env="test",
        home=home,
        database=DatabaseSettings(url=database.url),
        execution=ExecutionSettings(max_attempts=3, retry_base=0.01, retry_max=0.05),
    )


@pytest.fixture
def vault(config: Settings) -> Vault:
    return make_vault(config.secret_key())


@pytest.fixture
def datamap(config: Settings) -> DataMap:
    return service.load_datamap(config, DATAMAP)


def approved(
    database: Database, config: Settings, vault: Vault, kind: RequestKind, email: str = ANA, **details: Any
) -> str:
    mailer = Recorder()
    now = utcnow()
    submission = intake.Submission(kind=kind, identity_kind="email", identity=email, jurisdiction="eu", details=details)
    done = intake.submit(database, mailer, submission, vault=vault, settings=config, now=now)
    intake.verify_code(
        database, done.public_id, mailer.code(), vault=vault, settings=config, now=now + timedelta(seconds=1)
    )
    with database.session() as session:
        review.approve(session, review.get(session, done.public_id), actor="test", vault=vault, identity_checked=True)
    return done.public_id


@pytest.fixture
def make_runner(database: Database, config: Settings, vault: Vault, datamap: DataMap) -> Callable[..., Runner]:
    def build(datamap: DataMap = datamap, **options: Any) -> Runner:
        options.setdefault("sleep", lambda _seconds: None)
        return Runner(database, config, vault, datamap, **options)

    return build


def table(home: Path, name: str, file: str = stores.SHOP_FILE) -> list[dict[str, Any]]:
    """Every row of a demo table, by id."""
    engine = create_engine(f"sqlite:///{home / file}")
    try:
        with engine.connect() as conn:
            return [dict(r) for r in conn.execute(text(f"SELECT * FROM {name} ORDER BY id")).mappings()]
    finally:
        engine.dispose()


# -- the stored package (charter.execution.package: a row of execution_packages since migration 0013) --


def read_package(database: Database, home: Path, vault: Vault, public_id: str) -> bytes:
    """The request's package, opened (its zip bytes)."""
    with database.session() as session:
        return package.read(session, home, vault.keys, public_id)


def _package_row(public_id: str) -> Any:
    runs = select(ExecutionRun.id).join(PrivacyRequest, PrivacyRequest.id == ExecutionRun.request_id)
    return ExecutionPackage.run_id.in_(runs.where(PrivacyRequest.public_id == public_id))


def sealed_package(database: Database, public_id: str) -> bytes | None:
    """The request's package as stored (sealed), or None: read by plain SQL, not through Charter's reader."""
    with database.session() as session:
        found = session.scalar(select(ExecutionPackage.sealed).where(_package_row(public_id)))
    return None if found is None else bytes(found)


def store_package(database: Database, public_id: str, sealed: bytes | None) -> None:
    """Replace the stored package's sealed bytes (a test that damages it), or delete its row (None)."""
    with database.session() as session:
        if sealed is None:
            session.execute(delete(ExecutionPackage).where(_package_row(public_id)))
        else:
            session.execute(update(ExecutionPackage).where(_package_row(public_id)).values(sealed=sealed))


def package_collections(database: Database, home: Path, vault: Vault, public_id: str) -> dict[str, list[Any]]:
    """The package's rows by collection, as ``package.json`` holds them."""
    archive = zipfile.ZipFile(io.BytesIO(read_package(database, home, vault, public_id)))
    document = json.loads(archive.read("package.json"))
    return {c["collection"]: c["rows"] for c in document["collections"]}


# -- a worker that dies, and the one that comes after its lease ---------------------------------------


class Crash(Exception):
    """The worker dies here (a fault the tests put in one place of the run)."""


@contextmanager
def crashing(owner: Any, name: str) -> Iterator[None]:
    """``owner.name`` raises :class:`Crash` inside the block, which expects it; the original is back after."""

    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise Crash

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(owner, name, broken)
        with pytest.raises(Crash):
            yield


@contextmanager
def crashing_before_the_end_commits(database: Database) -> Iterator[None]:
    """The worker dies once the run's end has sent its writes (the steps done, the run closed, the package
    stored) and before the COMMIT: on PostgreSQL between the pipelined end's two round trips
    (``execution.pipelined``), elsewhere as the request is completed, its last write. Expects the crash."""
    if database.engine.dialect.name != "postgresql":
        with crashing(review, "complete"):
            yield
        return
    sync = pipeline.Pipeline.sync

    def dying(self: pipeline.Pipeline, *, commit: bool = False, durable: bool = False) -> None:
        if commit and durable:  # the end's COMMIT (a run's opening commits too, relaxed)
            raise Crash
        sync(self, commit=commit, durable=durable)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline.Pipeline, "sync", dying)
        with pytest.raises(Crash):
            yield


def after_lease(config: Settings) -> Callable[[], datetime]:
    """A clock past the lease of every step claimed until now: the next worker may take them over."""
    later = utcnow() + timedelta(seconds=config.execution.lease_seconds + 1)
    return lambda: later
