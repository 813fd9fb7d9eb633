"""Signing in and out of the console.

``GET /login`` shows the form; ``POST /login`` checks the password and sets
the session cookie; ``POST /logout`` ends the session.

The login form has no session yet, so its CSRF token is a signed,
short-lived value (HMAC of a timestamp and a nonce under the app's secret
key) sent both as a cookie and as a hidden field; the two must match and
the signature must hold (double submit). Failed sign-ins are limited per
client address by ``CHARTER_LOGIN_ATTEMPTS_PER_MINUTE``; the limiter is
built from the settings the first time it is needed and kept on the app.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from charter.auth import service as auth
from charter.auth.roles import Permission
from charter.errors import Forbidden, RateLimited
from charter.services import Services
from charter.web.ratelimit import RateLimiter
from charter.web.security import (
    SESSION_COOKIE,
    authenticate,
    client_address,
    limiter_for,
    public,
    requires,
    services_of,
)
from charter.web.templating import render

router = APIRouter(tags=["session"], include_in_schema=False)

LOGIN_CSRF_COOKIE = "charter_login_csrf"
LOGIN_CSRF_FIELD = "login_csrf"
LOGIN_CSRF_MAX_AGE = 2 * 3600
DEFAULT_NEXT = "/console"
FAILED_MESSAGE = "Wrong username or password."
MAX_FIELD = 1024


# -- the login form's CSRF token ------------------------------------------------


def _login_key(services: Services) -> bytes:
    # A key of its own, derived from the secret key, so this MAC cannot be
    # confused with any other signature made with the same secret.
    return hmac.new(services.settings.secret_key(), b"charter.login-csrf", hashlib.sha256).digest()


def _sign(key: bytes, issued: int, nonce: str) -> str:
    return hmac.new(key, f"{issued}.{nonce}".encode(), hashlib.sha256).hexdigest()


def issue_login_csrf(services: Services, *, now: float | None = None) -> str:
    issued = int(time.time() if now is None else now)
    nonce = secrets.token_urlsafe(16)
    return f"{issued}.{nonce}.{_sign(_login_key(services), issued, nonce)}"


def check_login_csrf(services: Services, field: str, cookie: str | None, *, now: float | None = None) -> bool:
    """True when the form field equals the cookie, carries our signature and is fresh."""
    if not field or not cookie or len(field) > 200 or not hmac.compare_digest(field, cookie):
        return False
    issued_text, _, rest = field.partition(".")
    nonce, _, signature = rest.partition(".")
    if not issued_text.isdigit() or not nonce or not signature:
        return False
    issued = int(issued_text)
    if not hmac.compare_digest(signature, _sign(_login_key(services), issued, nonce)):
        return False
    age = (time.time() if now is None else now) - issued
    return -60 <= age <= LOGIN_CSRF_MAX_AGE


# -- helpers --------------------------------------------------------------------


def safe_next(target: str | None) -> str:
    """``target`` if it is a path on this site, else the console: no open redirects.

    Refuses scheme or host parts, ``//host`` and ``/\\host`` (browsers read
    a backslash as a slash) and control characters (browsers drop tabs and
    newlines, which would turn ``/\\t/host`` into ``//host``).
    """
    if not target or len(target) > 2000 or not target.startswith("/"):
        return DEFAULT_NEXT
    if target.startswith(("//", "/\\")) or "\\" in target:
        return DEFAULT_NEXT
    if any(ord(char) < 32 or ord(char) == 127 for char in target):
        return DEFAULT_NEXT
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return DEFAULT_NEXT
    return target


def _failure_limiter(request: Request, services: Services) -> RateLimiter:
    return limiter_for(request, "login-attempts", services.settings.security.login_attempts_per_minute)


def _set_cookie(
    response: Response,
    services: Services,
    name: str,
    value: str,
    *,
    max_age: int,
    path: str = "/",
    samesite: str = "lax",
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        secure=services.settings.security.cookie_secure,
        httponly=True,
        samesite=samesite,  # type: ignore[arg-type]
    )


def _form(
    request: Request, *, next_url: str, username: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    services = services_of(request)
    token = issue_login_csrf(services)
    response = render(
        request,
        "session/login.html",
        status_code=status_code,
        login_csrf=token,
        login_csrf_field=LOGIN_CSRF_FIELD,
        next_url=next_url,
        username=username,
        error=error,
    )
    _set_cookie(
        response, services, LOGIN_CSRF_COOKIE, token, max_age=LOGIN_CSRF_MAX_AGE, path="/login", samesite="strict"
    )
    response.headers["Cache-Control"] = "no-store"
    return response


# -- routes ---------------------------------------------------------------------


@router.get("/login", dependencies=[public("login-page", per_minute=120)])
def login_form(request: Request, next_url: str = Query("", alias="next")) -> Response:
    """The sign-in form. Already signed in: straight on to ``next``."""
    principal = authenticate(request)
    if principal is not None and principal.kind == "user":
        return RedirectResponse(safe_next(next_url), status_code=303)
    return _form(request, next_url=safe_next(next_url))


@router.post("/login", dependencies=[public("login", per_minute=120)])
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    next_url: str = Form("", alias="next"),
    login_csrf: str = Form(""),
) -> Response:
    """Check the password; on success set the session cookie and go on to ``next``."""
    services = services_of(request)
    if not check_login_csrf(services, login_csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        raise Forbidden("the sign-in form expired or was not sent by this site; reload it and try again")
    if not _failure_limiter(request, services).allow("login", client_address(request)):
        raise RateLimited("too many sign-in attempts from your address; wait a minute and try again")
    target = safe_next(next_url)
    shown_name = username[:64]
    if len(username) > MAX_FIELD or len(password) > MAX_FIELD:
        return _form(request, next_url=target, username=shown_name, error=FAILED_MESSAGE, status_code=401)
    with services.database.session() as session:
        user = auth.authenticate_password(session, username, password)
        cookie = None
        if user is not None:
            cookie, _row = auth.start_session(session, user, hours=services.settings.security.session_hours)
    if cookie is None:
        return _form(request, next_url=target, username=shown_name, error=FAILED_MESSAGE, status_code=401)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(response, services, SESSION_COOKIE, cookie, max_age=services.settings.security.session_hours * 3600)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", dependencies=[requires(Permission.CONSOLE_VIEW)])
def logout(request: Request) -> Response:
    """End this browser's session (the CSRF token is checked by ``requires``)."""
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        with services_of(request).database.session() as session:
            auth.end_session(session, cookie)
    response = RedirectResponse("/privacy", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
