"""The privacy-request pages, public and console, with a real SMTP server (aiosmtpd) receiving the codes.

Promises: P-RGT-1..6 (a person asks through the privacy center), P-RGT-7
(the code read from the received mail; a GET never redeems; forged and
expired codes refused; the same page for known and unknown addresses; the
status page only with the request's own cookie; an agent's proof limited),
P-RGT-8 (due dates, the queue by due date, overdue marked in text, the
extension), P-RGT-3 / P-RET-2 (denial with an allowed ground e-mailed),
P-RET-3 (a legal hold blocks approval of deletion and says why), P-SEC-1
(CSRF on every form, roles on every console action).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import httpx2 as httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from charter.auth.roles import Role
from charter.db.base import utcnow
from charter.mail import SmtpMailer
from charter.policy import service as policy
from charter.preferences.models import EmailChallenge
from charter.requests import intake
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.services import Services
from charter.settings import RequestSettings
from charter.subjects import service as subjects
from tests.conftest import EXAMPLES
from tests.mail.smtpd import SmtpServer, running_smtpd
from tests.web.conftest import MakeSession

BASE = "/privacy/requests"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
HTML = {"accept": "text/html"}


@pytest.fixture
def smtpd(services: Services) -> Iterator[SmtpServer]:
    with running_smtpd() as server:
        services.mailer = SmtpMailer(server.settings())
        yield server


@pytest.fixture
def center(client: TestClient, published: list[str], smtpd: SmtpServer) -> TestClient:
    """The test client, both statements published (2023 in force), mail going to ``smtpd``."""
    return client


def csrf_of(response: httpx.Response) -> str:
    found = CSRF.search(response.text)
    assert found is not None, response.text
    return found.group(1)


def code_in(message: EmailMessage) -> str:
    found = re.search(r"Your code: (\d{6})", message.get_content())
    assert found is not None
    return found.group(1)


def ask(client: TestClient, email: str = "ana@example.org", **fields: str) -> httpx.Response:
    form = client.get(BASE)
    assert form.status_code == 200, form.text
    data = {"type": "access", "jurisdiction": "eu", "email": email, "csrf_token": csrf_of(form), **fields}
    return client.post(BASE, data=data)


def request_id_of(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return parse_qs(urlsplit(response.headers["location"]).query)["request"][0]


def confirm(client: TestClient, request_id: str, code: str) -> httpx.Response:
    page = client.get(f"{BASE}/code", params={"request": request_id})
    assert page.status_code == 200
    return client.post(f"{BASE}/verify", data={"request": request_id, "code": code, "csrf_token": csrf_of(page)})


def status_of(services: Services, public_id: str) -> Status:
    with services.database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id))
        assert row is not None
        return Status(row.status)


def make_request(
    services: Services,
    smtpd: SmtpServer,
    kind: RequestKind = RequestKind.ACCESS,
    email: str = "ana@example.org",
    *,
    jurisdiction: str = "eu",
    days_ago: int = 0,
    verify: bool = True,
) -> str:
    """A request received ``days_ago`` (so it may be overdue), verified with the e-mailed code."""
    now = utcnow() - timedelta(days=days_ago)
    submission = intake.Submission(kind=kind, identity_kind="email", identity=email, jurisdiction=jurisdiction)
    received = intake.submit(
        services.database, services.mailer, submission, vault=services.vault, settings=services.settings, now=now
    )
    if verify:
        intake.verify_code(
            services.database,
            received.public_id,
            code_in(smtpd.messages[-1]),
            vault=services.vault,
            settings=services.settings,
            now=now,
        )
    return received.public_id


def console_client(app: FastAPI, make_session: MakeSession, role: Role) -> tuple[TestClient, str]:
    login = make_session(role)
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("charter_session", login.cookie)
    return client, login.csrf_token


# -- the privacy center -------------------------------------------------------------------


def test_ask_confirm_and_see_the_status(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    """The whole public flow (P-RGT-1, P-RGT-7, P-RGT-8): form, code from the mail, status page with its cookie."""
    form = center.get(BASE)
    assert form.headers["cache-control"] == "no-store"
    assert '<label for="type-deletion">Delete my personal information (deletion)</label>' in form.text
    assert 'enctype="multipart/form-data"' in form.text
    assert '<option value="rest_of_world" selected>' in form.text  # the statement's catch-all is the default
    assert 'name="agent_name"' in form.text  # the 2023 statement provides for authorized agents

    asked = ask(center, "Ana@Example.org", type="deletion")
    public_id = request_id_of(asked)
    [message] = smtpd.messages
    assert message["To"] == "ana@example.org"
    code_page = center.get(asked.headers["location"])
    assert "Check your e-mail" in code_page.text and 'autocomplete="one-time-code"' in code_page.text

    verified = confirm(center, public_id, code_in(message))
    assert verified.status_code == 303 and verified.headers["location"] == f"{BASE}/{public_id}"
    cookie = next(v for v in verified.headers.get_list("set-cookie") if v.startswith("charter_request="))
    assert f"Path={BASE}/{public_id}" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert status_of(services, public_id) is Status.IN_REVIEW
    assert "We have confirmed your privacy request" in smtpd.messages[-1]["Subject"]

    page = center.get(f"{BASE}/{public_id}")
    assert page.status_code == 200
    assert "Delete my personal information (deletion)" in page.text
    assert "Our privacy office is looking at your request." in page.text
    with services.database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id))
        assert row is not None
        due = row.due_at
    assert f'datetime="{due.date().isoformat()}"' in page.text

    stranger = TestClient(center.app, follow_redirects=False)
    refused = stranger.get(f"{BASE}/{public_id}")
    assert refused.status_code == 401 and "Send me a code" in refused.text and "Delete my" not in refused.text
    stranger.cookies.set("charter_request", f"{public_id}.9999999999.forged", path=f"{BASE}/{public_id}")
    assert stranger.get(f"{BASE}/{public_id}").status_code == 401
    other = make_request(services, smtpd, email="bo@example.org", verify=False)
    assert center.get(f"{BASE}/{other}").status_code == 401  # the cookie opens its own request only


def test_the_link_lands_on_a_button_and_a_get_never_redeems(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    public_id = request_id_of(ask(center))
    found = re.search(r"(\S+/privacy/requests/verify\?token=\S+)", smtpd.messages[-1].get_content())
    assert found is not None
    link = urlsplit(found.group(1))
    landing = center.get(f"{link.path}?{link.query}")
    assert landing.status_code == 200 and "Confirm my request" in landing.text
    assert landing.headers["referrer-policy"] == "no-referrer"
    assert status_of(services, public_id) is Status.VERIFYING  # a mail scanner opening it changes nothing
    token = parse_qs(link.query)["token"][0]
    used = center.post(f"{BASE}/verify", data={"token": token, "csrf_token": csrf_of(landing)})
    assert used.status_code == 303 and used.headers["location"] == f"{BASE}/{public_id}"
    replay = center.post(f"{BASE}/verify", data={"token": token, "csrf_token": csrf_of(landing)})
    assert replay.status_code == 410 and "text/html" in replay.headers["content-type"]


def test_forged_and_expired_codes_are_pages(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    public_id = request_id_of(ask(center))
    forged = f"{(int(code_in(smtpd.messages[-1])) + 500_000) % 1_000_000:06d}"
    wrong = confirm(center, public_id, forged)
    assert wrong.status_code == 400 and 'aria-invalid="true"' in wrong.text and 'id="error-summary"' in wrong.text
    assert "charter_request=" not in wrong.headers.get("set-cookie", "")
    assert confirm(center, "0" * 32, "123456").status_code == 400
    with services.database.session() as session:
        session.execute(update(EmailChallenge).values(expires_at=utcnow() - timedelta(minutes=1)))
    expired = confirm(center, public_id, code_in(smtpd.messages[-1]))
    assert expired.status_code == 410 and "text/html" in expired.headers["content-type"]
    assert status_of(services, public_id) is Status.VERIFYING
    assert center.get(f"{BASE}/code", params={"request": "not-an-id"}).status_code == 400


def test_the_same_page_for_known_and_unknown_addresses(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    """No enumeration (P-RGT-7): nobody is looked up before the code is entered."""
    with services.database.session() as session:
        subjects.resolve(session, "email", "known@example.org", vault=services.vault, create=True)
    known = ask(center, "known@example.org")
    unknown = ask(center, "unknown@example.org")
    assert known.status_code == unknown.status_code == 303
    pages = [center.get(r.headers["location"]) for r in (known, unknown)]
    texts = [re.sub(r"[0-9a-f]{32}|" + CSRF.pattern, "", page.text) for page in pages]
    assert texts[0] == texts[1]
    assert len(smtpd.messages) == 2


def test_forms_without_csrf_are_refused(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    center.get(BASE)
    refused = center.post(BASE, data={"type": "access", "email": "ana@example.org", "jurisdiction": "eu"})
    assert refused.status_code == 403 and "This form has expired" in refused.text
    assert smtpd.messages == []
    public_id = request_id_of(ask(center))
    no_token = center.post(f"{BASE}/verify", data={"request": public_id, "code": code_in(smtpd.messages[-1])})
    assert no_token.status_code == 403 and status_of(services, public_id) is Status.VERIFYING


def test_bad_form_input_is_shown_on_the_form(center: TestClient, smtpd: SmtpServer) -> None:
    bad = ask(center, "not an address", type="correction")
    assert bad.status_code == 422
    assert 'href="#email"' in bad.text and 'href="#correction_field"' in bad.text
    assert 'id="correction_value" name="correction_value"' in bad.text and 'aria-invalid="true"' in bad.text
    portability = ask(center, type="portability", destination="third_party", destination_url="http://x.example")
    assert portability.status_code == 422 and "https://" in portability.text
    assert smtpd.messages == []


def test_an_agents_proof_too_large_is_a_413_page(center: TestClient, services: Services, smtpd: SmtpServer) -> None:
    """An authorized agent uploads proof (P-RGT-7); over the configured size nothing is recorded."""
    services.settings.requests = RequestSettings(max_document_bytes=10_000)
    form = center.get(BASE)
    fields = {
        "type": "access",
        "jurisdiction": "california",
        "email": "ana@example.org",
        "agent": "yes",
        "agent_name": "Ada Agent",
        "agent_email": "ada@agents.example",
        "csrf_token": csrf_of(form),
    }
    too_large = center.post(
        BASE, data=fields, files={"proof": ("proof.pdf", b"%PDF" + b"0" * 10_000, "application/pdf")}
    )
    assert too_large.status_code == 413 and "The document is too large" in too_large.text
    assert smtpd.messages == []
    fine = center.post(BASE, data=fields, files={"proof": ("proof.pdf", b"%PDF-1.4 small", "application/pdf")})
    request_id_of(fine)
    assert "Ada Agent" in smtpd.messages[-1].get_content()  # the person is asked to confirm the agent


def test_a_parent_asks_for_a_childs_deletion_from_the_form_p_col_2(
    client: TestClient,
    app: FastAPI,
    services: Services,
    smtpd: SmtpServer,
    make_session: MakeSession,
) -> None:
    """P-COL-2 under the 2019 statement (no authorized agents, but "a parent can have a child's data removed"):
    the form offers it, the child's address gets the code naming the parent, the office sees who asked."""
    loaded, raw = policy.read_file(EXAMPLES / "statement-2019.yaml", limits=services.settings.policy)
    with services.database.session() as session:
        policy.publish(session, loaded, raw, actor="test")
    form = client.get(BASE)
    assert 'value="parent"' in form.text and "authorized agent acting" not in form.text
    fields = {
        "type": "deletion",
        "email": "kid@example.org",
        "agent": "parent",
        "agent_name": "Paula Parent",
        "agent_email": "paula@family.example",
        "csrf_token": csrf_of(form),
    }
    public_id = request_id_of(client.post(BASE, data=fields))
    assert smtpd.messages[-1]["To"] == "kid@example.org"
    assert "Paula Parent" in smtpd.messages[-1].get_content()
    refused = client.post(BASE, data={**fields, "type": "access", "csrf_token": csrf_of(client.get(BASE))})
    assert refused.status_code == 422 and "deleted" in refused.text
    office, _csrf = console_client(app, make_session, Role.PRIVACY_OFFICER)
    assert "by a parent or guardian" in office.get(f"/console/requests/{public_id}").text


