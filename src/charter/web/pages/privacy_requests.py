"""The public privacy-request pages under ``/privacy/requests`` (P-RGT-1..8).

1. ``GET /privacy/requests`` — the form: what to ask for (explained in plain
   words), where the person lives, their e-mail; details for correction and
   portability; optionally an authorized agent with proof (multipart).
2. ``POST /privacy/requests`` — record it and mail the code; the answer is the
   same "check your e-mail" page whether or not anyone holds the address
   (nobody is looked up at intake), then ``GET …/code?request=ID``.
3. ``POST /privacy/requests/verify`` — the code (or the link's token, confirmed
   from the landing page ``GET …/verify?token=…``: a GET never redeems) sets a
   signed cookie scoped to ``/privacy/requests/ID`` and opens the status page.
4. ``GET /privacy/requests/{id}`` — type, dates and status in plain language,
   for the verified requester only; ``POST …/{id}/information`` adds what the
   privacy office asked for.

Every form carries a CSRF token (``preference_tokens`` with the
:data:`~charter.web.pages.preference_tokens.REQUESTS` scope); every route is
public and rate-limited per client address; errors are pages with the right
4xx (or 503), never a stack trace.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from charter.db.base import utcnow
from charter.errors import CharterError, InputTooLarge, InvalidInput, NotFound, RateLimited, Unavailable
from charter.policy.schema import Statement
from charter.preferences.errors import ChallengeError, ChallengeInvalid, WrongCode
from charter.requests import intake, notices, review, status_access, terms
from charter.requests.details import DOCUMENT_TYPES, Agent, Document
from charter.requests.kinds import CLOSED, RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.services import Services
from charter.web.pages import preference_tokens as tokens
from charter.web.pages.preferences import _sentence
from charter.web.security import public, services_of
from charter.web.templating import render

router = APIRouter(include_in_schema=False)
PAGES = public("requests-pages", per_minute=120)
SEND = public("requests-submit", per_minute=10)
"""Submitting sends mail: the same tight limit as the API's intake (one bucket for both)."""
VERIFY = public("requests-verify", per_minute=30)

BASE = "/privacy/requests"
SCOPE = tokens.REQUESTS
MAX_EMAIL = 320
MAX_FIELD = 200
MAX_TEXT = 2_000
_ID = re.compile(r"[0-9a-f]{32}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")

EXPLAINED: dict[RequestKind, str] = {
    RequestKind.ACCESS: "Find out whether we hold personal information about you, and get a copy of it.",
    RequestKind.PORTABILITY: "Get the information you gave us in a file a computer can read, sent to you or "
    "straight to another company you name.",
    RequestKind.CORRECTION: "Tell us something we hold about you is wrong, and what it should be.",
    RequestKind.DELETION: "Ask us to erase your personal information. We keep only what the law makes us keep.",
    RequestKind.RESTRICTION: "Ask us to stop using your information for a while (for example while we check "
    "a correction), but keep it.",
    RequestKind.OBJECTION: "Ask us to stop using your information for purposes that rest on our legitimate "
    "interests, such as direct marketing.",
    RequestKind.OPT_OUT_SALE_SHARING: "Ask us not to sell or share your personal information with others.",
    RequestKind.WITHDRAW_CONSENT: "Take back consent you gave us; it does not affect what we did before.",
}

