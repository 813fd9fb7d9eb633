"""Signing in and out through the real app, on each database backend."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.auth import service as auth
from charter.auth.roles import Role
from charter.db import Database
from charter.services import Services
from charter.settings import DatabaseSettings, SecuritySettings, Settings
from charter.web.app import create_app
from charter.web.pages.session import (
    LOGIN_CSRF_COOKIE,
    check_login_csrf,
    issue_login_csrf,
    safe_next,
)
from charter.web.security import SESSION_COOKIE

PASSWORD = "correct horse battery staple"
ATTEMPTS = 3


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    built = Services(
        Settings.load(
            env="test",
            home=tmp_path,
            database=DatabaseSettings(url=database.url),
            security=SecuritySettings(login_attempts_per_minute=ATTEMPTS, session_hours=2),
        )
    )
    with built.database.session() as session:
        auth.create_user(session, username="alice", role=Role.PRIVACY_OFFICER, password=PASSWORD, actor="test")
    yield built
    built.close()


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    with TestClient(create_app(services), follow_redirects=False) as test_client:
        yield test_client


def login_token(client: TestClient, query: str = "") -> str:
    page = client.get(f"/login{query}")
    assert page.status_code == 200
    match = re.search(r'name="login_csrf" value="([^"]+)"', page.text)
    assert match is not None
    return match.group(1)


def post_login(
    client: TestClient, username: str, password: str, *, next_url: str = "", token: str | None = None
) -> Any:
    token = login_token(client) if token is None else token
    return client.post(
        "/login", data={"username": username, "password": password, "next": next_url, "login_csrf": token}
    )


def session_csrf(services: Services, cookie: str) -> str:
    with services.database.session() as session:
        principal = auth.principal_from_session(session, cookie)
    assert principal is not None
    assert principal.csrf_token is not None
    return principal.csrf_token


def test_form_is_accessible_and_sets_the_csrf_cookie(client: TestClient) -> None:
    page = client.get("/login?next=/console/policy")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert '<label for="username">' in page.text
    assert '<label for="password">' in page.text
    assert 'autocomplete="current-password"' in page.text
    assert 'name="next" value="/console/policy"' in page.text
    cookie = next(h for h in page.headers.get_list("set-cookie") if h.startswith(LOGIN_CSRF_COOKIE))
    assert "HttpOnly" in cookie
    assert "Path=/login" in cookie
    assert "SameSite=strict" in cookie


def test_login_success_sets_a_session_cookie_and_redirects(client: TestClient, services: Services) -> None:
    response = post_login(client, "alice", PASSWORD, next_url="/console/policy")
    assert response.status_code == 303
    assert response.headers["location"] == "/console/policy"
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "HttpOnly" in cookie
    assert "Path=/" in cookie
    assert "SameSite=lax" in cookie
    assert "Max-Age=7200" in cookie
    assert "Secure" not in cookie
    value = client.cookies.get(SESSION_COOKIE)
    assert value
    session_csrf(services, value)
    assert client.get("/console").status_code == 200
    assert client.get("/login").status_code == 303  # signed in already: on to the console


def test_secure_cookie_when_configured(services: Services) -> None:
    services.settings.security.cookie_secure = True
    with TestClient(create_app(services), base_url="https://testserver", follow_redirects=False) as client:
        response = post_login(client, "alice", PASSWORD)
    assert response.status_code == 303
    cookie = next(h for h in response.headers.get_list("set-cookie") if h.startswith(SESSION_COOKIE))
    assert "Secure" in cookie


@pytest.mark.parametrize("username", ["alice", "nobody"])
def test_wrong_password_or_unknown_user_is_401_with_one_message(client: TestClient, username: str) -> None:
    response = post_login(client, username, "not the password at all")
    assert response.status_code == 401
    assert "Wrong username or password." in response.text
    assert 'role="alert"' in response.text
    assert SESSION_COOKIE not in client.cookies
    assert f'value="{username}"' in response.text  # the name stays in the form, escaped


def test_login_without_the_csrf_token_is_refused(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert SESSION_COOKIE not in client.cookies


def test_login_csrf_must_match_the_cookie_and_be_signed(client: TestClient, services: Services) -> None:
    other = issue_login_csrf(services)
    assert post_login(client, "alice", PASSWORD, token=other).status_code == 403
    forged = login_token(client)
    forged = forged[: forged.rindex(".") + 1] + "0" * 64
    client.cookies.set(LOGIN_CSRF_COOKIE, forged, path="/login")
    assert post_login(client, "alice", PASSWORD, token=forged).status_code == 403
    old = issue_login_csrf(services, now=1_000_000)
    assert not check_login_csrf(services, old, old)
    fresh = issue_login_csrf(services)
    assert check_login_csrf(services, fresh, fresh)


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example",
        "//evil.example/console",
        "/\\evil.example",
        "https://evil.example/",
        "/\t/evil.example",
        "javascript:alert(1)",
        "console",
    ],
)
def test_open_redirects_are_ignored(client: TestClient, target: str) -> None:
    response = post_login(client, "alice", PASSWORD, next_url=target)
    assert response.status_code == 303
    assert response.headers["location"] == "/console"


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/console/policy?x=1#top") == "/console/policy?x=1#top"
    assert safe_next(None) == "/console"


def test_rate_limit_after_repeated_failures(client: TestClient) -> None:
    for _ in range(ATTEMPTS):
        assert post_login(client, "alice", "wrong wrong wrong").status_code == 401
    response = post_login(client, "alice", PASSWORD)
    assert response.status_code == 429
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["status"] == 429


def test_logout_needs_the_csrf_token_then_ends_the_session(client: TestClient, services: Services) -> None:
    assert post_login(client, "alice", PASSWORD).status_code == 303
    cookie = client.cookies.get(SESSION_COOKIE)
    assert cookie
    csrf = session_csrf(services, cookie)
    refused = client.post("/logout")
    assert refused.status_code == 403
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303
    assert response.headers["location"] == "/privacy"
    assert any(h.startswith(f"{SESSION_COOKIE}=") and "Max-Age=0" in h for h in response.headers.get_list("set-cookie"))
    with services.database.session() as session:
        assert auth.principal_from_session(session, cookie) is None
    client.cookies.set(SESSION_COOKIE, cookie)  # a copied cookie no longer works either
    assert client.get("/console").status_code == 401
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 401


def test_the_username_is_escaped_when_the_form_comes_back(client: TestClient) -> None:
    response = post_login(client, '"><script>alert(1)</script>', "not the password at all")
    assert response.status_code == 401
    assert "<script>alert(1)</script>" not in response.text
    assert "&lt;script&gt;" in response.text
