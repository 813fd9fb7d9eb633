"""/api/v1/policy with bearer tokens, on each database backend.

Every error is application/problem+json with the right status; nothing a
caller sends produces a 500.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from charter.audit.models import AuditEntry
from charter.auth.roles import Permission, Role
from charter.services import Services
from charter.web.security import CSRF_HEADER, SESSION_COOKIE
from tests.cli.test_policy_cli import COLLECTION_HEAD, position, yaml_bomb
from tests.conftest import EXAMPLES
from tests.web.conftest import MakeSession, MakeToken

API = "/api/v1/policy"
PROBLEM = "application/problem+json"
YAML = {"content-type": "application/yaml"}
CHANGE_KEYS = {"path", "kind", "old", "new", "substantive", "reason"}
VERSION_KEYS = {"version", "effective", "title", "sha256", "published_at", "published_by", "in_force"}
TEXT_2019 = (EXAMPLES / "statement-2019.yaml").read_text()
TEXT_2023 = (EXAMPLES / "statement-2023.yaml").read_text()
BROKEN_2019 = TEXT_2019.replace(COLLECTION_HEAD, COLLECTION_HEAD.replace("user.contact", "user.contcat"))


def bearer(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **extra}


@pytest.fixture
def reader(make_token: MakeToken) -> dict[str, str]:
    """Headers of an analyst: may read and check, may not publish."""
    return bearer(make_token(Role.ANALYST))


@pytest.fixture
def officer(make_token: MakeToken) -> dict[str, str]:
    return bearer(make_token(Role.PRIVACY_OFFICER))


def assert_problem(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    body = response.json()
    assert body["status"] == status
    assert {"type", "title", "detail"} <= set(body)
    if code is not None:
        assert body["type"] == f"https://charter.dev/problems/{code}"
    return body


def stored_versions(services: Services) -> list[str]:
    from charter.policy import service

    with services.database.session() as session:
        return [row.version for row in service.versions(session)]


# --- check ---------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "version"), [(TEXT_2019, "2019-04-04"), (TEXT_2023, "2023-01-01")])
def test_check_a_valid_statement(client: TestClient, reader: dict[str, str], text: str, version: str) -> None:
    response = client.post(f"{API}/check", content=text.encode(), headers={**reader, **YAML})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True
    assert (body["version"], body["effective"]) == (version, version)
    assert set(body) == {"ok", "version", "effective", "purposes", "rules", "recipients"}


def test_check_lists_every_problem_with_its_position(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/check", content=BROKEN_2019.encode(), headers={**reader, **YAML})
    body = assert_problem(response, 422, "policy_invalid")
    [problem] = body["problems"]
    assert problem["path"] == "collection.categories[1]"
    assert (problem["line"], problem["column"]) == position(BROKEN_2019, "user.contcat")
    assert "did you mean 'user.contact'?" in problem["message"]


def test_check_malformed_yaml(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/check", content=b"charter: 1\nversion: [unclosed\n", headers={**reader, **YAML})
    body = assert_problem(response, 422, "policy_invalid")
    assert all({"path", "line", "column", "message"} <= set(p) for p in body["problems"])
    assert body["problems"][0]["line"] is not None


def test_check_of_a_shape_problem(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/check", content=b"charter: 1\nversion: x\n", headers={**reader, **YAML})
    body = assert_problem(response, 422, "policy_invalid")
    paths = {p["path"] for p in body["problems"]}
    assert {"effective", "organization", "definitions"} <= paths
    assert all(p["line"] is not None and p["column"] is not None for p in body["problems"])


def test_check_refuses_a_10_mb_body(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/check", content=b"#" * 10_000_000, headers={**reader, **YAML})
    body = assert_problem(response, 413, "input_too_large")
    assert "10,000,000" in body["detail"]


def test_check_refuses_a_10_mb_body_sent_without_a_length(client: TestClient, reader: dict[str, str]) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b"#" * 100_000

    response = client.post(f"{API}/check", content=chunks(), headers={**reader, **YAML})
    assert_problem(response, 413, "input_too_large")


def test_check_refuses_a_yaml_bomb(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/check", content=yaml_bomb().encode(), headers={**reader, **YAML})
    body = assert_problem(response, 413, "input_too_large")
    assert "YAML nodes" in body["detail"]


def test_check_needs_a_caller(client: TestClient) -> None:
    response = client.post(f"{API}/check", content=TEXT_2019.encode(), headers=YAML)
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")
    wrong = client.post(f"{API}/check", content=TEXT_2019.encode(), headers=bearer("cht_nope", **YAML))
    assert_problem(wrong, 401)


# --- render --------------------------------------------------------------------------


def test_render_html(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/render?format=html", content=TEXT_2019.encode(), headers={**reader, **YAML})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    assert response.text.lower().startswith("<!doctype html>")
    assert '<time datetime="2019-04-04">April 4, 2019</time>' in response.text


def test_render_markdown_by_default(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/render", content=TEXT_2023.encode(), headers={**reader, **YAML})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/markdown")
    assert "**Effective January 1, 2023**" in response.text


def test_render_an_unknown_format(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/render?format=pdf", content=TEXT_2019.encode(), headers={**reader, **YAML})
    body = assert_problem(response, 422, "invalid_request")
    assert body["problems"][0]["path"] == "format"


def test_render_an_invalid_statement(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/render?format=html", content=BROKEN_2019.encode(), headers={**reader, **YAML})
    assert_problem(response, 422, "policy_invalid")


# --- diff ----------------------------------------------------------------------------


def test_diff_of_two_texts(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/diff", json={"old_yaml": TEXT_2019, "new_yaml": TEXT_2023}, headers=reader)
    assert response.status_code == 200, response.text
    changes = response.json()
    assert changes
    assert all(set(c) == CHANGE_KEYS for c in changes)
    age = next(c for c in changes if c["path"] == "collection.minimum_age.age")
    assert (age["old"], age["new"], age["substantive"]) == (13, 18, True)


def test_diff_of_a_text_with_itself(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/diff", json={"old_yaml": TEXT_2019, "new_yaml": TEXT_2019}, headers=reader)
    assert response.status_code == 200
    assert response.json() == []


def test_diff_names_the_broken_side(client: TestClient, reader: dict[str, str]) -> None:
    response = client.post(f"{API}/diff", json={"old_yaml": TEXT_2019, "new_yaml": BROKEN_2019}, headers=reader)
    body = assert_problem(response, 422, "policy_invalid")
    assert body["problems"][0]["source"] == "new_yaml"


def test_diff_body_must_match(client: TestClient, reader: dict[str, str]) -> None:
    missing = client.post(f"{API}/diff", json={"old_yaml": TEXT_2019}, headers=reader)
    body = assert_problem(missing, 422, "invalid_request")
    assert [p["path"] for p in body["problems"]] == ["new_yaml"]
    not_json = client.post(f"{API}/diff", content=b"{nope", headers={**reader, "content-type": "application/json"})
    assert_problem(not_json, 422, "invalid_request")


def test_diff_of_published_versions(client: TestClient, reader: dict[str, str], published: list[str]) -> None:
    response = client.get(f"{API}/diff", params={"old": "2019-04-04", "new": "2023-01-01"}, headers=reader)
    assert response.status_code == 200, response.text
    by_version = response.json()
    by_text = client.post(f"{API}/diff", json={"old_yaml": TEXT_2019, "new_yaml": TEXT_2023}, headers=reader).json()
    assert by_version == by_text
    unknown = client.get(f"{API}/diff", params={"old": "2019-04-04", "new": "nope"}, headers=reader)
    assert_problem(unknown, 404, "not_found")
    missing = client.get(f"{API}/diff", params={"old": "2019-04-04"}, headers=reader)
    assert_problem(missing, 422, "invalid_request")


# --- publish and read versions -------------------------------------------------------


def test_publish_by_a_privacy_officer(client: TestClient, officer: dict[str, str], services: Services) -> None:
    response = client.post(
        f"{API}/publish", content=TEXT_2019.encode(), headers={**officer, **YAML, "x-filename": "statement-2019.yaml"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == VERSION_KEYS
    assert (body["version"], body["effective"]) == ("2019-04-04", "2019-04-04")
    assert body["published_by"].startswith("token:")
    assert stored_versions(services) == ["2019-04-04"]
    with services.database.session() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "policy.published")).one()
        assert (entry.actor, entry.target) == (body["published_by"], "policy_version:2019-04-04")


def test_publish_is_refused_to_an_analyst(client: TestClient, reader: dict[str, str], services: Services) -> None:
    response = client.post(f"{API}/publish", content=TEXT_2019.encode(), headers={**reader, **YAML})
    body = assert_problem(response, 403, "forbidden")
    assert "analyst" in body["detail"]
    assert stored_versions(services) == []


def test_publish_needs_the_scope_not_only_the_role(
    client: TestClient, make_token: MakeToken, services: Services
) -> None:
    read_only = bearer(make_token(Role.PRIVACY_OFFICER, scopes=[Permission.POLICY_READ]))
    assert client.post(f"{API}/check", content=TEXT_2019.encode(), headers={**read_only, **YAML}).status_code == 200
    response = client.post(f"{API}/publish", content=TEXT_2019.encode(), headers={**read_only, **YAML})
    assert_problem(response, 403, "forbidden")
    assert stored_versions(services) == []


def test_publish_twice_is_a_conflict(client: TestClient, officer: dict[str, str], services: Services) -> None:
    assert client.post(f"{API}/publish", content=TEXT_2019.encode(), headers={**officer, **YAML}).status_code == 201
    again = client.post(f"{API}/publish", content=TEXT_2019.encode(), headers={**officer, **YAML})
    assert_problem(again, 409, "version_exists")
    assert stored_versions(services) == ["2019-04-04"]


def test_publish_an_earlier_effective_date_is_a_conflict(
    client: TestClient, officer: dict[str, str], services: Services
) -> None:
    assert client.post(f"{API}/publish", content=TEXT_2023.encode(), headers={**officer, **YAML}).status_code == 201
    older = client.post(f"{API}/publish", content=TEXT_2019.encode(), headers={**officer, **YAML})
    assert_problem(older, 409, "effective_date_regression")
    assert stored_versions(services) == ["2023-01-01"]


@pytest.mark.parametrize("body", [BROKEN_2019.encode(), yaml_bomb().encode(), b"", b"\xff\xfe not utf-8"])
def test_publish_of_a_bad_body_stores_nothing(
    client: TestClient, officer: dict[str, str], services: Services, body: bytes
) -> None:
    response = client.post(f"{API}/publish", content=body, headers={**officer, **YAML})
    assert response.status_code in (413, 422), response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    assert stored_versions(services) == []


def test_versions_and_the_one_in_force(client: TestClient, reader: dict[str, str], published: list[str]) -> None:
    response = client.get(f"{API}/versions", headers=reader)
    assert response.status_code == 200
    listed = response.json()
    assert all(set(v) == VERSION_KEYS for v in listed)
    assert [(v["version"], v["in_force"]) for v in listed] == [("2019-04-04", False), ("2023-01-01", True)]

    in_2020 = client.get(f"{API}/in-force", params={"at": "2020-01-01"}, headers=reader)
    assert in_2020.status_code == 200
    assert (in_2020.json()["version"], in_2020.json()["in_force"]) == ("2019-04-04", True)
    assert client.get(f"{API}/in-force", params={"at": "2023-01-01"}, headers=reader).json()["version"] == "2023-01-01"
    assert client.get(f"{API}/in-force", headers=reader).json()["version"] == "2023-01-01"
    before = client.get(f"{API}/in-force", params={"at": "2010-01-01"}, headers=reader)
    body = assert_problem(before, 404, "not_found")
    assert "2010-01-01" in body["detail"]


def test_in_force_with_nothing_published(client: TestClient, reader: dict[str, str]) -> None:
    assert_problem(client.get(f"{API}/in-force", headers=reader), 404, "not_found")
    assert client.get(f"{API}/versions", headers=reader).json() == []


def test_one_version_has_its_document_and_source(
    client: TestClient, reader: dict[str, str], published: list[str]
) -> None:
    response = client.get(f"{API}/versions/2019-04-04", headers=reader)
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == "2019-04-04"
    assert body["source"] == TEXT_2019
    assert body["document"]["version"] == "2019-04-04"
    assert body["document"]["collection"]["minimum_age"]["age"] == 13
    assert_problem(client.get(f"{API}/versions/nope", headers=reader), 404, "not_found")


def test_a_session_must_send_its_csrf_token(client: TestClient, make_session: MakeSession) -> None:
    login = make_session(Role.ANALYST)
    client.cookies.set(SESSION_COOKIE, login.cookie)
    assert client.get(f"{API}/versions").status_code == 200  # reading needs no token
    refused = client.post(f"{API}/check", content=TEXT_2019.encode(), headers=YAML)
    assert_problem(refused, 403, "forbidden")
    wrong = client.post(f"{API}/check", content=TEXT_2019.encode(), headers={**YAML, CSRF_HEADER: "wrong"})
    assert_problem(wrong, 403, "forbidden")
    allowed = client.post(f"{API}/check", content=TEXT_2019.encode(), headers={**YAML, CSRF_HEADER: login.csrf_token})
    assert allowed.status_code == 200, allowed.text


# --- errors are problems, never 500 --------------------------------------------------


def test_unknown_route(client: TestClient, reader: dict[str, str]) -> None:
    assert_problem(client.get(f"{API}/nope", headers=reader), 404)
    assert_problem(client.get("/api/v2/policy/versions", headers=reader), 404)


def test_wrong_method(client: TestClient, reader: dict[str, str]) -> None:
    assert_problem(client.delete(f"{API}/versions", headers=reader), 405)
    assert_problem(client.get(f"{API}/publish", headers=reader), 405)
    assert_problem(client.put(f"{API}/versions/2019-04-04", headers=reader), 405)


def test_bad_query_type(client: TestClient, reader: dict[str, str]) -> None:
    body = assert_problem(
        client.get(f"{API}/in-force", params={"at": "not-a-date"}, headers=reader), 422, "invalid_request"
    )
    assert body["problems"][0]["path"] == "at"


@pytest.mark.parametrize(
    ("method", "path", "kwargs"),
    [
        ("get", "/in-force?at=2020-13-45", {}),
        ("get", "/in-force?at=99999-01-01", {}),
        ("get", "/in-force?at=" + "9" * 500, {}),
        ("get", "/versions/" + "v" * 5000, {}),
        ("get", "/versions/..%2F..%2Fetc%2Fpasswd", {}),
        ("get", "/diff?old=%FF&new=2019", {}),
        ("post", "/diff", {"json": []}),
        ("post", "/diff", {"json": {"old_yaml": None, "new_yaml": None}}),
        ("post", "/diff", {"json": {"old_yaml": "- a\n- b\n", "new_yaml": "just text"}}),
        ("post", "/diff", {"json": {"old_yaml": "a: &a [*a]\n", "new_yaml": ""}}),
        ("post", "/check", {"content": b"[1, 2, 3]"}),
        ("post", "/check", {"content": b"!!python/object/apply:os.system ['true']"}),
        ("post", "/check", {"content": b"charter: !!binary aGVsbG8=\n"}),
        ("post", "/check", {"content": b"a: {b: [" * 100}),
        ("post", "/check", {"content": b"a: {b: [" * 250}),
        ("post", "/check", {"content": b"[" * 100 + b"]" * 100}),
        ("post", "/check", {"content": ("x:\n" + "".join(" " * i + "- \n" for i in range(1, 200))).encode()}),
        ("post", "/check", {"content": b"? [a, b]\n: c\n"}),
        ("post", "/check", {"content": b"<<: {a: 1}\n"}),
        ("post", "/check", {"content": b"charter: 1\ncharter: 1\n"}),
        ("post", "/check", {"content": b"\x00\x01\x02"}),
        ("post", "/check", {"content": 'charter: 1\nversion: "\u202e"\neffective: 2019-02-28\n'.encode()}),
        ("post", "/check", {"files": {"statement": ("s.yaml", TEXT_2019.encode(), "application/yaml")}}),
        ("post", "/render?format=html", {"content": b"x: 1\n"}),
        ("post", "/publish", {"content": b"version: '2019'\n"}),
    ],
)
def test_odd_requests_are_problems_never_500(
    client: TestClient, officer: dict[str, str], method: str, path: str, kwargs: dict[str, Any]
) -> None:
    headers = dict(officer)
    if "content" in kwargs:
        headers.update(YAML)
    response = getattr(client, method)(API + path, headers=headers, **kwargs)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith(PROBLEM)
    json.dumps(response.json())  # a well-formed body


def test_deep_nesting_is_refused(client: TestClient, reader: dict[str, str]) -> None:
    # Far deeper nesting (tens of thousands of levels) crashes the server process in libyaml's
    # composer; it cannot be tested in-process. See tests/cli: test_check_survives_very_deep_nesting.
    response = client.post(f"{API}/check", content=b"[" * 1000 + b"]" * 1000, headers={**reader, **YAML})
    body = assert_problem(response, 413, "input_too_large")
    assert "nests more than" in body["detail"]


def test_an_impossible_date_is_a_problem_not_a_crash(client: TestClient, reader: dict[str, str]) -> None:
    body = TEXT_2019.replace("effective: 2019-04-04", "effective: 2019-02-30").encode()
    response = client.post(f"{API}/check", content=body, headers={**reader, **YAML})
    problem = assert_problem(response, 422, "policy_invalid")
    assert problem["problems"][0]["line"] == position(TEXT_2019, "effective: 2019-04-04")[0]


@pytest.mark.parametrize("path", ["/versions/%00", "/versions/a%00b", "/diff?old=%00&new=2019-04-04"])
def test_a_nul_byte_in_a_version_is_not_found(client: TestClient, reader: dict[str, str], path: str) -> None:
    """A NUL byte once reached PostgreSQL and came back as a 500."""
    assert_problem(client.get(API + path, headers=reader), 404, "not_found")
