"""The requests API end to end, with a real SMTP server (aiosmtpd) receiving the codes.

Promises: P-RGT-7 (verified by a code read from the received mail; no
enumeration; forged codes fail), P-RGT-8 (due date in the answer),
P-RGT-3 / P-RET-3 (denial grounds e-mailed; holds block deletion),
P-RGT-4 (restriction approved → the decision API denies), P-SEC-1 (roles).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from fastapi.testclient import TestClient

from charter.auth.roles import Role
from charter.mail import SmtpMailer
from charter.services import Services
from tests.mail.smtpd import SmtpServer, running_smtpd
from tests.web.conftest import MakeToken


@pytest.fixture
def smtpd(services: Services) -> Iterator[SmtpServer]:
    with running_smtpd() as server:
        services.mailer = SmtpMailer(server.settings())
        yield server


@pytest.fixture
def api(client: TestClient, published: list[str], smtpd: SmtpServer) -> TestClient:
    return client


def code_in(message: EmailMessage) -> str:
    found = re.search(r"Your code: (\d{6})", message.get_content())
    assert found is not None
    return found.group(1)


def submit(api: TestClient, email: str = "ana@example.org", **body: Any) -> dict[str, Any]:
    payload = {"type": "access", "identity": {"kind": "email", "value": email}, "jurisdiction": "eu", **body}
    response = api.post("/api/v1/requests", json=payload)
    assert response.status_code == 202, response.text
    return response.json()  # type: ignore[no-any-return]


def verify(api: TestClient, smtpd: SmtpServer, received: dict[str, Any]) -> None:
    response = api.post("/api/v1/requests/verify", json={"id": received["id"], "code": code_in(smtpd.messages[-1])})
    assert response.status_code == 200, response.text


def bearer(make_token: MakeToken, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token(role)}"}


def test_intake_verify_and_approve_with_a_real_smtp_server(
    api: TestClient, smtpd: SmtpServer, make_token: MakeToken
) -> None:
    """The code comes from the mail the server received; the officer approves; the requester is told."""
    received = submit(api, type="deletion")
    assert set(received) == {"id", "status", "due_at", "message"}
    assert smtpd.messages[-1]["To"] == "ana@example.org"
    assert received["id"] in smtpd.messages[-1]["Subject"]
    verify(api, smtpd, received)
    assert "We have confirmed your privacy request" in [m["Subject"] for m in smtpd.messages]
    officer = bearer(make_token, Role.PRIVACY_OFFICER)
    queue = api.get("/api/v1/requests", headers=officer).json()["requests"]
    assert [r["id"] for r in queue] == [received["id"]]
    assert queue[0]["status"] == "in_review"
    refused = api.post(f"/api/v1/requests/{received['id']}/approve", json={}, headers=officer)
    assert refused.status_code == 422  # 2023 deletion: email_and_facts (P-RGT-7)
    approved = api.post(f"/api/v1/requests/{received['id']}/approve", json={"identity_checked": True}, headers=officer)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert [s["action"] for s in approved.json()["timeline"]][-1] == "request.approved"
    assert smtpd.messages[-1]["Subject"] == "Your privacy request was approved"


def test_the_same_answer_for_known_and_unknown_addresses(api: TestClient, services: Services) -> None:
    from charter.subjects import service as subjects

    with services.database.session() as session:
        subjects.resolve(session, "email", "known@example.org", vault=services.vault, create=True)
    known = submit(api, "known@example.org")
    unknown = submit(api, "unknown@example.org")
    assert set(known) == set(unknown)
    assert known["message"] == unknown["message"]
    assert known["due_at"][:10] == unknown["due_at"][:10]


def test_bad_intake_is_a_4xx(api: TestClient) -> None:
    unknown_kind = api.post("/api/v1/requests", json={"type": "access", "identity": {"kind": "passport", "value": "X"}})
    assert unknown_kind.status_code == 422
    assert "passport" not in unknown_kind.json()["detail"] or "kind" in unknown_kind.json()["detail"]
    assert (
        api.post(
            "/api/v1/requests", json={"type": "telepathy", "identity": {"kind": "email", "value": "a@b.org"}}
        ).status_code
        == 422
    )
    wrong_place = api.post(
        "/api/v1/requests",
        json={"type": "access", "identity": {"kind": "email", "value": "a@b.org"}, "jurisdiction": "atlantis"},
    )
    assert wrong_place.status_code == 400


def test_forged_and_wrong_codes_fail(api: TestClient, smtpd: SmtpServer) -> None:
    received = submit(api)
    code = code_in(smtpd.messages[-1])
    wrong = api.post(
        "/api/v1/requests/verify", json={"id": received["id"], "code": "999999" if code != "999999" else "111111"}
    )
    assert wrong.status_code == 400
    forged = api.post("/api/v1/requests/verify", json={"token": "x" * 43})
    assert forged.status_code == 400
    assert api.post("/api/v1/requests/verify", json={"id": received["id"], "code": code}).status_code == 200
    reused = api.post("/api/v1/requests/verify", json={"id": received["id"], "code": code})
    assert reused.status_code == 410


def test_deny_with_a_ground_reaches_the_requester_and_illegal_steps_are_409(
    api: TestClient, smtpd: SmtpServer, make_token: MakeToken
) -> None:
    received = submit(api, "bo@example.org", type="deletion")
    officer = bearer(make_token, Role.PRIVACY_OFFICER)
    early = api.post(f"/api/v1/requests/{received['id']}/approve", json={"identity_checked": True}, headers=officer)
    assert early.status_code == 409
    verify(api, smtpd, received)
    denied = api.post(
        f"/api/v1/requests/{received['id']}/deny",
        json={"reason": "legal_obligation", "note": "Invoices are kept for ten years."},
        headers=officer,
    )
    assert denied.status_code == 200, denied.text
    mail = smtpd.messages[-1]
    assert mail["To"] == "bo@example.org"
    assert "legal obligations to retain" in mail.get_content()
    assert "Invoices are kept for ten years." in mail.get_content()
    again = api.post(f"/api/v1/requests/{received['id']}/extend", json={"reason": "x"}, headers=officer)
    assert again.status_code == 409


def test_a_hold_blocks_deletion_and_restriction_changes_decisions(
    api: TestClient, smtpd: SmtpServer, make_token: MakeToken
) -> None:
    """P-RET-3 and P-RGT-4 through the API."""
    officer = bearer(make_token, Role.PRIVACY_OFFICER)
    hold = api.post(
        "/api/v1/holds",
        json={"identity": {"kind": "email", "value": "cy@example.org"}, "reason": "Case 7, litigation"},
        headers=officer,
    )
    assert hold.status_code == 201, hold.text
    deletion = submit(api, "cy@example.org", type="deletion")
    verify(api, smtpd, deletion)
    shown = api.get(f"/api/v1/requests/{deletion['id']}", headers=officer).json()
    assert [h["reason"] for h in shown["holds"]] == ["Case 7, litigation"]
    blocked = api.post(f"/api/v1/requests/{deletion['id']}/approve", json={"identity_checked": True}, headers=officer)
    assert blocked.status_code == 409
    assert "Case 7" in blocked.json()["detail"]
    released = api.delete(f"/api/v1/holds/{hold.json()['id']}", params={"reason": "settled"}, headers=officer)
    assert released.status_code == 200
    restriction = submit(api, "cy@example.org", type="restriction")
    verify(api, smtpd, restriction)
    ask = {
        "requests": [
            {
                "purpose": "marketing_new_services",
                "categories": ["user.contact.email"],
                "person": {"identity": {"kind": "email", "value": "cy@example.org"}},
            }
        ]
    }
    engineer = bearer(make_token, Role.ENGINEER)
    before = api.post("/api/v1/decisions", json=ask, headers=engineer)
    done = api.post(f"/api/v1/requests/{restriction['id']}/approve", json={}, headers=officer)
    assert done.json()["status"] == "completed"
    after = api.post("/api/v1/decisions", json=ask, headers=engineer)
    assert before.status_code == after.status_code == 200, before.text
    assert before.json()["decisions"][0]["allowed"] is True
    assert after.json()["decisions"][0]["allowed"] is False


@pytest.mark.parametrize(
    ("role", "read", "decide"), [(Role.ANALYST, 200, 403), (Role.AUDITOR, 200, 403), (Role.ENGINEER, 403, 403)]
)
def test_roles(api: TestClient, make_token: MakeToken, role: Role, read: int, decide: int) -> None:
    """Analysts and auditors read the queue; only privacy officers and admins decide (P-SEC-1)."""
    received = submit(api)
    headers = bearer(make_token, role)
    assert api.get("/api/v1/requests", headers=headers).status_code == read
    assert (
        api.post(
            f"/api/v1/requests/{received['id']}/deny", json={"reason": "manifestly_unfounded"}, headers=headers
        ).status_code
        == decide
    )
    assert api.post("/api/v1/holds", json={"system": "crm", "reason": "x"}, headers=headers).status_code == 403
