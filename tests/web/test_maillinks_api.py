"""Mail links over HTTP: the mint API, RFC 8058 one-click unsubscribe, the open pixel (P-TRK-3, P-TRK-2).

The routers are mounted as ``charter.web.app`` mounts them, on both backends
through the ``services`` fixture.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from charter.auth.roles import Role
from charter.db import Database, utcnow
from charter.ledger import service as ledger
from charter.ledger.events import EventKind
from charter.ledger.models import LedgerEvent
from charter.maillinks.models import MailLink, MailOpen
from charter.maillinks.service import MailLinks, recipient
from charter.services import Services
from charter.settings import DatabaseSettings, Settings
from charter.web import problems
from charter.web.api import maillinks as maillinks_api
from charter.web.pages import maillinks as maillinks_pages
from charter.web.pages.maillinks import PIXEL
from charter.web.security import assert_routes_declared

URL = "/api/v1/mail/links"
MARKETING = "marketing_new_services"
ANA = {"kind": "email", "value": "Ana.Secret@Example.org"}
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
HTML = {"Accept": "text/html,application/xhtml+xml"}


def build(services: Services) -> FastAPI:
    app = FastAPI()
    app.state.services = services
    problems.install(app)
    app.include_router(maillinks_api.router, prefix="/api/v1")
    app.include_router(maillinks_pages.router)
    assert_routes_declared(app)
    return app


@pytest.fixture
def app(services: Services) -> FastAPI:
    return build(services)


@pytest.fixture
def engineer(make_token: Callable[..., str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(Role.ENGINEER)}"}


def count(services: Services, model: type, **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    with services.database.session() as session:
        return session.scalar(query) or 0


def unsubscribes(services: Services) -> int:
    return count(services, LedgerEvent, kind=EventKind.UNSUBSCRIBED.value)


def path_of(url: str) -> str:
    return "/" + url.split("/", 3)[3]


@pytest.fixture
def minted(client: TestClient, published: list[str], engineer: dict[str, str]) -> dict[str, Any]:
    response = client.post(
        URL, json={"links": [{"identity": ANA, "list": MARKETING, "campaign": "c1"}]}, headers=engineer
    )
    assert response.status_code == 201, response.text
    return response.json()["links"][0]  # type: ignore[no-any-return]


# --- minting -----------------------------------------------------------------------------------


def test_mint_returns_urls_and_headers(services: Services, minted: dict[str, Any]) -> None:
    base = services.settings.base_url
    assert minted["unsubscribe_url"].startswith(f"{base}/u/")
    assert minted["open_pixel_url"].startswith(f"{base}/o/") and minted["open_pixel_url"].endswith(".gif")
    assert minted["headers"] == {
        "List-Unsubscribe": f"<{minted['unsubscribe_url']}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    assert minted["list"] == MARKETING and minted["campaign"] == "c1" and len(minted["person"]) <= 32
    assert "secret" not in str(minted).lower()


def test_mint_a_batch_by_identity_and_by_person(
    client: TestClient, services: Services, minted: dict[str, Any], engineer: dict[str, str]
) -> None:
    batch = [
        {"person": minted["person"], "list": MARKETING},
        {"identity": {"kind": "email", "value": "bo@example.org"}, "list": MARKETING, "campaign": "<id@mail>"},
    ]
    response = client.post(URL, json={"links": batch}, headers=engineer)
    assert response.status_code == 201, response.text
    body = response.json()["links"]
    assert [b["person"] == minted["person"] for b in body] == [True, False]
    assert count(services, MailLink) == 3


@pytest.mark.parametrize(
    ("identity", "path", "message"),
    [
        ({"kind": "email", "value": "ana.secret@@example"}, "links[1].identity.value", "email identity must look like"),
        ({"kind": "fax", "value": "ana.secret"}, "links[1].identity.kind", "identity kind is not known"),
        ({"kind": "phone", "value": "ana.secret"}, "links[1].identity.value", "phone"),
    ],
)
def test_malformed_identity_names_the_field_not_the_value(
    client: TestClient,
    services: Services,
    published: list[str],
    engineer: dict[str, str],
    identity: dict[str, str],
    path: str,
    message: str,
) -> None:
    batch = [{"identity": ANA, "list": MARKETING}, {"identity": identity, "list": MARKETING}]
    response = client.post(URL, json={"links": batch}, headers=engineer)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [p["path"] for p in body["problems"]] == [path]
    assert message in body["problems"][0]["message"]
    assert "secret" not in response.text.lower()
    assert count(services, MailLink) == 0


def test_every_bad_field_is_named_and_nothing_is_minted(
    client: TestClient, services: Services, published: list[str], engineer: dict[str, str]
) -> None:
    batch = [
        {"identity": ANA, "list": MARKETING},
        {"identity": ANA, "list": "provide_services"},
        {"identity": ANA, "list": "no_such_list"},
        {"identity": {"kind": "email", "value": "secret@"}, "list": MARKETING, "campaign": "a\x00b"},
    ]
    response = client.post(URL, json={"links": batch}, headers=engineer)
    assert response.status_code == 422, response.text
    problems_ = response.json()["problems"]
    assert [p["path"] for p in problems_] == [
        "links[1].list",
        "links[2].list",
        "links[3].identity.value",
        "links[3].campaign",
    ]
    assert "secret" not in response.text
    assert "not a marketing purpose" in problems_[0]["message"]
    assert count(services, MailLink) == 0


@pytest.mark.parametrize(
    ("item", "status"),
    [
        ({"list": MARKETING}, 422),  # neither identity nor person
        ({"identity": ANA, "person": "p", "list": MARKETING}, 422),  # both
        ({"identity": ANA, "list": MARKETING, "campaign": "a\nb"}, 400),
        ({"identity": ANA, "list": MARKETING, "campaign": "x" * 201}, 422),
        ({"identity": ANA, "list": MARKETING, "extra": 1}, 422),
        ({"person": "nobody", "list": MARKETING}, 404),
    ],
)
def test_bad_items_are_refused(
    client: TestClient,
    services: Services,
    published: list[str],
    engineer: dict[str, str],
    item: dict[str, Any],
    status: int,
) -> None:
    response = client.post(URL, json={"links": [item]}, headers=engineer)
    assert response.status_code == status, response.text
    assert count(services, MailLink) == 0


def test_a_batch_over_the_limit_is_413(client: TestClient, published: list[str], engineer: dict[str, str]) -> None:
    batch = [{"identity": ANA, "list": MARKETING}] * (maillinks_api.MAX_LINKS + 1)
    response = client.post(URL, json={"links": batch}, headers=engineer)
    assert response.status_code == 413, response.text


@pytest.mark.parametrize("role", [Role.ANALYST, Role.AUDITOR, Role.INVESTIGATOR])
def test_wrong_role_is_403_and_anonymous_401(
    client: TestClient, published: list[str], make_token: Callable[..., str], role: Role
) -> None:
    body = {"links": [{"identity": ANA, "list": MARKETING}]}
    response = client.post(URL, json=body, headers={"Authorization": f"Bearer {make_token(role)}"})
    assert response.status_code == 403, response.text
    assert client.post(URL, json=body).status_code == 401


def test_privacy_officers_may_mint(client: TestClient, published: list[str], make_token: Callable[..., str]) -> None:
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    response = client.post(URL, json={"links": [{"identity": ANA, "list": MARKETING}]}, headers=officer)
    assert response.status_code == 201, response.text


# --- one-click unsubscribe ---------------------------------------------------------------------


def test_rfc_8058_post_unsubscribes(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    """P-TRK-3: the mailbox provider's POST (form body, no cookies) unsubscribes; 200, no redirect."""
    response = client.post(path_of(minted["unsubscribe_url"]), data=ONE_CLICK)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    assert "set-cookie" not in response.headers
    assert response.headers["cache-control"] == "no-store"
    assert "unsubscribed" in response.text
    assert unsubscribes(services) == 1
    with services.database.session() as session:
        person = recipient(session, services.vault, public_id=minted["person"])
        assert ledger.state_of(session, person).unsubscribed


