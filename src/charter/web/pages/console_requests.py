"""The privacy office's console pages for requests and legal holds (P-RGT-1..8, P-RET-2, P-RET-3).

* ``GET /console/requests`` (``requests:read``): the queue by due date, with
  filters as a GET form; overdue requests carry a text marker, not only colour.
* ``GET /console/requests/{id}``: the request, the requester's identity
  masked, the holds that apply, the timeline from the audit log, and the
  decision forms for those who may decide.
* ``POST /console/requests/{id}/approve|deny|extend|ask-verification|retry|give-up``
  (``requests:decide``), ``POST /console/holds`` and
  ``POST /console/holds/{id}/release`` (``holds:manage``): forms with the
  session's CSRF token (checked by :func:`~charter.web.security.requires`);
  each calls the domain function that audits it and queues the e-mail, then
  sends the e-mails after the commit.

Refusals (a legal hold, a ground not allowed, an illegal transition) come
back as the same page with the reason and the domain error's 4xx status.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse
from starlette.responses import RedirectResponse, Response

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import CharterError, InvalidInput
from charter.execution import jobs, retry
from charter.execution import service as planning
from charter.execution.steps import Action, Plan
from charter.requests import factcheck, holds, identity_start, notices, queue, review, terms
from charter.requests.details import PARENT
from charter.requests.kinds import CLOSED, DENIAL_TEXT, RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of, identity_of
from charter.services import Services
from charter.subjects import service as subjects
from charter.subjects.normalize import mask
from charter.web.pages import console_certificate as certificates
from charter.web.security import requires, services_of
from charter.web.templating import render

router = APIRouter(include_in_schema=False)
router.include_router(certificates.router)  # GET /console/requests/{id}/certificate (issue 4)
MAX_TEXT = 2_000
DONE = {
    "approved": "The request was approved; the requester is being told.",
    "denied": "The request was denied; the requester receives the ground and your note.",
    "extended": "The deadline was extended; the requester receives the reason.",
    "asked": "The requester was asked for more information.",
    "given_up": "The request was closed as not carried out; the requester receives your reason.",
}
#: a request made without e-mail is told nothing: the requester reads it on the status page (identity_start)
DONE_WITHOUT_EMAIL = {
    "approved": "The request was approved. It was made without e-mail: the requester sees it on their status page.",
    "denied": "The request was denied. The requester reads the ground and your note on their status page.",
    "extended": "The deadline was extended. The requester reads the reason on their status page.",
    "asked": "The request now asks for more information on the requester's status page (no e-mail was given).",
    "given_up": "The request was closed as not carried out. The requester reads your reason on their status page.",
}


def mask_email(address: str) -> str:
    """``ana@example.org`` → ``a***@e***.org``: enough to tell requests apart, not to read the address."""
    local, _, domain = address.partition("@")
    name, dot, tld = domain.rpartition(".")
    masked_domain = f"{name[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
    return f"{local[:1]}***@{masked_domain}"


def _forms(session: Any, row: PrivacyRequest) -> dict[str, Any]:
    """What the decision forms offer for this request under the statement it was received under."""
    status = Status(row.status)
    kind = RequestKind(row.kind)
    try:
        statement = review.statement_of(session, row)
        grounds = terms.allowed_denials(statement, kind)
        extension = terms.terms_for(statement, row.jurisdiction, kind).extension
    except CharterError:  # the statement was removed: no grounds can be checked
        grounds, extension = [], None
    return {
        "can_approve": status == Status.IN_REVIEW,
        "can_deny": status in {Status.VERIFIED, Status.IN_REVIEW, Status.NEEDS_MORE_VERIFICATION},
        "can_ask": status == Status.IN_REVIEW,
        "can_extend": status not in CLOSED and row.extended_at is None and extension is not None,
        "can_retry": status == Status.FAILED,  # issue 11: retry after fixing the cause, or give up with a reason
        "extension": extension,
        # P-RGT-7: unless facts held matched; a request made without e-mail always (identity_start)
        "unmatched": (unmatched := factcheck.needs_confirmation(session, row)),
        "strong": unmatched or identity_start.without_email(row),
        "grounds": [(ground, DENIAL_TEXT[ground]) for ground in grounds],
    }


#: a deletion still to be carried out: the office sees what it will do before deciding, and while it runs
_PLANNED = {Status.VERIFIED, Status.IN_REVIEW, Status.NEEDS_MORE_VERIFICATION, Status.APPROVED, Status.IN_PROGRESS}


def _deletion_plan(session: Any, row: PrivacyRequest, services: Services) -> tuple[Plan | None, str | None]:
    """What a deletion will do in each store, per field and why, with the data map as it is now: the plan's
    erase steps (and what it keeps, leaves or does not search). None once answered; an error text if the map
    cannot plan it (the office should know before approving)."""
    if RequestKind(row.kind) != RequestKind.DELETION or Status(row.status) not in _PLANNED or not row.sealed_identity:
        return None, None
    try:
        datamap = planning.load_datamap(services.settings)
        return planning.plan_of(row, datamap, vault=services.vault), None
    except CharterError as exc:
        return None, exc.detail


def _request_page(
    request: Request, public_id: str, principal: Principal, *, status_code: int = 200, **extra: Any
) -> HTMLResponse:
    services = services_of(request)
    with services.database.session() as session:
        row = review.get(session, public_id)
        document = queue.document(session, row, vault=services.vault)
        may_decide = principal.can(Permission.REQUESTS_DECIDE)
        held = details_of(services.vault, row) if may_decide and row.sealed_identity else {}
        given = held.get("more_verification")
        agent = held.get("agent")
        planned, plan_error = _deletion_plan(session, row, services)
        if extra.get("done") in DONE:  # what the requester is told depends on whether there is an address
            said = DONE_WITHOUT_EMAIL if identity_start.without_email(row) else DONE
            extra["done"] = said[extra["done"]]
        return render(
            request,
            "console/request.html",
            status_code=status_code,
            doc=document,
            row=row,
            label=RequestKind(row.kind).label,
            status_label=Status(row.status).label,
            identity=mask(row.identity_kind, identity_of(services.vault, row)) if row.sealed_identity else None,
            more_information=given if isinstance(given, list) else [],
            by_parent=isinstance(agent, dict) and agent.get("relationship") == PARENT,  # P-COL-2
            may_decide=may_decide,
            forms=_forms(session, row),
            facts_level=factcheck.describe(factcheck.state_of(session, row)),  # issue 4: facts matching
            has_certificate=certificates.exists(session, row),  # issue 4: the certificate page
            run=retry.report(session, row),  # issue 11: which steps were done, what they changed, what failed
            erasures=planned.of(Action.ERASE) if planned else [],  # issue 11: per field, what and why
            plan=planned,
            plan_error=plan_error,
            **extra,
        )


def _deliver(services: Services) -> None:
    """Send the e-mails the decision queued; a mail server that is down leaves them pending."""
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)


def _decided(request: Request, public_id: str, done: str) -> Response:
    _deliver(services_of(request))
    return RedirectResponse(f"/console/requests/{public_id}?done={done}", status_code=303)


# -- the queue --------------------------------------------------------------------------


@router.get("/requests")
def request_queue(
    request: Request,
    status: str = Query(queue.OPEN, max_length=32, description="'open' or 'all'."),
    type_: str = Query("", alias="type", max_length=32),
    overdue: str = Query("", max_length=8),
    principal: Principal = requires(Permission.REQUESTS_READ),
) -> HTMLResponse:
    """Requests by due date, soonest first (P-RGT-8); the filters are a GET form."""
    chosen_status = "all" if status == "all" else queue.OPEN
    with services_of(request).database.session() as session:
        try:
            found = queue.listed(
                session,
                status=None if chosen_status == "all" else queue.OPEN,
                kind=type_ or None,
                only_overdue=overdue == "1",
                limit=queue.MAX_PAGE,
            )
        except InvalidInput as exc:
            return render(request, "console/error.html", status_code=exc.status, title=exc.title, detail=exc.detail)
    return render(
        request,
        "console/requests.html",
        requests=found,
        labels={kind.value: kind.label for kind in RequestKind},
        kinds=list(RequestKind),
        status=chosen_status,
        type_=type_,
        overdue=overdue == "1",
    )


@router.get("/requests/{public_id}")
def request_detail(
    request: Request,
    public_id: str,
    done: str = Query("", max_length=16),
    principal: Principal = requires(Permission.REQUESTS_READ),
) -> HTMLResponse:
    """One request: masked identity, deadline, holds, timeline; the decision forms if you may decide."""
    return _request_page(request, public_id, principal, done=done if done in DONE else None)


def _act(request: Request, public_id: str, principal: Principal, done: str, action: Any) -> Response:
    """Run ``action(session, row, services)`` in one transaction; a refusal is the page with its reason."""
    services = services_of(request)
    try:
        with services.database.session() as session:
            action(session, review.get(session, public_id), services)
    except CharterError as exc:
        if exc.status == 404:
            raise
        return _request_page(request, public_id, principal, status_code=exc.status, error=exc.detail)
    return _decided(request, public_id, done)


@router.post("/requests/{public_id}/approve")
def approve(
    request: Request,
    public_id: str,
    identity_checked: str = Form(""),
    identities_checked: str = Form(""),
    principal: Principal = requires(Permission.REQUESTS_DECIDE),
) -> Response:
    """Approve (P-RGT-7: "identity checked" where the statement asks to match facts; P-RET-3: holds refuse)."""

    approved: list[str] = []

    def action(session: Any, row: PrivacyRequest, services: Services) -> None:
        review.approve(
            session,
            row,
            actor=principal.actor,
            vault=services.vault,
            identity_checked=identity_checked == "yes",
            identities_checked=identities_checked == "yes",
        )
        approved.append(row.kind)

    response = _act(request, public_id, principal, "approved", action)
    if approved and response.status_code < 400:  # committed: CHARTER_EXECUTION_AUTORUN may carry it out now
        jobs.after_approval(services_of(request), public_id, approved[0])
    return response


@router.post("/requests/{public_id}/deny")
def deny(
    request: Request,
    public_id: str,
    reason: str = Form("", max_length=64),
    note: str = Form("", max_length=MAX_TEXT),
    principal: Principal = requires(Permission.REQUESTS_DECIDE),
) -> Response:
    """Deny with a ground the statement allows and a note; the requester receives both (P-RGT-3, P-RET-2)."""

    def action(session: Any, row: PrivacyRequest, _services: Services) -> None:
        review.deny(session, row, reason=reason, note=note or None, actor=principal.actor)

    return _act(request, public_id, principal, "denied", action)


@router.post("/requests/{public_id}/extend")
def extend(
    request: Request,
    public_id: str,
    reason: str = Form("", max_length=MAX_TEXT),
    principal: Principal = requires(Permission.REQUESTS_DECIDE),
) -> Response:
    """Extend the deadline once, with a reason the requester receives (P-RGT-8)."""

    def action(session: Any, row: PrivacyRequest, services: Services) -> None:
        review.extend(session, row, reason=reason, actor=principal.actor, settings=services.settings.requests)

    return _act(request, public_id, principal, "extended", action)


@router.post("/requests/{public_id}/ask-verification")
def ask_verification(
    request: Request,
    public_id: str,
    message: str = Form("", max_length=MAX_TEXT),
    principal: Principal = requires(Permission.REQUESTS_DECIDE),
) -> Response:
    """Ask the requester for more proof of identity, saying what is needed (P-RGT-7)."""

    def action(session: Any, row: PrivacyRequest, _services: Services) -> None:
        review.ask_verification(session, row, message=message, actor=principal.actor)

    return _act(request, public_id, principal, "asked", action)


# -- a failed request: retry it or give up (issue 11; charter.execution.retry) ------------------


@router.post("/requests/{public_id}/retry")
def retry_request(
    request: Request, public_id: str, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> Response:
    """Retry the failed run after fixing its cause: the steps done are kept; the page says what is kept, done
    again, new and dropped, and shows the new plan when the data map changed it."""
    try:
        reopened = jobs.retry(services_of(request), public_id, actor=principal.actor)
    except CharterError as exc:
        if exc.status == 404:
            raise
        return _request_page(request, public_id, principal, status_code=exc.status, error=exc.detail)
    done = (
        f"Retried: {len(reopened.kept)} steps kept, {len(reopened.redone)} done again, {len(reopened.remaining)} "
        f"still to do, {len(reopened.new)} new, {len(reopened.dropped)} dropped. The requester is told only when it "
        "completes."
    )
    return _request_page(request, public_id, principal, done=done, reopened=reopened)


@router.post("/requests/{public_id}/give-up")
def give_up(
    request: Request,
    public_id: str,
    reason: str = Form("", max_length=MAX_TEXT),
    principal: Principal = requires(Permission.REQUESTS_DECIDE),
) -> Response:
    """Close the failed request as not carried out, with a reason the requester receives in plain words."""

    def action(session: Any, row: PrivacyRequest, _services: Services) -> None:
        retry.give_up(session, row, reason=reason, actor=principal.actor)

    return _act(request, public_id, principal, "given_up", action)


# -- legal holds ------------------------------------------------------------------------


def _holds_page(request: Request, principal: Principal, *, status_code: int = 200, **extra: Any) -> HTMLResponse:
    show_all = request.query_params.get("all") == "1"
    with services_of(request).database.session() as session:
        found = [queue.hold_dict(session, hold) for hold in holds.listed(session, active_only=not show_all)]
    return render(
        request,
        "console/holds.html",
        status_code=status_code,
        holds=found,
        show_all=show_all,
        may_manage=principal.can(Permission.HOLDS_MANAGE),
        **extra,
    )


@router.get("/holds")
def hold_list(request: Request, principal: Principal = requires(Permission.REQUESTS_READ)) -> HTMLResponse:
    """Legal holds (P-RET-3): active ones, or all with ``?all=1``."""
    return _holds_page(request, principal, done=DONE_HOLDS.get(request.query_params.get("done", "")))


DONE_HOLDS = {"placed": "The legal hold was placed.", "released": "The legal hold was released."}


@router.post("/holds")
def place_hold(
    request: Request,
    target: str = Form("person", max_length=16),
    email: str = Form("", max_length=320),
    system: str = Form("", max_length=80),
    reason: str = Form("", max_length=MAX_TEXT),
    principal: Principal = requires(Permission.HOLDS_MANAGE),
) -> Response:
    """Hold one person's records (by e-mail address) or one system's, with a reason (P-RET-3)."""
    services = services_of(request)
    try:
        with services.database.session() as session:
            if target == "system":
                holds.place(session, reason=reason, actor=principal.actor, system=system.strip())
            else:
                if not email.strip():
                    raise InvalidInput("give the person's e-mail address, or choose a system")
                person = subjects.resolve(session, "email", email, vault=services.vault, create=True)
                holds.place(session, reason=reason, actor=principal.actor, person=person)
    except CharterError as exc:
        return _holds_page(
            request, principal, status_code=exc.status, error=exc.detail, form={"target": target, "system": system}
        )
    return RedirectResponse("/console/holds?done=placed", status_code=303)


@router.post("/holds/{public_id}/release")
def release_hold(
    request: Request,
    public_id: str,
    reason: str = Form("", max_length=MAX_TEXT),
    principal: Principal = requires(Permission.HOLDS_MANAGE),
) -> Response:
    """Release a hold with the reason the matter is closed; audited, never deleted."""
    try:
        with services_of(request).database.session() as session:
            holds.release(session, public_id, reason=reason, actor=principal.actor)
    except CharterError as exc:
        if exc.status == 404:
            raise
        return _holds_page(request, principal, status_code=exc.status, error=exc.detail)
    return RedirectResponse("/console/holds?done=released", status_code=303)
