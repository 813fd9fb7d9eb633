"""The request form, the code page and the link landing: steps 1–3 of the package docstring."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import RedirectResponse, Response

from charter.errors import InputTooLarge, InvalidInput, NotFound, RateLimited, Unavailable
from charter.execution.facts_lookup import lookup_for, start_kinds
from charter.policy.schema import Statement
from charter.preferences.errors import ChallengeError, ChallengeInvalid, WrongCode
from charter.requests import intake, status_secret, terms
from charter.requests.details import AGENT, DOCUMENT_TYPES, PARENT, Agent, Document
from charter.requests.facts import KINDS
from charter.requests.identity_start import offered_facts
from charter.requests.kinds import RequestKind
from charter.services import Services
from charter.web.pages import preference_tokens as tokens
from charter.web.pages.privacy_requests.common import (
    BASE,
    LINK_TOKEN,
    MAX_EMAIL,
    MAX_FIELD,
    MAX_TEXT,
    PAGES,
    REQUEST_ID,
    SCOPE,
    SEND,
    VERIFY,
    Problem,
    deliver,
    error_page,
    forbidden_page,
    opened,
    page,
    problem_page,
    statement_in_force,
)
from charter.web.security import services_of
from charter.web.templating import sentence

router = APIRouter(include_in_schema=False)

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


def _form(
    request: Request,
    statement: Statement,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    chosen_purposes: list[str] | None = None,
) -> Response:
    services = services_of(request)
    values = values or {}
    default = terms.default_jurisdiction(statement, services.settings.requests.default_jurisdiction)
    starts = start_kinds(services.settings)  # issue 11: the kinds besides e-mail the data map declares
    return page(
        request,
        "requests/start.html",
        status_code=status_code,
        kinds=[(kind, kind.label, EXPLAINED[kind]) for kind in RequestKind],
        jurisdictions=terms.jurisdictions(statement),
        chosen_jurisdiction=values.get("jurisdiction") or default,
        agents=statement.rights.authorized_agents,
        # P-COL-2: where the statement says so, a parent or guardian can have a child's data removed
        parents=bool(statement.collection.minimum_age and statement.collection.minimum_age.parent_can_request_removal),
        proof_required=statement.rights.agent_proof_required,
        max_document_mb=services.settings.requests.max_document_bytes / 1_000_000,
        values=values,
        problems=problems or [],
        invalid={p.field for p in problems or []},
        purposes=[(p.id, p.name, p.description) for p in statement.purposes],  # restriction/objection (P-RGT-4)
        chosen_purposes=set(chosen_purposes or []),
        start_kinds=[(kind, kind_label(kind)) for kind in sorted(starts.others)],
        start_facts=[KINDS[k] for k in KINDS if any(k in offered_facts(o, [k]) for o in starts.others)],
        fact_prefix=FACT_PREFIX,
    )


FACT_PREFIX = "fact_"
KIND_LABELS = {"phone": "Phone number", "account_id": "Customer account number"}


def kind_label(kind: str) -> str:
    """How the form names an identity kind: ``loyalty_id`` → "Loyalty id"."""
    return KIND_LABELS.get(kind, kind.replace("_", " ").capitalize())


# -- the form -------------------------------------------------------------------------


@router.get(BASE, dependencies=[PAGES])
def request_form(request: Request) -> Response:
    """The request form (P-RGT-1..6): the statement in force decides the jurisdictions offered."""
    try:
        statement = statement_in_force(services_of(request))
    except NotFound as exc:
        return problem_page(request, exc)
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
    if fields.get("channel") == OTHER:  # issue 11: no e-mail address; another identifier and facts held
        if not _text(fields, "identity_value"):
            problems.append(Problem("identity_value", "Enter the number or identifier we know you by."))
        if not any(_text(fields, f"{FACT_PREFIX}{kind}") for kind in KINDS):
            problems.append(Problem("facts", "Answer at least one of the questions, so we can tell it is you."))
    else:
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


# -- restriction/objection purposes (issue 4): checkboxes of the statement's purposes, sent as details.purposes --
PURPOSE_KINDS = frozenset({RequestKind.RESTRICTION, RequestKind.OBJECTION})
MAX_PURPOSES = 100


def _purposes(form: FormData) -> list[str]:
    """The purposes ticked on the form (several values of one field), as sent; checked against the statement later."""
    return [v[:MAX_FIELD] for v in form.getlist("purposes")[:MAX_PURPOSES] if isinstance(v, str) and v.strip()]


def _unknown_purposes(kind: RequestKind | None, purposes: list[str], statement: Statement) -> list[Problem]:
    if kind not in PURPOSE_KINDS or not purposes:
        return []
    known = {p.id for p in statement.purposes}
    if all(p in known for p in purposes):
        return []
    return [
        Problem(
            "purposes",
            "One of the uses you chose is not in our privacy statement. Choose only from the list, or none "
            "to cover every use.",
        )
    ]


# -- end restriction/objection purposes --


def _details(kind: RequestKind, fields: dict[str, str], purposes: list[str] | None = None) -> dict[str, Any]:
    if kind in PURPOSE_KINDS and purposes:
        return {"purposes": sorted(set(purposes))}
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
        purposes = _purposes(form)
        if not tokens.check_csrf(request, services, fields.get(tokens.CSRF_FIELD, ""), scope=SCOPE):
            return forbidden_page(request)
        try:
            proof = await _proof(form, limit) if fields.get("agent") == "yes" else None
        except InputTooLarge:
            return error_page(
                request,
                413,
                "The document is too large",
                f"The proof of agency can be at most {limit / 1_000_000:g} MB. Nothing was sent; go back and "
                "choose a smaller PDF, PNG or JPEG file.",
            )
    finally:
        await form.close()
    return await run_in_threadpool(_submit, request, services, fields, proof, purposes)


def _submit(
    request: Request,
    services: Services,
    fields: dict[str, str],
    proof: Document | None,
    purposes: list[str] | None = None,
) -> Response:
    try:
        statement = statement_in_force(services)
    except NotFound as exc:
        return problem_page(request, exc)
    shown = {k: v[:MAX_TEXT] for k, v in fields.items() if k != tokens.CSRF_FIELD}
    kind, problems = _checked(fields)
    purposes = purposes or []
    problems += _unknown_purposes(kind, purposes, statement)
    if kind is None or problems:
        return _form(request, statement, status_code=422, values=shown, problems=problems, chosen_purposes=purposes)
    agent = None
    if fields.get("agent") in ("yes", "parent"):
        relationship = PARENT if fields.get("agent") == "parent" else AGENT
        agent = Agent(_text(fields, "agent_name"), _text(fields, "agent_email", MAX_EMAIL), relationship)
    without_email = fields.get("channel") == OTHER
    submission = intake.Submission(
        kind=kind,
        identity_kind=_text(fields, "identity_kind") if without_email else "email",
        identity=_text(fields, "identity_value") if without_email else _text(fields, "email", MAX_EMAIL),
        facts={k: _text(fields, f"{FACT_PREFIX}{k}") for k in KINDS} if without_email else {},
        jurisdiction=_text(fields, "jurisdiction") or None,
        details=_details(kind, fields, purposes),
        agent=agent,
        proof=proof,
        identities=(("phone", phone),) if (phone := _text(fields, "phone")) else (),
    )
    try:
        received = intake.submit(
            services.database,
            services.mailer,
            submission,
            vault=services.vault,
            settings=services.settings,
            starts=start_kinds(services.settings) if without_email else None,
            lookup=lookup_for(services.settings) if without_email else None,
        )
    except RateLimited as exc:
        return error_page(request, 429, "Too many requests", sentence(exc.detail))
    except InvalidInput as exc:  # a malformed address, a detail the domain refuses (never echoing a value)
        field = "email" if exc.code == "invalid_identity" else "type-access"
        if without_email:
            field = "identity_value" if exc.code == "invalid_identity" else "type-access"
            if "fact" in exc.detail:
                field = "facts"
        if "identities:" in exc.detail:  # the optional phone number (charter.requests.claimed)
            field = "phone"
        return _form(
            request,
            statement,
            status_code=422,
            values=shown,
            problems=[Problem(field, sentence(exc.detail))],
            chosen_purposes=purposes,
        )
    except Unavailable:
        return error_page(
            request,
            503,
            "We could not send the e-mail",
            "Our mail service is not answering right now, so your request was not recorded. Please try again in "
            "a few minutes.",
        )
    if received.secret is not None:  # no e-mail: the status link, shown this once (charter.requests.status_secret)
        return _secret_page(request, services, received)
    return RedirectResponse(f"{BASE}/code?request={received.public_id}", status_code=303)


OTHER = "other"


def _secret_page(request: Request, services: Services, received: intake.Received) -> Response:
    """ "Keep this link", with the status page's cookie already set for this browser."""
    link = status_secret.status_url(services.settings.base_url, received.secret or "")
    response = page(request, "requests/secret.html", request_id=received.public_id, link=link, due_at=received.due_at)
    value = tokens.issue_session(services, received.public_id, scope=SCOPE)
    tokens.set_session(response, services, value, scope=SCOPE, path=f"{BASE}/{received.public_id}")
    return response


