"""``POST /api/v1/requests/{id}/run`` (requests:decide) and ``GET …/certificate`` (requests:read) on the demo stores.

Promises: P-RGT-3 (a deletion carried out and certified), P-SEC-1 (roles
without the permission refused; no identity in the answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.db import Database
from charter.demo import stores
from charter.requests import intake, review
from charter.requests.kinds import RequestKind
from charter.services import Services
from tests.requests.conftest import Recorder, datamap_services, verified_request
from tests.web.conftest import MakeToken

EMAIL = "ben@example.org"


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    stores.create(tmp_path / "home", count=10)
    built = datamap_services(database, tmp_path / "home")
    yield built
    built.close()


def approved(services: Services, kind: RequestKind) -> str:
    public_id = verified_request(services, kind, EMAIL)
    with services.database.session() as session:
        row = review.get(session, public_id)
        review.approve(session, row, actor="test", vault=services.vault, identity_checked=True)
    return public_id


def test_run_a_deletion_then_read_its_certificate(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    public_id = approved(services, RequestKind.DELETION)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    analyst = {"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
    assert client.get(f"/api/v1/requests/{public_id}/certificate", headers=analyst).status_code == 404
    assert client.post(f"/api/v1/requests/{public_id}/run").status_code == 401
    assert client.post(f"/api/v1/requests/{public_id}/run", headers=analyst).status_code == 403

    response = client.post(f"/api/v1/requests/{public_id}/run", headers=officer)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "completed"
    certificate = client.get(f"/api/v1/requests/{public_id}/certificate", headers=analyst)
    assert certificate.status_code == 200
    body = certificate.json()
    assert body["request"] == public_id and body["verified"] is True
    assert {c["collection"] for c in body["collections"]} >= {"west_shop.customers", "west_support.tickets"}
    assert EMAIL not in certificate.text and EMAIL not in response.text
    assert client.get(f"/api/v1/requests/{public_id}/certificate").status_code == 401


def test_a_request_not_approved_does_not_run(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    mailer = Recorder()
    submission = intake.Submission(kind=RequestKind.ACCESS, identity_kind="email", identity=EMAIL, jurisdiction="eu")
    done = intake.submit(services.database, mailer, submission, vault=services.vault, settings=services.settings)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(f"/api/v1/requests/{done.public_id}/run", headers=officer)
    assert response.status_code == 409
    assert "only an approved request runs" in response.text


def test_with_autorun_an_approved_access_request_is_carried_out(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    import threading

    from charter.execution import jobs

    services.settings.execution.autorun = True
    mailer = Recorder()
    submission = intake.Submission(kind=RequestKind.ACCESS, identity_kind="email", identity=EMAIL, jurisdiction="eu")
    done = intake.submit(services.database, mailer, submission, vault=services.vault, settings=services.settings)
    intake.verify_code(
        services.database, done.public_id, mailer.code(), vault=services.vault, settings=services.settings
    )
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(
        f"/api/v1/requests/{done.public_id}/approve", headers=officer, json={"identity_checked": True}
    )
    assert response.status_code == 200, response.text
    runs = [t for t in threading.enumerate() if t.name == f"{jobs.THREAD_PREFIX}{done.public_id}"]
    for thread in runs:
        thread.join()
    shown = client.get(f"/api/v1/requests/{done.public_id}", headers=officer).json()
    assert shown["status"] == "completed"
