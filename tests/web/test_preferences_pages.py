"""The public preference center, end to end, with a real SMTP server (aiosmtpd) receiving the codes.

A visitor proves control of an e-mail address with a one-time code or
link, then sees and changes their choices. Promises: P-RGT-7 (identity
verified before anything is done), P-USE-5 (analytics consent withdrawn at
any time, in writing), P-RGT-4 / P-RGT-6 / P-USE-2 (opt out, limit use,
marketing preferences), P-TRK-2 (GPC recorded), P-COL-4 (the statement
version is recorded), P-SEC-1 (nothing in the clear, every change audited).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from charter.audit.models import AuditEntry
from charter.db.base import utcnow
from charter.ledger import service as ledger
from charter.ledger.events import EventKind, Source
from charter.mail import SmtpMailer
from charter.preferences.models import EmailChallenge
from charter.services import Services
from charter.settings import MailSettings
from charter.subjects import service as subjects
from charter.subjects.models import Person
from tests.mail.smtpd import HOST, SmtpServer, free_port, running_smtpd

BASE = "/privacy/preferences"
ANALYTICS = "consent.analytics_trends_benchmarks"
VERSION = "2023-01-01"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def smtpd(services: Services) -> Iterator[SmtpServer]:
    """A real SMTP server, and the app's mailer pointed at it."""
    with running_smtpd() as server:
        services.mailer = SmtpMailer(server.settings())
        yield server


@pytest.fixture
def center(client: TestClient, published: list[str], smtpd: SmtpServer) -> TestClient:
    """The test client, with both statements published and mail going to ``smtpd``."""
    return client


def csrf_of(response: httpx.Response) -> str:
    found = CSRF.search(response.text)
    assert found is not None, response.text
    return found.group(1)


def ask_for_code(client: TestClient, email: str) -> httpx.Response:
    page = client.get(BASE)
    assert page.status_code == 200
    return client.post(f"{BASE}/code", data={"email": email, "csrf_token": csrf_of(page)})


def challenge_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["challenge"][0]


def code_in(message: EmailMessage) -> str:
    found = re.search(r"Your code: (\d{6})", message.get_content())
    assert found is not None
    return found.group(1)


def link_in(message: EmailMessage) -> str:
    found = re.search(r"(\S+/privacy/preferences/verify\?token=\S+)", message.get_content())
    assert found is not None
    return found.group(1)


def enter_code(client: TestClient, challenge: str, code: str) -> httpx.Response:
    page = client.get(f"{BASE}/code", params={"challenge": challenge})
    assert page.status_code == 200
    return client.post(f"{BASE}/verify", data={"challenge": challenge, "code": code, "csrf_token": csrf_of(page)})


def sign_in(client: TestClient, smtpd: SmtpServer, email: str = "ana@example.org") -> None:
    challenge = challenge_of(ask_for_code(client, email))
    verified = enter_code(client, challenge, code_in(smtpd.messages[-1]))
    assert verified.status_code == 303 and verified.headers["location"] == BASE


def count(services: Services, model: type) -> int:
    with services.database.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def events_of(services: Services, email: str = "ana@example.org") -> list[ledger.Event]:
    with services.database.session() as session:
        person = subjects.resolve(session, "email", email, vault=services.vault, create=False)
        assert person is not None
        return ledger.events_of(session, person)


