"""Requests never confirmed by e-mail expire and forget who they were about (P-RGT-7, P-SEC-1).

The clock is injected (``now``); SQLite and PostgreSQL; the CLI command
``charter requests expire`` on the same database.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from charter.audit.models import AuditEntry
from charter.cli.main import app
from charter.db import Database
from charter.db.base import utcnow
from charter.preferences.errors import ChallengeInvalid
from charter.preferences.models import EmailChallenge
from charter.requests import expiry, intake, status_access
from charter.requests.details import Agent, Document
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestDocument
from charter.settings import DatabaseSettings, RequestSettings, Settings
from charter.subjects.service import Vault
from tests.cli_runner import invoker
from tests.requests.conftest import Recorder
from tests.requests.test_service import AT_2024, row_of, submit, verified
from tests.subjects.factories import make_vault, publish_examples

PDF = b"%PDF-1.4 signed authorization of the agent"


def _expire(db: Database, settings: Settings | RequestSettings, days: float) -> int:
    with db.session() as session:
        return expiry.expire_unverified(session, settings=settings, now=AT_2024 + timedelta(days=days))


def test_an_unconfirmed_request_expires_after_the_setting_and_drops_its_identity(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-SEC-1: after CHARTER_REQUESTS_UNVERIFIED_DAYS (7) the address, hash, details, proof and code are gone."""
    received = submit(
        db,
        mailer,
        vault,
        config,
        RequestKind.RESTRICTION,
        details={"purposes": ["marketing_new_services"]},
        agent=Agent("Ada Agent", "ada@agents.example"),
        proof=Document("application/pdf", PDF),
    )
    assert _expire(db, config, 6.9) == 0
    assert row_of(db, received.public_id).status == Status.VERIFYING
    assert _expire(db, config, 7.1) == 1
    row = row_of(db, received.public_id)
    assert row.status == Status.EXPIRED
    assert (row.sealed_identity, row.identity_hash, row.sealed_details, row.challenge_id) == (b"", "", None, None)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(RequestDocument)) == 0
        assert session.get(EmailChallenge, received.challenge_id) is None
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "request.expired")).one()
        assert entry.actor == "charter" and entry.target == f"request:{received.public_id}"
        assert entry.data == {
            "from": "verifying",
            "unverified_days": 7,
            "dropped": ["identity", "details", "documents"],
        }
    assert "ada@agents.example" not in json.dumps(entry.data)
    assert len(mailer.messages) == 1  # the acknowledgement only: nobody is told of the expiry
    with pytest.raises(ChallengeInvalid):  # the code in that e-mail no longer works
        intake.verify_code(db, received.public_id, mailer.code(), vault=vault, settings=config)
    assert _expire(db, config, 30) == 0  # once only


def test_a_confirmed_request_never_expires(db: Database, mailer: Recorder, vault: Vault, config: Settings) -> None:
    received = submit(db, mailer, vault, config, RequestKind.DELETION)
    verified(db, mailer, vault, config, received, AT_2024)
    assert _expire(db, config, 400) == 0
    assert row_of(db, received.public_id).status == Status.IN_REVIEW


def test_the_number_of_days_is_a_setting(db: Database, mailer: Recorder, vault: Vault, config: Settings) -> None:
    """The sweeper passes the whole Settings; a RequestSettings section works the same."""
    first = submit(db, mailer, vault, config, RequestKind.ACCESS)
    second = submit(db, mailer, vault, config, RequestKind.ACCESS, email="bo@example.org", at=AT_2024 + timedelta(1))
    assert _expire(db, RequestSettings(unverified_days=1), 1.5) == 1
    assert row_of(db, first.public_id).status == Status.EXPIRED
    assert row_of(db, second.public_id).status == Status.VERIFYING
    with pytest.raises(ValueError, match="unverified_days"):
        RequestSettings(unverified_days=0)


def test_an_expired_request_mails_no_status_code(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """Its address is gone: asking for a status code answers as for an unknown id and sends nothing."""
    received = submit(db, mailer, vault, config)
    _expire(db, config, 8)
    challenge = status_access.send_code(db, mailer, received.public_id, vault=vault, settings=config)
    assert len(challenge) == 32 and len(mailer.messages) == 1


def test_charter_requests_expire(database: Database, tmp_path: Path) -> None:
    """``charter requests expire --json`` reports how many expired (the clock is the real one: 8 days back)."""
    publish_examples(database)
    home = tmp_path / "home"
    settings = Settings.load(env="test", home=home, database=DatabaseSettings(url=database.url))
    vault = make_vault(settings.secret_key())
    old = submit(database, Recorder(), vault, settings, at=utcnow() - timedelta(days=8))
    fresh = submit(database, Recorder(), vault, settings, email="bo@example.org", at=utcnow())
    invoke = invoker(app, database, home)
    result = invoke("requests", "expire", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == {"expired": 1, "unverified_days": 7, "packages_dropped": 0, "package_days": 30}
    text = invoke("requests", "expire")
    assert text.exit_code == 0 and "expired 0 request(s) not confirmed within 7 days" in text.output
    with database.session() as session:
        statuses = {
            pid: status for pid, status in session.execute(select(PrivacyRequest.public_id, PrivacyRequest.status))
        }
    assert statuses == {old.public_id: "expired", fresh.public_id: "verifying"}
