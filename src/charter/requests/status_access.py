"""Coming back to a request's status page later: a new code to the requester's address (P-RGT-7).

The status page opens only with a short-lived cookie given when a code is
redeemed. The e-mails about a request link to that page ("ask for a code, and
add the information there"), so a requester whose cookie has expired asks for
a code here: it goes to the address the request was made for (never to an
address typed in), has its own purpose (``request_status``, so it can neither
verify a new request nor open the preference center) and, when redeemed,
opens that one request's page. An unknown request id gets the same answer and
a challenge id that matches nothing: nothing tells which ids exist.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select

from charter.db import Database
from charter.db.base import utcnow
from charter.errors import Unavailable
from charter.mail import Mailer, compose
from charter.preferences import challenges
from charter.preferences.errors import ChallengeInvalid, WrongCode
from charter.preferences.models import EmailChallenge
from charter.requests.kinds import RequestKind
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import identity_of
from charter.settings import Settings
from charter.subjects import service as subjects

PURPOSE = "request_status"


def send_code(
    database: Database,
    mailer: Mailer,
    public_id: str,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """Mail a code that opens request ``public_id``'s page; return the challenge id (a dummy if none exists)."""
    now = now or utcnow()
    with database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id[:32]))
        if row is None or not row.sealed_identity:  # none, or expired unconfirmed (its address dropped: expiry.py)
            return secrets.token_hex(16)
        if row.identity_kind != "email":  # made without an address: its status secret opens it, never a code
            return secrets.token_hex(16)
        started = challenges.start(
            session, identity_of(vault, row), vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
        )
        message = code_message(
            settings,
            started,
            subject=f"Your code to see privacy request {row.public_id}",
            asked=[
                f"Someone asked to see where your privacy request {row.public_id} stands",
                f"({RequestKind(row.kind).label}). To open its page, enter this code:",
            ],
            if_not_you="nothing changes.",
        )
    return send_code_message(database, mailer, message, started.challenge_id)


def code_message(
    settings: Settings, started: challenges.Started, *, subject: str, asked: list[str], if_not_you: str
) -> EmailMessage:
    """The e-mail carrying a one-time code about a request: what was asked, the code, how long it works."""
    text = "\n".join(
        [
            "Hello,",
            "",
            *asked,
            "",
            f"Your code: {started.code}",
            "",
            f"The code works once, for {settings.preferences.code_minutes} minutes. If it was not you, ignore",
            f"this e-mail: {if_not_you}",
            "",
        ]
    )
    return compose(
        settings.mail, to=started.email, subject=subject, text=text, headers={"Auto-Submitted": "auto-generated"}
    )


def send_code_message(database: Database, mailer: Mailer, message: EmailMessage, challenge_id: str) -> str:
    """Send it; a code whose e-mail could not leave is discarded (it could never be entered)."""
    try:
        mailer.send(message)
    except Unavailable:
        with database.session() as session:
            challenges.discard(session, challenge_id)
        raise
    return challenge_id


def redeem(
    database: Database,
    public_id: str,
    challenge_id: str,
    code: str,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """Redeem a status code for request ``public_id``; return the id. A wrong try is counted and committed."""
    now = now or utcnow()
    wrong: WrongCode | None = None
    with database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id[:32]))
        try:
            claimed = challenges.claim_code(
                session, challenge_id, code, vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
            )
        except WrongCode as exc:
            wrong = exc
        else:
            challenge = session.get_one(EmailChallenge, claimed.challenge_id)
            if row is None or challenge.email_hash != row.identity_hash:
                raise ChallengeInvalid(challenges.INVALID)
            return row.public_id
    raise wrong