def test_multipart_post_unsubscribes(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    response = client.post(path_of(minted["unsubscribe_url"]), files={"List-Unsubscribe": (None, "One-Click")})
    assert response.status_code == 200, response.text
    assert unsubscribes(services) == 1


def test_a_browser_gets_a_page(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    response = client.post(path_of(minted["unsubscribe_url"]), data=ONE_CLICK, headers=HTML)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "You are unsubscribed" in response.text
    assert response.headers["referrer-policy"] == "no-referrer"


def test_replay_is_a_clear_409_and_one_event(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    path = path_of(minted["unsubscribe_url"])
    assert client.post(path, data=ONE_CLICK).status_code == 200
    again = client.post(path, data=ONE_CLICK)
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    body = again.json()
    assert body["type"].endswith("/mail_link_used")
    assert body["detail"].startswith(f"this link was already used on {utcnow().date().isoformat()}")
    page = client.post(path, data=ONE_CLICK, headers=HTML)
    assert page.status_code == 409 and "already used" in page.text
    assert page.headers["content-type"].startswith("text/html")
    assert unsubscribes(services) == 1


def test_a_forged_token_is_404_with_no_hint(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    forged = client.post("/u/" + "A" * 43, data=ONE_CLICK)
    malformed = client.post("/u/not-a-token", data=ONE_CLICK)
    pixel_token = client.post("/u/" + path_of(minted["open_pixel_url"]).removeprefix("/o/").removesuffix(".gif"))
    for response in (forged, malformed, pixel_token):
        assert response.status_code == 404
        assert response.json()["detail"] == "this link is not valid; check that it was copied whole"
    assert forged.content == malformed.content == pixel_token.content
    assert unsubscribes(services) == 0


def test_a_wrong_body_is_refused_and_records_nothing(
    client: TestClient, services: Services, minted: dict[str, Any]
) -> None:
    response = client.post(path_of(minted["unsubscribe_url"]), data={"List-Unsubscribe": "Yes-Please"})
    assert response.status_code == 400
    assert "List-Unsubscribe=One-Click" in response.json()["detail"]
    assert unsubscribes(services) == 0


def test_get_shows_a_button_and_never_unsubscribes(
    client: TestClient, services: Services, minted: dict[str, Any]
) -> None:
    """Link scanners prefetch every GET: the page only offers the button."""
    path = path_of(minted["unsubscribe_url"])
    for _ in range(3):
        page = client.get(path)
        assert page.status_code == 200
        assert f'<form method="post" action="{path}">' in page.text
        assert 'name="List-Unsubscribe" value="One-Click"' in page.text
        assert "Contact you about additional or new services" in page.text
        assert "set-cookie" not in page.headers
    assert unsubscribes(services) == 0
    assert client.post(path, data=ONE_CLICK).status_code == 200
    used = client.get(path)
    assert used.status_code == 409 and "already used" in used.text
    assert client.get("/u/" + "A" * 43).status_code == 404


def test_an_expired_link_is_410(client: TestClient, services: Services, published: list[str]) -> None:
    with services.database.session() as session:
        person = recipient(session, services.vault, identity=("email", "old@example.org"))
        minted = MailLinks.from_settings(services.settings).mint(  # the keys the routes use
            session, person, MARKETING, actor="test", at=utcnow() - timedelta(days=400)
        )
    path = path_of(minted.unsubscribe_url)
    response = client.post(path, data=ONE_CLICK)
    assert response.status_code == 410
    assert f"expired on {minted.expires_at.date().isoformat()}" in response.json()["detail"]
    assert client.get(path).status_code == 410
    assert unsubscribes(services) == 0


# --- the open pixel ----------------------------------------------------------------------------


def _pixel(client: TestClient, url: str, **headers: str) -> bytes:
    response = client.get(path_of(url), headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"].startswith("no-store")
    assert "set-cookie" not in response.headers
    return response.content


def test_pixel_records_an_open_for_a_subscribed_person(
    client: TestClient, services: Services, minted: dict[str, Any]
) -> None:
    """P-TRK-3: transparent images record opens."""
    assert _pixel(client, minted["open_pixel_url"]) == PIXEL
    assert count(services, MailOpen) == 1


def test_no_open_after_unsubscribing(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    """P-TRK-3: a recipient who unsubscribes gets no more open tracking."""
    assert client.post(path_of(minted["unsubscribe_url"]), data=ONE_CLICK).status_code == 200
    assert _pixel(client, minted["open_pixel_url"]) == PIXEL
    assert count(services, MailOpen) == 0


@pytest.mark.parametrize(("header", "kind"), [("DNT", "signal.dnt"), ("Sec-GPC", "signal.gpc")])
def test_no_open_with_dnt_or_gpc_and_the_signal_is_recorded(
    client: TestClient, services: Services, minted: dict[str, Any], header: str, kind: str
) -> None:
    """P-TRK-2: a browser that says DNT: 1 or Sec-GPC: 1 is not tracked; what it said is recorded."""
    assert _pixel(client, minted["open_pixel_url"], **{header: "1"}) == PIXEL
    assert count(services, MailOpen) == 0
    assert count(services, LedgerEvent, kind=kind) == 1


def test_the_pixel_is_always_the_same_bytes(client: TestClient, services: Services, minted: dict[str, Any]) -> None:
    """Valid, forged, malformed, unsubscribe token, signal: the same GIF, so the answer reveals nothing."""
    answers = {
        _pixel(client, minted["open_pixel_url"]),
        _pixel(client, "https://x/o/" + "A" * 43 + ".gif"),
        _pixel(client, "https://x/o/%00..%5C%E2%80%AE.gif"),
        _pixel(client, minted["unsubscribe_url"].replace("/u/", "/o/") + ".gif"),
        _pixel(client, minted["open_pixel_url"], **{"Sec-GPC": "1"}),
    }
    assert answers == {PIXEL}
    assert PIXEL.startswith(b"GIF89a") and len(PIXEL) == 43


def test_the_pixel_survives_a_database_outage_and_says_so_in_the_log(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unmigrated database (no tables) stands in for one that does not answer: the GIF, and an error logged."""
    database = Database(f"sqlite:///{tmp_path / 'empty.db'}")
    services = Services(Settings.load(env="test", home=tmp_path, database=DatabaseSettings(url=database.url)))
    try:
        with TestClient(build(services)) as client, caplog.at_level(logging.ERROR, logger="charter.web.maillinks"):
            token = "A" * 43
            response = client.get(f"/o/{token}.gif")
        assert response.status_code == 200 and response.content == PIXEL
        assert any("database" in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)
        assert all(token not in r.getMessage() for r in caplog.records)
    finally:
        services.close()
        database.dispose()
