"""Privacy requests over HTTP: public intake and verification, the privacy office's queue, legal holds.

* ``POST /api/v1/requests`` (public, rate-limited): record a request and mail
  the code; the answer is the same whether or not Charter knows the
  address (no enumeration). ``POST /api/v1/requests/verify`` redeems the
  code (with the request id) or the link's token; ``…/verify-facts`` does
  the same and matches facts held for a high-risk request, answering the
  same whatever the outcome (:mod:`charter.web.api.request_facts`, P-RGT-7).
* ``GET /api/v1/requests[/{id}]`` (``requests:read``): the queue by due date,
  one request with its timeline; ``/{id}/plan`` the steps that would carry it out;
  ``/{id}/certificate`` a completed deletion's certificate.
* ``POST /api/v1/requests/{id}/run`` (``requests:decide``): submit an approved request's run
  (or resume one) to the job queue and answer 202 with its status at once: the in-process
  default runs it in a background thread, ``CHARTER_JOBS_BACKEND=celery`` on ``charter worker``
  (charter.jobs). Refused at once: a request not approved, a legal hold, a broken data map.
  With ``CHARTER_EXECUTION_AUTORUN`` an approval submits the run itself.
* ``POST /api/v1/requests/{id}/approve|deny|extend|ask-verification``
  (``requests:decide``): each audited and e-mailed to the requester.
* ``POST /api/v1/requests/{id}/retry`` (``requests:decide``): a failed request after the
  office fixed its cause, done steps kept (202, charter.execution.retry); ``…/give-up``
  (``requests:decide``, a reason): closed as not carried out, the requester told why.
* ``GET/POST /api/v1/holds``, ``DELETE /api/v1/holds/{id}`` (``holds:manage``;
  reading also with ``requests:read``): legal holds (P-RET-3).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import InvalidInput
from charter.execution import jobs, retry
from charter.execution import service as execution
from charter.execution.certificate import certificate_of
from charter.execution.facts_lookup import lookup_for, start_kinds
from charter.requests import factcheck, holds, identity_start, intake, notices, queue, review
from charter.requests.details import Agent, Document
from charter.requests.kinds import DenialReason, RequestKind, Status
from charter.services import Services
from charter.subjects import service as subjects
from charter.web.api import request_facts, request_status
from charter.web.api.ledger import IdentityIn
from charter.web.security import public, requires, services_of

router = APIRouter()
router.include_router(request_facts.router)  # POST /requests/verify-facts: code + facts held (issue 4, P-RGT-7)
router.include_router(request_status.router)  # POST /requests/status…: without e-mail, by the status secret (issue 11)
SUBMIT = public("requests-submit", per_minute=10)
VERIFY = public("requests-verify", per_minute=30)
CHECK_EMAIL = (
    "If this address can receive e-mail, we have sent a code and a link to it. The request is acted on only "
    "after it is confirmed with them."
)


class AgentIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=320)
    relationship: Literal["agent", "parent"] = Field(
        default="agent",
        description="`agent`: an authorized agent (where the statement provides for them); `parent`: the parent "
        "or guardian of a child asking for the child's data to be deleted (P-COL-2, where the statement says so).",
    )


class ProofIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    content_type: Literal["application/pdf", "image/png", "image/jpeg"]
    data_base64: str = Field(min_length=4, max_length=70_000_000)


class RequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: RequestKind
    identity: IdentityIn = Field(
        description="The requester: email (a code is sent there), or a kind the data map declares (phone, "
        "loyalty_id, …) proven with `facts`; an unknown kind is refused naming the kinds accepted."
    )
    jurisdiction: str | None = Field(default=None, max_length=80, description="Default: the configured one.")
    details: dict[str, Any] = Field(default_factory=dict)
    agent: AgentIn | None = Field(default=None, description="Set when an authorized agent asks for the person.")
    proof: ProofIn | None = Field(default=None, description="Proof of agency (PDF, PNG or JPEG), base64.")
    identities: list[IdentityIn] = Field(
        default_factory=list,
        max_length=5,
        description="Other identifiers the requester is known by (phone, loyalty_id, …): searched as given only "
        "after the privacy office confirms them; until then only where the person's own records hold them.",
    )
    facts: dict[str, str] = Field(
        default_factory=dict,
        max_length=5,
        description="Only without an e-mail address: facts the requester knows (postal_code, phone_last4, "
        "date_of_birth), compared with what the stores hold; never stored.",
    )


class ReceivedOut(BaseModel):
    id: str
    status: str = "verifying"
    due_at: str
    message: str = CHECK_EMAIL
    status_secret: str | None = Field(
        default=None,
        description="Only for a request made without an e-mail address: shown this once, never stored; it opens "
        "the request's status (POST /api/v1/requests/status) and its copy.",
    )
    status_url: str | None = Field(default=None, description="The same secret as a link to the status page.")


class VerifyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=32)
    code: str | None = Field(default=None, max_length=20)
    token: str | None = Field(default=None, max_length=200)


class ApproveIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    identity_checked: bool = Field(
        default=False, description="The reviewer checked the facts already held (needed for email_and_facts)."
    )
    identities_checked: bool = Field(
        default=False,
        description="The reviewer confirmed the other identifiers the requester gave are theirs: they are then "
        "searched as given.",
    )


class DenyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: DenialReason
    note: str | None = Field(default=None, max_length=2_000, description="Sent to the requester with the ground.")


class ReasonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=2_000)


class MessageIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    message: str = Field(min_length=1, max_length=2_000, description="What the requester must provide.")


class HoldIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person: str | None = Field(default=None, max_length=32, description="The person's public id.")
    identity: IdentityIn | None = None
    system: str | None = Field(default=None, max_length=80)
    reason: str = Field(min_length=1, max_length=2_000)


def _proof(body: RequestIn) -> Document | None:
    if body.proof is None:
        return None
    try:
        data = base64.b64decode(body.proof.data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("proof.data_base64 is not valid base64") from None
    return Document(body.proof.content_type, data)


@router.post(
    "/requests", status_code=202, response_model=ReceivedOut, response_model_exclude_none=True, dependencies=[SUBMIT]
)
def submit(body: RequestIn, request: Request) -> ReceivedOut:
    """Record a request and mail the acknowledgement with a code; 202 whether or not the address is known."""
    services = services_of(request)
    submission = intake.Submission(
        kind=body.type,
        identity_kind=body.identity.kind,
        identity=body.identity.value,
        jurisdiction=body.jurisdiction,
        details=body.details,
        agent=None if body.agent is None else Agent(body.agent.name, body.agent.email, body.agent.relationship),
        proof=_proof(body),
        identities=tuple((i.kind, i.value) for i in body.identities),
        facts=body.facts,
    )
    without_email = identity_start.canonical_kind(body.identity.kind) != identity_start.EMAIL
    received = intake.submit(
        services.database,
        services.mailer,
        submission,
        vault=services.vault,
        settings=services.settings,
        starts=start_kinds(services.settings) if without_email else None,  # issue 11: kinds the data map declares
        lookup=lookup_for(services.settings) if without_email else None,
    )
    if received.secret is None:
        return ReceivedOut(id=received.public_id, due_at=received.due_at.isoformat())
    return ReceivedOut(
        id=received.public_id,
        status=Status.IN_REVIEW.value,
        due_at=received.due_at.isoformat(),
        message=factcheck.NEUTRAL,
        status_secret=received.secret,
        status_url=request_status.link(services, received.secret),
    )


@router.post("/requests/verify", dependencies=[VERIFY])
def verify(body: VerifyIn, request: Request) -> dict[str, str]:
    """Redeem the e-mailed code (with the request id) or the link's token."""
    public_id = request_facts.confirmed(services_of(request), body.id, body.code, body.token)
    return {"id": public_id, "status": "in_review"}