# -- verification ----------------------------------------------------------------------


@router.get(f"{BASE}/code", dependencies=[PAGES])
def code_form(request: Request, request_id: str = Query("", alias="request", max_length=64)) -> Response:
    """ "Check your e-mail" and where to type the code; the same for every well-formed id (nothing is looked up)."""
    if not REQUEST_ID.fullmatch(request_id):
        return problem_page(request, ChallengeInvalid("this page needs the link from the request form; make a request"))
    return _code_page(request, request_id)


def _code_page(
    request: Request,
    request_id: str,
    *,
    status_code: int = 200,
    error: str | None = None,
    tries_left: int | None = None,
) -> Response:
    return page(
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
    if not LINK_TOKEN.fullmatch(token):
        return problem_page(
            request,
            ChallengeInvalid("this link is not valid; copy the whole link from the e-mail, or make the request again"),
        )
    return page(request, "requests/link.html", token=token)


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
        return forbidden_page(request)
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
        if by_link or left == 0 or not REQUEST_ID.fullmatch(request_id):
            return problem_page(request, exc)
        return _code_page(request, request_id, status_code=exc.status, error=sentence(exc.detail), tries_left=left)
    except ChallengeError as exc:
        return problem_page(request, exc)
    deliver(services)
    return opened(services, public_id)