# -- the console ---------------------------------------------------------------------------


def test_the_queue_is_by_due_date_with_overdue_marked_in_text(
    app: FastAPI, center: TestClient, services: Services, smtpd: SmtpServer, make_session: MakeSession
) -> None:
    """P-RGT-8: soonest due first; an overdue request says so in words, not only in colour."""
    late = make_request(services, smtpd, email="late@example.org", jurisdiction="rest_of_world", days_ago=40)
    fresh = make_request(services, smtpd, email="fresh@example.org", jurisdiction="rest_of_world")
    office, _csrf = console_client(app, make_session, Role.PRIVACY_OFFICER)
    page = office.get("/console/requests", headers=HTML)
    assert page.status_code == 200
    assert page.text.index(late[:8]) < page.text.index(fresh[:8])
    assert page.text.count("OVERDUE") == 1 and 'class="overdue"' in page.text
    overdue = office.get("/console/requests", params={"overdue": "1"})
    assert late[:8] in overdue.text and fresh[:8] not in overdue.text
    deletions = office.get("/console/requests", params={"type": "deletion", "status": "all"})
    assert "No requests match." in deletions.text
    assert 'href="/console/requests"' in office.get("/console").text  # the nav link


def test_approve_deny_extend_and_ask_through_the_forms(
    app: FastAPI, center: TestClient, services: Services, smtpd: SmtpServer, make_session: MakeSession
) -> None:
    """Each form calls the domain (audited, e-mailed); deletion under 2023 needs "identity checked" (P-RGT-7)."""
    office, csrf = console_client(app, make_session, Role.PRIVACY_OFFICER)
    deletion = make_request(services, smtpd, RequestKind.DELETION, "del@example.org")
    detail = office.get(f"/console/requests/{deletion}")
    assert "d***@e***.org" in detail.text and "del@example.org" not in detail.text  # masked
    assert 'name="identity_checked"' in detail.text and 'name="csrf_token"' in detail.text
    unchecked = office.post(f"/console/requests/{deletion}/approve", data={"csrf_token": csrf})
    assert unchecked.status_code == 422 and "identity_checked" in unchecked.text
    approved = office.post(
        f"/console/requests/{deletion}/approve", data={"csrf_token": csrf, "identity_checked": "yes"}
    )
    assert approved.status_code == 303 and status_of(services, deletion) is Status.APPROVED
    assert smtpd.messages[-1]["Subject"] == "Your privacy request was approved"
    assert "request.approved" in office.get(approved.headers["location"]).text  # the timeline

    denied_id = make_request(services, smtpd, RequestKind.ACCESS, "deny@example.org")
    denied = office.post(
        f"/console/requests/{denied_id}/deny",
        data={"csrf_token": csrf, "reason": "others_rights", "note": "It names your colleagues."},
    )
    assert denied.status_code == 303 and status_of(services, denied_id) is Status.DENIED
    assert "It names your colleagues." in smtpd.messages[-1].get_content()
    not_allowed = make_request(services, smtpd, RequestKind.ACCESS, "ground@example.org")
    refused = office.post(
        f"/console/requests/{not_allowed}/deny", data={"csrf_token": csrf, "reason": "legal_obligation"}
    )
    assert refused.status_code == 422 and status_of(services, not_allowed) is Status.IN_REVIEW

    extended_id = make_request(services, smtpd, RequestKind.ACCESS, "ext@example.org")
    extended = office.post(
        f"/console/requests/{extended_id}/extend", data={"csrf_token": csrf, "reason": "Fourteen systems."}
    )
    assert extended.status_code == 303 and "Fourteen systems." in smtpd.messages[-1].get_content()
    again = office.post(f"/console/requests/{extended_id}/extend", data={"csrf_token": csrf, "reason": "More."})
    assert again.status_code == 409

    asked = office.post(
        f"/console/requests/{not_allowed}/ask-verification",
        data={"csrf_token": csrf, "message": "The last four digits of your phone."},
    )
    assert asked.status_code == 303 and status_of(services, not_allowed) is Status.NEEDS_MORE_VERIFICATION
    assert "The last four digits of your phone." in smtpd.messages[-1].get_content()

    no_csrf = office.post(f"/console/requests/{extended_id}/deny", data={"reason": "others_rights"})
    assert no_csrf.status_code == 403 and status_of(services, extended_id) is Status.IN_REVIEW