def deliver(services: Services) -> None:
    """Send the e-mails the change queued; a mail server that is down leaves them pending (never an error)."""
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)


@router.get("/requests")
def list_requests(
    request: Request,
    status: str | None = Query(queue.OPEN, max_length=32, description="A state, 'open' or 'all'."),
    type_: str | None = Query(None, alias="type", max_length=32),
    overdue: bool = Query(False),
    limit: int = Query(100, ge=1, le=queue.MAX_PAGE),
    _: Principal = requires(Permission.REQUESTS_READ),
) -> dict[str, object]:
    """Requests by due date, soonest first."""
    with services_of(request).database.session() as session:
        found = queue.listed(
            session, status=None if status == "all" else status, kind=type_, only_overdue=overdue, limit=limit
        )
    return {"requests": [item.as_dict() for item in found]}


def _document(services: Services, public_id: str) -> dict[str, object]:
    """The request as the office sees it, with its run step by step (``execution``: null before a run)."""
    with services.database.session() as session:
        row = review.get(session, public_id)
        return {**queue.document(session, row, vault=services.vault), "execution": retry.report(session, row)}


@router.get("/requests/{public_id}")
def show_request(
    request: Request, public_id: str, _: Principal = requires(Permission.REQUESTS_READ)
) -> dict[str, object]:
    """One request: state, deadline, holds, timeline, and its run (which steps were done, what they changed, which
    failed and why)."""
    return _document(services_of(request), public_id)


@router.get("/requests/{public_id}/plan")
def plan_request(
    request: Request, public_id: str, _: Principal = requires(Permission.REQUESTS_READ)
) -> dict[str, object]:
    """The steps that would carry out the request (nothing is run); the data map is CHARTER_DATAMAP_PATH."""
    services = services_of(request)
    datamap = execution.load_datamap(services.settings)
    with services.database.session() as session:
        return execution.plan_request(session, public_id, datamap, vault=services.vault).as_dict()


