"""The person's copy over the web: "Get my copy", a fresh code, a one-time link; the staff's copy.

Promises: P-RGT-1 (the person gets their data), P-RGT-5 (portability: a machine-readable zip),
P-RGT-7 (a fresh e-mailed code before anything is handed over; the same answers whether or not a
request exists), P-SEC-1 (the staff copy needs requests:decide; nothing personal in URLs kept or logs).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from charter.auth.roles import Role
from charter.db.base import utcnow
from charter.delivery.models import PackageDownload
from charter.demo import stores
from charter.execution import service as execution
from charter.execution.runner import Runner
from charter.requests.kinds import RequestKind
from charter.services import Services
from charter.settings import DeliverySettings
from charter.web.pages import preference_tokens as tokens
from tests.delivery.conftest import Authority, Recipient, make_authority, running_recipient
from tests.execution.conftest import ANA, DATAMAP, approved
from tests.requests.conftest import Recorder
from tests.web.conftest import MakeToken

BASE = "/privacy/requests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html"}
JSON = {"accept": "application/json"}


@pytest.fixture
def mailer(services: Services, published: list[str]) -> Recorder:
    recorder = Recorder()
    services.mailer = recorder
    stores.create(services.settings.home, count=30)
    return recorder


def _completed(services: Services, kind: RequestKind = RequestKind.ACCESS, email: str = ANA) -> str:
    public_id = approved(services.database, services.settings, services.vault, kind, email)
    datamap = execution.load_datamap(services.settings, DATAMAP)
    outcome = Runner(services.database, services.settings, services.vault, datamap, sleep=lambda _s: None).run(
        public_id
    )
    assert outcome.status == "completed", outcome.error
    return public_id


def _csrf(text: str) -> str:
    found = CSRF.search(text)
    assert found is not None, text
    return found.group(1)


def _signed_in(client: TestClient, services: Services, public_id: str) -> None:
    """The status page's cookie, as after redeeming a code (that flow has its own tests)."""
    value = tokens.issue_session(services, public_id, scope=tokens.REQUESTS)
    client.cookies.set(tokens.REQUESTS.session_cookie, value, path=f"{BASE}/{public_id}")


def _link_from_page(client: TestClient, mailer: Recorder, public_id: str) -> str:
    status = client.get(f"{BASE}/{public_id}")
    assert status.status_code == 200 and "Get my copy" in status.text
    sent = client.post(f"{BASE}/{public_id}/copy/code", data={"csrf_token": _csrf(status.text)})
    assert sent.status_code == 303, sent.text
    assert mailer.messages[-1]["To"] == ANA and public_id in mailer.messages[-1]["Subject"]
    challenge = parse_qs(urlsplit(sent.headers["location"]).query)["challenge"][0]
    form = client.get(sent.headers["location"])
    assert form.status_code == 200 and "Get my copy" in form.text
    given = client.post(
        f"{BASE}/{public_id}/copy",
        data={"challenge": challenge, "code": mailer.code(), "csrf_token": _csrf(form.text)},
    )
    assert given.status_code == 200 and "works <strong>once</strong>" in given.text
    found = re.search(r'href="[^"]*(/privacy/requests/download\?token=[^"]+)"', given.text)
    assert found is not None
    return found.group(1)


def test_get_my_copy_from_the_status_page_then_download_once(
    client: TestClient, services: Services, mailer: Recorder
) -> None:
    """P-RGT-1 / P-RGT-5 / P-RGT-7: the status page offers the copy; a fresh code; the zip once, then 410."""
    public_id = _completed(services)
    _signed_in(client, services, public_id)
    link = _link_from_page(client, mailer, public_id)

    got = client.get(link)
    assert got.status_code == 200
    assert got.headers["content-type"] == "application/zip"
    assert got.headers["content-disposition"] == f'attachment; filename="charter-access-{public_id}.zip"'
    assert got.headers["cache-control"] == "no-store"
    archive = zipfile.ZipFile(io.BytesIO(got.content))
    assert json.loads(archive.read("package.json"))["request"] == public_id
    assert any(name.startswith("csv/") for name in archive.namelist())

    again = client.get(link, headers=HTML)
    assert again.status_code == 410 and "already used" in again.text and "<html" in again.text
    api = client.get(link, headers=JSON)
    assert api.status_code == 410 and api.headers["content-type"].startswith("application/problem+json")
    assert api.json()["type"].endswith("/link_used") and "ask for a new one" in api.json()["detail"]

    unknown = client.get(f"{BASE}/download?token={'A' * 43}", headers=JSON)
    assert unknown.status_code == 404 and set(unknown.json()) == set(api.json())  # the same shape: no oracle


