"""The status secret: how a requester who gave no e-mail address follows their request (issue 11, P-RGT-7).

Without an address there is nowhere to send a code or a notice. At submission
the requester is shown a secret once (a link to keep: ``/privacy/requests/open
?token=…``); only its SHA-256 is stored (256 random bits: nothing to guess, so
no key is needed and a key rotation does not break it). Whoever holds it
opens that one request's status page, sends its facts and gets its copy.

It is a bearer secret for *following* a request, never proof of identity: the
facts and the office's confirmation decide approval
(:func:`charter.requests.identity_start.approval_problem`).

Guessing is hopeless, and looking a secret up needs nothing else, so there is
no per-request lockout a stranger could trip to keep the owner out: wrong
secrets only spend the client's own rate-limit budget (the web layer). What a
secret opens is bounded per request (facts attempts, copy links).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime
from urllib.parse import urlencode

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter.db import Database
from charter.db.base import utcnow
from charter.requests.models import PrivacyRequest, RequestSecret

SHAPE = re.compile(r"[A-Za-z0-9_-]{40,64}")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue(session: Session, row: PrivacyRequest, *, now: datetime) -> str:
    """A new secret for ``row`` (its only one); the caller shows it once and never stores or logs it."""
    secret = secrets.token_urlsafe(32)
    session.add(RequestSecret(request_id=row.id, secret_sha256=_digest(secret), created_at=now))
    return secret


def find(session: Session, secret: str, *, now: datetime) -> PrivacyRequest | None:
    """The request this secret opens (its use counted), or None: malformed, unknown, or the request expired."""
    if not isinstance(secret, str) or not SHAPE.fullmatch(secret.strip()):
        return None
    held = session.scalar(select(RequestSecret).where(RequestSecret.secret_sha256 == _digest(secret.strip())))
    if held is None:
        return None
    row = session.get(PrivacyRequest, held.request_id)
    if row is None or not row.sealed_identity:  # expired unconfirmed: dropped (charter.requests.expiry)
        return None
    session.execute(
        update(RequestSecret)
        .where(RequestSecret.id == held.id)
        .values(uses=RequestSecret.uses + 1, last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return row


def drop(session: Session, request_id: int) -> None:
    """Forget the secret of a request (its expiry, or its abandonment at intake)."""
    held = session.scalar(select(RequestSecret).where(RequestSecret.request_id == request_id))
    if held is not None:
        session.delete(held)


def opened(database: Database, secret: str, *, now: datetime | None = None) -> str | None:
    """The public id of the request ``secret`` opens (its use counted), or None."""
    with database.session() as session:
        row = find(session, secret, now=now or utcnow())
        return None if row is None else row.public_id


OPEN_PATH = "/privacy/requests/open"


def status_url(base_url: str, secret: str) -> str:
    """The status link shown once: the privacy center's page that opens the request."""
    return f"{base_url.rstrip('/')}{OPEN_PATH}?{urlencode({'token': secret})}"