@router.post("/requests/{public_id}/run", status_code=202)
def run_request(
    request: Request, public_id: str, response: Response, _: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    """Submit the approved request's run to the job queue (202; resumes a run that stopped); 200 if answered."""
    services = services_of(request)
    status = jobs.submit(services, public_id)
    if status in jobs.ANSWERED:
        response.status_code = 200
    return {"request": public_id, "status": status, "backend": services.settings.jobs.backend}


@router.post("/requests/{public_id}/retry", status_code=202)
def retry_request(
    request: Request, public_id: str, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    """Retry a failed request after fixing its cause (202): the steps done are kept, the rest is submitted to the
    job queue. The answer says which steps are kept, done again, new and dropped, with the new plan when the data
    map changed it. 409 ``not_failed`` unless the request failed."""
    services = services_of(request)
    reopened = jobs.retry(services, public_id, actor=principal.actor)
    return {
        "request": public_id,
        "status": Status.IN_PROGRESS.value,
        "backend": services.settings.jobs.backend,
        "retry": reopened.as_dict(),
    }


@router.post("/requests/{public_id}/give-up")
def give_up(
    request: Request, public_id: str, body: ReasonIn, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    """Close a failed request as not carried out; the requester is e-mailed ``reason``. 409 unless it failed."""
    services = services_of(request)
    with services.database.session() as session:
        retry.give_up(session, review.get(session, public_id), reason=body.reason, actor=principal.actor)
    deliver(services)
    return _document(services, public_id)


@router.get("/requests/{public_id}/certificate")
def certificate(request: Request, public_id: str, _: Principal = requires(Permission.REQUESTS_READ)) -> dict[str, Any]:
    """The certificate of a completed deletion (404 before)."""
    return certificate_of(services_of(request).database, public_id)


def _decided(services: Services, public_id: str) -> dict[str, object]:
    deliver(services)
    with services.database.session() as session:
        return queue.document(session, review.get(session, public_id), vault=services.vault)


@router.post("/requests/{public_id}/approve")
def approve(
    request: Request, public_id: str, body: ApproveIn, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    services = services_of(request)
    with services.database.session() as session:
        row = review.get(session, public_id)
        review.approve(
            session,
            row,
            actor=principal.actor,
            vault=services.vault,
            identity_checked=body.identity_checked,
            identities_checked=body.identities_checked,
        )
        kind = row.kind
    decided = _decided(services, public_id)
    jobs.after_approval(services, public_id, kind)  # CHARTER_EXECUTION_AUTORUN
    return decided


@router.post("/requests/{public_id}/deny")
def deny(
    request: Request, public_id: str, body: DenyIn, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    services = services_of(request)
    with services.database.session() as session:
        review.deny(session, review.get(session, public_id), reason=body.reason, note=body.note, actor=principal.actor)
    return _decided(services, public_id)


@router.post("/requests/{public_id}/extend")
def extend(
    request: Request, public_id: str, body: ReasonIn, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    services = services_of(request)
    with services.database.session() as session:
        review.extend(
            session,
            review.get(session, public_id),
            reason=body.reason,
            actor=principal.actor,
            settings=services.settings.requests,
        )
    return _decided(services, public_id)


@router.post("/requests/{public_id}/ask-verification")
def ask_verification(
    request: Request, public_id: str, body: MessageIn, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    services = services_of(request)
    with services.database.session() as session:
        review.ask_verification(session, review.get(session, public_id), message=body.message, actor=principal.actor)
    return _decided(services, public_id)


@router.get("/holds")
def list_holds(
    request: Request, all_: bool = Query(False, alias="all"), _: Principal = requires(Permission.REQUESTS_READ)
) -> dict[str, object]:
    with services_of(request).database.session() as session:
        return {"holds": [queue.hold_dict(session, h) for h in holds.listed(session, active_only=not all_)]}


@router.post("/holds", status_code=201)
def place_hold(
    request: Request, body: HoldIn, principal: Principal = requires(Permission.HOLDS_MANAGE)
) -> dict[str, object]:
    """Hold one person's records (by public id or identity) or one system's, with a reason (P-RET-3)."""
    services = services_of(request)
    named = sum(x is not None for x in (body.person, body.identity, body.system))
    if named != 1:
        raise InvalidInput("name one person (person or identity) or one system")
    with services.database.session() as session:
        person = None
        if body.person is not None:
            person = subjects.by_public_id(session, body.person)
            if person is None:
                raise InvalidInput("no person has this public id")
        elif body.identity is not None:
            person = subjects.resolve(
                session, body.identity.kind, body.identity.value, vault=services.vault, create=True
            )
        hold = holds.place(session, reason=body.reason, actor=principal.actor, person=person, system=body.system)
        return queue.hold_dict(session, hold)


@router.delete("/holds/{public_id}")
def release_hold(
    request: Request,
    public_id: str,
    reason: str = Query(min_length=1, max_length=2_000, description="Why the matter is closed."),
    principal: Principal = requires(Permission.HOLDS_MANAGE),
) -> dict[str, object]:
    with services_of(request).database.session() as session:
        return queue.hold_dict(session, holds.release(session, public_id, reason=reason, actor=principal.actor))