STATUS_TEXT: dict[Status, str] = {
    Status.RECEIVED: "We received your request and are sending you a code to confirm it.",
    Status.VERIFYING: "We are waiting for you to confirm the request with the code we e-mailed.",
    Status.VERIFIED: "You confirmed the request. Our privacy office will look at it next.",
    Status.IN_REVIEW: "Our privacy office is looking at your request.",
    Status.NEEDS_MORE_VERIFICATION: "We need a little more information to be sure the request is yours. "
    "Please add it below.",
    Status.APPROVED: "Your request was approved. We are carrying it out and will e-mail you when it is done.",
    Status.DENIED: "We could not do what you asked. We e-mailed you the reason.",
    Status.IN_PROGRESS: "We are carrying out your request now.",
    Status.COMPLETED: "Your request is complete.",
    Status.FAILED: "Something went wrong while carrying out your request. Our privacy office will contact you.",
}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the form: the field to link to and a sentence."""

    field: str
    message: str


# -- rendering ------------------------------------------------------------------------


def _page(
    request: Request, name: str, *, status_code: int = 200, binding: str | None = None, **context: Any
) -> Response:
    """A page with the CSRF token of the requests scope in its forms and cookie; never cached."""
    services = services_of(request)
    token = tokens.csrf_for(request, services, binding=binding, scope=SCOPE)
    response = render(request, name, status_code=status_code, pc_csrf=token, csrf_field=tokens.CSRF_FIELD, **context)
    tokens.set_csrf(response, services, token, scope=SCOPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _error(request: Request, status_code: int, title: str, detail: str, *, restart: bool = True) -> Response:
    return _page(request, "requests/error.html", status_code=status_code, title=title, detail=detail, restart=restart)


def _problem(request: Request, exc: CharterError) -> Response:
    return _error(request, exc.status, exc.title, _sentence(exc.detail))


def _forbidden(request: Request) -> Response:
    return _error(
        request,
        403,
        "This form has expired",
        "The form was not sent from this page, or it is too old. Go back, reload the page and try again.",
    )


def _statement(services: Services) -> Statement:
    with services.database.session() as session:
        return intake.statement_in_force(session, utcnow())[1]


def _form(
    request: Request,
    statement: Statement,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
) -> Response:
    services = services_of(request)
    values = values or {}
    default = terms.default_jurisdiction(statement, services.settings.requests.default_jurisdiction)
    return _page(
        request,
        "requests/start.html",
        status_code=status_code,
        kinds=[(kind, kind.label, EXPLAINED[kind]) for kind in RequestKind],
        jurisdictions=terms.jurisdictions(statement),
        chosen_jurisdiction=values.get("jurisdiction") or default,
        agents=statement.rights.authorized_agents,
        proof_required=statement.rights.agent_proof_required,
        max_document_mb=services.settings.requests.max_document_bytes / 1_000_000,
        values=values,
        problems=problems or [],
        invalid={p.field for p in problems or []},
    )


# -- the form -------------------------------------------------------------------------


@router.get(BASE, dependencies=[PAGES])
def request_form(request: Request) -> Response:
    """The request form (P-RGT-1..6): the statement in force decides the jurisdictions offered."""
    try:
        statement = _statement(services_of(request))
    except NotFound as exc:
        return _problem(request, exc)
    return _form(request, statement)


def _text(fields: dict[str, str], name: str, limit: int = MAX_FIELD) -> str:
    return fields.get(name, "")[: limit + 1].strip()


def _checked(fields: dict[str, str]) -> tuple[RequestKind | None, list[Problem]]:
    """The request type and every problem a person can fix on the form, in the order of the fields."""
    problems: list[Problem] = []
    try:
        kind: RequestKind | None = RequestKind(fields.get("type", ""))
    except ValueError:
        kind = None
        problems.append(Problem("type-access", "Choose what you are asking us to do."))
    email = _text(fields, "email", MAX_EMAIL)
    if not email or len(email) > MAX_EMAIL or "@" not in email:
        problems.append(Problem("email", "Enter your e-mail address, like name@example.org."))
    if kind == RequestKind.CORRECTION:
        if not _text(fields, "correction_field"):
            problems.append(Problem("correction_field", "Say which information is wrong."))
        if not _text(fields, "correction_value", MAX_TEXT):
            problems.append(Problem("correction_value", "Say what the information should be."))
    if kind == RequestKind.PORTABILITY and fields.get("destination") == "third_party":
        url = _text(fields, "destination_url", MAX_TEXT)
        if not url.startswith("https://"):
            problems.append(Problem("destination_url", "Enter the other company's address, starting with https://."))
    if fields.get("agent") == "yes":
        if not _text(fields, "agent_name"):
            problems.append(Problem("agent_name", "Enter your name as the authorized agent."))
        agent_email = _text(fields, "agent_email", MAX_EMAIL)
        if not agent_email or "@" not in agent_email:
            problems.append(Problem("agent_email", "Enter your e-mail address as the authorized agent."))
    return kind, problems


def _details(kind: RequestKind, fields: dict[str, str]) -> dict[str, Any]:
    if kind == RequestKind.CORRECTION:
        return {"field": _text(fields, "correction_field"), "value": _text(fields, "correction_value", MAX_TEXT)}
    if kind == RequestKind.PORTABILITY:
        if fields.get("destination") == "third_party":
            return {"destination": "third_party", "url": _text(fields, "destination_url", MAX_TEXT)}
        return {"destination": "me"}
    return {}


async def _proof(form: FormData, max_bytes: int) -> Document | None:
    """The uploaded proof of agency, read at most ``max_bytes`` + 1 bytes (larger: 413)."""
    upload = form.get("proof")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise InputTooLarge(f"the proof of agency is larger than {max_bytes:,} bytes")
    content_type = (upload.content_type or "").split(";")[0].strip().lower()
    return Document(content_type if content_type in DOCUMENT_TYPES else content_type[:100], data)


@router.post(BASE, dependencies=[SEND])
async def submit(request: Request) -> Response:
    """Record the request and mail the code (P-RGT-7); the same answer for known and unknown addresses."""
    services = services_of(request)
    limit = services.settings.requests.max_document_bytes
    form = await request.form(max_files=1, max_fields=40)
    try:
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        if not tokens.check_csrf(request, services, fields.get(tokens.CSRF_FIELD, ""), scope=SCOPE):
            return _forbidden(request)
        try:
            proof = await _proof(form, limit) if fields.get("agent") == "yes" else None
        except InputTooLarge:
            return _error(
                request,
                413,
                "The document is too large",
                f"The proof of agency can be at most {limit / 1_000_000:g} MB. Nothing was sent; go back and "
                "choose a smaller PDF, PNG or JPEG file.",
            )
    finally:
        await form.close()
    return await run_in_threadpool(_submit, request, services, fields, proof)


def _submit(request: Request, services: Services, fields: dict[str, str], proof: Document | None) -> Response:
    try:
        statement = _statement(services)
    except NotFound as exc:
        return _problem(request, exc)
    shown = {k: v[:MAX_TEXT] for k, v in fields.items() if k != tokens.CSRF_FIELD}
    kind, problems = _checked(fields)
    if kind is None or problems:
        return _form(request, statement, status_code=422, values=shown, problems=problems)
    agent = None
    if fields.get("agent") == "yes":
        agent = Agent(_text(fields, "agent_name"), _text(fields, "agent_email", MAX_EMAIL))
    submission = intake.Submission(
        kind=kind,
        identity_kind="email",
        identity=_text(fields, "email", MAX_EMAIL),
        jurisdiction=_text(fields, "jurisdiction") or None,
        details=_details(kind, fields),
        agent=agent,
        proof=proof,
    )
    try:
        received = intake.submit(
            services.database, services.mailer, submission, vault=services.vault, settings=services.settings
        )
    except RateLimited as exc:
        return _error(request, 429, "Too many requests", _sentence(exc.detail))
    except InvalidInput as exc:  # a malformed address, a detail the domain refuses (never echoing a value)
        field = "email" if exc.code == "invalid_identity" else "type-access"
        return _form(
            request, statement, status_code=422, values=shown, problems=[Problem(field, _sentence(exc.detail))]
        )
    except Unavailable:
        return _error(
            request,
            503,
            "We could not send the e-mail",
            "Our mail service is not answering right now, so your request was not recorded. Please try again in "
            "a few minutes.",
        )
    return RedirectResponse(f"{BASE}/code?request={received.public_id}", status_code=303)


# -- verification ----------------------------------------------------------------------


@router.get(f"{BASE}/code", dependencies=[PAGES])
def code_form(request: Request, request_id: str = Query("", alias="request", max_length=64)) -> Response:
    """ "Check your e-mail" and where to type the code; the same for every well-formed id (nothing is looked up)."""
    if not _ID.fullmatch(request_id):
        return _problem(request, ChallengeInvalid("this page needs the link from the request form; make a request"))
    return _code_page(request, request_id)


def _code_page(
    request: Request,
    request_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    tries_left: int | None = None,
) -> Response:
    return _page(
        request,
        "requests/code.html",
        status_code=status_code,
        request_id=request_id,
        error=error,
        tries_left=tries_left,
        minutes=services_of(request).settings.preferences.code_minutes,
    )


@router.get(f"{BASE}/verify", dependencies=[PAGES])
def link_landing(request: Request, token: str = Query("", max_length=MAX_FIELD)) -> Response:
    """The e-mailed link lands here and asks for one click: mail scanners open links, and must not use them up."""
    if not _TOKEN.fullmatch(token):
        return _problem(
            request,
            ChallengeInvalid("this link is not valid; copy the whole link from the e-mail, or make the request again"),
        )
    return _page(request, "requests/link.html", token=token)


@router.post(f"{BASE}/verify", dependencies=[VERIFY])
def verify(
    request: Request,
    request_id: str = Form("", alias="request"),
    code: str = Form(""),
    token: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    """Redeem the code (with the request id) or the link's token; then the status page (P-RGT-7)."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return _forbidden(request)
    request_id = request_id.strip().lower()
    by_link = bool(token)
    try:
        if len(request_id) > MAX_FIELD or len(code) > MAX_FIELD or len(token) > MAX_FIELD:
            raise ChallengeInvalid("this code or link is not valid; make the request again")
        if by_link:
            public_id = intake.verify_link(services.database, token, vault=services.vault, settings=services.settings)
        else:
            public_id = intake.verify_code(
                services.database, request_id, code.strip(), vault=services.vault, settings=services.settings
            )
    except ChallengeInvalid as exc:
        left = exc.tries_left if isinstance(exc, WrongCode) else None
        if by_link or left == 0 or not _ID.fullmatch(request_id):
            return _problem(request, exc)
        return _code_page(request, request_id, status_code=exc.status, error=_sentence(exc.detail), tries_left=left)
    except ChallengeError as exc:
        return _problem(request, exc)
    _deliver(services)
    return _opened(services, public_id)


