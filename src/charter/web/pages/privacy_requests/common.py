"""What the privacy-request pages share: constants, rate limits, the page and error helpers."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from charter.db.base import utcnow
from charter.errors import CharterError
from charter.policy.schema import Statement
from charter.preferences.errors import ChallengeError, ChallengeInvalid, WrongCode
from charter.requests import intake, notices
from charter.services import Services
from charter.web.pages import preference_tokens as tokens
from charter.web.security import public, services_of
from charter.web.templating import render, sentence

PAGES = public("requests-pages", per_minute=120)
SEND = public("requests-submit", per_minute=10)
"""Submitting sends mail: the same tight limit as the API's intake (one bucket for both)."""
VERIFY = public("requests-verify", per_minute=30)

BASE = "/privacy/requests"
SCOPE = tokens.REQUESTS
MAX_EMAIL = 320
MAX_FIELD = 200
MAX_TEXT = 2_000
REQUEST_ID = re.compile(r"[0-9a-f]{32}")
LINK_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the form: the field to link to and a sentence."""

    field: str
    message: str


# -- rendering ------------------------------------------------------------------------


def page(
    request: Request, name: str, *, status_code: int = 200, binding: str | None = None, **context: Any
) -> Response:
    """A page with the CSRF token of the requests scope in its forms and cookie; never cached."""
    services = services_of(request)
    token = tokens.csrf_for(request, services, binding=binding, scope=SCOPE)
    response = render(request, name, status_code=status_code, pc_csrf=token, csrf_field=tokens.CSRF_FIELD, **context)
    tokens.set_csrf(response, services, token, scope=SCOPE)
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def error_page(request: Request, status_code: int, title: str, detail: str, *, restart: bool = True) -> Response:
    return page(request, "requests/error.html", status_code=status_code, title=title, detail=detail, restart=restart)


def problem_page(request: Request, exc: CharterError) -> Response:
    return error_page(request, exc.status, exc.title, sentence(exc.detail))


def forbidden_page(request: Request) -> Response:
    return error_page(
        request,
        403,
        "This form has expired",
        "The form was not sent from this page, or it is too old. Go back, reload the page and try again.",
    )


def statement_in_force(services: Services) -> Statement:
    with services.database.session() as session:
        return intake.statement_in_force(session, utcnow())[1]


def deliver(services: Services) -> None:
    """Send the e-mails the change queued; a mail server that is down leaves them pending."""
    notices.deliver(services.database, services.mailer, vault=services.vault, settings=services.settings)


def opened(services: Services, public_id: str) -> Response:
    path = f"{BASE}/{public_id}"
    response = RedirectResponse(path, status_code=303)
    value = tokens.issue_session(services, public_id, scope=SCOPE)
    tokens.set_session(response, services, value, scope=SCOPE, path=path)
    return response


def redeem_form(
    request: Request,
    public_id: str,
    challenge: str,
    code: str,
    csrf_token: str,
    *,
    redeem: Callable[[Services, str, str, str], T],
    retry: Callable[..., Response],
) -> T | Response:
    """A posted e-mailed code, checked the one way every code form is: CSRF, shape, then ``redeem``.

    Returns what ``redeem`` gave, or the page to show instead: the code form again (``retry``,
    with the error and the tries left) for a wrong code with tries left, else an error page.
    """
    services = services_of(request)
    if not tokens.check_csrf(request, services, csrf_token, scope=SCOPE):
        return forbidden_page(request)
    challenge = challenge.strip().lower()
    if not (REQUEST_ID.fullmatch(public_id) and REQUEST_ID.fullmatch(challenge)) or len(code) > MAX_FIELD:
        return problem_page(request, ChallengeInvalid("this code is not valid; ask for a new one"))
    try:
        return redeem(services, public_id, challenge, code.strip())
    except ChallengeInvalid as exc:
        left = exc.tries_left if isinstance(exc, WrongCode) else None
        if left is None or left == 0:
            return problem_page(request, exc)
        return retry(request, public_id, challenge, status_code=exc.status, error=sentence(exc.detail), tries_left=left)
    except ChallengeError as exc:
        return problem_page(request, exc)
