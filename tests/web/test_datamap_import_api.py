"""POST /api/v1/datamap/import-fides: Fides' policy and connections as Charter's files, for those who manage the map."""

from __future__ import annotations

import json

from fastapi.testclient import TestClient

from charter.auth.roles import Role
from tests.datamap.test_fides_import import CONNECTIONS, POLICIES
from tests.web.conftest import MakeToken


def test_the_api_answers_with_the_files_for_those_who_manage_the_map(client: TestClient, make_token: MakeToken) -> None:
    body = {"files": {"policies.json": json.dumps(POLICIES), "connections.json": json.dumps(CONNECTIONS)}}
    for role in (Role.ANALYST,):
        denied = client.post(
            "/api/v1/datamap/import-fides", json=body, headers={"Authorization": f"Bearer {make_token(role)}"}
        )
        assert denied.status_code == 403
    headers = {"Authorization": f"Bearer {make_token(Role.ADMIN)}"}
    response = client.post("/api/v1/datamap/import-fides", json=body, headers=headers)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert sorted(payload["files"]) == ["erasure_policy.yaml", "systems.yaml"]
    assert "hunter2" not in response.text
    bad = {"files": {"p.json": json.dumps({"items": [{"key": "p", "rules": [{"action_type": "erasure"}]}]})}}
    refused = client.post("/api/v1/datamap/import-fides", json=bad, headers=headers)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
