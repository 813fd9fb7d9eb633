"""The person's copy is deleted after CHARTER_REQUESTS_PACKAGE_DAYS (P-RGT-1, P-SEC-1): data goes, hash stays."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from charter.audit import verify
from charter.audit.models import AuditEntry
from charter.datamap.model import DataMap
from charter.db import Database
from charter.db.base import utcnow
from charter.delivery import links, retention
from charter.delivery import service as delivery
from charter.delivery.errors import LinkGone, NoCopy
from charter.execution import claims
from charter.requests import review
from charter.settings import Settings
from charter.subjects.service import Vault
from tests.delivery.conftest import completed
from tests.execution.conftest import sealed_package


def _run(database: Database, public_id: str) -> tuple[str | None, str | None]:
    with database.session() as session:
        run = claims.run_of(session, review.get(session, public_id).id)
        assert run is not None
        return run.package, run.package_sha256


def test_a_copy_past_its_days_is_deleted_and_its_hash_kept(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    """P-SEC-1: after package_days the sealed file is gone, the run no longer offers it, an outstanding link is
    revoked, and the SHA-256 stays on the run and in the audit log; a copy still within its days is kept."""
    old = completed(database, config, vault, datamap)
    recent = completed(database, config, vault, datamap, email="ben@example.org")
    _name, sha256 = _run(database, old)
    with database.session() as session:
        issued = links.issue(session, review.get(session, old), vault=vault, settings=config, now=utcnow())
    later = utcnow() + timedelta(days=config.requests.package_days, hours=1)
    with database.session() as session:
        run = claims.run_of(session, review.get(session, recent).id)
        assert run is not None
        run.finished_at = utcnow() + timedelta(days=2)  # finished two days after the other: still within its days
    with database.session() as session:
        assert retention.drop_expired(session, settings=config, now=later) == 1
    assert _run(database, old) == (None, sha256)
    assert sealed_package(database, old) is None
    assert sealed_package(database, recent) is not None
    with database.session() as session:
        assert delivery.offer(session, review.get(session, old), vault=vault) is None
        assert delivery.offer(session, review.get(session, recent), vault=vault) is not None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "package.dropped")).one()
        assert verify(session).ok
    assert entry.target == f"request:{old}" and entry.data["package_sha256"] == sha256
    assert entry.data["links_revoked"] == 1
    with pytest.raises(LinkGone, match="has been deleted"):
        links.use(database, issued.token, vault=vault, home=config.home)
    with pytest.raises(NoCopy, match="deleted after CHARTER_REQUESTS_PACKAGE_DAYS"):
        delivery.staff_copy(database, old, vault=vault, settings=config, actor="user:po", via="api")
    with database.session() as session:
        assert retention.drop_expired(session, settings=config, now=later) == 0  # idempotent


def test_a_crash_after_the_file_went_is_finished_by_the_next_pass(
    database: Database, config: Settings, vault: Vault, datamap: DataMap
) -> None:
    """The file is deleted before the commit: a pass that fails after it leaves the run naming a missing file,
    and the next pass completes the deletion (a missing file counts as deleted)."""
    public_id = completed(database, config, vault, datamap)
    later = utcnow() + timedelta(days=config.requests.package_days + 1)

    class Stop(Exception):
        pass

    def stopped_before_the_commit() -> None:
        with database.session() as session:
            retention.drop_expired(session, settings=config, now=later)
            raise Stop

    with pytest.raises(Stop):
        stopped_before_the_commit()
    assert _run(database, public_id)[0] is not None  # rolled back: the run still names it
    with database.session() as session:
        assert retention.drop_expired(session, settings=config, now=later) == 1
    assert _run(database, public_id)[0] is None
