"""A failed request over the API and in the console: see what the run did, retry it, or give up with a reason.

``POST /api/v1/requests/{id}/retry`` and ``…/give-up`` (requests:decide), the run step by step in
``GET /api/v1/requests/{id}``, and the console's request page with its Retry button and give-up form.
Promises: P-RGT-3 (the deletion finished after a retry, certified), P-RGT-8 (a failed request stays open and
shows its deadline; the organization can show which steps were done and what they changed), P-SEC-1 (roles
without the permission refused; no identity in the answers).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.connectors.base import StoreRefused
from charter.db import Database
from charter.demo import stores
from charter.execution import jobs, service
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.requests import notices
from charter.requests.kinds import RequestKind
from charter.services import Services
from tests.requests.conftest import Recorder, approved_request, datamap_services
from tests.web.conftest import MakeSession, MakeToken

ANA = "ana@example.org"


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    stores.create(tmp_path / "home", count=10)
    built = datamap_services(database, tmp_path / "home")
    built.mailer = Recorder()
    yield built
    built.close()


def _refuse_customers(where: str, step: Step) -> None:
    if where == "before" and step.action == Action.ERASE and step.collection == "west_shop.customers":
        raise StoreRefused("system 'shop': the store refused the login (OperationalError, SQLSTATE 28P01)")


def failed(services: Services) -> str:
    """Ana's deletion, failed at the erasure of her customer row (the batch's other erasures, in the same store
    transactions, rolled back with it)."""
    public_id = approved_request(services, RequestKind.DELETION, ANA)
    datamap = service.load_datamap(services.settings)
    runner = Runner(
        services.database, services.settings, services.vault, datamap, fault=_refuse_customers, sleep=lambda _s: None
    )
    assert runner.run(public_id).status == "failed"
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)
    return public_id


def _join(public_id: str) -> None:
    for thread in [t for t in threading.enumerate() if t.name == f"{jobs.THREAD_PREFIX}{public_id}"]:
        thread.join()


def _mails(services: Services) -> list[str]:
    assert isinstance(services.mailer, Recorder)
    return services.mailer.texts()


def test_the_api_shows_the_failed_run_and_retries_it_keeping_the_done_steps(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    public_id = failed(services)
    told = len(_mails(services))
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    analyst = {"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
    shown = client.get(f"/api/v1/requests/{public_id}", headers=analyst).json()
    assert shown["status"] == "failed" and shown["due_at"] and ANA not in str(shown)
    run = shown["execution"]
    assert run["status"] == "failed" and "refused the login" in run["error"]
    done = {s["id"] for s in run["steps"] if s["status"] == "done"}
    broken = [s for s in run["steps"] if s["status"] == "failed"]
    assert len(broken) == 1 and broken[0]["collection"] == "west_shop.customers" and broken[0]["error"]
    fetched = [s for s in run["steps"] if s["status"] == "done"]
    assert fetched and all(s["action"] == "fetch" and "rows" in s["changed"] for s in fetched)
    waiting = {s["action"] for s in run["steps"] if s["status"] == "pending"}
    assert waiting == {"erase", "verify"}  # nothing half-done: the failed batch's steps wait for the retry

    assert client.post(f"/api/v1/requests/{public_id}/retry").status_code == 401
    assert client.post(f"/api/v1/requests/{public_id}/retry", headers=analyst).status_code == 403
    response = client.post(f"/api/v1/requests/{public_id}/retry", headers=officer)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "in_progress" and body["backend"] == "inprocess"
    assert set(body["retry"]["kept"]) == done and body["retry"]["new"] == [] and body["retry"]["dropped"] == []
    assert broken[0]["id"] in body["retry"]["remaining"] and body["retry"]["plan"] is None
    _join(public_id)
    after = client.get(f"/api/v1/requests/{public_id}", headers=analyst).json()
    assert after["status"] == "completed" and after["execution"]["retries"] == 1
    assert {s["id"]: s["attempts"] for s in after["execution"]["steps"] if s["id"] in done} == {
        s["id"]: s["attempts"] for s in run["steps"] if s["id"] in done
    }
    assert client.get(f"/api/v1/requests/{public_id}/certificate", headers=analyst).json()["verified"] is True
    sent = _mails(services)[told:]
    assert len(sent) == 1 and "It is done." in sent[0]


def test_retry_and_give_up_refuse_a_request_that_is_not_failed_as_problems(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    public_id = approved_request(services, RequestKind.ACCESS, ANA)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(f"/api/v1/requests/{public_id}/retry", headers=officer)
    assert response.status_code == 409 and response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/not_failed") and "only a failed request" in response.json()["detail"]
    refused = client.post(f"/api/v1/requests/{public_id}/give-up", headers=officer, json={"reason": "No."})
    assert refused.status_code == 409 and refused.json()["type"].endswith("/not_failed")
    unknown = client.post("/api/v1/requests/nosuchrequest/retry", headers=officer)
    assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"


def test_give_up_over_the_api_needs_a_reason_and_tells_the_requester_once(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    public_id = failed(services)
    told = len(_mails(services))
    assert not any("could not complete" in text for text in _mails(services))  # nothing on failure
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    analyst = {"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
    missing = client.post(f"/api/v1/requests/{public_id}/give-up", headers=officer, json={})
    assert missing.status_code == 422 and missing.headers["content-type"] == "application/problem+json"
    blank = client.post(f"/api/v1/requests/{public_id}/give-up", headers=officer, json={"reason": "   "})
    assert blank.status_code == 422 and "reason" in blank.json()["detail"]
    assert (
        client.post(f"/api/v1/requests/{public_id}/give-up", headers=analyst, json={"reason": "x"}).status_code == 403
    )
    reason = "The shop's database was shut down for good; we can no longer change it."
    response = client.post(f"/api/v1/requests/{public_id}/give-up", headers=officer, json={"reason": reason})
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "given_up" and response.json()["execution"]["given_up"]["reason"] == reason
    sent = _mails(services)[told:]
    assert len(sent) == 1 and reason in sent[0]
    again = client.post(f"/api/v1/requests/{public_id}/retry", headers=officer)
    assert again.status_code == 409


def _staff(app: FastAPI, make_session: MakeSession) -> tuple[TestClient, str]:
    login = make_session(Role.PRIVACY_OFFICER)
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("charter_session", login.cookie)
    return client, login.csrf_token


def test_the_console_shows_the_failed_run_with_retry_and_give_up(
    app: FastAPI, published: list[str], services: Services, make_session: MakeSession
) -> None:
    public_id = failed(services)
    office, csrf = _staff(app, make_session)
    page = office.get(f"/console/requests/{public_id}")
    assert page.status_code == 200
    assert 'id="run-failed"' in page.text and "refused the login" in page.text
    assert "The requester has not been told" in page.text and "The deadline keeps running" in page.text
    assert 'id="run-steps"' in page.text and "west_shop.customers" in page.text
    assert f'action="/console/requests/{public_id}/retry"' in page.text
    assert f'action="/console/requests/{public_id}/give-up"' in page.text
    assert ANA not in page.text

    retried = office.post(f"/console/requests/{public_id}/retry", data={"csrf_token": csrf})
    assert retried.status_code == 200 and "Retried:" in retried.text and 'id="retried"' in retried.text
    _join(public_id)
    done = office.get(f"/console/requests/{public_id}")
    assert "completed" in done.text and 'id="run-failed"' not in done.text
    again = office.post(f"/console/requests/{public_id}/retry", data={"csrf_token": csrf})
    assert again.status_code == 409 and "only a failed request" in again.text


def test_give_up_from_the_console(
    app: FastAPI, published: list[str], services: Services, make_session: MakeSession
) -> None:
    public_id = failed(services)
    office, csrf = _staff(app, make_session)
    blank = office.post(f"/console/requests/{public_id}/give-up", data={"csrf_token": csrf, "reason": ""})
    assert blank.status_code == 422
    reason = "The records were destroyed in a flood; nothing is left to delete."
    done = office.post(f"/console/requests/{public_id}/give-up", data={"csrf_token": csrf, "reason": reason})
    assert done.status_code == 303
    page = office.get(done.headers["location"])
    assert "closed as not carried out" in page.text and 'id="run-given-up"' in page.text and reason in page.text
    assert f'action="/console/requests/{public_id}/retry"' not in page.text
    assert f'action="/console/requests/{public_id}/give-up"' not in page.text


def test_the_requester_sees_a_failed_request_as_in_progress(
    client: TestClient, published: list[str], services: Services
) -> None:
    """P-RGT-8: a failed run is the office's to act on; the requester's page says it is being carried out."""
    from sqlalchemy import update

    from charter.requests.models import PrivacyRequest
    from tests.web.test_requests_pages import ask, confirm, request_id_of

    public_id = request_id_of(ask(client, ANA))
    assert isinstance(services.mailer, Recorder)
    confirm(client, public_id, services.mailer.code())
    with services.database.session() as session:
        session.execute(update(PrivacyRequest).where(PrivacyRequest.public_id == public_id).values(status="failed"))
    page = client.get(f"/privacy/requests/{public_id}")
    assert page.status_code == 200, page.text
    assert "We are carrying out your request now." in page.text and "In progress." in page.text
    assert "Failed" not in page.text and "went wrong" not in page.text
