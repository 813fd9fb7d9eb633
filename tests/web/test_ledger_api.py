"""POST /api/v1/consents and GET /api/v1/subjects/{id}/state (P-COL-4, P-USE-5, P-SEC-1).

The router is mounted here at /api/v1 as ``charter.web.app`` mounts it, on
both backends through the ``services`` fixture.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from charter.audit.models import AuditEntry
from charter.auth.roles import Role
from charter.ledger.models import LedgerEvent
from charter.services import Services
from charter.subjects.models import Person
from charter.web import problems
from charter.web.api import ledger as ledger_api
from charter.web.security import assert_routes_declared

URL = "/api/v1/consents"
ANA = {"kind": "email", "value": "Ana.Secret@Example.org"}
GIVEN = {
    "kind": "consent.given",
    "at": "2024-03-01T10:00:00Z",
    "source": "banner",
    "data": {"purpose": "analytics_trends_benchmarks"},
    "evidence": {"banner_sha256": "ab" * 32},
}
WITHDRAWN = {
    "kind": "consent.withdrawn",
    "at": "2024-03-02T10:00:00Z",
    "source": "privacy_center",
    "data": {"purpose": "analytics_trends_benchmarks", "written": True},
}


@pytest.fixture
def app(services: Services) -> FastAPI:
    app = FastAPI()
    app.state.services = services
    problems.install(app)
    app.include_router(ledger_api.router, prefix="/api/v1")
    assert_routes_declared(app)
    return app


@pytest.fixture
def engineer(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}


@pytest.fixture
def officer(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}


def count(services: Services, model: type) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_record_and_read_state(
    client: TestClient, published: list[str], engineer: dict[str, str], officer: dict[str, str]
) -> None:
    """P-USE-5: consent then withdrawal → not consented; the version in force is recorded (P-COL-4)."""
    response = client.post(URL, json={"identity": ANA, "events": [GIVEN, WITHDRAWN]}, headers=engineer)
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["recorded"] == 2 and len(body["event_ids"]) == 2
    assert "secret" not in response.text.lower()
    consent = body["state"]["consents"]["analytics_trends_benchmarks"]
    assert consent == {
        "given": False,
        "at": "2024-03-02T10:00:00+00:00",
        "statement_version": "2023-01-01",
        "written": True,
    }
    again = client.post(
        URL,
        json={
            "identity": {"kind": "email", "value": "ana.secret@example.org"},
            "events": [
                {"kind": "signal.gpc", "at": "2024-03-03T00:00:00Z", "source": "browser_signal", "data": {"on": True}}
            ],
        },
        headers=engineer,
    )
    assert again.json()["person"] == body["person"]
    state = client.get(f"/api/v1/subjects/{body['person']}/state", headers=officer)
    assert state.status_code == 200, state.text
    assert state.json()["state"]["gpc"] is True and state.json()["person"] == body["person"]


def test_unknown_purpose_is_422_naming_it_and_nothing_recorded(
    client: TestClient, published: list[str], engineer: dict[str, str], services: Services
) -> None:
    bad = {**GIVEN, "data": {"purpose": "telepathy"}}
    response = client.post(URL, json={"identity": ANA, "events": [GIVEN, bad]}, headers=engineer)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "telepathy" in problem["detail"] and problem["problems"][0]["path"] == "events[1].data.purpose"
    assert count(services, LedgerEvent) == 0 and count(services, Person) == 0


@pytest.mark.parametrize(
    ("identity", "fragment"),
    [
        ({"kind": "email", "value": "ana.secret-at-example.org"}, "email identity"),
        ({"kind": "phone", "value": "555-secret"}, "phone identity"),
        ({"kind": "passport", "value": "secret-123"}, "identity kind is not known"),
    ],
)
def test_malformed_identity_is_422_without_echo(
    client: TestClient, published: list[str], engineer: dict[str, str], identity: dict[str, str], fragment: str
) -> None:
    response = client.post(URL, json={"identity": identity, "events": [GIVEN]}, headers=engineer)
    assert response.status_code == 422
    assert fragment in response.json()["detail"]
    assert "secret" not in response.text


@pytest.mark.parametrize(
    "body",
    [
        {"identity": ANA, "events": []},
        {"identity": ANA, "events": [{**GIVEN, "data": {}}]},
        {"identity": ANA, "events": [{**GIVEN, "at": "2024-03-01T10:00:00"}]},
        {"identity": ANA, "events": [{**GIVEN, "colour": "red"}]},
    ],
)
def test_invalid_events_are_422(
    client: TestClient, published: list[str], engineer: dict[str, str], body: dict[str, object]
) -> None:
    response = client.post(URL, json=body, headers=engineer)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "secret" not in response.text.lower()


def test_too_many_events_is_413(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    response = client.post(URL, json={"identity": ANA, "events": [GIVEN] * 1001}, headers=engineer)
    assert response.status_code == 413 and "at most 1,000" in response.json()["detail"]


def test_wrong_role_is_403(
    client: TestClient, published: list[str], make_token: Callable[..., str], engineer: dict[str, str]
) -> None:
    analyst = {"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
    assert client.post(URL, json={"identity": ANA, "events": [GIVEN]}, headers=analyst).status_code == 403
    person = client.post(URL, json={"identity": ANA, "events": [GIVEN]}, headers=engineer).json()["person"]
    assert client.get(f"/api/v1/subjects/{person}/state", headers=engineer).status_code == 403  # no subjects:read
    assert client.get(f"/api/v1/subjects/{person}/state").status_code == 401


def test_unknown_subject_is_404_and_reads_are_audited(
    client: TestClient, published: list[str], officer: dict[str, str], engineer: dict[str, str], services: Services
) -> None:
    assert client.get(f"/api/v1/subjects/{'0' * 32}/state", headers=officer).status_code == 404
    person = client.post(URL, json={"identity": ANA, "events": [GIVEN]}, headers=engineer).json()["person"]
    client.get(f"/api/v1/subjects/{person}/state", headers=officer)
    with services.database.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.target == f"person:{person}")))
    assert actions == ["ledger.recorded", "subjects.state_read"]
