"""``charter suppression check|list`` and ``GET /api/v1/suppression``: staff only, hashes only, audited.

Promises: P-RGT-3 (a mailer can learn not to contact an erased person),
P-SEC-1 (only roles that may read about people ask; the identity is never
echoed; every question is in the audit log).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from faker import Faker
from fastapi.testclient import TestClient
from sqlalchemy import select

from charter.audit.models import AuditEntry
from charter.auth.roles import Role
from charter.cli.main import app
from charter.db import Database
from charter.db.base import utcnow
from charter.services import Services
from charter.suppression import service as suppression
from tests.cli_runner import invoker
from tests.web.conftest import MakeToken


def _erase(services: Services, email: str) -> None:
    with services.database.session() as session:
        key = suppression.key_of(services.vault, "email", email)
        suppression.suppress(session, [key], request="a" * 32, person=None, now=utcnow())


def test_the_api_answers_staff_whether_an_address_is_listed_without_echoing_it(
    services: Services,
    client: TestClient,
    make_token: MakeToken,
) -> None:
    email = Faker().unique.email()
    _erase(services, email)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    engineer = {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}
    assert client.get("/api/v1/suppression", params={"email": email}).status_code == 401
    assert client.get("/api/v1/suppression", params={"email": email}, headers=engineer).status_code == 403

    listed = client.get("/api/v1/suppression", params={"email": email.upper()}, headers=officer)
    assert listed.status_code == 200, listed.text
    body = listed.json()
    assert body["listed"] is True and body["reason"] == "erased" and body["request"] == "a" * 32
    assert email not in listed.text and email.upper() not in listed.text
    clear = client.get("/api/v1/suppression", params={"kind": "email", "value": "z" + email}, headers=officer)
    assert clear.status_code == 200 and clear.json() == {"listed": False, "kind": "email"}

    bad = client.get("/api/v1/suppression", params={"email": "not an address"}, headers=officer)
    assert bad.status_code in (400, 422) and "not an address" not in bad.text
    neither = client.get("/api/v1/suppression", headers=officer)
    assert neither.status_code == 400

    entries = client.get("/api/v1/suppression/entries", headers=officer)
    assert entries.status_code == 200
    assert [e["lookup_hash"] for e in entries.json()["entries"]] == [
        suppression.key_of(services.vault, "email", email)[1]
    ]
    assert email not in entries.text
    with services.database.session() as session:
        actions = [e.action for e in session.scalars(select(AuditEntry).order_by(AuditEntry.seq))]
    assert actions.count("suppression.checked") == 2 and actions.count("suppression.listed") == 1


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_the_shell_check_exits_1_for_a_listed_address_and_0_otherwise(
    database: Database,
    services: Services,
    tmp_path: Path,
) -> None:
    invoke = invoker(app, database, tmp_path / "home", CHARTER_ENV="test")
    email = Faker().unique.email()
    _erase(services, email)

    listed = invoke("suppression", "check", "--email", email, "--json")
    assert listed.exit_code == 1
    document = json.loads(listed.stdout)
    assert document["listed"] is True and document["reason"] == "erased" and email not in listed.stdout
    said = invoke("suppression", "check", "--email", email)
    assert said.exit_code == 1 and "do not contact" in said.stdout
    clear = invoke("suppression", "check", "--identity", f"email:z{email}")
    assert clear.exit_code == 0 and "not listed" in clear.stdout

    bad = invoke("suppression", "check", "--email", "not an address")
    assert bad.exit_code == 2 and "not an address" not in bad.stderr
    neither = invoke("suppression", "check")
    assert neither.exit_code == 2

    shown = invoke("suppression", "list", "--json")
    assert shown.exit_code == 0
    (entry,) = json.loads(shown.stdout)["entries"]
    assert entry["kind"] == "email" and entry["reason"] == "erased" and email not in shown.stdout
    assert invoke("suppression", "list", "--after", str(entry["id"])).stdout.strip() == "no more entries"
    assert invoke("suppression", "list", "--limit", "0").exit_code == 2
