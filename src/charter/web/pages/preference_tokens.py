"""The public pages' cookies: a short-lived signed session and a CSRF token, per :class:`Scope`.

Visitors have no account, so there is no server-side session row: after a
code or link is redeemed, the browser gets ``charter_preferences`` =
``PUBLIC_ID.EXPIRES.MAC`` (HMAC-SHA256 under a key derived from the secret
key for this use only). It names the person by public id (pseudonymous),
lasts ``CHARTER_PREFERENCES_SESSION_MINUTES`` (30 by default), is HttpOnly,
SameSite=Lax, scoped to ``/privacy/preferences`` and Secure on HTTPS.

Forms carry a signed double-submit CSRF token (cookie and hidden field must
match and carry our MAC), bound to the session cookie when there is one, so
a token minted before verification does not work after it and a token
planted by a sibling site does not work for someone else's session.

Each public area has its own :class:`Scope`: cookie names, path and MAC
keys. :data:`PREFERENCES` (the default of every function) names a person;
:data:`REQUESTS` names one privacy request, and its session cookie is set on
that request's status page path only (``/privacy/requests/ID``), so it
opens nothing else (P-RGT-7).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from fastapi import Request
from starlette.responses import Response

from charter.services import Services

SESSION_COOKIE = "charter_preferences"
CSRF_COOKIE = "charter_preferences_csrf"
CSRF_FIELD = "csrf_token"
COOKIE_PATH = "/privacy/preferences"


@dataclass(frozen=True)
class Scope:
    """One public area's cookies: names, path, and the label its MAC keys are derived under."""

    label: str
    session_cookie: str
    csrf_cookie: str
    path: str


PREFERENCES = Scope("preferences", SESSION_COOKIE, CSRF_COOKIE, COOKIE_PATH)
REQUESTS = Scope("requests", "charter_request", "charter_request_csrf", "/privacy/requests")
CSRF_MAX_AGE = 2 * 3600
MAX_COOKIE = 200
_PUBLIC_ID = re.compile(r"[0-9a-f]{32}")


def _key(services: Services, use: bytes, scope: Scope = PREFERENCES) -> bytes:
    label = f"charter.{scope.label}.".encode()
    return hmac.new(services.settings.secret_key(), label + use, hashlib.sha256).digest()


def _mac(key: bytes, message: str) -> str:
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()


def _same(given: str, expected: str) -> bool:
    """Constant-time equality of two texts; any text (a cookie may hold non-ASCII), never an error."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def secure(services: Services) -> bool:
    settings = services.settings
    return settings.security.cookie_secure or settings.base_url.lower().startswith("https://")


def _now(now: float | None) -> int:
    return int(time.time() if now is None else now)


# -- the session ------------------------------------------------------------------


def issue_session(services: Services, public_id: str, *, now: float | None = None, scope: Scope = PREFERENCES) -> str:
    expires = _now(now) + services.settings.preferences.session_minutes * 60
    body = f"{public_id}.{expires}"
    return f"{body}.{_mac(_key(services, b'session', scope), body)}"


def read_session(
    services: Services, value: str | None, *, now: float | None = None, scope: Scope = PREFERENCES
) -> str | None:
    """The public id in a genuine, unexpired session cookie, else None."""
    if not value or len(value) > MAX_COOKIE:
        return None
    public_id, _, rest = value.partition(".")
    expires, _, mac = rest.partition(".")
    if not _PUBLIC_ID.fullmatch(public_id) or not _number(expires) or not mac:
        return None
    if not _same(mac, _mac(_key(services, b"session", scope), f"{public_id}.{expires}")):
        return None
    return public_id if int(expires) > _now(now) else None


def set_session(
    response: Response, services: Services, value: str, *, scope: Scope = PREFERENCES, path: str | None = None
) -> None:
    """Set the session cookie on the scope's path, or on ``path`` (narrower: one request's page)."""
    response.set_cookie(
        scope.session_cookie,
        value,
        max_age=services.settings.preferences.session_minutes * 60,
        path=path or scope.path,
        secure=secure(services),
        httponly=True,
        samesite="lax",
    )


def end_session(response: Response, services: Services, *, scope: Scope = PREFERENCES, path: str | None = None) -> None:
    """Forget the session in this browser (with the flags it was set with, or browsers keep it)."""
    response.delete_cookie(
        scope.session_cookie, path=path or scope.path, secure=secure(services), httponly=True, samesite="lax"
    )


# -- CSRF ---------------------------------------------------------------------------


def _csrf_mac(services: Services, issued: str, nonce: str, binding: str, scope: Scope = PREFERENCES) -> str:
    return _mac(_key(services, b"csrf", scope), f"{issued}.{nonce}.{binding}")


def _binding(request: Request, scope: Scope = PREFERENCES) -> str:
    return request.cookies.get(scope.session_cookie, "")[:MAX_COOKIE]


def issue_csrf(services: Services, binding: str, *, now: float | None = None, scope: Scope = PREFERENCES) -> str:
    issued, nonce = str(_now(now)), secrets.token_urlsafe(16)
    return f"{issued}.{nonce}.{_csrf_mac(services, issued, nonce, binding, scope)}"


def _valid(services: Services, token: str, binding: str, now: float | None, scope: Scope = PREFERENCES) -> bool:
    if not token or len(token) > MAX_COOKIE:
        return False
    issued, _, rest = token.partition(".")
    nonce, _, mac = rest.partition(".")
    if not _number(issued) or not nonce or not mac:
        return False
    if not _same(mac, _csrf_mac(services, issued, nonce, binding, scope)):
        return False
    return -60 <= _now(now) - int(issued) <= CSRF_MAX_AGE


def csrf_for(request: Request, services: Services, *, binding: str | None = None, scope: Scope = PREFERENCES) -> str:
    """The token for a form on this page: the browser's own if still good, else a new one."""
    bound = _binding(request, scope) if binding is None else binding
    current = request.cookies.get(scope.csrf_cookie, "")
    return current if _valid(services, current, bound, None, scope) else issue_csrf(services, bound, scope=scope)


def set_csrf(response: Response, services: Services, token: str, *, scope: Scope = PREFERENCES) -> None:
    response.set_cookie(
        scope.csrf_cookie,
        token,
        max_age=CSRF_MAX_AGE,
        path=scope.path,
        secure=secure(services),
        httponly=True,
        samesite="strict",
    )


def check_csrf(request: Request, services: Services, field: str, *, scope: Scope = PREFERENCES) -> bool:
    """True when the form's token equals the cookie's, carries our MAC for this session and is fresh."""
    cookie = request.cookies.get(scope.csrf_cookie, "")
    if not field or not cookie or not _same(field, cookie):
        return False
    return _valid(services, field, _binding(request, scope), None, scope)
