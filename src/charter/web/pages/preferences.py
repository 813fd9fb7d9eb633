"""The public preference center under ``/privacy/preferences``.

1. ``GET /privacy/preferences`` — the e-mail form (or, once verified, the choices).
2. ``POST /privacy/preferences/code`` — mail a code and link; the same answer
   whether or not anyone holds the address; then ``GET …/code?challenge=ID``.
3. ``POST /privacy/preferences/verify`` — the code (or the link's token,
   confirmed from ``GET …/verify?token=…``) sets the short-lived session cookie.
4. ``POST /privacy/preferences`` — save: only changed choices become ledger
   events, all together or none; the page lists what changed.
5. ``POST /privacy/preferences/signout``.

Every form carries a CSRF token (``preference_tokens``); every route is
public and rate-limited per client address; errors are pages with a 4xx or
503 status, never a stack trace. Promises: P-USE-2, P-USE-5, P-RGT-4,
P-RGT-6, P-RGT-7, P-TRK-2, P-TRK-3, P-COL-4.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Form, Query, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import RedirectResponse, Response

from charter.errors import CharterError, InvalidInput, NotFound, RateLimited, Unavailable
from charter.policy import service as policy
from charter.preferences import service
from charter.preferences.errors import ChallengeError, ChallengeInvalid, StatementChanged, WrongCode
from charter.services import Services
from charter.subjects import service as subjects
from charter.subjects.models import Person
from charter.web.pages import preference_tokens as tokens
from charter.web.security import public, services_of
from charter.web.signals import attached, signals_of
from charter.web.templating import render, sentence

router = APIRouter(include_in_schema=False)
PAGES = public("preferences", per_minute=120)
SEND = public("preferences-send", per_minute=10)
"""Asking for a code sends mail: a tighter limit per client address (and per address: the domain's)."""
VERIFY = public("preferences-verify", per_minute=30)

BASE = "/privacy/preferences"
MAX_EMAIL = 320
MAX_FIELD = 200
_CHALLENGE = re.compile(r"[0-9a-f]{32}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
EMAIL_HELP = "Enter your e-mail address, like name@example.org."


class SessionEnded(CharterError):
    code = "session_ended"
    status = 401
    title = "Your session has ended"


def _page(
    request: Request, name: str, *, status_code: int = 200, binding: str | None = None, **context: Any
) -> Response:
    """A page with a fresh (or the current) CSRF token in its forms and cookie; never cached."""
    services = services_of(request)
    token = tokens.csrf_for(request, services, binding=binding)
    response = render(request, name, status_code=status_code, pc_csrf=token, csrf_field=tokens.CSRF_FIELD, **context)
    tokens.set_csrf(response, services, token)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _problem(request: Request, exc: CharterError, *, restart: bool = True) -> Response:
    return _page(
        request,
        "preferences/error.html",
        status_code=exc.status,
        title=exc.title,
        detail=sentence(exc.detail),
        restart=restart,
    )


def _forbidden(request: Request) -> Response:
    return _page(
        request,
        "preferences/error.html",
        status_code=403,
        title="This form has expired",
        detail="The form was not sent from this page, or it is too old. Go back, reload the page and try again.",
        restart=True,
    )


def _verified_id(request: Request, services: Services) -> str | None:
    """The public id in the visitor's preference session cookie, if genuine and unexpired."""
    return tokens.read_session(services, request.cookies.get(tokens.SESSION_COOKIE))


def _person(session: Session, public_id: str) -> Person:
    person = subjects.by_public_id(session, public_id)
    if person is None:  # erased or never existed: the session is no good
        raise SessionEnded("your session has ended; ask for a new code to continue")
    return person


def _start(
    request: Request,
    *,
    status_code: int = 200,
    error: str | None = None,
    email: str = "",
    notice: str | None = None,
    binding: str | None = None,
) -> Response:
    return _page(
        request,
        "preferences/start.html",
        status_code=status_code,
        binding=binding,
        error=error,
        email=email[:MAX_EMAIL],
        notice=notice,
    )


# -- routes ------------------------------------------------------------------------


@router.get(BASE, dependencies=[PAGES])
def preferences_page(request: Request) -> Response:
    """The e-mail form, or the verified person's choices (their browser's GPC/DNT recorded, P-TRK-2)."""
    services = services_of(request)
    public_id = _verified_id(request, services)
    if public_id is None:
        return _ended(request, status_code=200, notice=None)
    try:
        with services.database.session() as session:
            person = _person(session, public_id)
            service.record_signals(session, person, signals_of(request, varies=False))
            attached(request)  # the browser's GPC/DNT now stand in this person's ledger
            sheet = service.sheet(session, person, today=policy.today())
    except SessionEnded:
        return _ended(request, status_code=200, notice=None)
    except NotFound as exc:
        return _problem(request, exc, restart=False)
    return _page(request, "preferences/edit.html", sheet=sheet)


@router.post(f"{BASE}/code", dependencies=[SEND])
def request_code(request: Request, email: str = Form(""), csrf_token: str = Form("")) -> Response:
    """Mail a code and a link to ``email``; the answer never says whether the address is known."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token):
        return _forbidden(request)
    if not email.strip() or len(email) > MAX_EMAIL:
        return _start(request, status_code=422, error=EMAIL_HELP, email=email)
    try:
        challenge_id = service.send_code(
            services.database, services.mailer, email, vault=services.vault, settings=services.settings
        )
    except InvalidInput:  # malformed (InvalidIdentity), or an address mail headers cannot carry
        return _start(request, status_code=422, error=EMAIL_HELP, email=email)
    except RateLimited as exc:
        return _start(request, status_code=429, error=sentence(exc.detail), email=email)
    except Unavailable:
        return _page(
            request,
            "preferences/error.html",
            status_code=503,
            title="We could not send the e-mail",
            detail="Our mail service is not answering right now, so no code was sent. Please try again in a few "
            "minutes.",
            restart=True,
        )
    return RedirectResponse(f"{BASE}/code?challenge={challenge_id}", status_code=303)


@router.get(f"{BASE}/code", dependencies=[PAGES])
def code_form(request: Request, challenge: str = Query("")) -> Response:
    """Where to type the code. The same for every well-formed id: nothing is looked up."""
    if not _CHALLENGE.fullmatch(challenge):
        return _problem(request, ChallengeInvalid("this page needs the link from the code form; ask for a new code"))
    return _code_page(request, challenge)


def _code_page(
    request: Request, challenge: str, *, status_code: int = 200, error: str | None = None, tries_left: int | None = None
) -> Response:
    return _page(
        request,
        "preferences/code.html",
        status_code=status_code,
        challenge=challenge,
        error=error,
        tries_left=tries_left,
        minutes=services_of(request).settings.preferences.code_minutes,
    )


@router.get(f"{BASE}/verify", dependencies=[PAGES])
def link_landing(request: Request, token: str = Query("")) -> Response:
    """The e-mailed link lands here and asks for one click; a GET never uses up the link.

    Mail scanners fetch links before people do: if opening the link
    redeemed it, the person would find it already used.
    """
    if not _TOKEN.fullmatch(token):
        return _problem(
            request,
            ChallengeInvalid("this link is not valid; copy the whole link from the e-mail, or ask for a new code"),
        )
    return _page(request, "preferences/link.html", token=token)


@router.post(f"{BASE}/verify", dependencies=[VERIFY])
def verify(
    request: Request,
    challenge: str = Form(""),
    code: str = Form(""),
    token: str = Form(""),
    csrf_token: str = Form(""),
) -> Response:
    """Redeem a code (with its challenge id) or a link token; on success start the session."""
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token):
        return _forbidden(request)
    by_link = bool(token)
    try:
        if len(challenge) > MAX_FIELD or len(code) > MAX_FIELD or len(token) > MAX_FIELD:
            raise ChallengeInvalid("this code or link is not valid; ask for a new code")
        if by_link:
            verified = service.verify_link(
                services.database, token, vault=services.vault, settings=services.settings.preferences
            )
        else:
            verified = service.verify_code(
                services.database, challenge, code, vault=services.vault, settings=services.settings.preferences
            )
    except ChallengeInvalid as exc:
        left = exc.tries_left if isinstance(exc, WrongCode) else None
        if by_link or left == 0 or not _CHALLENGE.fullmatch(challenge.strip().lower()):
            return _problem(request, exc)
        return _code_page(
            request, challenge.strip().lower(), status_code=exc.status, error=sentence(exc.detail), tries_left=left
        )
    except ChallengeError as exc:
        return _problem(request, exc)
    response = RedirectResponse(BASE, status_code=303)
    tokens.set_session(response, services, tokens.issue_session(services, verified.person_public_id))
    response.delete_cookie(tokens.CSRF_COOKIE, path=tokens.COOKIE_PATH)
    return response


@router.post(BASE, dependencies=[PAGES])
async def save(request: Request) -> Response:
    """Record the changed choices (all together or none) and list them."""
    services = services_of(request)
    form = await request.form()
    fields = {key: value for key, value in form.items() if not isinstance(value, UploadFile)}
    await form.close()
    return await run_in_threadpool(_save, request, services, fields)


def _save(request: Request, services: Services, fields: dict[str, str]) -> Response:
    ended = "Your session has ended, so nothing was saved. Ask for a new code to continue."
    public_id = _verified_id(request, services)
    if public_id is None:
        return _ended(request, status_code=401, notice=ended)
    if not tokens.check_csrf(request, services, fields.get(tokens.CSRF_FIELD, "")):
        return _forbidden(request)
    version = fields.get("version", "")[:MAX_FIELD]
    try:
        with services.database.session() as session:
            person = _person(session, public_id)
            changed = service.save(session, person, fields, shown_version=version)
            sheet = service.sheet(session, person, today=policy.today())
    except SessionEnded:
        return _ended(request, status_code=401, notice=ended)
    except StatementChanged as exc:
        with services.database.session() as session:
            sheet = service.sheet(session, _person(session, public_id), today=policy.today())
        return _page(request, "preferences/edit.html", status_code=409, sheet=sheet, error=sentence(exc.detail))
    except CharterError as exc:
        return _problem(request, exc, restart=False)
    return _page(request, "preferences/saved.html", sheet=sheet, changed=changed)


def _ended(request: Request, *, status_code: int, notice: str | None) -> Response:
    """The e-mail form; a session cookie that is expired, forged or of an erased person is forgotten."""
    had_session = bool(request.cookies.get(tokens.SESSION_COOKIE))
    response = _start(request, status_code=status_code, notice=notice, binding="" if had_session else None)
    if had_session:
        tokens.end_session(response, services_of(request))
    return response


@router.post(f"{BASE}/signout", dependencies=[PAGES])
def sign_out(request: Request, csrf_token: str = Form("")) -> Response:
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token):
        return _forbidden(request)
    response = _start(request, notice="You have signed out of your privacy choices.", binding="")
    tokens.end_session(response, services)
    return response
