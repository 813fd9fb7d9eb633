"""The status page for the verified requester, and the way back to it with a new code: step 4."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from charter.delivery import service as delivery
from charter.errors import CharterError, NotFound, RateLimited, Unavailable
from charter.requests import identity_start, notices, review, status_access
from charter.requests.kinds import CLOSED, DENIAL_TEXT, DenialReason, RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestNotice
from charter.services import Services
from charter.web.pages import preference_tokens as tokens
from charter.web.pages.privacy_requests import facts_form
from charter.web.pages.privacy_requests.common import (
    BASE,
    MAX_TEXT,
    PAGES,
    REQUEST_ID,
    SCOPE,
    SEND,
    VERIFY,
    error_page,
    forbidden_page,
    opened,
    page,
    redeem_form,
)
from charter.web.security import services_of
from charter.web.templating import sentence

router = APIRouter(include_in_schema=False)

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
    # (a completed request whose search found nothing says NOTHING_FOUND_TEXT instead)
    # a failed run is the office's to retry or give up on: to the requester it is still being carried out
    Status.FAILED: "We are carrying out your request now.",
    Status.GIVEN_UP: "We could not complete your request. We e-mailed you the reason.",
    Status.EXPIRED: "The request was never confirmed with the code we e-mailed, so it expired. Make it again "
    "if you still want it.",
}


# a request made without an e-mail address (issue 11): nothing is e-mailed, so the page says it all
NO_EMAIL_TEXT: dict[Status, str] = {
    Status.VERIFYING: "We are comparing what you told us with what we already hold.",
    Status.APPROVED: "Your request was approved. We are carrying it out; come back to this page to see when it "
    "is done.",
    Status.DENIED: "We could not do what you asked, for the reason below.",
    Status.NEEDS_MORE_VERIFICATION: "We need a little more information to be sure the request is yours. What we "
    "need is below; please add it.",
    Status.GIVEN_UP: "We could not complete your request, for the reason below.",
}


def _no_email_context(session: Session, row: PrivacyRequest) -> dict[str, Any]:
    """What an e-mail would have said: the ground of a refusal, what more is needed, why it could not be done."""
    status = Status(row.status)
    told: list[str] = []
    if status == Status.DENIED and row.decision_reason:
        told = [DENIAL_TEXT[DenialReason(row.decision_reason)], row.decision_note or ""]
    elif status in (Status.NEEDS_MORE_VERIFICATION, Status.GIVEN_UP):
        wanted = notices.MORE_VERIFICATION if status == Status.NEEDS_MORE_VERIFICATION else notices.FAILED
        note = session.scalar(
            select(RequestNotice.note)
            .where(RequestNotice.request_id == row.id, RequestNotice.kind == wanted)
            .order_by(RequestNotice.id.desc())
            .limit(1)
        )
        told = [note or ""]
    return {"no_email": True, "told": [t for t in told if t]}


NOTHING_FOUND_TEXT = (
    "We searched every system in which we keep personal information and found none about you under the "
    "details you gave. There was nothing to act on. If you used another e-mail address or phone number with us, "
    "you may ask again with it."
)


# -- the status page ------------------------------------------------------------------


def _verified(request: Request, services: Services, public_id: str) -> bool:
    """True when the browser holds a genuine, unexpired cookie for this very request."""
    held = tokens.read_session(services, request.cookies.get(SCOPE.session_cookie), scope=SCOPE)
    return held is not None and REQUEST_ID.fullmatch(public_id) is not None and held == public_id


def _not_yours(request: Request, public_id: str) -> Response:
    """401, with a button that mails a new code to the request's own address (when the id is well formed)."""
    if not REQUEST_ID.fullmatch(public_id):
        return error_page(request, 404, "No such request", "Check the link in our e-mail about the request.")
    return page(request, "requests/reopen.html", status_code=401, request_id=public_id)


