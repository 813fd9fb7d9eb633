"""POST /api/v1/decisions: the engine over HTTP, one question or a batch."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from charter.auth.roles import Role
from charter.decisions.models import DecisionLogEntry
from charter.services import Services

URL = "/api/v1/decisions"
BILLING = {"purpose": "cpni_a_provide_service", "categories": ["user.cpni.billing"], "at": "2024-06-01T12:00:00Z"}
SALE = {"purpose": "sell_personal_information", "categories": ["user.contact.email"], "at": "2024-06-01T12:00:00Z"}


@pytest.fixture
def engineer(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}


def test_one_decision_with_reasons(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    """P-USE-3 (a): CPNI for billing is allowed; the answer names the clause."""
    response = client.post(URL, json=BILLING, headers=engineer)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["outcome"] == "allow" and body["statement_version"] == "2023-01-01"
    assert body["reasons"][0]["clause"].startswith("regimes[cpni]")


def test_a_batch_is_answered_in_order(
    client: TestClient, published: list[str], engineer: dict[str, str], services: Services
) -> None:
    """P-USE-6: sale is refused; every decision is logged for audit (sample rate 1)."""
    response = client.post(URL, json={"requests": [BILLING, SALE, BILLING]}, headers=engineer)
    assert [d["outcome"] for d in response.json()["decisions"]] == ["allow", "deny", "allow"]
    assert response.json()["decisions"][1]["reasons"][0]["promises"] == ["P-USE-6"]
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(DecisionLogEntry)) == 3


def test_the_statement_in_force_at_the_time_decides(
    client: TestClient, published: list[str], engineer: dict[str, str]
) -> None:
    """P-STM-1: in 2020 the 2019 statement applies."""
    response = client.post(URL, json={**BILLING, "at": "2020-06-01T12:00:00Z"}, headers=engineer)
    assert response.json()["statement_version"] == "2019-04-04"


def test_an_unknown_purpose_is_named(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    response = client.post(URL, json={"requests": [BILLING, {**BILLING, "purpose": "telepathy"}]}, headers=engineer)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert "telepathy" in problem["detail"] and problem["problems"][0]["path"] == "requests[1]"


def test_an_unknown_category_is_named(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    response = client.post(URL, json={**BILLING, "categories": ["user.mind"]}, headers=engineer)
    assert response.status_code == 400 and "user.mind" in response.json()["detail"]


def test_a_batch_over_the_limit_is_refused(
    client: TestClient, published: list[str], engineer: dict[str, str], services: Services
) -> None:
    services.settings.decisions.max_batch = 5
    response = client.post(URL, json={"requests": [BILLING] * 6}, headers=engineer)
    assert response.status_code == 413 and "at most 5" in response.json()["detail"]


def test_malformed_bodies_are_problems(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    for body in ({"purpose": "x"}, {"requests": []}, {**BILLING, "person": {}}, {**BILLING, "at": "yesterday"}):
        response = client.post(URL, json=body, headers=engineer)
        assert response.status_code == 422, body
        assert response.headers["content-type"].startswith("application/problem+json")


def test_an_unknown_person_has_no_consent(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    """Nobody we know of: no consent, so analytics is refused; the identity is never echoed."""
    body = {
        "purpose": "analytics_trends_benchmarks",
        "categories": ["user.contact.email"],
        "at": "2024-06-01T12:00:00Z",
        "person": {"identity": {"kind": "email", "value": "zoe@example.org"}},
    }
    response = client.post(URL, json=body, headers=engineer)
    assert response.json()["outcome"] == "deny"
    assert "zoe@example.org" not in response.text


def test_analysts_may_not_ask(client: TestClient, published: list[str], make_token: Callable[..., str]) -> None:
    response = client.post(URL, json=BILLING, headers={"Authorization": f"Bearer {make_token(Role.ANALYST)}"})
    assert response.status_code == 403


def test_a_recorded_consent_allows_until_withdrawn(
    client: TestClient, published: list[str], engineer: dict[str, str]
) -> None:
    """P-USE-5: consent recorded through /consents is what /decisions reads; a withdrawal denies again."""
    ana = {"kind": "email", "value": "ana@example.org"}
    question = {
        "purpose": "analytics_trends_benchmarks",
        "categories": ["user.contact.email"],
        "at": "2024-06-01T12:00:00Z",
        "person": {"identity": ana},
    }
    given = {
        "kind": "consent.given",
        "at": "2024-03-01T10:00:00Z",
        "source": "api",
        "data": {"purpose": "analytics_trends_benchmarks"},
    }
    recorded = client.post("/api/v1/consents", json={"identity": ana, "events": [given]}, headers=engineer)
    assert recorded.status_code == 201, recorded.text
    assert client.post(URL, json=question, headers=engineer).json()["outcome"] == "allow"
    by_id = {**question, "person": {"id": recorded.json()["person"]}}
    assert client.post(URL, json=by_id, headers=engineer).json()["outcome"] == "allow"
    withdrawn = {**given, "kind": "consent.withdrawn", "at": "2024-05-01T10:00:00Z"}
    client.post("/api/v1/consents", json={"identity": ana, "events": [withdrawn]}, headers=engineer)
    assert client.post(URL, json=question, headers=engineer).json()["outcome"] == "deny"


def test_auditors_read_the_decision_log_in_pages(
    client: TestClient, published: list[str], engineer: dict[str, str], make_token: Callable[..., str]
) -> None:
    """P-SEC-1: the decisions given are accountable; auditors page through them, engineers may not read."""
    client.post(URL, json={"requests": [BILLING, SALE, BILLING]}, headers=engineer)
    auditor = {"Authorization": f"Bearer {make_token(Role.AUDITOR)}"}
    first = client.get(f"{URL}/log", params={"limit": 2}, headers=auditor)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [d["outcome"] for d in page["decisions"]] == ["allow", "deny"] and page["next"] is not None
    rest = client.get(f"{URL}/log", params={"after": page["next"], "limit": 2}, headers=auditor).json()
    assert [d["purpose"] for d in rest["decisions"]] == ["cpni_a_provide_service"] and rest["next"] is None
    denied = client.get(f"{URL}/log", params={"outcome": "deny"}, headers=auditor).json()["decisions"]
    assert [d["reasons"][0]["promises"] for d in denied] == [["P-USE-6"]]
    assert client.get(f"{URL}/log", params={"limit": 0}, headers=auditor).status_code == 422
    assert client.get(f"{URL}/log", params={"outcome": "maybe"}, headers=auditor).status_code == 422
    assert client.get(f"{URL}/log", headers=engineer).status_code == 403