def _deliver(services: Services) -> None:
    """Send the e-mails the change queued; a mail server that is down leaves them pending."""
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)


# -- the status page ------------------------------------------------------------------


def _verified(request: Request, services: Services, public_id: str) -> bool:
    """True when the browser holds a genuine, unexpired cookie for this very request."""
    held = tokens.read_session(services, request.cookies.get(SCOPE.session_cookie), scope=SCOPE)
    return held is not None and _ID.fullmatch(public_id) is not None and held == public_id


def _not_yours(request: Request, public_id: str) -> Response:
    """401, with a button that mails a new code to the request's own address (when the id is well formed)."""
    if not _ID.fullmatch(public_id):
        return _error(request, 404, "No such request", "Check the link in our e-mail about the request.")
    return _page(request, "requests/reopen.html", status_code=401, request_id=public_id)


@router.post(BASE + "/{public_id}/code", dependencies=[SEND])
def reopen_code(request: Request, public_id: str, csrf_token: str = Form("")) -> Response:
    """Mail a code to the address the request was made for; the same answer for any well-formed id."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return _forbidden(request)
    if not _ID.fullmatch(public_id):
        return _not_yours(request, public_id)
    try:
        challenge = status_access.send_code(
            services.database, services.mailer, public_id, vault=services.vault, settings=services.settings
        )
    except RateLimited as exc:
        return _error(request, 429, "Too many codes", _sentence(exc.detail))
    except Unavailable:
        return _error(request, 503, "We could not send the e-mail", "Please try again in a few minutes.")
    return RedirectResponse(f"{BASE}/{public_id}/code?challenge={challenge}", status_code=303)


@router.get(BASE + "/{public_id}/code", dependencies=[PAGES])
def reopen_form(request: Request, public_id: str, challenge: str = Query("", max_length=64)) -> Response:
    if not (_ID.fullmatch(public_id) and _ID.fullmatch(challenge)):
        return _not_yours(request, public_id)
    return _reopen_code_page(request, public_id, challenge)


def _reopen_code_page(request: Request, public_id: str, challenge: str, **extra: Any) -> Response:
    status_code = extra.pop("status_code", 200)
    return _page(
        request,
        "requests/code.html",
        status_code=status_code,
        request_id=public_id,
        challenge=challenge,
        action=f"{BASE}/{public_id}/open",
        minutes=services_of(request).settings.preferences.code_minutes,
        **extra,
    )


@router.post(BASE + "/{public_id}/open", dependencies=[VERIFY])
def reopen(
    request: Request, public_id: str, challenge: str = Form(""), code: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """Redeem the status code: the cookie for this request's page, as after the first confirmation."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return _forbidden(request)
    challenge = challenge.strip().lower()
    if not (_ID.fullmatch(public_id) and _ID.fullmatch(challenge)) or len(code) > MAX_FIELD:
        return _problem(request, ChallengeInvalid("this code is not valid; ask for a new one"))
    try:
        opened = status_access.redeem(
            services.database, public_id, challenge, code.strip(), vault=services.vault, settings=services.settings
        )
    except ChallengeInvalid as exc:
        left = exc.tries_left if isinstance(exc, WrongCode) else None
        if left is None or left == 0:
            return _problem(request, exc)
        return _reopen_code_page(
            request, public_id, challenge, status_code=exc.status, error=_sentence(exc.detail), tries_left=left
        )
    except ChallengeError as exc:
        return _problem(request, exc)
    return _opened(services, opened)


