"""``POST /api/v1/requests/{id}/run`` (requests:decide) and ``GET …/certificate`` (requests:read) on the demo stores.

The route submits the run to the job queue and answers 202 at once (the
in-process default runs it in a background thread the tests join; the
Celery backend puts it on the real Redis). Promises: P-RGT-3 (a deletion
carried out and certified), P-SEC-1 (roles without the permission refused;
no identity in the answers), P-RET-3 (a legal hold refuses the run at once).
"""

from __future__ import annotations

import threading
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
from tests.requests.conftest import Recorder, approved_request, datamap_services
from tests.web.conftest import MakeToken

EMAIL = "ben@example.org"


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    stores.create(tmp_path / "home", count=10)
    built = datamap_services(database, tmp_path / "home")
    yield built
    built.close()


def approved(services: Services, kind: RequestKind) -> str:
    return approved_request(services, kind, EMAIL)


def _join_run(public_id: str) -> None:
    """Wait for the in-process backend's thread for this request (the run itself has no time limit here)."""
    from charter.execution import jobs

    for thread in [t for t in threading.enumerate() if t.name == f"{jobs.THREAD_PREFIX}{public_id}"]:
        thread.join()


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
    assert response.status_code == 202, response.text
    assert response.json() == {"request": public_id, "status": "approved", "backend": "inprocess"}
    _join_run(public_id)
    again = client.post(f"/api/v1/requests/{public_id}/run", headers=officer)
    assert again.status_code == 200 and again.json()["status"] == "completed"
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
    _join_run(done.public_id)
    shown = client.get(f"/api/v1/requests/{done.public_id}", headers=officer).json()
    assert shown["status"] == "completed"


def test_a_legal_hold_refuses_the_run_at_once_p_ret_3(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    from charter.requests import holds

    public_id = approved(services, RequestKind.DELETION)
    with services.database.session() as session:
        holds.place(session, reason="litigation: West v. Example", actor="test", system="shop")
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(f"/api/v1/requests/{public_id}/run", headers=officer)
    assert response.status_code == 409, response.text
    assert "legal hold" in response.json()["detail"]
    with services.database.session() as session:
        assert review.get(session, public_id).status == "approved"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_with_the_celery_backend_the_run_goes_to_redis_and_answers_202(
    client: TestClient,
    published: list[str],
    services: Services,
    make_token: MakeToken,
    redis_prefix: tuple[str, str],
) -> None:
    import json

    import redis

    from charter.jobs.celery_queue import RUN_TASK

    url, prefix = redis_prefix
    services.settings.jobs.backend = "celery"
    services.settings.jobs.broker_url = url
    services.settings.jobs.key_prefix = f"{prefix}:"
    public_id = approved(services, RequestKind.DELETION)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(f"/api/v1/requests/{public_id}/run", headers=officer)
    assert response.status_code == 202, response.text
    assert response.json() == {"request": public_id, "status": "approved", "backend": "celery"}
    client_redis = redis.Redis.from_url(url)
    try:
        messages = client_redis.lrange(f"{prefix}:charter", 0, -1)
    finally:
        client_redis.close()
    assert len(messages) == 1
    message = json.loads(messages[0])
    assert message["headers"]["task"] == RUN_TASK
    assert message["headers"]["argsrepr"] == repr([public_id])
    assert EMAIL.encode() not in messages[0]
    with services.database.session() as session:
        assert review.get(session, public_id).status == "approved"  # nothing ran in the web process


def test_with_the_broker_down_the_run_answers_503_and_nothing_runs(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    services.settings.jobs.backend = "celery"
    services.settings.jobs.broker_url = "redis://:not-shown@127.0.0.1:1/0"
    public_id = approved(services, RequestKind.DELETION)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(f"/api/v1/requests/{public_id}/run", headers=officer)
    assert response.status_code == 503, response.text
    assert "not-shown" not in response.text and "did not take the run" in response.json()["detail"]
