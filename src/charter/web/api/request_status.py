"""A request made without an e-mail address, followed by its status secret (issue 11, P-RGT-7).

* ``POST /api/v1/requests/status`` ``{"secret"}`` — where it stands: type,
  dates, state, what the office told the requester (a refusal's ground, what
  more is needed), whether facts may still be sent and whether a copy waits.
* ``POST /api/v1/requests/status/facts`` ``{"secret", "facts"}`` — facts held
  again (while attempts remain); the one neutral answer whatever the outcome.
* ``POST /api/v1/requests/status/copy`` ``{"secret"}`` — a completed access or
  portability request's copy: a one-time download link (409 ``no_copy`` else).

The secret goes in the body, never the URL. Public, rate-limited per client
address (bucket ``requests-secret``): a wrong secret spends only the sender's
budget and locks nothing; every wrong, unknown or expired one is the same 404.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from charter.db.base import utcnow
from charter.delivery import links, push
from charter.delivery import service as delivery
from charter.errors import NotFound
from charter.execution.facts_lookup import check_against_stores
from charter.requests import factcheck, facts, identity_start, notices, status_secret
from charter.requests.kinds import DENIAL_TEXT, DenialReason, RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestNotice
from charter.services import Services
from charter.web.security import public, services_of

router = APIRouter()
SECRET = public("requests-secret", per_minute=30)
UNKNOWN = "no request has this status secret; copy the whole secret you were given when you made the request"


class SecretIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    secret: str = Field(min_length=1, max_length=100, description="The status secret shown once at submission.")


class SecretFactsIn(SecretIn):
    facts: dict[str, str] = Field(default_factory=dict, max_length=len(facts.KINDS))


def link(services: Services, secret: str) -> str:
    return status_secret.status_url(services.settings.base_url, secret)


def _opened(services: Services, secret: str) -> str:
    public_id = status_secret.opened(services.database, secret)
    if public_id is None:
        raise NotFound(UNKNOWN)
    return public_id


def _told(row: PrivacyRequest, note: str | None) -> list[str]:
    status = Status(row.status)
    if status == Status.DENIED and row.decision_reason:
        return [t for t in (DENIAL_TEXT[DenialReason(row.decision_reason)], row.decision_note) if t]
    return [note] if note else []


@router.post("/requests/status", dependencies=[SECRET])
def status(body: SecretIn, request: Request) -> dict[str, Any]:
    """Where the request stands, for the holder of its status secret."""
    services = services_of(request)
    public_id = _opened(services, body.secret)
    with services.database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id))
        assert row is not None
        wanted = {Status.NEEDS_MORE_VERIFICATION: notices.MORE_VERIFICATION, Status.GIVEN_UP: notices.FAILED}
        note = None
        if Status(row.status) in wanted:
            note = session.scalar(
                select(RequestNotice.note)
                .where(RequestNotice.request_id == row.id, RequestNotice.kind == wanted[Status(row.status)])
                .order_by(RequestNotice.id.desc())
                .limit(1)
            )
        state = factcheck.state_of(session, row)
        shown = Status.IN_PROGRESS if row.status == Status.FAILED.value else Status(row.status)
        return {
            "id": row.public_id,
            "type": RequestKind(row.kind).value,
            "status": shown.value,
            "received_at": row.received_at.isoformat(),
            "due_at": row.due_at.isoformat(),
            "identity_kind": row.identity_kind,
            "nothing_found": shown == Status.COMPLETED and notices.nothing_found(session, row),
            "told": _told(row, note),
            "facts_may_be_sent": factcheck.may_send(state, row, services.settings.requests),
            "copy": delivery.offer(session, row, vault=services.vault) is not None,
        }


@router.post("/requests/status/facts", dependencies=[SECRET])
def send_facts(body: SecretFactsIn, request: Request) -> dict[str, str]:
    """Facts held, sent again; the same answer whatever the outcome (and whatever the stores hold)."""
    services = services_of(request)
    cleaned = facts.strictly_cleaned(body.facts)
    public_id = _opened(services, body.secret)
    if cleaned:
        check_against_stores(services, public_id, cleaned)
    return {"id": public_id, "message": factcheck.NEUTRAL}


@router.post("/requests/status/copy", dependencies=[SECRET])
def copy(body: SecretIn, request: Request) -> dict[str, object]:
    """The one-time download link of a completed access or portability request (409 ``no_copy`` before)."""
    services = services_of(request)
    with services.database.session() as session:
        row = status_secret.find(session, body.secret, now=utcnow())
        if row is None or not identity_start.without_email(row):
            raise NotFound(UNKNOWN)
        given = delivery.release(session, row, vault=services.vault, settings=services.settings, now=utcnow())
    if isinstance(given, links.Issued):
        return {"download_url": given.url, "expires_at": given.expires_at.isoformat(), "uses": 1}
    outcome = push.send(services.database, given.delivery, vault=services.vault, settings=services.settings)
    push.require_sent(outcome)
    return {"delivery": outcome.as_dict(), "recipient": given.host}