def test_the_requester_adds_what_was_asked_on_the_status_page(
    app: FastAPI, center: TestClient, services: Services, smtpd: SmtpServer, make_session: MakeSession
) -> None:
    """P-RGT-7: more verification asked in the console, given on the status page, back in review."""
    public_id = request_id_of(ask(center))
    assert confirm(center, public_id, code_in(smtpd.messages[-1])).status_code == 303
    office, csrf = console_client(app, make_session, Role.PRIVACY_OFFICER)
    office.post(f"/console/requests/{public_id}/ask-verification", data={"csrf_token": csrf, "message": "Postcode."})
    page = center.get(f"{BASE}/{public_id}")
    assert '<textarea id="information"' in page.text
    assert center.post(f"{BASE}/{public_id}/information", data={"information": "N1 9GU"}).status_code == 403
    added = center.post(f"{BASE}/{public_id}/information", data={"information": "N1 9GU", "csrf_token": csrf_of(page)})
    assert added.status_code == 303 and status_of(services, public_id) is Status.IN_REVIEW
    assert "N1 9GU" in office.get(f"/console/requests/{public_id}").text  # the reviewer reads it


def test_roles_an_analyst_sees_but_cannot_act_and_others_get_403(
    app: FastAPI, center: TestClient, services: Services, smtpd: SmtpServer, make_session: MakeSession
) -> None:
    """P-SEC-1: requests:read to see, requests:decide / holds:manage to act."""
    public_id = make_request(services, smtpd)
    analyst, csrf = console_client(app, make_session, Role.ANALYST)
    page = analyst.get(f"/console/requests/{public_id}")
    assert page.status_code == 200 and "/approve" not in page.text and "Place the hold" not in page.text
    assert analyst.get("/console/requests").status_code == 200
    assert analyst.get("/console/holds").status_code == 200
    acting = analyst.post(f"/console/requests/{public_id}/approve", data={"csrf_token": csrf}, headers=HTML)
    assert acting.status_code == 403 and status_of(services, public_id) is Status.IN_REVIEW
    hold = analyst.post("/console/holds", data={"csrf_token": csrf, "target": "system", "system": "x", "reason": "r"})
    assert hold.status_code == 403
    engineer, _ = console_client(app, make_session, Role.ENGINEER)
    assert engineer.get("/console/requests", headers=HTML).status_code == 403
    assert engineer.get(f"/console/requests/{public_id}").status_code == 403
    anonymous = TestClient(app, follow_redirects=False).get("/console/requests", headers=HTML)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")


