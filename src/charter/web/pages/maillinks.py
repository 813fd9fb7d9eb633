"""Public mail-link routes: RFC 8058 one-click unsubscribe and the open pixel (P-TRK-3, P-TRK-2).

* ``POST /u/{token}`` unsubscribes (body ``List-Unsubscribe=One-Click``, as a
  mailbox provider sends it, or the confirmation page's button). No cookie is
  read or set, nothing redirects; the answer is a short text, or a page for a
  browser. A replay is 409, an expired link 410, anything else 404 — as
  problem+json, or as a page when the caller accepts HTML.
* ``GET /u/{token}`` only shows a page with a button: link scanners and
  previews fetch every GET, so a GET must never unsubscribe.
* ``GET /o/{token}.gif`` is the open pixel: always the same transparent GIF,
  never cached, whatever the token or the database; see
  :func:`open_pixel` for why it has its own limiter.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from starlette.concurrency import run_in_threadpool

from charter.db import utcnow
from charter.errors import CharterError, InvalidInput, Unavailable
from charter.maillinks.errors import LinkAlreadyUsed, LinkExpired, LinkNotFound
from charter.maillinks.service import LIST_UNSUBSCRIBE_POST, MailLinks, OpenOutcome
from charter.web.security import ACCESS, client_address, limiter_for, public, services_of
from charter.web.signals import attached, signals_of
from charter.web.templating import render

log = logging.getLogger("charter.web.maillinks")
router = APIRouter(include_in_schema=False)

# Generous: one-click posts come from a few mailbox providers' servers on behalf of many
# people, and a refused unsubscribe is worse than a busy server. Tokens are 256 random bits,
# so the limit is about load, not guessing.
PUBLIC = public("mail-links", per_minute=600)
PIXEL_BUCKET = "mail-opens"
PIXEL_PER_MINUTE = 1200

#: A 1x1 transparent GIF (43 bytes), the same for every answer of the pixel route.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==")
PIXEL_HEADERS = {
    "Cache-Control": "no-store, no-cache, must-revalidate, max-age=0, private",
    "Pragma": "no-cache",
    "Expires": "0",
}
PAGE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}
REFUSALS = (LinkNotFound, LinkAlreadyUsed, LinkExpired)
_FORMS = ("application/x-www-form-urlencoded", "multipart/form-data")


def mail_links_of(request: Request) -> MailLinks:
    """The app's :class:`MailLinks`, built from the settings on first use and kept on the app."""
    found: MailLinks | None = getattr(request.app.state, "mail_links", None)
    if found is None:
        found = request.app.state.mail_links = MailLinks.from_settings(services_of(request).settings)
    return found


def _wants_html(request: Request) -> bool:
    return "text/html" in request.headers.get("accept", "")


def _refused(request: Request, exc: CharterError) -> HTMLResponse:
    response = render(request, "maillinks/refused.html", status_code=exc.status, title=exc.title, detail=exc.detail)
    response.headers.update(PAGE_HEADERS)
    return response


async def _check_body(request: Request) -> None:
    """RFC 8058's body, if a form was sent; a POST without one is still an unsubscribe."""
    if not request.headers.get("content-type", "").startswith(_FORMS):
        return
    form = await request.form(max_files=0, max_fields=20)
    value = form.get("List-Unsubscribe")
    if value is not None and value != "One-Click":
        raise InvalidInput(f"the body of a one-click unsubscribe is {LIST_UNSUBSCRIBE_POST} (RFC 8058)")


@router.post("/u/{token}", dependencies=[PUBLIC])
async def one_click(request: Request, token: str) -> Response:
    """Unsubscribe (RFC 8058 one-click): records ``email.unsubscribed`` once per link (P-TRK-3)."""
    await _check_body(request)
    signals = signals_of(request, varies=False)
    links = mail_links_of(request)
    database = services_of(request).database

    def unsubscribe() -> None:
        with database.session() as session:
            links.unsubscribe(session, token, at=utcnow(), signals=signals)

    try:
        await run_in_threadpool(unsubscribe)
    except REFUSALS as exc:
        if _wants_html(request):
            return _refused(request, exc)
        raise
    attached(request)  # the signals, if any, went to this person's ledger
    if _wants_html(request):
        response = render(request, "maillinks/done.html")
        response.headers.update(PAGE_HEADERS)
        return response
    return PlainTextResponse(
        "You are unsubscribed: no more marketing e-mail, no more open tracking.\n", headers=PAGE_HEADERS
    )


@router.get("/u/{token}", dependencies=[PUBLIC])
def confirm(request: Request, token: str) -> HTMLResponse:
    """The page behind the footer link: a button that posts the one-click form. Changes nothing."""
    now = utcnow()
    try:
        with services_of(request).database.session() as session:
            status = mail_links_of(request).status(session, token, at=now)
    except LinkNotFound as exc:
        return _refused(request, exc)
    if status.used_at is not None:
        return _refused(request, LinkAlreadyUsed(status.used_at))
    if status.expires_at <= now:
        return _refused(request, LinkExpired(status.expires_at))
    response = render(request, "maillinks/confirm.html", token=token, list_name=status.list_name)
    response.headers.update(PAGE_HEADERS)
    return response


def _pixel_access() -> Any:
    """A public route whose limit never shows: over it, the pixel is served and nothing is recorded.

    ``public()`` answers 429 over the limit. A pixel must answer nothing but
    the GIF (a 429 would be a broken image in someone's inbox, and image
    proxies fetch for many people from one address), so it gets this
    dependency, declared public the same way.
    """

    async def dependency(request: Request) -> bool:
        return limiter_for(request, PIXEL_BUCKET, PIXEL_PER_MINUTE).allow(PIXEL_BUCKET, client_address(request))

    setattr(dependency, ACCESS, "public")
    return Depends(dependency)


@router.get("/o/{token}.gif")
def open_pixel(request: Request, token: str, within_limit: bool = _pixel_access()) -> Response:
    """The open pixel: records an open if P-TRK-3 and P-TRK-2 allow; the answer never says whether it did."""
    if within_limit:
        try:
            with services_of(request).database.session() as session:
                outcome = mail_links_of(request).record_open(
                    session, token, at=utcnow(), signals=signals_of(request, varies=False)
                )
            if outcome is not OpenOutcome.UNKNOWN:
                attached(request)
        except Unavailable as exc:
            log.error("mail open not recorded: %s", exc.detail)
        except CharterError as exc:
            log.warning("mail open not recorded: %s (%s)", exc.code, exc.detail)
        except Exception:  # the pixel never fails; the bug goes to the log with its trace
            log.exception("mail open not recorded: unexpected error")
    return Response(PIXEL, media_type="image/gif", headers=PIXEL_HEADERS)
