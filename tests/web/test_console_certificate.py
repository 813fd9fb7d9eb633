"""The deletion certificate in the console: ``/console/requests/{id}/certificate`` (P-RGT-3).

A real deletion of Ana from the demo's shop and support stores, carried out
by the runner, then the page the privacy office opens: systems, collections,
strategies, rows, times, audit entries, what was kept and why; for staff
only, a 404 page before there is a certificate.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.db import Database
from charter.demo import stores
from charter.execution import jobs
from charter.requests.kinds import RequestKind
from charter.services import Services
from tests.requests.conftest import Recorder, approved_request, datamap_services
from tests.web.conftest import MakeSession

ANA = "ana@example.org"
HTML = {"accept": "text/html"}


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    stores.create(tmp_path / "home", count=20)
    built = datamap_services(database, tmp_path / "home")
    built.mailer = Recorder()
    yield built
    built.close()


def approved(services: Services, kind: RequestKind, email: str = ANA) -> str:
    return approved_request(services, kind, email)


@pytest.fixture
def deleted(services: Services, published: list[str]) -> str:
    """Ana's deletion, carried out and verified: it has a certificate."""
    public_id = approved(services, RequestKind.DELETION)
    assert jobs.run_request(services, public_id).status == "completed"
    return public_id


def staff(app: FastAPI, make_session: MakeSession, role: Role) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("charter_session", make_session(role).cookie)
    return client


def test_the_certificate_page_shows_what_was_erased_where_and_what_was_kept(
    app: FastAPI, deleted: str, make_session: MakeSession
) -> None:
    """P-RGT-3: systems, collections, strategy, rows, times, audit entries (linked), kept with the reason."""
    office = staff(app, make_session, Role.ADMIN)
    detail = office.get(f"/console/requests/{deleted}")
    assert f'href="/console/requests/{deleted}/certificate"' in detail.text
    page = office.get(f"/console/requests/{deleted}/certificate")
    assert page.status_code == 200, page.text
    text = page.text
    assert "<h1>Deletion certificate</h1>" in text
    assert f'href="/api/v1/requests/{deleted}/certificate"' in text and "download=" in text
    for collection in ("west_shop.customers", "west_shop.addresses", "west_shop.payments", "west_support.tickets"):
        assert f'<th scope="row">{collection}</th>' in text
    assert "email: keyed_hash" in text and "delete_row" in text
    assert "<strong>Erased and verified</strong>" in text
    assert "Yes: each erased row was read again by its key and holds exactly its erasure" in text
    assert re.search(r'<a href="/console/audit\?before=\d+" aria-label="Audit log entry \d+">#\d+</a>', text)
    kept = text.split('id="kept"')[1]
    assert "west_shop.orders" in kept and "tax records, kept 10 years" in kept
    assert ANA not in text
    json_copy = office.get(f"/api/v1/requests/{deleted}/certificate")  # the download link works with the session
    assert json_copy.status_code == 200 and json_copy.json()["request"] == deleted
    assert 'href="/static/console-print.css" media="print"' in text


def test_a_reader_without_audit_access_sees_entry_numbers_without_links(
    app: FastAPI, deleted: str, make_session: MakeSession
) -> None:
    analyst = staff(app, make_session, Role.ANALYST)
    page = analyst.get(f"/console/requests/{deleted}/certificate")
    assert page.status_code == 200
    assert "/console/audit?before=" not in page.text and re.search(r"<td>#\d+</td>", page.text)


def test_the_certificate_page_is_for_staff_only(app: FastAPI, deleted: str, make_session: MakeSession) -> None:
    anonymous = TestClient(app, follow_redirects=False).get(f"/console/requests/{deleted}/certificate", headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    engineer = staff(app, make_session, Role.ENGINEER)
    assert engineer.get(f"/console/requests/{deleted}/certificate", headers=HTML).status_code == 403


def test_without_a_certificate_the_page_is_a_404_page(
    app: FastAPI, services: Services, published: list[str], make_session: MakeSession
) -> None:
    """Bad input: an approved deletion not yet carried out, an access request, an unknown id."""
    office = staff(app, make_session, Role.ADMIN)
    waiting = approved(services, RequestKind.DELETION, "ben@example.org")
    assert "/certificate" not in office.get(f"/console/requests/{waiting}").text
    for public_id in (waiting, approved(services, RequestKind.ACCESS, "chloe@example.org"), "0" * 32):
        missing = office.get(f"/console/requests/{public_id}/certificate", headers=HTML)
        assert missing.status_code == 404
        assert "<html" in missing.text and "Traceback" not in missing.text
