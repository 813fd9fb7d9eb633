"""The web app on each database backend, with callers of any role.

``services`` and ``app`` are built on the ``database`` fixture, so every
test that uses them runs on SQLite and on PostgreSQL. ``make_token`` makes
a user of a role and a bearer token for it; ``make_session`` does the same
for a console session cookie (with its CSRF token); ``published`` puts both
example statements in the database, 2019 first.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth import service as auth
from charter.auth.roles import Permission, Role, permissions_of
from charter.db import Database
from charter.policy import service as policy
from charter.services import Services
from charter.settings import DatabaseSettings, Settings
from charter.web.app import create_app
from tests.auth.factories import PASSWORD
from tests.conftest import EXAMPLES

EXAMPLE_FILES = ("statement-2019.yaml", "statement-2023.yaml")
_names = itertools.count(1)

MakeToken = Callable[..., str]


@dataclass(frozen=True)
class ConsoleLogin:
    """A signed-in console user: the cookie value and the session's CSRF token."""

    username: str
    cookie: str
    csrf_token: str


MakeSession = Callable[[Role], ConsoleLogin]


def _username(role: Role) -> str:
    return f"{role.value.replace('_', '-')}-{next(_names)}"


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    built = Services(Settings.load(env="test", home=tmp_path / "home", database=DatabaseSettings(url=database.url)))
    yield built
    built.close()


@pytest.fixture
def app(services: Services) -> FastAPI:
    return create_app(services)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


@pytest.fixture
def make_token(services: Services) -> MakeToken:
    """``make_token(role, scopes=None)``: a new user of ``role`` and a bearer token string for it.

    The token carries every permission of the role, or only ``scopes``.
    """

    def make(role: Role, scopes: list[Permission | str] | None = None) -> str:
        username = _username(role)
        wanted = list(scopes) if scopes is not None else sorted(permissions_of(role))
        with services.database.session() as session:
            auth.create_user(session, username=username, role=role, password=PASSWORD, actor="test")
            token, _row = auth.create_token(session, username=username, name="tests", scopes=wanted, actor="test")
        return token

    return make


@pytest.fixture
def make_session(services: Services) -> MakeSession:
    """``make_session(role)``: a new user of ``role`` signed in to the console."""

    def make(role: Role) -> ConsoleLogin:
        username = _username(role)
        with services.database.session() as session:
            user = auth.create_user(session, username=username, role=role, password=PASSWORD, actor="test")
            cookie, row = auth.start_session(session, user, hours=1)
            csrf = row.csrf_token
        return ConsoleLogin(username, cookie, csrf)

    return make


@pytest.fixture
def published(services: Services) -> list[str]:
    """Both example statements published in order; returns their versions."""
    versions = []
    for name in EXAMPLE_FILES:
        loaded, raw = policy.read_file(EXAMPLES / name, limits=services.settings.policy)
        with services.database.session() as session:
            versions.append(policy.publish(session, loaded, raw, actor="test").version)
    return versions