def test_a_hold_blocks_deletion_approval_and_says_why(
    app: FastAPI, center: TestClient, services: Services, smtpd: SmtpServer, make_session: MakeSession
) -> None:
    """P-RET-3: a hold on the person refuses approval of their deletion, naming the hold's reason."""
    office, csrf = console_client(app, make_session, Role.PRIVACY_OFFICER)
    public_id = make_request(services, smtpd, RequestKind.DELETION, "held@example.org")
    placed = office.post(
        "/console/holds",
        data={"csrf_token": csrf, "target": "person", "email": "held@example.org", "reason": "Case 24-118"},
    )
    assert placed.status_code == 303
    listed = office.get("/console/holds?done=placed")
    assert "Case 24-118" in listed.text and "The legal hold was placed." in listed.text
    detail = office.get(f"/console/requests/{public_id}")
    assert "On this person" in detail.text and "Case 24-118" in detail.text
    blocked = office.post(
        f"/console/requests/{public_id}/approve", data={"csrf_token": csrf, "identity_checked": "yes"}
    )
    assert blocked.status_code == 409 and "Case 24-118" in blocked.text
    assert status_of(services, public_id) is Status.IN_REVIEW

    hold_id = re.search(r'action="/console/holds/([0-9a-f]{32})/release"', listed.text)
    assert hold_id is not None
    released = office.post(
        f"/console/holds/{hold_id.group(1)}/release", data={"csrf_token": csrf, "reason": "Case settled"}
    )
    assert released.status_code == 303
    approved = office.post(
        f"/console/requests/{public_id}/approve", data={"csrf_token": csrf, "identity_checked": "yes"}
    )
    assert approved.status_code == 303 and status_of(services, public_id) is Status.APPROVED
    system = office.post(
        "/console/holds", data={"csrf_token": csrf, "target": "system", "system": "Bad Id!", "reason": "x"}
    )
    assert system.status_code == 400 and "system" in system.text


