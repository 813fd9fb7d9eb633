"""A correction's before/after: sealed in its own record, referenced from the audit log, opened by staff.

Promises: P-RGT-2 (correction, provable: what each field held and holds),
P-SEC-1 (the values never reach the audit log; opening them is restricted
by role and audited).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from charter.audit.models import AuditEntry
from charter.auth import service as auth
from charter.auth.roles import Role, permissions_of
from charter.cli.main import app
from charter.db import Database
from charter.execution import corrections
from charter.execution.corrections import CorrectionRecord
from charter.requests import review
from charter.requests.kinds import RequestKind
from charter.services import Services
from charter.settings import Settings
from charter.subjects.service import Vault
from charter.web.app import create_app
from tests.auth.factories import PASSWORD
from tests.cli_runner import invoker
from tests.execution.conftest import ANA, approved, table

NEW_NAME = "Costa-Silva"


def _corrected(database: Database, config: Settings, vault: Vault, make_runner: object) -> str:
    public_id = approved(database, config, vault, RequestKind.CORRECTION, field="last_name", value=NEW_NAME)
    outcome = make_runner().run(public_id)  # type: ignore[operator]
    assert outcome.status == "completed", outcome.error
    return public_id


def test_a_correction_keeps_a_sealed_before_and_after_that_the_audit_log_references(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: object
) -> None:
    """P-RGT-2, P-SEC-1: the record opens to Costa → Costa-Silva; the audit log holds its id and digest only."""
    public_id = _corrected(database, config, vault, make_runner)
    ana = next(r for r in table(home, "customers") if r["email"] == ANA)
    assert ana["last_name"] == NEW_NAME
    with database.session() as session:
        records = list(session.scalars(select(CorrectionRecord)))
        assert len(records) == 1
        record = records[0]
        assert (record.system, record.collection, record.fields, record.rows) == (
            "shop",
            "west_shop.customers",
            ["last_name"],
            1,
        )
        assert b"Costa" not in record.sealed  # sealed, not in the clear
        opened = corrections.opened(vault.keys, public_id, record)
        assert opened["rows"] == [
            {"key": ana["id"], "before": {"last_name": "Costa"}, "after": {"last_name": NEW_NAME}}
        ]
        update = session.scalar(select(AuditEntry).where(AuditEntry.action == "execution.update"))
        assert update is not None
        assert update.data["record"] == record.id and update.data["record_sha256"] == record.sha256
        audit_json = json.dumps([list(r) for r in session.execute(text("SELECT * FROM audit_entries"))], default=str)
        assert "Costa" not in audit_json and ANA not in audit_json
        # the digest is of the sealed plaintext, and a guess without the salt does not reproduce it
        guess = json.dumps({"before": {"last_name": "Costa"}}, sort_keys=True).encode()
        assert hashlib.sha256(guess).hexdigest() != record.sha256


def test_a_record_opens_only_for_its_own_request(
    database: Database, config: Settings, vault: Vault, make_runner: object
) -> None:
    from charter.crypto import SealBroken

    _corrected(database, config, vault, make_runner)
    with database.session() as session:
        record = session.scalars(select(CorrectionRecord)).one()
        with pytest.raises(SealBroken):
            corrections.opened(vault.keys, "another-request", record)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_staff_open_it_from_the_shell_and_every_opening_is_audited(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: object
) -> None:
    invoke = invoker(app, database, home, CHARTER_ENV="test")
    public_id = _corrected(database, config, vault, make_runner)
    shown = invoke("requests", "correction", public_id, "--json")
    assert shown.exit_code == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["request"] == public_id
    assert document["records"][0]["rows"][0]["before"] == {"last_name": "Costa"}
    assert document["records"][0]["rows"][0]["after"] == {"last_name": NEW_NAME}
    text_out = invoke("requests", "correction", public_id)
    assert text_out.exit_code == 0 and f"last_name: 'Costa' -> '{NEW_NAME}'" in text_out.stdout
    with database.session() as session:
        reads = [e for e in session.scalars(select(AuditEntry)) if e.action == "execution.correction_read"]
        assert [(e.actor, e.target) for e in reads] == [("cli", f"request:{public_id}")] * 2

    unknown = invoke("requests", "correction", "0" * 32)
    assert unknown.exit_code == 1 and "error:" in unknown.stderr
    deletion = approved(database, config, vault, RequestKind.DELETION, email="ben@example.org")
    not_a_correction = invoke("requests", "correction", deletion)
    assert not_a_correction.exit_code == 2 and "not a correction" in not_a_correction.stderr
    pending = approved(database, config, vault, RequestKind.CORRECTION, email="chloe@example.org", field="x", value="y")
    not_run = invoke("requests", "correction", pending)
    assert not_run.exit_code == 1 and "no correction record yet" in not_run.stderr


def _token(services: Services, role: Role) -> str:
    with services.database.session() as session:
        auth.create_user(session, username=f"u-{role.value}", role=role, password=PASSWORD, actor="test")
        token, _ = auth.create_token(
            session, username=f"u-{role.value}", name="t", scopes=sorted(permissions_of(role)), actor="test"
        )
    return token


def test_the_api_shows_it_to_readers_of_requests_only(
    database: Database, config: Settings, vault: Vault, make_runner: object
) -> None:
    """P-SEC-1: requests:read may open it (audited); a role without it may not; bad ids are clear 4xx."""
    public_id = _corrected(database, config, vault, make_runner)
    services = Services(config)
    try:
        with TestClient(create_app(services)) as client:
            analyst = {"Authorization": f"Bearer {_token(services, Role.ANALYST)}"}
            engineer = {"Authorization": f"Bearer {_token(services, Role.ENGINEER)}"}
            url = f"/api/v1/requests/{public_id}/correction"
            assert client.get(url).status_code == 401
            assert client.get(url, headers=engineer).status_code == 403
            response = client.get(url, headers=analyst)
            assert response.status_code == 200, response.text
            row = response.json()["records"][0]["rows"][0]
            assert row["before"] == {"last_name": "Costa"} and row["after"] == {"last_name": NEW_NAME}
            assert client.get("/api/v1/requests/nope/correction", headers=analyst).status_code == 404
            deletion = approved(database, config, vault, RequestKind.DELETION, email="ben@example.org")
            refused = client.get(f"/api/v1/requests/{deletion}/correction", headers=analyst)
            assert refused.status_code == 400 and refused.headers["content-type"].startswith("application/problem+json")
    finally:
        services.close()
    with database.session() as session:
        reads = [e for e in session.scalars(select(AuditEntry)) if e.action == "execution.correction_read"]
        assert len(reads) == 1 and reads[0].actor.startswith("token:")
        assert review.get(session, public_id).status == "completed"
