"""Following a request made without an e-mail address: its status link (issue 11, P-RGT-7).

* ``GET /privacy/requests/open?token=…`` — the link shown once at submission:
  sets the status page's cookie for that one request and redirects there (the
  secret leaves the address bar at once; the access log redacts ``token=``).
* ``POST /privacy/requests/open`` — the same with the secret pasted in a form.
* ``POST /privacy/requests/{id}/copy/secret`` — "Get my copy" for such a request:
  the secret is typed again (a fresh proof, as the e-mailed code is for others).

Public, rate-limited per client address (bucket ``requests-secret``): a wrong
secret spends only the sender's budget and locks no request. Every wrong,
unknown or expired secret gets the same 404 page.
"""

from __future__ import annotations

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from charter.db.base import utcnow
from charter.delivery import service as delivery
from charter.delivery.errors import NoCopy
from charter.requests import status_secret
from charter.web.pages import preference_tokens as tokens
from charter.web.pages.privacy_requests.common import BASE, REQUEST_ID, SCOPE, forbidden_page, opened, page
from charter.web.pages.privacy_requests.copy import _given
from charter.web.security import public, services_of

router = APIRouter(include_in_schema=False)
SECRET = public("requests-secret", per_minute=30)
MAX_SECRET = 100


def _unknown(request: Request, *, status_code: int = 404) -> Response:
    return page(request, "requests/open.html", status_code=status_code, unknown=status_code == 404)


def _open(request: Request, secret: str) -> Response:
    services = services_of(request)
    public_id = status_secret.opened(services.database, secret[:MAX_SECRET])
    if public_id is None:
        return _unknown(request)
    return opened(services, public_id)


@router.get(BASE + "/open", dependencies=[SECRET])
def open_link(request: Request, token: str = Query("", max_length=MAX_SECRET)) -> Response:
    """The status link: the request's page, or the form to paste the link again."""
    if not token:
        return _unknown(request, status_code=200)
    return _open(request, token)


@router.post(BASE + "/open", dependencies=[SECRET])
def open_form(request: Request, secret: str = Form(""), csrf_token: str = Form("")) -> Response:
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return forbidden_page(request)
    secret = secret.strip()
    if "token=" in secret:  # the whole link pasted
        secret = secret.split("token=", 1)[1].split("&", 1)[0]
    return _open(request, secret)


@router.post(BASE + "/{public_id}/copy/secret", dependencies=[SECRET])
def copy_by_secret(request: Request, public_id: str, secret: str = Form(""), csrf_token: str = Form("")) -> Response:
    """The copy of a request made without e-mail: the status secret again, then the one-time link."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return forbidden_page(request)
    if not REQUEST_ID.fullmatch(public_id):
        return _unknown(request)
    with services.database.session() as session:
        row = status_secret.find(session, secret.strip()[:MAX_SECRET], now=utcnow())
        if row is None or row.public_id != public_id:
            return _unknown(request)
        try:
            given = delivery.release(session, row, vault=services.vault, settings=services.settings, now=utcnow())
        except NoCopy:
            return _unknown(request)
    return _given(request, services, public_id, given)
