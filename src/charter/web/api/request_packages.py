"""The copy of an access/portability request over HTTP (P-RGT-1, P-RGT-5, P-RGT-7).

Public (rate-limited, the same buckets as the other public request routes):

* ``POST /api/v1/requests/{id}/copy/code`` — mail a fresh code to the
  request's own address; 202 with a challenge id whether or not the request
  exists or has a copy (no enumeration).
* ``POST /api/v1/requests/{id}/copy`` ``{challenge, code}`` — the right code
  gives ``{download_url, expires_at}`` (a one-time link,
  ``GET /privacy/requests/download?token=…``) or, for a portability request
  to a third party, sends it there and answers the delivery's outcome
  (``502`` problem when it failed).

Staff:

* ``GET /api/v1/requests/{id}/package`` (``requests:decide``) — the zip, as
  proof of what was disclosed; checked against the run's SHA-256 and
  audited. ``requests:decide`` rather than ``requests:read``: the zip holds
  the person's data, and analysts and auditors read the queue without it.
* ``POST /api/v1/requests/{id}/copy/push`` (``requests:decide``) — send a
  portability copy whose delivery failed once more (audited).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.delivery import links, push
from charter.delivery import service as delivery
from charter.web.downloads import attachment
from charter.web.security import public, requires, services_of

router = APIRouter()
SEND = public("requests-submit", per_minute=10)
VERIFY = public("requests-verify", per_minute=30)
CHECK_EMAIL = (
    "If this request has a copy ready, we have sent a code to the address it was made for. Send it to "
    "POST /api/v1/requests/{id}/copy with this challenge."
)


class CodeOut(BaseModel):
    challenge: str
    message: str = CHECK_EMAIL


class CopyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    challenge: str = Field(min_length=1, max_length=64)
    code: str = Field(min_length=1, max_length=20)


@router.post("/requests/{public_id}/copy/code", status_code=202, response_model=CodeOut, dependencies=[SEND])
def copy_code(request: Request, public_id: str) -> CodeOut:
    """Mail a code that releases the copy; the same answer for any id."""
    services = services_of(request)
    challenge = delivery.send_code(
        services.database, services.mailer, public_id[:32], vault=services.vault, settings=services.settings
    )
    return CodeOut(challenge=challenge)


@router.post("/requests/{public_id}/copy", dependencies=[VERIFY])
def copy(request: Request, public_id: str, body: CopyIn) -> dict[str, object]:
    """Redeem the code: a one-time download link, or the copy sent to the named third party."""
    services = services_of(request)
    given = delivery.redeem(
        services.database, public_id[:32], body.challenge, body.code, vault=services.vault, settings=services.settings
    )
    if isinstance(given, links.Issued):
        return {"download_url": given.url, "expires_at": given.expires_at.isoformat(), "uses": 1}
    outcome = push.send(services.database, given.delivery, vault=services.vault, settings=services.settings)
    push.require_sent(outcome)
    return {"delivery": outcome.as_dict(), "recipient": given.host}


@router.post("/requests/{public_id}/copy/push")
def push_again(
    request: Request, public_id: str, principal: Principal = requires(Permission.REQUESTS_DECIDE)
) -> dict[str, object]:
    """Send a portability copy whose delivery failed to its third party once more; the outcome (502 if it
    failed again, 409 when there is no failed delivery or the copy was deleted)."""
    services = services_of(request)
    delivery_id = push.retry(services.database, public_id, actor=principal.actor, via="api")
    outcome = push.send(services.database, delivery_id, vault=services.vault, settings=services.settings)
    push.require_sent(outcome)
    return {"delivery": outcome.as_dict()}


@router.get("/requests/{public_id}/package")
def package(request: Request, public_id: str, principal: Principal = requires(Permission.REQUESTS_DECIDE)) -> Response:
    """The package of a completed access/portability request (zip), checked and audited."""
    services = services_of(request)
    got = delivery.staff_copy(
        services.database,
        public_id,
        vault=services.vault,
        settings=services.settings,
        actor=principal.actor,
        via="api",
    )
    return attachment(got)
