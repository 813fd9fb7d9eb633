"""The cookie banner's public API and /.well-known/gpc.json (P-TRK-1, P-TRK-2, P-COL-4).

Runs on SQLite and PostgreSQL through the ``services`` fixture. A choice is
recorded for the person known by identity kind ``cookie_id``; the answer
never says whether that person was known before.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from charter.banner.view import build
from charter.decisions.state import PersonState
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind
from charter.ledger.models import LedgerEvent
from charter.policy.loader import load
from charter.services import Services
from charter.settings import BannerSettings
from charter.subjects import service as subjects
from charter.web.app import create_app
from tests.conftest import EXAMPLES

CONFIG = "/api/v1/banner/config"
CHOICES = "/api/v1/banner/choices"
GPC_JSON = "/.well-known/gpc.json"
COOKIE = "0123456789abcdef0123456789abcdef"
SHOP = "https://shop.example"
ANALYTICS_PURPOSES = ("content_measurement", "measure_marketing_effectiveness", "improve_services")


def sha_2023() -> str:
    return build(load((EXAMPLES / "statement-2023.yaml").read_text(), source="2023").statement).sha256


def body(**overrides: Any) -> dict[str, Any]:
    sent: dict[str, Any] = {
        "cookie_id": COOKIE,
        "choices": {"functional": True, "analytics": False, "marketing": True},
        "banner_sha256": sha_2023(),
        "statement_version": "2023-01-01",
        "gpc": False,
        "dnt": False,
    }
    sent.update(overrides)
    return sent


def ledger_of(services: Services, cookie_id: str = COOKIE) -> tuple[PersonState, list[Event]] | None:
    with services.database.session() as session:
        person = subjects.resolve(session, "cookie_id", cookie_id, vault=services.vault, create=False)
        if person is None:
            return None
        return ledger.state_of(session, person), ledger.events_of(session, person)


def event_count(services: Services) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(LedgerEvent)) or 0


@pytest.fixture
def listed(services: Services) -> Iterator[TestClient]:
    """An app that lets only https://shop.example embed the banner."""
    settings = services.settings.model_copy(update={"banner": BannerSettings(allowed_origins=f"{SHOP}, http://x.test")})
    own = Services(settings)
    with TestClient(create_app(own)) as client:
        yield client
    own.close()


# --- config ---------------------------------------------------------------------------------------


def test_config_describes_the_statement_in_force(client: TestClient, published: list[str]) -> None:
    response = client.get(CONFIG, headers={"Origin": SHOP})
    assert response.status_code == 200
    assert response.headers["cache-control"] == "public, max-age=300"
    assert response.headers["access-control-allow-origin"] == "*"
    assert "sec-gpc" not in response.headers.get("vary", "").lower()  # the same for every visitor
    config = response.json()
    assert config["statement_version"] == "2023-01-01"
    assert config["banner_sha256"] == sha_2023()
    assert config["policy_url"] == "http://127.0.0.1:8000/privacy#tracking"
    assert [c["id"] for c in config["classes"]] == ["necessary", "functional", "analytics", "marketing"]
    analytics = config["classes"][2]
    assert (
        analytics["description"] == "Tell us which content is effective and how the Services are used, to improve them."
    )
    assert [p["id"] for p in analytics["purposes"]] == list(ANALYTICS_PURPOSES)
    assert config["signals"] == {"gpc": ["marketing"], "dnt": ["marketing"]}


def test_config_before_any_statement_is_404(client: TestClient) -> None:
    response = client.get(CONFIG)
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


# --- choices --------------------------------------------------------------------------------------


def test_a_refusal_of_analytics_is_in_the_ledger(client: TestClient, services: Services, published: list[str]) -> None:
    response = client.post(CHOICES, json=body(), headers={"Origin": SHOP})
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.json() == {
        "recorded": True,
        "statement_version": "2023-01-01",
        "choices": {"functional": True, "analytics": False, "marketing": True},
    }
    found = ledger_of(services)
    assert found is not None
    state, events = found
    for purpose in ANALYTICS_PURPOSES:
        assert not state.consented(purpose)
        assert state.consents[purpose].statement_version == "2023-01-01"
    assert state.consented("remember_preferences")
    assert state.preferences["cookies.analytics"] is False
    assert "content_measurement" in state.opted_out
    assert {e.source.value for e in events} == {"banner"}
    assert {e.evidence["banner_sha256"] for e in events} == {sha_2023()}
    assert not state.gpc and not state.dnt


def test_the_answer_does_not_reveal_a_known_person(client: TestClient, published: list[str]) -> None:
    first = client.post(CHOICES, json=body(), headers={"Sec-GPC": "1"})
    second = client.post(CHOICES, json=body(), headers={"Sec-GPC": "1"})
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert "person" not in first.json()


def test_sec_gpc_is_recorded_once_per_person(client: TestClient, services: Services, published: list[str]) -> None:
    """P-TRK-2: the header opts out; repeated requests do not repeat the event."""
    for _ in range(3):
        response = client.post(CHOICES, json=body(), headers={"Sec-GPC": "1"})
        assert response.status_code == 201
        assert "Sec-GPC" in response.headers["vary"]
    found = ledger_of(services)
    assert found is not None
    state, events = found
    assert state.gpc
    gpc = [e for e in events if e.kind == EventKind.SIGNAL_GPC]
    assert len(gpc) == 1
    assert gpc[0].source.value == "browser_signal"
    assert gpc[0].evidence == {"banner_sha256": sha_2023(), "seen_in": "header"}


