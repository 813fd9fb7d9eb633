"""Expiry of requests whose e-mail was never confirmed (P-RGT-7, P-SEC-1: keep nothing without a reason).

A request is acted on only after its requester proves control of the
address. One that stays *received* or *verifying* for
``CHARTER_REQUESTS_UNVERIFIED_DAYS`` (default 7) days never will be: it
becomes ``expired`` and everything that could say who it was about is
dropped — the sealed address, the keyed hash of it, the sealed details, a
sealed proof of agency, the unused code and any e-mail still queued. What
stays is the request's type, jurisdiction and dates, enough to count such
requests, and the audit entry ``request.expired`` (ids and counts only).
Nobody is e-mailed: the address was never shown to be the requester's.

Called by ``charter requests expire`` and by the periodic sweeper as
``expire_unverified(session, settings=settings, now=now)``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from charter.preferences import challenges
from charter.requests import status_secret
from charter.requests.errors import IllegalTransition
from charter.requests.kinds import Status
from charter.requests.models import PrivacyRequest, RequestDocument, RequestNotice
from charter.requests.transitions import move
from charter.settings import RequestSettings, Settings

UNVERIFIED = (Status.RECEIVED, Status.VERIFYING)
BATCH = 500
"""Requests expired per query; the sweep loops until none is left."""


def _days(settings: Settings | RequestSettings) -> int:
    section = settings.requests if isinstance(settings, Settings) else settings
    return section.unverified_days


def cutoff(settings: Settings | RequestSettings, now: datetime) -> datetime:
    """Requests received before this instant and still unconfirmed expire."""
    return now - timedelta(days=_days(settings))


def _what(session: Session, row: PrivacyRequest) -> list[str]:
    """What expiring ``row`` drops, by name (for the audit entry)."""
    dropped = ["identity"]
    if row.sealed_details is not None:
        dropped.append("details")
    if session.scalar(select(RequestDocument.id).where(RequestDocument.request_id == row.id).limit(1)) is not None:
        dropped.append("documents")
    return dropped


def _drop(session: Session, row: PrivacyRequest) -> None:
    """Forget who the request was about: the sealed values, the hash, the proof, the code, queued e-mails."""
    session.execute(delete(RequestDocument).where(RequestDocument.request_id == row.id))
    session.execute(delete(RequestNotice).where(RequestNotice.request_id == row.id, RequestNotice.sent_at.is_(None)))
    status_secret.drop(session, row.id)  # made without an e-mail address: its status link opens nothing now
    if row.challenge_id is not None:
        challenges.discard(session, row.challenge_id)
        row.challenge_id = None
    row.sealed_identity = b""
    row.identity_hash = ""
    row.sealed_details = None
    row.person_id = None


def expire_unverified(session: Session, *, settings: Settings | RequestSettings, now: datetime) -> int:
    """Expire every request unconfirmed for longer than the setting allows; return how many expired.

    Safe to run from several processes at once: the state change is
    conditional, so a request another sweeper expired first is skipped.
    """
    before = cutoff(settings, now)
    days = _days(settings)
    expired = 0
    skipped: set[int] = set()
    while True:
        statement = (
            select(PrivacyRequest)
            .where(
                PrivacyRequest.status.in_([s.value for s in UNVERIFIED]),
                PrivacyRequest.received_at < before,
                PrivacyRequest.id.not_in(skipped) if skipped else PrivacyRequest.id.is_not(None),
            )
            .order_by(PrivacyRequest.id)
            .limit(BATCH)
        )
        rows = list(session.scalars(statement))
        if not rows:
            return expired
        for row in rows:
            data = {"unverified_days": days, "dropped": _what(session, row)}
            try:
                move(session, row, Status.EXPIRED, actor="charter", now=now, data=data)
            except IllegalTransition:
                skipped.add(row.id)
                continue
            _drop(session, row)
            expired += 1
        session.flush()
