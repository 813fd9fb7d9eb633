"""The console shows the office what a deletion will do, per field and why, before it decides (issue 11).

Promises: P-RGT-3 (the erasure the office approves is the one carried out: each field's strategy and its
reason, what is kept and why), P-RET-2 (records kept for tax are shown as kept, with the reason).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.db import Database
from charter.demo import stores
from charter.requests.kinds import RequestKind
from charter.services import Services
from tests.conftest import EXAMPLES
from tests.execution.conftest import ANA
from tests.requests.conftest import Recorder, datamap_services, verified_request
from tests.web.conftest import MakeSession


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    stores.create(tmp_path / "home", count=10)
    built = datamap_services(database, tmp_path / "home")
    built.mailer = Recorder()
    yield built
    built.close()


def _office(app: FastAPI, make_session: MakeSession, role: Role = Role.PRIVACY_OFFICER) -> TestClient:
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("charter_session", make_session(role).cookie)
    return client


def test_a_deletion_under_review_shows_each_field_what_it_becomes_and_why(
    app: FastAPI, published: list[str], services: Services, make_session: MakeSession
) -> None:
    public_id = verified_request(services, RequestKind.DELETION, ANA)
    page = _office(app, make_session, Role.ANALYST).get(f"/console/requests/{public_id}")
    assert page.status_code == 200
    assert 'id="what-deletion-does"' in page.text and 'id="erasure-plan"' in page.text
    # the customer's e-mail gets a keyed hash, her name is nulled, each with the rule that says so
    assert "<code>email</code>" in page.text and "keyed_hash" in page.text and "set_null" in page.text
    plan = page.text[
        page.text.index('id="erasure-plan"') : page.text.index("</table>", page.text.index('id="erasure-plan"'))
    ]
    assert "shop/west_shop.customers" in plan and "support/west_support.tickets" in plan
    assert all(row.count("<td>") == 4 for row in plan.split("<tr>")[2:] if "<td" in row)  # every field has its why
    kept = page.text[page.text.index('id="plan-not-erased"') :]
    assert "tax records" in kept  # P-RET-2: orders kept, with the reason
    assert ANA not in page.text


def test_an_access_request_or_an_answered_deletion_shows_no_erasure_plan(
    app: FastAPI, published: list[str], services: Services, make_session: MakeSession
) -> None:
    access = verified_request(services, RequestKind.ACCESS, ANA)
    page = _office(app, make_session).get(f"/console/requests/{access}")
    assert page.status_code == 200 and 'id="what-deletion-does"' not in page.text


def test_a_data_map_that_cannot_plan_the_deletion_says_so_before_approval(
    app: FastAPI, published: list[str], services: Services, make_session: MakeSession, tmp_path: Path
) -> None:
    broken = tmp_path / "broken-map"
    shutil.copytree(EXAMPLES / "datamap", broken)
    shop = broken / "datasets" / "shop.yaml"
    shop.write_text(shop.read_text().replace("fides_key: west_shop", "fides_key: West Shop!"))
    services.settings.datamap.path = broken
    public_id = verified_request(services, RequestKind.DELETION, ANA)
    page = _office(app, make_session).get(f"/console/requests/{public_id}")
    assert page.status_code == 200
    assert 'id="plan-error"' in page.text and "charter datamap check --live" in page.text
    assert 'id="erasure-plan"' not in page.text