def _opened(services: Services, public_id: str) -> Response:
    path = f"{BASE}/{public_id}"
    response = RedirectResponse(path, status_code=303)
    value = tokens.issue_session(services, public_id, scope=SCOPE)
    tokens.set_session(response, services, value, scope=SCOPE, path=path)
    return response


def _status_page(
    request: Request, services: Services, row: PrivacyRequest, *, status_code: int = 200, **extra: Any
) -> Response:
    status = Status(row.status)
    return _page(
        request,
        "requests/status.html",
        status_code=status_code,
        row=row,
        label=RequestKind(row.kind).label,
        status=status,
        status_text=STATUS_TEXT[status],
        closed=status in CLOSED,
        **extra,
    )


@router.get(BASE + "/{public_id}", dependencies=[PAGES])
def status(request: Request, public_id: str) -> Response:
    """Where the request stands (P-RGT-8: the due date), for its verified requester only."""
    services = services_of(request)
    if not _verified(request, services, public_id):
        return _not_yours(request, public_id)
    with services.database.session() as session:
        try:
            row = review.get(session, public_id)
        except NotFound:
            return _not_yours(request, public_id)
        return _status_page(request, services, row, added=request.query_params.get("added") == "1")


@router.post(BASE + "/{public_id}/information", dependencies=[PAGES])
def add_information(
    request: Request, public_id: str, information: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """The requester adds what the privacy office asked for (P-RGT-7); the request goes back to review."""
    services = services_of(request)
    if not _verified(request, services, public_id):
        return _not_yours(request, public_id)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return _forbidden(request)
    with services.database.session() as session:
        row = review.get(session, public_id)
        if not information.strip() or len(information) > review.MAX_NOTE:
            error = f"Write what we asked for, in at most {review.MAX_NOTE:,} characters."
            return _status_page(
                request, services, row, status_code=422, error=error, information=information[:MAX_TEXT]
            )
        try:
            review.provide_verification(session, row, information=information, vault=services.vault)
        except CharterError as exc:
            session.rollback()
            return _status_page(request, services, row, status_code=exc.status, error=_sentence(exc.detail))
    return RedirectResponse(f"{BASE}/{public_id}?added=1", status_code=303)
