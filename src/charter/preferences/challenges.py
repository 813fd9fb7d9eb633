"""Proving control of an e-mail address with a one-time code or link.

``start`` stores a challenge and returns the code and link token to send
(they exist in the clear only in that return value and the e-mail).
``redeem_code`` / ``redeem_link`` check them and, only then, find or create
the person with that address: asking for a code never creates anyone, and
the answer to a request is the same whether the address is known or not.

Codes and tokens are compared as keyed hashes (HMAC under the identity
lookup key, with their own domain-separating kind) in constant time. Every
code attempt counts, atomically, before the comparison; after
``max_attempts`` the challenge is dead. See docs/design/preference-center.md.
"""

from __future__ import annotations

import hmac
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db.base import rowcount, utcnow
from charter.errors import RateLimited
from charter.preferences.errors import (
    ChallengeExpired,
    ChallengeInvalid,
    ChallengeLocked,
    ChallengeUsed,
    WrongCode,
)
from charter.preferences.models import EmailChallenge
from charter.settings import PreferenceSettings
from charter.subjects import service as subjects
from charter.subjects.normalize import IdentityKind

CODE_DIGITS = 6
PRUNE_AFTER = timedelta(days=1)
"""Challenges are deleted this long after they expire."""

_ID = re.compile(r"[0-9a-f]{32}")
_CODE = re.compile(rf"[0-9]{{{CODE_DIGITS}}}")
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,100}")
PREFERENCES = "preferences"
"""The purpose of the preference center's challenges; other users (privacy requests) pass their own."""
_CODE_KIND = "preferences.challenge.code"
_LINK_KIND = "preferences.challenge.link"

INVALID = "this code or link is not valid; check it against the e-mail, or ask for a new code"
EXPIRED = "this code has expired; ask for a new code"
USED = "this code was already used; ask for a new code if you need to sign in again"
LOCKED = "too many wrong codes were tried; this code no longer works, ask for a new one"


@dataclass(frozen=True)
class Started:
    """What to send. ``email`` (normalized) addresses the message; none of these is stored or logged."""

    challenge_id: str
    expires_at: datetime
    email: str = field(repr=False)
    code: str = field(repr=False)
    link_token: str = field(repr=False)


@dataclass(frozen=True)
class Claimed:
    """A code or link was right and is now used up; the caller decides what the proof unlocks."""

    challenge_id: str
    via: str


@dataclass(frozen=True)
class Verified:
    """The visitor proved control of the address; this is the person who holds it."""

    person_public_id: str
    challenge_id: str
    via: str


def _code_hash(vault: subjects.Vault, challenge_id: str, code: str) -> str:
    return vault.keys.lookup_hash(_CODE_KIND, f"{challenge_id}:{code}")


def _link_hash(vault: subjects.Vault, token: str) -> str:
    return vault.keys.lookup_hash(_LINK_KIND, token)


def _context(challenge_id: str) -> bytes:
    return b"charter.email_challenge\x00" + challenge_id.encode()


def start(
    session: Session,
    email: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
    purpose: str = PREFERENCES,
) -> Started:
    """Store a challenge for ``email`` and return the code and link to send.

    A malformed address raises ``InvalidIdentity`` before anything is
    stored. More than ``codes_per_address_per_hour`` codes, or
    ``wrong_codes_per_address_per_day`` attempts, for one address raise
    :class:`RateLimited`, whether or not anyone holds the address.
    """
    now = now or utcnow()
    kind, normalized = vault.normalize(IdentityKind.EMAIL, email)
    email_hash = vault.lookup_hash(kind, normalized)
    prune(session, now=now)
    recent = session.scalar(
        select(func.count())
        .select_from(EmailChallenge)
        .where(EmailChallenge.email_hash == email_hash, EmailChallenge.created_at > now - timedelta(hours=1))
    )
    if (recent or 0) >= settings.codes_per_address_per_hour:
        raise RateLimited("too many codes were asked for this address in the last hour; wait and try again later")
    # Each challenge allows a few guesses; across challenges, a day's guesses for one address are capped
    # too, so a stranger asking for codes again and again cannot grind through the code space.
    tried = session.scalar(
        select(func.coalesce(func.sum(EmailChallenge.attempts), 0)).where(
            EmailChallenge.email_hash == email_hash, EmailChallenge.created_at > now - timedelta(days=1)
        )
    )
    if (tried or 0) >= settings.wrong_codes_per_address_per_day:
        raise RateLimited("too many codes were tried for this address today; try again tomorrow")
    challenge_id = secrets.token_hex(16)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    token = secrets.token_urlsafe(32)
    expires_at = now + timedelta(minutes=settings.code_minutes)
    session.add(
        EmailChallenge(
            id=challenge_id,
            purpose=purpose,
            email_hash=email_hash,
            sealed_email=vault.keys.seal(normalized.encode(), context=_context(challenge_id)),
            code_hash=_code_hash(vault, challenge_id, code),
            link_hash=_link_hash(vault, token),
            created_at=now,
            expires_at=expires_at,
            attempts=0,
        )
    )
    session.flush()
    return Started(challenge_id, expires_at, email=normalized, code=code, link_token=token)


def discard(session: Session, challenge_id: str) -> None:
    """Delete a challenge (its e-mail could not be sent, so nobody can redeem it)."""
    session.execute(delete(EmailChallenge).where(EmailChallenge.id == challenge_id))


