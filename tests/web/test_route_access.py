"""Every route declares who may call it, and the declaration holds (P-SEC-1).

The test walks the application's own route table, so a route added later is
covered without anyone remembering to add it here; a public route must be
listed in PUBLIC on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth import service as auth
from charter.auth.roles import ROLE_PERMISSIONS, Permission, Role
from charter.db import Database
from charter.errors import Misconfigured
from charter.services import Services
from charter.settings import DatabaseSettings, Settings
from charter.web.app import create_app
from charter.web.security import assert_routes_declared, declared_routes

PUBLIC = {
    "/healthz",
    "/",
    "/privacy",
    "/privacy/versions",
    "/privacy/versions/{version}",
    "/privacy/changes",
    "/login",
    "/privacy/preferences",  # the preference center: e-mail form, then the choices (GET) and saving them (POST)
    "/privacy/preferences/code",  # ask for a code (POST), where to type it (GET)
    "/privacy/preferences/verify",  # the e-mailed link's landing page (GET), redeeming a code or link (POST)
    "/privacy/preferences/signout",
    "/u/{token}",  # one-click unsubscribe (RFC 8058) and its confirmation page
    "/o/{token}.gif",  # the e-mail open pixel
    "/api/v1/banner/config",  # the cookie banner's config (GET, and its CORS preflight)
    "/api/v1/banner/choices",  # recording a visitor's banner choice (POST, and its CORS preflight)
    "/.well-known/gpc.json",  # Global Privacy Control support resource
    "/api/v1/requests",  # a privacy request (POST; listing them needs requests:read)
    "/api/v1/requests/verify",  # redeeming a request's e-mailed code or link
    "/privacy/requests",  # the privacy-request form (GET) and sending it (POST, multipart)
    "/privacy/requests/code",  # "check your e-mail" and where to type the code
    "/privacy/requests/verify",  # the e-mailed link's landing page (GET), redeeming a code or link (POST)
    "/privacy/requests/{public_id}",  # the status page: only with the request's own signed cookie
    "/privacy/requests/{public_id}/information",  # the requester adds what was asked (same cookie)
    "/privacy/requests/{public_id}/code",  # a new code to the request's own address, to open its page again
    "/privacy/requests/{public_id}/open",  # redeeming that code
    "/privacy/requests/{public_id}/facts",  # facts held for a high-risk request (the request's cookie; P-RGT-7)
    "/api/v1/requests/verify-facts",  # the code or link plus facts held: one answer whatever the outcome
    # -- delivery: the copy of an access/portability request (charter.delivery) --
    "/privacy/requests/download",  # the one-time link (?token=…): the zip once, then 410
    "/privacy/requests/{public_id}/copy/code",  # "Get my copy": a fresh code to the request's own address
    "/privacy/requests/{public_id}/copy",  # where to type it (GET), redeeming it (POST)
    "/api/v1/requests/{public_id}/copy/code",  # the same over the API (202 whether or not it exists)
    "/api/v1/requests/{public_id}/copy",  # redeeming it: a one-time link, or the push to the third party
    # -- end delivery --
    # -- a request made without an e-mail address, followed by its status secret (issue 11) --
    "/privacy/requests/open",  # the status link shown once (GET ?token=…), or the secret pasted (POST)
    "/privacy/requests/{public_id}/copy/secret",  # "Get my copy" with the secret typed again
    "/api/v1/requests/status",  # where it stands, for the holder of the secret (POST body)
    "/api/v1/requests/status/facts",  # facts held again: one answer whatever the outcome
    "/api/v1/requests/status/copy",  # the copy's one-time link
}


@pytest.fixture
def app(database: Database, tmp_path: Path) -> Iterator[FastAPI]:
    services = Services(Settings.load(env="test", home=tmp_path, database=DatabaseSettings(url=database.url)))
    yield create_app(services)
    services.close()


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x", path)


def token_without(database: Database, permission: Permission) -> str:
    """A caller who is authenticated but lacks ``permission``: a role without it, else a narrower token."""
    role = next((r for r in Role if permission not in ROLE_PERMISSIONS[r]), Role.ADMIN)
    scopes = sorted(p for p in ROLE_PERMISSIONS[role] if p != permission)
    with database.session() as session:
        username = f"u_{role.value}_{permission.value.replace(':', '_')}"
        if auth.find_user(session, username) is None:
            auth.create_user(session, username=username, role=role, password="a long enough password", actor="test")
        token, _ = auth.create_token(
            session, username=username, name="t", scopes=scopes, expires_days=None, actor="test"
        )
    return token


def test_every_route_declares_its_access(app: FastAPI) -> None:
    undeclared = [r.path for r in declared_routes(app) if r.access is None]
    assert undeclared == []
    public = {r.path for r in declared_routes(app) if r.access == "public"}
    assert public == PUBLIC, "a route became public (or stopped being): update PUBLIC on purpose"


def test_an_undeclared_route_stops_start_up() -> None:
    from fastapi import APIRouter

    app, router = FastAPI(), APIRouter()

    @app.get("/oops")
    def oops() -> None: ...

    @router.get("/nested")
    def nested() -> None: ...

    app.include_router(router, prefix="/inner")
    with pytest.raises(Misconfigured, match=r"/oops.*/inner/nested"):
        assert_routes_declared(app)


def test_non_public_routes_refuse_anonymous_and_wrong_role_callers(app: FastAPI, database: Database) -> None:
    client = TestClient(app)
    checked = 0
    for route in declared_routes(app):
        if route.access == "public":
            continue
        permission = Permission(route.access)
        path = concrete(route.path)
        for method in sorted(route.methods):
            anonymous = client.request(method, path)
            assert anonymous.status_code == 401, (method, path, anonymous.text)
            assert anonymous.headers["content-type"].startswith("application/problem+json")
            wrong = client.request(
                method, path, headers={"Authorization": f"Bearer {token_without(database, permission)}"}
            )
            assert wrong.status_code == 403, (method, path, wrong.text)
            forged = client.request(method, path, headers={"Authorization": "Bearer cht_000000000000_forged"})
            assert forged.status_code == 401, (method, path)
            checked += 1
    assert checked >= 10
