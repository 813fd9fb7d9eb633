"""Facts held, asked on the status page and over the API, matched against the demo's real stores (P-RGT-7).

Charter's database is SQLite or PostgreSQL; the organization's stores are
the demo's shop and support SQLite files in Charter's home, described by the
example data map. Ana's real postal code, phone and date of birth are read
from the shop. Whatever the outcome — matched, not matched, nobody in the
stores, a store down — the requester gets byte-identical pages and answers
(modulo ids and CSRF tokens); only the console shows the outcome.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.db import Database
from charter.demo import stores
from charter.requests import factcheck
from charter.requests.kinds import Status
from charter.services import Services
from tests.conftest import EXAMPLES
from tests.requests.conftest import Recorder, datamap_services
from tests.requests.test_facts import ana_row
from tests.web.conftest import MakeSession

BASE = "/privacy/requests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
ANA = "ana@example.org"
DEAD_SHOP = "postgresql+psycopg://charter@127.0.0.1:1/shop"


@pytest.fixture
def services(database: Database, tmp_path: Path) -> Iterator[Services]:
    """Services with the example data map over the demo stores in home, and a recording mailer."""
    stores.create(tmp_path / "home", count=20)
    built = datamap_services(database, tmp_path / "home")
    built.mailer = Recorder()
    yield built
    built.close()


@pytest.fixture
def dead_map(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The example data map with the shop at a PostgreSQL address nobody listens on."""
    folder = tmp_path / "dead-map"
    shutil.copytree(EXAMPLES / "datamap" / "datasets", folder / "datasets")
    (folder / "systems.yaml").write_text(
        "systems:\n"
        "  - {id: shop, kind: sql, url_env: FACTS_DEAD_SHOP_URL, datasets: [west_shop]}\n"
        "  - {id: support, kind: sql, url: 'sqlite:///support.db', datasets: [west_support]}\n"
    )
    monkeypatch.setenv("FACTS_DEAD_SHOP_URL", DEAD_SHOP)
    return folder


def csrf_of(response: httpx.Response) -> str:
    found = CSRF.search(response.text)
    assert found is not None, response.text
    return found.group(1)


def ana_facts(services: Services) -> dict[str, str]:
    """Ana's facts as she would type them, from the shop itself."""
    real = ana_row(services.settings.home)
    return {
        "fact_postal_code": real["postal_code"],
        "fact_phone_last4": real["phone"][-4:],
        "fact_date_of_birth": str(real["birth_date"])[:10],
    }


def confirmed(app: FastAPI, services: Services, email: str, kind: str = "deletion") -> tuple[TestClient, str]:
    """A new browser that asked for ``kind`` as ``email`` and typed the mailed code: on the status page."""
    person = TestClient(app, follow_redirects=False)
    form = person.get(BASE)
    sent = person.post(BASE, data={"type": kind, "jurisdiction": "eu", "email": email, "csrf_token": csrf_of(form)})
    assert sent.status_code == 303, sent.text
    public_id = parse_qs(urlsplit(sent.headers["location"]).query)["request"][0]
    page = person.get(f"{BASE}/code", params={"request": public_id})
    mailer = services.mailer
    assert isinstance(mailer, Recorder)
    verified = person.post(
        f"{BASE}/verify", data={"request": public_id, "code": mailer.code(), "csrf_token": csrf_of(page)}
    )
    assert verified.status_code == 303 and verified.headers["location"] == f"{BASE}/{public_id}"
    return person, public_id


def send_facts(person: TestClient, public_id: str, given: dict[str, str]) -> httpx.Response:
    page = person.get(f"{BASE}/{public_id}")
    return person.post(f"{BASE}/{public_id}/facts", data={"csrf_token": csrf_of(page), **given})


def outcome_of(services: Services, public_id: str) -> tuple[str, int, int]:
    from charter.requests import review

    with services.database.session() as session:
        state = factcheck.state_of(session, review.get(session, public_id))
        assert state is not None
        return state.outcome, state.matched, state.compared


def neutral(text: str, public_id: str) -> str:
    """A page with its request id and CSRF tokens blanked: what must not differ between requesters."""
    return CSRF.sub('name="csrf_token" value="-"', text.replace(public_id, "ID"))


