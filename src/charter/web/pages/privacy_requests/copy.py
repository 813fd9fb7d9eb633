"""Giving the person their copy from the privacy center: step 5 (P-RGT-1, P-RGT-5, P-RGT-7).

1. ``POST /privacy/requests/{id}/copy/code`` — the "Get my copy" button of the
   status page (and of the e-mail's page): a fresh code to the request's own
   address; the same answer for any well-formed id (no enumeration).
2. ``GET /privacy/requests/{id}/copy?challenge=…`` — where to type it.
3. ``POST /privacy/requests/{id}/copy`` — the right code gives a page with the
   one-time download link (never e-mailed: the code was the proof, and a
   link in a mailbox is one more place it could leak), or sends the copy to
   the third party the person named and says how that went.
4. ``GET /privacy/requests/download?token=…`` — the link: the zip once, as an
   attachment, never cached; used, replaced or expired links answer 410 with
   what to do, an unknown one 404 (a page for browsers, problem+json else).

The code is asked for again even when the browser holds the status page's
cookie: handing over everything held about a person deserves a fresh proof.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from charter.delivery import links, push
from charter.delivery import service as delivery
from charter.errors import RateLimited, Unavailable
from charter.services import Services
from charter.web.downloads import attachment
from charter.web.pages import preference_tokens as tokens
from charter.web.pages.privacy_requests.common import (
    BASE,
    PAGES,
    REQUEST_ID,
    SCOPE,
    SEND,
    VERIFY,
    error_page,
    forbidden_page,
    page,
    redeem_form,
)
from charter.web.security import public, services_of
from charter.web.templating import sentence

router = APIRouter(include_in_schema=False)
DOWNLOAD = public("requests-download", per_minute=30)
MAX_TOKEN = 200


def _no_such(request: Request) -> Response:
    return error_page(request, 404, "No such request", "Check the link in our e-mail about the request.")


@router.get(links.PATH, dependencies=[DOWNLOAD])
def download(request: Request, token: str = Query("", max_length=MAX_TOKEN)) -> Response:
    """The package, once (the link is spent in the transaction that checks it)."""
    services = services_of(request)
    got = links.use(services.database, token, vault=services.vault, home=services.settings.home)
    return attachment(got)


@router.post(BASE + "/{public_id}/copy/code", dependencies=[SEND])
def copy_code(request: Request, public_id: str, csrf_token: str = Form("")) -> Response:
    """Mail a code that releases the copy; the same answer for any well-formed id."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return forbidden_page(request)
    if not REQUEST_ID.fullmatch(public_id):
        return _no_such(request)
    try:
        challenge = delivery.send_code(
            services.database, services.mailer, public_id, vault=services.vault, settings=services.settings
        )
    except RateLimited as exc:
        return error_page(request, 429, "Too many codes", sentence(exc.detail))
    except Unavailable:
        return error_page(request, 503, "We could not send the e-mail", "Please try again in a few minutes.")
    return RedirectResponse(f"{BASE}/{public_id}/copy?challenge={challenge}", status_code=303)


@router.get(BASE + "/{public_id}/copy", dependencies=[PAGES])
def copy_form(request: Request, public_id: str, challenge: str = Query("", max_length=64)) -> Response:
    if not (REQUEST_ID.fullmatch(public_id) and REQUEST_ID.fullmatch(challenge)):
        return _no_such(request)
    return _code_page(request, public_id, challenge)


def _code_page(request: Request, public_id: str, challenge: str, **extra: Any) -> Response:
    status_code = extra.pop("status_code", 200)
    return page(
        request,
        "requests/copy_code.html",
        status_code=status_code,
        request_id=public_id,
        challenge=challenge,
        minutes=services_of(request).settings.preferences.code_minutes,
        **extra,
    )


@router.post(BASE + "/{public_id}/copy", dependencies=[VERIFY])
def copy(
    request: Request, public_id: str, challenge: str = Form(""), code: str = Form(""), csrf_token: str = Form("")
) -> Response:
    """Redeem the code: the one-time link, or the copy sent to the third party."""
    given = redeem_form(
        request,
        public_id,
        challenge,
        code,
        csrf_token,
        redeem=lambda services, public_id, challenge, code: delivery.redeem(
            services.database, public_id, challenge, code, vault=services.vault, settings=services.settings
        ),
        retry=_code_page,
    )
    if isinstance(given, Response):
        return given
    services = services_of(request)
    return _given(request, services, public_id, given)


def _given(request: Request, services: Services, public_id: str, given: links.Issued | delivery.Confirmed) -> Response:
    if isinstance(given, links.Issued):
        return page(request, "requests/copy.html", request_id=public_id, link=given, hours=_hours(services))
    outcome = push.send(services.database, given.delivery, vault=services.vault, settings=services.settings)
    return page(
        request,
        "requests/copy.html",
        status_code=200 if outcome.status == push.SENT else 502,
        request_id=public_id,
        sent=outcome,
        host=given.host,
    )


def _hours(services: Services) -> int:
    return services.settings.requests.download_hours
