"""What the privacy-request pages share: constants, rate limits, the page and error helpers."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from starlette.responses import RedirectResponse, Response

from charter.db.base import utcnow
from charter.errors import CharterError
from charter.policy.schema import Statement
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
