"""The access package is kept in Charter's database, stored by the commit that completes the request
(P-RGT-1, P-RGT-5, P-SEC-1).

"Completed" and the package are one durable commit: a request can never say its copy is ready with no copy
(a file beside the database could outlive or be outlived by the commit, and a worker on another machine
wrote it where the web server could not read it). Packages written by a Charter before migration 0013 are
files under ``CHARTER_HOME/packages``: they are still handed out, checked, and removed by retention.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text

from charter.db import Database
from charter.db.base import utcnow
from charter.delivery import retention
from charter.execution import claims, package
from charter.execution.models import ExecutionPackage
from charter.execution.runner import Runner
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.execution.conftest import (
    ANA,
    after_lease,
    approved,
    crashing_before_the_end_commits,
    read_package,
    sealed_package,
    store_package,
)

MakeRunner = Callable[..., Runner]


def test_the_package_is_stored_in_the_commit_that_completes_the_request(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: MakeRunner
) -> None:
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    assert make_runner().run(public_id).status == "completed"
    with database.session() as session:  # plain SQL: one row, sealed, nothing personal in the clear
        rows = session.execute(text("SELECT run_id, sealed FROM execution_packages")).all()
        run = claims.run_of(session, review.get(session, public_id).id)
    assert run is not None and [r[0] for r in rows] == [run.id]
    assert ANA.encode() not in bytes(rows[0][1])
    assert not (home / package.FOLDER).exists()  # no file beside the database
    with database.session() as session:
        opened = package.open_checked(session, home, vault.keys, public_id, run.package_sha256)
    document = json.loads(zipfile.ZipFile(io.BytesIO(opened.data)).read("package.json"))
    assert document["request"] == public_id and opened.rows > 0


def test_an_end_that_fails_after_storing_the_package_keeps_neither(
    database: Database,
    config: Settings,
    vault: Vault,
    home: Path,
    make_runner: MakeRunner,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The package row and "completed" go together: an end that fails after the package was stored rolls
    both back, and the next worker (after the lease) stores one package and completes the request."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    with crashing_before_the_end_commits(database):
        make_runner(worker="first").run(public_id)
    assert sealed_package(database, public_id) is None
    with database.session() as session:
        assert review.get(session, public_id).status == "in_progress"
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None and run.status == "running" and run.package is None

    assert make_runner(worker="second", clock=after_lease(config)).run(public_id).status == "completed"
    with database.session() as session:
        assert len(session.scalars(select(ExecutionPackage)).all()) == 1
    assert zipfile.ZipFile(io.BytesIO(read_package(database, home, vault, public_id))).testzip() is None


def test_a_package_written_as_a_file_before_migration_0013_is_still_handed_out_and_removed(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: MakeRunner
) -> None:
    """Nothing already stored is lost by the move: a package file of an earlier Charter is read, checked
    against its run's SHA-256 (a damaged one refused), and deleted by retention like a stored one."""
    public_id = approved(database, config, vault, RequestKind.ACCESS)
    assert make_runner().run(public_id).status == "completed"
    sealed = sealed_package(database, public_id)
    assert sealed is not None
    store_package(database, public_id, None)  # as an earlier Charter left it: the file, no row
    legacy = home / package.FOLDER / f"{public_id}.zip.sealed"
    legacy.parent.mkdir(parents=True, exist_ok=True)
    legacy.write_bytes(sealed)
    with database.session() as session:
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None
        opened = package.open_checked(session, home, vault.keys, public_id, run.package_sha256)
    assert opened.rows > 0

    legacy.write_bytes(sealed[:-1] + bytes([sealed[-1] ^ 1]))
    with database.session() as session, pytest.raises(package.PackageDamaged):
        package.open_checked(session, home, vault.keys, public_id, run.package_sha256)

    later = utcnow() + timedelta(days=config.requests.package_days, hours=1)
    with database.session() as session:
        assert retention.drop_expired(session, settings=config, now=later) == 1
    assert not legacy.exists()
