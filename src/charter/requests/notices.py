"""E-mails to the requester: written with the change they report, sent after the commit.

A transition calls :func:`queue` in its transaction; the caller then calls
:func:`deliver` (the web and CLI do it right after the commit). A mail
server that is down leaves the notice pending with its attempt count; the
next :func:`deliver` (``charter requests notify``) sends it. Messages are
plain text, with no tracking image, and name the request by its public id.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage
from typing import Any

from sqlalchemy import bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from charter.db import Database
from charter.db.base import rowcount, utcnow
from charter.errors import CharterError
from charter.mail import Mailer, compose
from charter.policy import service as policy
from charter.requests.kinds import DENIAL_TEXT, DenialReason, RequestKind
from charter.requests.models import PrivacyRequest, RequestNotice
from charter.requests.sealing import identity_of
from charter.settings import Settings
from charter.subjects.service import Vault

log = logging.getLogger("charter.requests")

MAX_ATTEMPTS = 10
STATUS_PATH = "/privacy/requests"

VERIFIED = "verified"
EXTENDED = "extended"
MORE_VERIFICATION = "more_verification"
APPROVED = "approved"
DENIED = "denied"
COMPLETED = "completed"
FAILED = "failed"
#: the note of a COMPLETED notice when no store held anything about the person (not "It is done")
NOTHING_FOUND = "nothing_found"

SUBJECTS = {
    VERIFIED: "We have confirmed your privacy request",
    EXTENDED: "We need more time to answer your privacy request",
    MORE_VERIFICATION: "We need more information to verify your privacy request",
    APPROVED: "Your privacy request was approved",
    DENIED: "Our decision on your privacy request",
    COMPLETED: "Your privacy request is complete",
    FAILED: "We could not complete your privacy request",
}


QUEUE = insert(RequestNotice)


def queue_values(row: PrivacyRequest, kind: str, *, note: str | None = None) -> dict[str, Any]:
    """The row :data:`QUEUE` inserts for a notice of ``kind`` (:func:`queue`, and a run's pipelined end)."""
    return {"request_id": row.id, "kind": kind, "note": note, "created_at": utcnow(), "attempts": 0}


def queue(session: Session, row: PrivacyRequest, kind: str, *, note: str | None = None) -> None:
    """Queue a notice to the requester in the caller's transaction (sent after it commits: ``deliver``).

    A plain INSERT on the session's connection: an ORM add and flush cost more than the round trip."""
    session.flush()  # the caller's pending changes go first, as the ORM would send them
    session.connection().execute(QUEUE, queue_values(row, kind, note=note))


def nothing_found(session: Session, row: PrivacyRequest) -> bool:
    """Was the request completed with no record of the person in any store? (Its completion notice says so.)"""
    found = session.scalar(
        select(RequestNotice.id).where(
            RequestNotice.request_id == row.id, RequestNotice.kind == COMPLETED, RequestNotice.note == NOTHING_FOUND
        )
    )
    return found is not None


def status_url(settings: Settings, public_id: str) -> str:
    return f"{settings.base_url.rstrip('/')}{STATUS_PATH}/{public_id}"


def _day(row: PrivacyRequest) -> str:
    return f"{row.due_at:%d %B %Y}"


def organization_of(session: Session, version: str) -> str:
    try:
        return policy.statement_for(session, version).organization.short_name
    except CharterError:
        return "We"


def body(session: Session, row: PrivacyRequest, kind: str, note: str | None, settings: Settings) -> str:
    """The text of a notice, from the request as it is now."""
    label = RequestKind(row.kind).label.split(" (")[0].lower()
    who = organization_of(session, row.statement_version)
    lines = ["Hello,", "", f"This is about your request {row.public_id}: {label}.", ""]
    if kind == VERIFIED:
        lines.append(f"Thank you for confirming it. {who} will answer by {_day(row)}.")
    elif kind == EXTENDED:
        lines += [
            f"We need more time, as the law allows. We will now answer by {_day(row)}.",
            "",
            f"Why: {row.extension_reason or ''}",
        ]
    elif kind == MORE_VERIFICATION:
        lines += [
            "Before we can act on it, we need to confirm a little more about who you are.",
            "",
            f"What we need: {note or ''}",
            "",
            "Open the page below, ask for a code, and add the information there.",
        ]
    elif kind == APPROVED:
        lines.append("It was approved. We are carrying it out and will write again when it is done.")
    elif kind == DENIED:
        reason = DenialReason(row.decision_reason) if row.decision_reason else None
        lines += ["We cannot do what you asked, for this reason:", "", DENIAL_TEXT[reason] if reason else ""]
        if row.decision_note:
            lines += ["", row.decision_note]
        lines += ["", "You may complain to your data protection authority if you disagree."]
    elif kind == COMPLETED and note == NOTHING_FOUND:
        lines += [
            "We searched every system in which we keep personal information, and found none about you",
            "under the details you gave us. There is nothing for us to "
            + ("delete." if row.kind == RequestKind.DELETION.value else "give you.")
            + " If you used another e-mail address or phone number with us, you may ask again with it.",
        ]
    elif kind == COMPLETED:
        lines.append("It is done.")
        # -- delivery: the copy of an access/portability request (charter.delivery) --
        if row.kind in (RequestKind.ACCESS.value, RequestKind.PORTABILITY.value):
            lines += [
                "",
                "Your copy of your data is ready. To get it, open the page below and choose",
                '"Get my copy". We will e-mail you a new code first, to be sure it is you; the copy',
                "is then yours to download once (or sent to the company you named, if you asked for that).",
            ]
        # -- end delivery --
    # -- retry: sent only when the office gives up on a failed request, with its reason (charter.execution.retry) --
    elif kind == FAILED:
        lines += ["We tried to carry it out, but we could not complete it.", ""]
        if note:
            lines += ["Why, in the words of our privacy office:", "", note, ""]
        lines.append("You may make the request again, or complain to your data protection authority.")
    # -- end retry --
    lines += ["", f"See where it stands: {status_url(settings, row.public_id)}", ""]
    return "\n".join(lines)


def message(
    session: Session, notice: RequestNotice, row: PrivacyRequest, vault: Vault, settings: Settings
) -> EmailMessage:
    return compose(
        settings.mail,
        to=identity_of(vault, row),
        subject=SUBJECTS[notice.kind],
        text=body(session, row, notice.kind, notice.note, settings),
        headers={"Auto-Submitted": "auto-generated"},
    )


@dataclass(frozen=True)
class Delivery:
    sent: int
    pending: int


def pending(session: Session, *, request_id: int | None = None) -> list[RequestNotice]:
    statement = (
        select(RequestNotice)
        .join(PrivacyRequest, PrivacyRequest.id == RequestNotice.request_id)
        .where(RequestNotice.sent_at.is_(None), RequestNotice.attempts < MAX_ATTEMPTS)
        .where(PrivacyRequest.identity_kind == "email")  # no address: nothing to send (see _claim)
    )
    if request_id is not None:
        statement = statement.where(RequestNotice.request_id == request_id)
    return list(session.scalars(statement.order_by(RequestNotice.id)))


CLAIM_BATCH = 50
#: how long a notice taken by a deliverer is left to it (a deliverer that died lets go after this)
CLAIM_LEASE = timedelta(minutes=10)
_FREE = or_(RequestNotice.claimed_at.is_(None), RequestNotice.claimed_at < bindparam("stale"))
_CLAIM = (
    update(RequestNotice)
    .where(RequestNotice.id == bindparam("notice"), RequestNotice.attempts == bindparam("seen"), _FREE)
    .values(attempts=RequestNotice.attempts + 1, claimed_at=bindparam("now"))
)


def deliver(
    database: Database,
    mailer: Mailer,
    *,
    vault: Vault,
    settings: Settings,
    request_id: int | None = None,
    public_id: str | None = None,
) -> Delivery:
    """Send pending notices (of one request, by id or public id, or all); a failure leaves the notice pending,
    never raises.

    Notices are claimed a batch at a time, their messages built in that one transaction; then each is sent and
    marked sent on its own, so a crash sends again at most the one it was sending. A claim is a lease
    (``CLAIM_LEASE``): of two deliverers at once, one sends each notice, and the other does not take it while
    it is being sent; a failed send lets go of it at once."""
    sent = failed = 0
    after = 0
    while after >= 0:
        with database.session() as session:
            after, batch = _claim(session, vault, settings, request_id=request_id, public_id=public_id, after=after)
        for notice_id, built in batch:
            if built is None:
                failed += 1
                continue
            try:
                mailer.send(built)
            except CharterError as exc:
                log.warning("a request notice could not be sent: %s", exc.title)
                with database.session() as session:
                    session.execute(
                        update(RequestNotice)
                        .where(RequestNotice.id == notice_id)
                        .values(last_error=exc.title[:200], claimed_at=None)
                    )
                failed += 1
                continue
            with database.session() as session:
                session.execute(
                    update(RequestNotice).where(RequestNotice.id == notice_id).values(sent_at=utcnow(), last_error=None)
                )
            sent += 1
    if request_id is None and public_id is None:
        with database.session() as session:
            return Delivery(sent=sent, pending=len(pending(session)))
    return Delivery(sent=sent, pending=failed)


def _claim(
    session: Session, vault: Vault, settings: Settings, *, request_id: int | None, public_id: str | None, after: int
) -> tuple[int, list[tuple[int, EmailMessage | None]]]:
    """Claim the next batch of pending notices after id ``after``: (the cursor for the next batch, negative
    when this was the last; each claimed notice's id and message, None when it could not be written)."""
    statement = (
        select(RequestNotice, PrivacyRequest)
        .join(PrivacyRequest, PrivacyRequest.id == RequestNotice.request_id)
        .where(RequestNotice.sent_at.is_(None), RequestNotice.attempts < MAX_ATTEMPTS, RequestNotice.id > after, _FREE)
        # a request made without an e-mail address has nowhere to write to: its requester reads the status page
        .where(PrivacyRequest.identity_kind == "email")
    )
    if request_id is not None:
        statement = statement.where(RequestNotice.request_id == request_id)
    if public_id is not None:
        statement = statement.where(PrivacyRequest.public_id == public_id[:32])
    now = utcnow()
    stale = now - CLAIM_LEASE
    found = session.execute(statement.order_by(RequestNotice.id).limit(CLAIM_BATCH), {"stale": stale}).all()
    claimed: list[tuple[int, EmailMessage | None]] = []
    for notice, row in found:
        taken = session.connection().execute(
            _CLAIM, {"notice": notice.id, "seen": notice.attempts, "stale": stale, "now": now}
        )
        if rowcount(taken) != 1:
            continue  # another deliverer has it
        try:
            claimed.append((notice.id, message(session, notice, row, vault, settings)))
        except CharterError as exc:
            notice.last_error = exc.title[:200]
            notice.claimed_at = None
            claimed.append((notice.id, None))
    cursor = found[-1][0].id if len(found) == CLAIM_BATCH else -1
    return cursor, claimed