def test_coming_back_later_with_a_new_code_to_the_requests_own_address(
    center: TestClient, services: Services, smtpd: SmtpServer
) -> None:
    """P-RGT-7: the status page again after the cookie is gone; the code goes to the request's address only."""
    public_id = request_id_of(ask(center, "ana@example.org"))
    later = TestClient(center.app, follow_redirects=False)
    page = later.get(f"{BASE}/{public_id}")
    sent = later.post(f"{BASE}/{public_id}/code", data={"csrf_token": csrf_of(page)})
    assert sent.status_code == 303
    message = smtpd.messages[-1]
    assert message["To"] == "ana@example.org" and public_id in message["Subject"]
    challenge = parse_qs(urlsplit(sent.headers["location"]).query)["challenge"][0]
    form = later.get(sent.headers["location"])
    assert f'action="{BASE}/{public_id}/open"' in form.text
    wrong = f"{(int(code_in(message)) + 1) % 1_000_000:06d}"
    bad = later.post(
        f"{BASE}/{public_id}/open", data={"challenge": challenge, "code": wrong, "csrf_token": csrf_of(form)}
    )
    assert bad.status_code == 400 and "tries left" in bad.text
    other = make_request(services, smtpd, email="bo@example.org", verify=False)
    crossed = later.post(
        f"{BASE}/{other}/open", data={"challenge": challenge, "code": code_in(message), "csrf_token": csrf_of(form)}
    )
    assert crossed.status_code == 400  # a code for one request does not open another
    opened = later.post(
        f"{BASE}/{public_id}/open", data={"challenge": challenge, "code": code_in(message), "csrf_token": csrf_of(form)}
    )
    assert opened.status_code == 303 and opened.headers["location"] == f"{BASE}/{public_id}"
    shown = later.get(f"{BASE}/{public_id}")
    assert shown.status_code == 200 and "We are waiting for you to confirm the request" in shown.text
    assert status_of(services, public_id) is Status.VERIFYING  # seeing it does not confirm it
    nobody = later.get(f"{BASE}/{'e' * 32}")
    assert nobody.status_code == 401 and nobody.text.replace("e" * 32, public_id) == page.text.replace(
        csrf_of(page), csrf_of(nobody)
    )  # an unknown id looks the same as a real one
    unknown = later.post(f"{BASE}/{'e' * 32}/code", data={"csrf_token": csrf_of(nobody)})
    assert unknown.status_code == 303 and len(smtpd.messages) == 3  # the same answer, no mail