def test_request_code_verify_see_and_change_choices(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    """The whole flow: the code read from the SMTP server, analytics consent given then withdrawn (P-USE-5)."""
    start = center.get(BASE)
    assert start.status_code == 200 and start.headers["cache-control"] == "no-store"
    assert '<label for="email">' in start.text
    asked = center.post(f"{BASE}/code", data={"email": "Ana@Example.org", "csrf_token": csrf_of(start)})
    challenge = challenge_of(asked)
    assert count(services, Person) == 0  # asking creates nobody
    [message] = smtpd.messages
    assert message["To"] == "ana@example.org"
    code_page = center.get(f"{BASE}/code", params={"challenge": challenge})
    assert "If this address can receive e-mail, we have sent a six-digit code" in code_page.text
    assert 'autocomplete="one-time-code"' in code_page.text

    verified = center.post(
        f"{BASE}/verify", data={"challenge": challenge, "code": code_in(message), "csrf_token": csrf_of(code_page)}
    )
    assert verified.status_code == 303 and verified.headers["location"] == BASE
    cookie = next(v for v in verified.headers.get_list("set-cookie") if v.startswith("charter_preferences="))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and f"Path={BASE}" in cookie
    assert "Max-Age=1800" in cookie and "Secure" not in cookie  # http base URL in tests

    edit = center.get(BASE)
    assert edit.status_code == 200
    assert f'name="{ANALYTICS}" value="yes"' in edit.text
    assert f'href="/privacy/versions/{VERSION}#purpose-analytics_trends_benchmarks"' in edit.text
    assert "<legend>Data analytics: Aggregate data to identify trends and benchmarks</legend>" in edit.text
    statement = center.get(f"/privacy/versions/{VERSION}")
    assert 'id="purpose-analytics_trends_benchmarks"' in statement.text  # the link lands on the text

    saved = center.post(BASE, data={"csrf_token": csrf_of(edit), "version": VERSION, ANALYTICS: "yes", "email": "yes"})
    assert saved.status_code == 200
    assert "We recorded 1 change" in saved.text and "Yes, I consent" in saved.text
    [given] = events_of(services)
    assert given.kind is EventKind.CONSENT_GIVEN and given.source is Source.PRIVACY_CENTER
    assert given.statement_version == VERSION and given.data == {"purpose": "analytics_trends_benchmarks"}
    assert len(given.evidence["form_sha256"]) == 64

    edit = center.get(BASE)
    assert f'name="{ANALYTICS}" value="yes" checked' in edit.text
    withdrawn = center.post(BASE, data={"csrf_token": csrf_of(edit), "version": VERSION, ANALYTICS: "no"})
    assert "No, I do not consent" in withdrawn.text
    events = events_of(services)
    assert [e.kind for e in events] == [EventKind.CONSENT_GIVEN, EventKind.CONSENT_WITHDRAWN]
    assert events[-1].data == {"purpose": "analytics_trends_benchmarks", "written": True}
    with services.database.session() as session:
        person = subjects.resolve(session, "email", "ana@example.org", vault=services.vault, create=False)
        assert person is not None
        assert not ledger.state_of(session, person).consented("analytics_trends_benchmarks")
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert actions.count("preferences.changed") == 2 and actions.count("preferences.verified") == 1


def test_the_link_in_the_e_mail_signs_in_once(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    challenge_of(ask_for_code(center, "bo@example.org"))
    link = urlsplit(link_in(smtpd.messages[-1]))
    landing = center.get(f"{link.path}?{link.query}")
    assert landing.status_code == 200 and landing.headers["referrer-policy"] == "no-referrer"
    assert count(services, Person) == 0  # opening the link (a mail scanner may) uses nothing up
    token = parse_qs(link.query)["token"][0]
    assert f'name="token" value="{token}"' in landing.text
    used = center.post(f"{BASE}/verify", data={"token": token, "csrf_token": csrf_of(landing)})
    assert used.status_code == 303 and "charter_preferences=" in used.headers["set-cookie"]
    assert "Save my choices" in center.get(BASE).text

    again = center.get(f"{link.path}?{link.query}")
    replay = center.post(f"{BASE}/verify", data={"token": token, "csrf_token": csrf_of(again)})
    assert replay.status_code == 410 and "already used" in replay.text


def test_a_forged_code_is_refused_and_records_nothing(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    challenge = challenge_of(ask_for_code(center, "ana@example.org"))
    forged = f"{(int(code_in(smtpd.messages[-1])) + 500_000) % 1_000_000:06d}"
    wrong = enter_code(center, challenge, forged)
    assert wrong.status_code == 400
    assert "That code is not right" in wrong.text and "4 tries left" in wrong.text
    assert 'aria-invalid="true"' in wrong.text and 'id="error-summary"' in wrong.text
    assert wrong.headers["content-type"].startswith("text/html")
    assert count(services, Person) == 0 and "charter_preferences=" not in wrong.headers.get("set-cookie", "")


def test_a_wrong_or_malformed_challenge_id_is_refused(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    challenge_of(ask_for_code(center, "ana@example.org"))
    code = code_in(smtpd.messages[-1])
    unknown = enter_code(center, "0" * 32, code)
    assert unknown.status_code == 400 and "not valid" in unknown.text
    page = center.get(BASE)
    malformed = center.post(
        f"{BASE}/verify", data={"challenge": "../../etc", "code": code, "csrf_token": csrf_of(page)}
    )
    assert malformed.status_code == 400 and "Ask for a new code" in malformed.text
    assert center.get(f"{BASE}/code", params={"challenge": "nope"}).status_code == 400
    assert count(services, Person) == 0


def test_an_expired_code_is_refused(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    challenge = challenge_of(ask_for_code(center, "ana@example.org"))
    with services.database.session() as session:
        session.execute(update(EmailChallenge).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = enter_code(center, challenge, code_in(smtpd.messages[-1]))
    assert expired.status_code == 410
    assert "This code has expired; ask for a new code." in expired.text
    assert count(services, Person) == 0


def test_a_replayed_code_is_refused(center: TestClient, smtpd: SmtpServer) -> None:
    challenge = challenge_of(ask_for_code(center, "ana@example.org"))
    code = code_in(smtpd.messages[-1])
    assert enter_code(center, challenge, code).status_code == 303
    replay = enter_code(center, challenge, code)
    assert replay.status_code == 410 and "already used" in replay.text


def test_the_sixth_attempt_is_locked(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    challenge = challenge_of(ask_for_code(center, "ana@example.org"))
    code = code_in(smtpd.messages[-1])
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    statuses = [enter_code(center, challenge, wrong).status_code for _ in range(5)]
    assert statuses == [400] * 5
    locked = enter_code(center, challenge, code)
    assert locked.status_code == 410 and "Too many wrong codes" in locked.text
    assert count(services, Person) == 0


@pytest.mark.parametrize(
    "email",
    [
        "ana-at-example.org",
        "ana@localhost",
        "two@@example.org",
        " ",
        "a" * 400 + "@x.org",
        "ana(x)@example.org",
        "ana@[example.org",  # passes the identity rules, but the mail header parser chokes on it
    ],
)
def test_a_malformed_address_gets_a_clear_error_and_nothing_is_stored(
    center: TestClient, services: Services, smtpd: SmtpServer, email: str
) -> None:
    refused = ask_for_code(center, email)
    assert refused.status_code == 422
    assert "Enter your e-mail address, like name@example.org." in refused.text
    assert 'aria-invalid="true"' in refused.text and 'href="#email"' in refused.text
    assert count(services, EmailChallenge) == 0 and count(services, Person) == 0
    assert smtpd.messages == []


def _masked(text: str) -> str:
    return CSRF.sub("CSRF", re.sub(r"[0-9a-f]{32}", "ID", text))


def test_a_known_and_an_unknown_address_get_the_same_answer(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    """Whether anyone holds the address is never revealed, and asking creates nobody."""
    with services.database.session() as session:
        subjects.resolve(session, "email", "known@example.org", vault=services.vault, create=True)
    answers = []
    for email in ("known@example.org", "stranger@example.org"):
        asked = ask_for_code(center, email)
        page = center.get(asked.headers["location"])
        answers.append((asked.status_code, _masked(asked.headers["location"]), page.status_code, _masked(page.text)))
    assert answers[0] == answers[1]
    assert count(services, Person) == 1
    assert [m["To"] for m in smtpd.messages] == ["known@example.org", "stranger@example.org"]


def test_a_mail_server_that_is_down_gives_a_friendly_503_and_stores_nothing(
    center: TestClient, services: Services
) -> None:
    services.mailer = SmtpMailer(MailSettings(backend="smtp", host=HOST, port=free_port(), starttls=False))
    down = ask_for_code(center, "ana@example.org")
    assert down.status_code == 503
    assert down.headers["content-type"].startswith("text/html")
    assert "We could not send the e-mail" in down.text and HOST not in down.text
    assert count(services, EmailChallenge) == 0 and count(services, Person) == 0


def test_every_form_needs_its_csrf_token(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    posts: list[tuple[str, dict[str, str]]] = [
        (f"{BASE}/code", {"email": "ana@example.org"}),
        (f"{BASE}/verify", {"challenge": "0" * 32, "code": "123456"}),
        (f"{BASE}/signout", {}),
    ]
    for path, data in posts:
        missing = center.post(path, data=data)
        assert missing.status_code == 403, path
        assert "This form has expired" in missing.text
        forged = center.post(path, data={**data, "csrf_token": "1.forged.0000"})
        assert forged.status_code == 403, path
    assert smtpd.messages == [] and count(services, EmailChallenge) == 0

    sign_in(center, smtpd)
    save = center.post(BASE, data={"version": VERSION, ANALYTICS: "yes"})
    assert save.status_code == 403
    other = TestClient(center.app, follow_redirects=False)  # a token from another browser does not work here
    stolen = csrf_of(other.get(BASE))
    assert center.post(BASE, data={"csrf_token": stolen, "version": VERSION, ANALYTICS: "yes"}).status_code == 403
    assert events_of(services) == []


def test_a_token_from_before_sign_in_does_not_work_after_it(center: TestClient, smtpd: SmtpServer) -> None:
    before = csrf_of(center.get(BASE))
    sign_in(center, smtpd)
    center.cookies.set("charter_preferences_csrf", before, path=BASE)
    refused = center.post(BASE, data={"csrf_token": before, "version": VERSION, ANALYTICS: "yes"})
    assert refused.status_code == 403


def test_global_privacy_control_is_recorded_for_the_verified_person(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    """P-TRK-2: the browser's GPC stands in the ledger of the person who proved the address."""
    sign_in(center, smtpd)
    page = center.get(BASE, headers={"Sec-GPC": "1"})
    assert "Your browser sends Global Privacy Control" in page.text
    center.get(BASE, headers={"Sec-GPC": "1"})
    assert [e.kind for e in events_of(services)] == [EventKind.SIGNAL_GPC]


def test_a_forged_or_absent_session_shows_the_e_mail_form(center: TestClient, smtpd: SmtpServer) -> None:
    center.cookies.set("charter_preferences", "0" * 32 + ".99999999999.forged", path=BASE)
    page = center.get(BASE)
    assert page.status_code == 200 and 'name="email"' in page.text
    assert 'charter_preferences=""' in page.headers["set-cookie"]  # the bad cookie is dropped
    center.cookies.clear()
    token = csrf_of(center.get(BASE))
    ended = center.post(BASE, data={"csrf_token": token, "version": VERSION, ANALYTICS: "yes"})
    assert ended.status_code == 401 and "nothing was saved" in ended.text


@pytest.mark.parametrize(
    "cookie",
    [
        b"charter_preferences=" + b"0" * 32 + b".99999999999.\xc3\xa9",
        b"charter_preferences_csrf=1.nonce.\xc3\xa9",
        b"charter_preferences_csrf=\xc2\xb2.nonce.mac",
    ],
)
def test_a_cookie_with_non_ascii_text_is_ignored_not_a_500(center: TestClient, cookie: bytes) -> None:
    """A cookie planted by a sibling site (or a broken one) must not break the page for that browser."""
    page = center.get(BASE, headers={"cookie": cookie})
    assert page.status_code == 200 and 'name="email"' in page.text
    posted = center.post(f"{BASE}/signout", headers={"cookie": cookie}, data={"csrf_token": "1.nonce.\u00e9"})
    assert posted.status_code == 403


def test_signing_out_ends_the_session(center: TestClient, smtpd: SmtpServer) -> None:
    sign_in(center, smtpd)
    edit = center.get(BASE)
    out = center.post(f"{BASE}/signout", data={"csrf_token": csrf_of(edit)})
    assert out.status_code == 200 and "You have signed out" in out.text
    assert 'name="email"' in center.get(BASE).text


def test_an_answer_that_was_not_offered_records_nothing(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    sign_in(center, smtpd)
    edit = center.get(BASE)
    bad = center.post(
        BASE, data={"csrf_token": csrf_of(edit), "version": VERSION, ANALYTICS: "yes", "email": "perhaps"}
    )
    assert bad.status_code == 400 and "must be yes or no" in bad.text
    assert events_of(services) == []


def test_a_form_from_an_older_statement_is_shown_again(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    sign_in(center, smtpd)
    edit = center.get(BASE)
    stale = center.post(BASE, data={"csrf_token": csrf_of(edit), "version": "2019-04-04", ANALYTICS: "yes"})
    assert stale.status_code == 409 and "review your choices again" in stale.text
    assert "Save my choices" in stale.text and events_of(services) == []


def test_the_session_cookie_is_secure_on_an_https_site(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    services.settings = services.settings.model_copy(update={"base_url": "https://privacy.west.example"})
    secure = TestClient(center.app, base_url="https://testserver", follow_redirects=False)
    challenge = challenge_of(ask_for_code(secure, "ana@example.org"))
    assert "https://privacy.west.example/privacy/preferences/verify?token=" in smtpd.messages[-1].get_content()
    verified = enter_code(secure, challenge, code_in(smtpd.messages[-1]))
    cookies = verified.headers.get_list("set-cookie")
    assert "Secure" in next(v for v in cookies if v.startswith("charter_preferences="))
    assert ask_for_code(center, "bo@example.org").status_code == 403  # its CSRF cookie never travels over http


def test_too_many_code_requests_get_a_page_not_json(center: TestClient) -> None:
    token = csrf_of(center.get(BASE))
    headers = {"Accept": "text/html"}
    statuses = [
        center.post(f"{BASE}/code", data={"email": f"p{i}@example.org", "csrf_token": token}, headers=headers)
        for i in range(11)
    ]
    limited = statuses[-1]
    assert limited.status_code == 429
    assert limited.headers["content-type"].startswith("text/html") and "Too many requests" in limited.text
