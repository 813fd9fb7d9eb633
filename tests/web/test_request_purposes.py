"""A restriction or objection names the uses it covers, on the privacy-center form (P-RGT-4).

The form lists the purposes of the statement in force by their titles (no
JavaScript needed: the fieldset is always there, with a hint); the ticked
ones reach the request as ``details.purposes``, checked on the server.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from charter.requests import review
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of
from charter.services import Services
from tests.requests.conftest import Recorder

BASE = "/privacy/requests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def center(client: TestClient, published: list[str], services: Services) -> TestClient:
    services.mailer = Recorder()
    return client


def _send(client: TestClient, kind: str, purposes: list[str]) -> tuple[int, str, str | None]:
    form = client.get(BASE)
    token = CSRF.search(form.text)
    assert token is not None
    data = {"type": kind, "jurisdiction": "eu", "email": "ana@example.org", "csrf_token": token.group(1)}
    sent = client.post(BASE, data={**data, "purposes": purposes})
    public_id = None
    if sent.status_code == 303:
        public_id = parse_qs(urlsplit(sent.headers["location"]).query)["request"][0]
    return sent.status_code, sent.text, public_id


def _details(services: Services, public_id: str) -> dict[str, object]:
    with services.database.session() as session:
        return details_of(services.vault, review.get(session, public_id))


def test_the_form_lists_the_statements_purposes_by_title(center: TestClient) -> None:
    page = center.get(BASE)
    assert "If you ask us to restrict or object to processing: which uses?" in page.text
    assert 'id="purpose-marketing_new_services" name="purposes" value="marketing_new_services"' in page.text
    assert "Provide our products and services" in page.text  # the human title, not only the id


@pytest.mark.parametrize("kind", ["restriction", "objection"])
def test_the_ticked_purposes_become_the_requests_details(center: TestClient, services: Services, kind: str) -> None:
    """P-RGT-4: the named uses are sealed with the request and later refused by the decision engine."""
    status, _text, public_id = _send(center, kind, ["marketing_new_services", "analytics_recommendations"])
    assert status == 303 and public_id is not None
    assert _details(services, public_id) == {"purposes": ["analytics_recommendations", "marketing_new_services"]}


def test_no_purpose_ticked_covers_every_use_and_other_types_ignore_them(center: TestClient, services: Services) -> None:
    status, _text, every = _send(center, "objection", [])
    assert status == 303 and every is not None and _details(services, every) == {}
    status, _text, access = _send(center, "access", ["marketing_new_services"])
    assert status == 303 and access is not None and _details(services, access) == {}


def test_an_unknown_purpose_is_a_clear_form_error(center: TestClient, services: Services) -> None:
    """Bad input: a purpose not in the statement is refused with the form, what was ticked kept, nothing stored."""
    status, text, public_id = _send(center, "restriction", ["marketing_new_services", "selling_souls"])
    assert status == 422 and public_id is None
    assert "One of the uses you chose is not in our privacy statement" in text
    assert 'href="#purposes"' in text and 'id="purposes-error"' in text
    assert re.search(r'value="marketing_new_services"[^>]* checked', text)
    with services.database.session() as session:
        assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0
