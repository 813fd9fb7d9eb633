"""POST /api/v1/datamap/check: results, problems with line and column, live checks, who may call it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.demo import stores
from charter.services import Services
from tests.conftest import EXAMPLES
from tests.web.conftest import MakeToken

WEST = EXAMPLES / "datamap"
YAML = {"content-type": "application/yaml"}


def bundle() -> dict[str, dict[str, str]]:
    files = [WEST / "systems.yaml", *sorted((WEST / "datasets").glob("*.yaml"))]
    return {"files": {str(p.relative_to(WEST)): p.read_text() for p in files}}


@pytest.mark.parametrize("role", [Role.ADMIN, Role.PRIVACY_OFFICER, Role.ENGINEER])
def test_the_west_map_checks_clean_for_the_roles_that_may_read_it(
    client: TestClient, make_token: MakeToken, role: Role
) -> None:
    response = client.post(
        "/api/v1/datamap/check", json=bundle(), headers={"Authorization": f"Bearer {make_token(role)}"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["systems"] == ["shop", "support"] and body["collections"] == 7


def test_live_checks_against_the_demo_stores(client: TestClient, make_token: MakeToken, services: Services) -> None:
    stores.create(services.settings.home)
    headers = {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}
    response = client.post("/api/v1/datamap/check?live=true", json=bundle(), headers=headers)
    assert response.status_code == 200, response.text
    assert response.json()["checked_systems"] == ["shop", "support"]


def test_an_invalid_map_is_422_with_positioned_problems(client: TestClient, make_token: MakeToken) -> None:
    text = (WEST / "datasets" / "support.yaml").read_text().replace("user.content.private", "user.content.privat", 1)
    headers = {**YAML, "Authorization": f"Bearer {make_token(Role.ENGINEER)}", "X-Filename": "support.yaml"}
    response = client.post("/api/v1/datamap/check", content=text, headers=headers)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"].endswith("/datamap_invalid")
    [problem] = body["problems"]
    assert problem["source"] == "support.yaml" and problem["line"] == 17
    assert "did you mean 'user.content.private'?" in problem["message"]


def test_a_malformed_bundle_is_400(client: TestClient, make_token: MakeToken) -> None:
    headers = {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}
    response = client.post("/api/v1/datamap/check", json={"files": []}, headers=headers)
    assert response.status_code == 400


def test_roles_without_datamap_read_are_refused(client: TestClient, make_token: MakeToken) -> None:
    for role in (Role.ANALYST, Role.AUDITOR):
        response = client.post(
            "/api/v1/datamap/check", json=bundle(), headers={"Authorization": f"Bearer {make_token(role)}"}
        )
        assert response.status_code == 403


def test_notes_are_returned_and_do_not_spoil_ok(client: TestClient, make_token: MakeToken) -> None:
    files = bundle()
    files["files"]["policy.yaml"] = "policy:\n  - fides_key: default_erasure_policy\n    rules: []\n"
    headers = {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}
    response = client.post("/api/v1/datamap/check?strict=true", json=files, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True and body["notes"] == 1
    [finding] = body["findings"]
    assert finding["severity"] == "note" and finding["source"] == "policy.yaml" and finding["line"] == 1