def prune(session: Session, *, now: datetime) -> int:
    """Delete challenges that expired more than a day ago; return how many."""
    return rowcount(session.execute(delete(EmailChallenge).where(EmailChallenge.expires_at < now - PRUNE_AFTER)))


def _usable(row: EmailChallenge, *, now: datetime, max_attempts: int) -> None:
    if row.used_at is not None:
        raise ChallengeUsed(USED)
    if row.attempts >= max_attempts:
        raise ChallengeLocked(LOCKED)
    if row.expires_at <= now:
        raise ChallengeExpired(EXPIRED)


def redeem_code(
    session: Session,
    challenge_id: str,
    code: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
) -> Verified:
    """Check ``code`` against the challenge; on success mark it used and return the person.

    The attempt is counted in the caller's transaction *before* the
    comparison, and :class:`WrongCode` is raised after it is flushed: the
    caller must commit even then (``service.verify_code`` does), or a
    guesser would get unlimited tries.
    """
    now = now or utcnow()
    claimed = claim_code(session, challenge_id, code, vault=vault, settings=settings, now=now)
    return _person_of(session, claimed, vault=vault)


def claim_code(
    session: Session,
    challenge_id: str,
    code: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
    purpose: str = PREFERENCES,
) -> Claimed:
    """As :func:`redeem_code` for a challenge of ``purpose``, without finding or creating anyone."""
    now = now or utcnow()
    challenge_id = challenge_id.strip().lower()
    code = re.sub(r"[\s-]", "", code)
    if not _ID.fullmatch(challenge_id):
        raise ChallengeInvalid(INVALID)
    row = session.get(EmailChallenge, challenge_id, populate_existing=True)
    if row is None or row.purpose != purpose:
        raise ChallengeInvalid(INVALID)
    _usable(row, now=now, max_attempts=settings.max_attempts)
    counted = session.execute(
        update(EmailChallenge)
        .where(
            EmailChallenge.id == challenge_id,
            EmailChallenge.used_at.is_(None),
            EmailChallenge.attempts < settings.max_attempts,
        )
        .values(attempts=EmailChallenge.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    if rowcount(counted) != 1:  # a concurrent attempt used the last try or the code
        session.refresh(row)
        _usable(row, now=now, max_attempts=settings.max_attempts)
        raise ChallengeLocked(LOCKED)
    session.refresh(row)
    given = _code_hash(vault, challenge_id, code) if _CODE.fullmatch(code) else ""
    if not hmac.compare_digest(given.encode(), row.code_hash.encode()):
        left = max(0, settings.max_attempts - row.attempts)
        if left == 0:
            raise WrongCode("that code is not right, and no tries are left; ask for a new code", tries_left=0)
        plural = "try" if left == 1 else "tries"
        raise WrongCode(
            f"that code is not right; check the e-mail and try again ({left} {plural} left)", tries_left=left
        )
    return _claim(session, row, now=now, via="code")


def redeem_link(
    session: Session,
    token: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
) -> Verified:
    """Check a link token (256 random bits: no attempt counting needed); on success as ``redeem_code``."""
    claimed = claim_link(session, token, vault=vault, settings=settings, now=now)
    return _person_of(session, claimed, vault=vault)


def claim_link(
    session: Session,
    token: str,
    *,
    vault: subjects.Vault,
    settings: PreferenceSettings,
    now: datetime | None = None,
    purpose: str = PREFERENCES,
) -> Claimed:
    """As :func:`redeem_link` for a challenge of ``purpose``, without finding or creating anyone."""
    now = now or utcnow()
    token = token.strip()
    if not _TOKEN.fullmatch(token):
        raise ChallengeInvalid(INVALID)
    digest = _link_hash(vault, token)
    row = session.scalar(
        select(EmailChallenge).where(EmailChallenge.link_hash == digest).execution_options(populate_existing=True)
    )
    if row is None or row.purpose != purpose or not hmac.compare_digest(row.link_hash.encode(), digest.encode()):
        raise ChallengeInvalid(INVALID)
    _usable(row, now=now, max_attempts=settings.max_attempts)
    return _claim(session, row, now=now, via="link")


def _claim(session: Session, row: EmailChallenge, *, now: datetime, via: str) -> Claimed:
    used = session.execute(
        update(EmailChallenge)
        .where(EmailChallenge.id == row.id, EmailChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if rowcount(used) != 1:  # redeemed by a concurrent request a moment ago
        raise ChallengeUsed(USED)
    return Claimed(challenge_id=row.id, via=via)


def _person_of(session: Session, claimed: Claimed, *, vault: subjects.Vault) -> Verified:
    row = session.get_one(EmailChallenge, claimed.challenge_id)
    via = claimed.via
    email = vault.keys.open(row.sealed_email, context=_context(row.id)).decode()
    person = subjects.resolve(session, IdentityKind.EMAIL, email, vault=vault, create=True)
    if person is None:  # pragma: no cover - create=True always gives a person
        raise ChallengeInvalid(INVALID)
    audit.record(
        session,
        actor=f"person:{person.public_id}",
        action="preferences.verified",
        target=f"person:{person.public_id}",
        data={"via": via},
    )
    return Verified(person_public_id=person.public_id, challenge_id=row.id, via=via)