@router.post(BASE + "/{public_id}/code", dependencies=[SEND])
def reopen_code(request: Request, public_id: str, csrf_token: str = Form("")) -> Response:
    """Mail a code to the address the request was made for; the same answer for any well-formed id."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return forbidden_page(request)
    if not REQUEST_ID.fullmatch(public_id):
        return _not_yours(request, public_id)
    try:
        challenge = status_access.send_code(
            services.database, services.mailer, public_id, vault=services.vault, settings=services.settings
        )
    except RateLimited as exc:
        return error_page(request, 429, "Too many codes", sentence(exc.detail))
    except Unavailable:
        return error_page(request, 503, "We could not send the e-mail", "Please try again in a few minutes.")
    return RedirectResponse(f"{BASE}/{public_id}/code?challenge={challenge}", status_code=303)


@router.get(BASE + "/{public_id}/code", dependencies=[PAGES])
def reopen_form(request: Request, public_id: str, challenge: str = Query("", max_length=64)) -> Response:
    if not (REQUEST_ID.fullmatch(public_id) and REQUEST_ID.fullmatch(challenge)):
        return _not_yours(request, public_id)
    return _reopen_code_page(request, public_id, challenge)


def _reopen_code_page(request: Request, public_id: str, challenge: str, **extra: Any) -> Response:
    status_code = extra.pop("status_code", 200)
    return page(
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
    reopened = redeem_form(
        request,
        public_id,
        challenge,
        code,
        csrf_token,
        redeem=lambda services, public_id, challenge, code: status_access.redeem(
            services.database, public_id, challenge, code, vault=services.vault, settings=services.settings
        ),
        retry=_reopen_code_page,
    )
    if isinstance(reopened, Response):
        return reopened
    services = services_of(request)
    return opened(services, reopened)


def _status_page(
    request: Request, services: Services, row: PrivacyRequest, *, status_code: int = 200, **extra: Any
) -> Response:
    status = Status(row.status)
    # -- delivery: "Get my copy" for a completed access/portability request (charter.delivery) --
    with services.database.session() as session:
        nothing = status == Status.COMPLETED and notices.nothing_found(session, row)
        extra.setdefault("copy", None if nothing else delivery.offer(session, row, vault=services.vault))
    # -- end delivery --
    # -- facts matching: the facts form of a high-risk request (P-RGT-7; charter.requests.factcheck) --
    with services.database.session() as session:
        for key, value in facts_form.context(services, session, row).items():
            extra.setdefault(key, value)
    # -- end facts matching --
    no_email = identity_start.without_email(row)
    if no_email:
        with services.database.session() as session:
            for key, value in _no_email_context(session, row).items():
                extra.setdefault(key, value)
    texts = {**STATUS_TEXT, **NO_EMAIL_TEXT} if no_email else STATUS_TEXT
    return page(
        request,
        "requests/status.html",
        status_code=status_code,
        row=row,
        label=RequestKind(row.kind).label,
        status=Status.IN_PROGRESS if status == Status.FAILED else status,  # a failed run is the office's to act on
        # issue 11, finding 8: "no record found" is its own outcome, never "complete" as if work was done
        status_text=NOTHING_FOUND_TEXT if nothing else texts[status],
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
        return _status_page(
            request,
            services,
            row,
            added=request.query_params.get("added") == "1",
            facts_thanks=request.query_params.get("facts") == "1",  # facts matching: the one neutral answer
        )


@router.post(BASE + "/{public_id}/information", dependencies=[PAGES])
def add_information(
    request: Request, public_id: str, information: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """The requester adds what the privacy office asked for (P-RGT-7); the request goes back to review."""
    services = services_of(request)
    if not _verified(request, services, public_id):
        return _not_yours(request, public_id)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return forbidden_page(request)
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
            return _status_page(request, services, row, status_code=exc.status, error=sentence(exc.detail))
    return RedirectResponse(f"{BASE}/{public_id}?added=1", status_code=303)
