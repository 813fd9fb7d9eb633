"""``GET /api/v1/requests/{id}/plan``: the plan over the configured data map, for ``requests:read`` only.

Promises: P-RGT-1/3 (the office sees what would be read and erased),
P-SEC-1 (the identity only masked; roles without requests:read refused).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.db import Database
from charter.requests.kinds import RequestKind
from charter.services import Services
from tests.requests.conftest import datamap_services, verified_request
from tests.web.conftest import MakeToken

EMAIL = "bo.berg@example.org"


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    built = datamap_services(database, tmp_path / "home")
    yield built
    built.close()


def received(services: Services, kind: RequestKind) -> str:
    return verified_request(services, kind, EMAIL)


def test_plan_of_a_deletion(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    public_id = received(services, RequestKind.DELETION)
    response = client.get(
        f"/api/v1/requests/{public_id}/plan", headers={"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["request"] == public_id and body["type"] == "deletion"
    assert body["identities"] == [{"kind": "email", "masked": "b***@e***.org"}]
    actions = [s["action"] for s in body["steps"]]
    assert actions == ["fetch"] * 7 + ["erase"] * 5 + ["verify"] * 5
    assert {k["collection"] for k in body["kept"]} == {"west_shop.orders", "west_shop.order_items"}
    assert EMAIL not in response.text and "bo.berg" not in response.text


def test_plan_needs_requests_read(
    client: TestClient, published: list[str], services: Services, make_token: MakeToken
) -> None:
    public_id = received(services, RequestKind.ACCESS)
    url = f"/api/v1/requests/{public_id}/plan"
    assert client.get(url).status_code == 401
    engineer = client.get(url, headers={"Authorization": f"Bearer {make_token(Role.ENGINEER)}"})
    assert engineer.status_code == 403
    missing = client.get(
        "/api/v1/requests/nope/plan", headers={"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    )
    assert missing.status_code == 404