def test_an_expired_link_is_410_with_its_own_message(client: TestClient, services: Services, mailer: Recorder) -> None:
    public_id = _completed(services)
    _signed_in(client, services, public_id)
    link = _link_from_page(client, mailer, public_id)
    with services.database.session() as session:
        session.execute(update(PackageDownload).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = client.get(link, headers=JSON)
    assert expired.status_code == 410 and expired.json()["type"].endswith("/link_expired")
    assert "expired" in expired.json()["detail"]


def test_the_copy_over_the_api_and_no_enumeration(client: TestClient, services: Services, mailer: Recorder) -> None:
    """P-RGT-7: 202 and the same body for a real request, an unknown id and a request with no copy."""
    public_id = _completed(services)
    waiting = approved(services.database, services.settings, services.vault, RequestKind.ACCESS, "ben@example.org")
    answers = {}
    for asked in (public_id, "f" * 32, waiting):
        sent = client.post(f"/api/v1/requests/{asked}/copy/code")
        assert sent.status_code == 202, sent.text
        answers[asked] = sent.json()
    assert len(mailer.messages) == 1  # only the real copy's code went out
    shapes = {(tuple(sorted(a)), len(a["challenge"]), a["message"]) for a in answers.values()}
    assert len(shapes) == 1

    challenge = answers[public_id]["challenge"]
    code = mailer.code()
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    bad = client.post(f"/api/v1/requests/{public_id}/copy", json={"challenge": challenge, "code": wrong})
    assert bad.status_code == 400 and bad.headers["content-type"].startswith("application/problem+json")
    good = client.post(f"/api/v1/requests/{public_id}/copy", json={"challenge": challenge, "code": code})
    assert good.status_code == 200 and good.json()["uses"] == 1
    url = urlsplit(good.json()["download_url"])
    assert client.get(f"{url.path}?{url.query}").status_code == 200
    assert client.get(f"{url.path}?{url.query}").status_code == 410
    unknown = client.post(
        f"/api/v1/requests/{'f' * 32}/copy", json={"challenge": answers["f" * 32]["challenge"], "code": "123456"}
    )
    assert unknown.status_code == 400  # the dummy challenge matches nothing


def test_staff_download_needs_requests_decide(
    client: TestClient, services: Services, mailer: Recorder, make_token: MakeToken
) -> None:
    """P-SEC-1: the zip holds the person's data: requests:decide, not the queue's requests:read."""
    public_id = _completed(services)
    officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
    got = client.get(f"/api/v1/requests/{public_id}/package", headers=officer)
    assert got.status_code == 200 and got.headers["content-type"] == "application/zip"
    assert got.headers["x-package-sha256"] and "package.json" in zipfile.ZipFile(io.BytesIO(got.content)).namelist()

    analyst = {"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
    assert client.get(f"/api/v1/requests/{public_id}/package", headers=analyst).status_code == 403
    waiting = approved(services.database, services.settings, services.vault, RequestKind.ACCESS, "ben@example.org")
    early = client.get(f"/api/v1/requests/{waiting}/package", headers=officer)
    assert early.status_code == 409 and early.json()["type"].endswith("/no_copy")
    assert client.get(f"/api/v1/requests/{'f' * 32}/package", headers=officer).status_code == 404


def test_an_http_recipient_is_refused_at_intake_naming_the_field(client: TestClient, mailer: Recorder) -> None:
    """Bad input: portability to a third party over http:// is 422 problem+json naming details.url."""
    body = {
        "type": "portability",
        "identity": {"kind": "email", "value": "ana@example.org"},
        "jurisdiction": "eu",
        "details": {"destination": "third_party", "url": "http://import.example.com/in"},
    }
    refused = client.post("/api/v1/requests", json=body)
    assert refused.status_code == 422 and refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["problems"][0]["path"] == "details.url"
    assert "import.example.com" not in refused.text
    assert mailer.messages == []


def test_a_portability_copy_is_sent_to_the_named_third_party_from_the_page(
    client: TestClient, services: Services, mailer: Recorder, tmp_path: Path
) -> None:
    """P-RGT-5: the person's fresh code sends the copy over HTTPS to the company they named; the page says so."""
    authority = make_authority(tmp_path / "tls")
    with running_recipient(authority) as recipient:
        _push_from_the_page(client, services, mailer, recipient, authority)


def test_staff_send_a_failed_delivery_again_p_rgt_5(
    client: TestClient, services: Services, mailer: Recorder, tmp_path: Path, make_token: MakeToken
) -> None:
    """The recipient was down past the last try: the privacy office sends it once more (requests:decide)."""
    authority = make_authority(tmp_path / "tls")
    with running_recipient(authority) as recipient:
        recipient.answers = [503, 503, 503]  # every try of the person's send fails
        public_id = _push_from_the_page(client, services, mailer, recipient, authority, expect=502)
        officer = {"Authorization": f"Bearer {make_token(Role.PRIVACY_OFFICER)}"}
        analyst = {"Authorization": f"Bearer {make_token(Role.ANALYST)}"}
        assert client.post(f"/api/v1/requests/{public_id}/copy/push", headers=analyst).status_code == 403
        again = client.post(f"/api/v1/requests/{public_id}/copy/push", headers=officer)
        assert again.status_code == 200, again.text
        assert again.json()["delivery"]["status"] == "sent" and again.json()["delivery"]["attempts"] == 1
        assert recipient.received[-1]["headers"]["X-Charter-Request"] == public_id
        twice = client.post(f"/api/v1/requests/{public_id}/copy/push", headers=officer)
        assert twice.status_code == 409 and twice.json()["type"].endswith("/no_copy")


def _push_from_the_page(
    client: TestClient,
    services: Services,
    mailer: Recorder,
    recipient: Recipient,
    authority: Authority,
    *,
    expect: int = 200,
) -> str:
    services.settings.delivery = DeliverySettings(
        ca_bundle=authority.ca_pem, allow_private_recipients=True, retry_base=0.01, retry_max=0.02
    )
    public_id = approved(
        services.database,
        services.settings,
        services.vault,
        RequestKind.PORTABILITY,
        ANA,
        destination="third_party",
        url=recipient.url(),
    )
    datamap = execution.load_datamap(services.settings, DATAMAP)
    Runner(services.database, services.settings, services.vault, datamap, sleep=lambda _s: None).run(public_id)
    _signed_in(client, services, public_id)
    status = client.get(f"{BASE}/{public_id}")
    assert f"127.0.0.1:{recipient.port}" in status.text and "account=42" not in status.text
    sent = client.post(f"{BASE}/{public_id}/copy/code", data={"csrf_token": _csrf(status.text)})
    challenge = parse_qs(urlsplit(sent.headers["location"]).query)["challenge"][0]
    form = client.get(sent.headers["location"])
    done = client.post(
        f"{BASE}/{public_id}/copy", data={"challenge": challenge, "code": mailer.code(), "csrf_token": _csrf(form.text)}
    )
    assert done.status_code == expect, done.text
    if expect == 200:
        assert "Your copy was sent" in done.text
        assert len(recipient.received) == 1 and recipient.received[0]["headers"]["X-Charter-Request"] == public_id
    return public_id