def test_the_status_page_asks_for_the_facts_the_data_map_can_check(
    app: FastAPI, published: list[str], services: Services
) -> None:
    """P-RGT-7: after the code, a deletion's page asks for postal code, phone digits and date of birth."""
    person, public_id = confirmed(app, services, ANA)
    page = person.get(f"{BASE}/{public_id}")
    assert page.status_code == 200
    assert "Help us confirm the request is yours" in page.text
    for label in (
        "Postal code of an address you gave us",
        "Last four digits of a phone number you gave us",
        "Your date of birth",
    ):
        assert label in page.text
    assert 'name="fact_date_of_birth" type="date"' in page.text
    restriction_person, restriction = confirmed(app, services, "bo@example.org", kind="restriction")
    assert "Help us confirm" not in restriction_person.get(f"{BASE}/{restriction}").text  # not high-risk


def test_anas_real_facts_match_and_the_office_may_approve_without_its_own_check(
    app: FastAPI, published: list[str], services: Services, make_session: MakeSession
) -> None:
    """P-RGT-7: matched 3 of 3 is shown in the console; approval needs no "identity checked"."""
    person, public_id = confirmed(app, services, ANA)
    sent = send_facts(person, public_id, ana_facts(services))
    assert sent.status_code == 303 and sent.headers["location"] == f"{BASE}/{public_id}?facts=1"
    thanks = person.get(sent.headers["location"])
    assert factcheck.NEUTRAL in thanks.text
    assert outcome_of(services, public_id) == ("matched", 3, 3)
    login = make_session(Role.PRIVACY_OFFICER)
    office = TestClient(app, follow_redirects=False)
    office.cookies.set("charter_session", login.cookie)
    detail = office.get(f"/console/requests/{public_id}")
    assert "facts matched: 3 of 3" in detail.text
    assert 'name="identity_checked"' not in detail.text
    approved = office.post(f"/console/requests/{public_id}/approve", data={"csrf_token": login.csrf_token})
    assert approved.status_code == 303, approved.text
    from charter.requests import review

    with services.database.session() as session:
        assert review.get(session, public_id).status == Status.APPROVED


def test_every_outcome_gives_the_requester_the_same_pages(
    app: FastAPI, published: list[str], services: Services, dead_map: Path, make_session: MakeSession
) -> None:
    """No enumeration (P-RGT-7): matched, wrong facts, nobody in the stores, a store down: identical answers."""
    cases = {}
    for name, email, given in (
        ("matched", ANA, ana_facts(services)),
        ("not_matched", ANA, {"fact_postal_code": "10115", "fact_date_of_birth": "1990-01-01"}),
        ("no_facts", "nobody@example.org", ana_facts(services)),
        ("unavailable", ANA, ana_facts(services)),
    ):
        if name == "unavailable":
            services.settings.datamap.path = dead_map
        person, public_id = confirmed(app, services, email)
        sent = send_facts(person, public_id, given)
        after = person.get(sent.headers["location"])
        cases[name] = (public_id, sent, after)
        assert outcome_of(services, public_id)[0] == name
    pages = {neutral(after.text, pid) for pid, _sent, after in cases.values()}
    redirects = {(s.status_code, s.headers["location"].replace(pid, "ID"), s.content) for pid, s, _ in cases.values()}
    assert len(pages) == 1 and len(redirects) == 1
    assert {after.status_code for _pid, _sent, after in cases.values()} == {200}
    login = make_session(Role.PRIVACY_OFFICER)
    office = TestClient(app, follow_redirects=False)
    office.cookies.set("charter_session", login.cookie)
    shown = {name: office.get(f"/console/requests/{pid}").text for name, (pid, _s, _a) in cases.items()}
    assert "facts not matched: 0 of 2" in shown["not_matched"]
    assert "no facts held to compare with" in shown["no_facts"]
    assert "a data store was unavailable" in shown["unavailable"]
    assert 'name="identity_checked"' in shown["unavailable"]


