"""Request bodies have one limit for every route, refused as problem+json."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi.testclient import TestClient

LIMIT = 8_000_000  # the larger of two statements and a batch of decisions


def test_a_declared_oversize_body_is_refused_unread(client: TestClient) -> None:
    response = client.post(
        "/api/v1/policy/diff", content=b"x" * (LIMIT + 1), headers={"content-type": "application/json"}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


def test_a_chunked_oversize_body_is_refused_as_it_arrives(client: TestClient) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(LIMIT // 100_000 + 2):
            yield b"x" * 100_000

    response = client.post("/api/v1/policy/diff", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["type"].endswith("/input_too_large")


def test_ordinary_requests_pass(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200