def test_signals_the_script_read_count_too(client: TestClient, services: Services, published: list[str]) -> None:
    response = client.post(CHOICES, json=body(gpc=True), headers={"DNT": "1"})
    assert response.status_code == 201
    found = ledger_of(services)
    assert found is not None
    state, events = found
    assert state.gpc and state.dnt
    seen = {e.kind: e.evidence["seen_in"] for e in events if e.kind in (EventKind.SIGNAL_GPC, EventKind.SIGNAL_DNT)}
    assert seen == {EventKind.SIGNAL_GPC: "script", EventKind.SIGNAL_DNT: "header"}


def test_a_stale_version_is_409_and_records_nothing(
    client: TestClient, services: Services, published: list[str]
) -> None:
    response = client.post(CHOICES, json=body(statement_version="2019-04-04"), headers={"Origin": SHOP})
    assert response.status_code == 409
    assert response.headers["access-control-allow-origin"] == "*"  # the script can read why
    assert "no longer in force (2023-01-01 is); reload the banner" in response.json()["detail"]
    stale_text = client.post(CHOICES, json=body(banner_sha256="f" * 64))
    assert stale_text.status_code == 409
    assert ledger_of(services) is None
    assert event_count(services) == 0


def test_an_unknown_class_is_named(client: TestClient, services: Services, published: list[str]) -> None:
    choices = {"functional": True, "analytics": False, "marketing": True, "profiling": False}
    response = client.post(CHOICES, json=body(choices=choices))
    assert response.status_code == 422
    assert response.json()["detail"].startswith("cookie class profiling is not in statement 2023-01-01")
    missing = client.post(CHOICES, json=body(choices={"functional": True}))
    assert missing.status_code == 422
    assert "analytics, marketing" in missing.json()["detail"]
    assert event_count(services) == 0


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"cookie_id": "not-a-random-id"}, "cookie_id"),
        ({"cookie_id": COOKIE.upper()}, "cookie_id"),
        ({"banner_sha256": "xyz"}, "banner_sha256"),
        ({"choices": {"functional": "yes", "analytics": False, "marketing": True}}, "choices.functional"),
        ({"extra": 1}, "extra"),
    ],
)
def test_malformed_bodies_are_422(
    client: TestClient, services: Services, published: list[str], change: dict[str, Any], path: str
) -> None:
    response = client.post(CHOICES, json=body(**change))
    assert response.status_code == 422
    assert response.json()["problems"][0]["path"] == path
    assert COOKIE.upper() not in response.text  # input values are never echoed
    assert event_count(services) == 0


def test_not_json_is_422(client: TestClient, published: list[str]) -> None:
    response = client.post(CHOICES, content=b"{not json", headers={"Content-Type": "application/json"})
    assert response.status_code == 422


def test_an_oversized_body_is_413(client: TestClient, services: Services, published: list[str]) -> None:
    padded = body(statement_version="2023-01-01" + " " * 3000)
    response = client.post(CHOICES, json=padded, headers={"Origin": SHOP})
    assert response.status_code == 413
    assert response.headers["access-control-allow-origin"] == "*"

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"cookie_id": "' + b"a" * 1500
        yield b"b" * 1500 + b'"}'

    chunked = client.post(CHOICES, content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert event_count(services) == 0


# --- CORS -------------------------------------------------------------------------------------------


def test_preflight_from_any_origin_by_default(client: TestClient) -> None:
    headers = {
        "Origin": SHOP,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type",
    }
    response = client.options(CHOICES, headers=headers)
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "POST"
    assert response.headers["access-control-allow-headers"] == "Content-Type"
    assert "access-control-allow-credentials" not in response.headers
    assert client.options(CONFIG, headers={**headers, "Access-Control-Request-Method": "GET"}).status_code == 204


def test_only_listed_origins_may_embed(listed: TestClient, published: list[str], services: Services) -> None:
    preflight = {"Access-Control-Request-Method": "POST"}
    allowed = listed.options(CHOICES, headers={"Origin": SHOP, **preflight})
    assert allowed.headers["access-control-allow-origin"] == SHOP
    assert "Origin" in allowed.headers["vary"]
    refused = listed.options(CHOICES, headers={"Origin": "https://evil.example", **preflight})
    assert "access-control-allow-origin" not in refused.headers
    config = listed.get(CONFIG, headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in config.headers

    blocked = listed.post(CHOICES, json=body(), headers={"Origin": "https://evil.example"})
    assert blocked.status_code == 403
    assert "CHARTER_BANNER_ALLOWED_ORIGINS" in blocked.json()["detail"]
    assert event_count(services) == 0
    ok = listed.post(CHOICES, json=body(), headers={"Origin": SHOP})
    assert ok.status_code == 201
    assert ok.headers["access-control-allow-origin"] == SHOP


def test_other_paths_get_no_cors_headers(client: TestClient, published: list[str]) -> None:
    response = client.get("/privacy", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in response.headers


# --- /.well-known/gpc.json and the signals middleware --------------------------------------------------


def test_gpc_json(client: TestClient, published: list[str]) -> None:
    response = client.get(GPC_JSON)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {"gpc": True, "lastUpdate": "2023-01-01"}


def test_gpc_json_before_any_statement_is_404(client: TestClient) -> None:
    assert client.get(GPC_JSON).status_code == 404


def test_anonymous_gpc_requests_are_only_counted(app: FastAPI, client: TestClient, published: list[str]) -> None:
    """A GPC request with no known person has nobody to record it for: it is counted, nothing more."""
    counts = app.state.signal_counts
    client.get("/privacy", headers={"Sec-GPC": "1"})
    client.get("/privacy", headers={"DNT": "1"})
    client.get("/privacy")
    assert counts.snapshot() == {"gpc": 1, "dnt": 1, "anonymous_gpc": 1}
    client.post(CHOICES, json=body(), headers={"Sec-GPC": "1"})
    assert counts.snapshot() == {"gpc": 2, "dnt": 1, "anonymous_gpc": 1}  # attached to the cookie's person