def test_a_malformed_fact_is_a_form_error_and_nothing_is_checked(
    app: FastAPI, published: list[str], services: Services
) -> None:
    """The only feedback depends on what was typed (a date that is not a date, nothing filled in)."""
    person, public_id = confirmed(app, services, ANA)
    bad = send_facts(person, public_id, {"fact_date_of_birth": "5th of May", "fact_postal_code": "1100-148"})
    assert bad.status_code == 422
    assert 'aria-invalid="true"' in bad.text and "As year-month-day" in bad.text
    assert 'value="1100-148"' in bad.text  # what was typed is kept
    empty = send_facts(person, public_id, {"fact_postal_code": "  "})
    assert empty.status_code == 422 and "Fill in at least one of the facts." in empty.text
    assert outcome_of(services, public_id) == ("pending", 0, 0)


def test_facts_need_the_requests_own_cookie_and_the_forms_token(
    app: FastAPI, published: list[str], services: Services
) -> None:
    person, public_id = confirmed(app, services, ANA)
    stranger = TestClient(app, follow_redirects=False)
    assert stranger.post(f"{BASE}/{public_id}/facts", data={"fact_postal_code": "1100148"}).status_code == 401
    forged = person.post(f"{BASE}/{public_id}/facts", data={"csrf_token": "forged", "fact_postal_code": "1100148"})
    assert forged.status_code == 403
    assert outcome_of(services, public_id) == ("pending", 0, 0)


def test_sending_facts_is_rate_limited(app: FastAPI, published: list[str], services: Services) -> None:
    """Each send may read the stores: 10 a minute per client address, then 429 (P-RGT-7: rate limits)."""
    person, public_id = confirmed(app, services, ANA)
    token = csrf_of(person.get(f"{BASE}/{public_id}"))
    answers = [
        person.post(f"{BASE}/{public_id}/facts", data={"csrf_token": token, "fact_postal_code": "99999"}).status_code
        for _ in range(11)
    ]
    assert answers[:10] == [303] * 10 and answers[10] == 429
    assert outcome_of(services, public_id)[0] == "not_matched"  # three attempts counted, the rest ignored


# -- the API ------------------------------------------------------------------------------


def _api_request(api: TestClient, services: Services, email: str) -> tuple[str, str]:
    received = api.post(
        "/api/v1/requests",
        json={"type": "deletion", "identity": {"kind": "email", "value": email}, "jurisdiction": "eu"},
    )
    assert received.status_code == 202, received.text
    mailer = services.mailer
    assert isinstance(mailer, Recorder)
    return received.json()["id"], mailer.code()


def test_the_api_confirms_and_matches_facts_with_one_answer(
    client: TestClient, published: list[str], services: Services
) -> None:
    """``POST /api/v1/requests/verify-facts``: the code proves the address; the facts never change the answer."""
    real = ana_row(services.settings.home)
    answers = []
    for email, postal in ((ANA, real["postal_code"]), (ANA, "10115"), ("nobody@example.org", real["postal_code"])):
        public_id, code = _api_request(client, services, email)
        answer = client.post(
            "/api/v1/requests/verify-facts", json={"id": public_id, "code": code, "facts": {"postal_code": postal}}
        )
        assert answer.status_code == 200, answer.text
        answers.append((public_id, answer))
    bodies = {answer.content.replace(pid.encode(), b"ID") for pid, answer in answers}
    assert bodies == {b'{"id":"ID","status":"in_review","message":"' + factcheck.NEUTRAL.encode() + b'"}'}
    assert [outcome_of(services, pid)[0] for pid, _ in answers] == ["matched", "not_matched", "no_facts"]


@pytest.mark.parametrize(
    ("facts", "detail"),
    [
        ({"date_of_birth": "yesterday"}, "facts.date_of_birth is not well formed"),
        ({"shoe_size": "42"}, "'shoe_size' is not a fact kind"),
    ],
)
def test_the_api_refuses_malformed_facts_before_the_code_is_used(
    client: TestClient, published: list[str], services: Services, facts: dict[str, str], detail: str
) -> None:
    public_id, code = _api_request(client, services, ANA)
    refused = client.post("/api/v1/requests/verify-facts", json={"id": public_id, "code": code, "facts": facts})
    assert refused.status_code == 400 and detail in refused.json()["detail"]
    again = client.post("/api/v1/requests/verify-facts", json={"id": public_id, "code": code})
    assert again.status_code == 200  # the code was not spent by the refused call
    assert outcome_of(services, public_id) == ("pending", 0, 0)
