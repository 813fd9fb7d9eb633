"""Console sessions: a random cookie, stored only as its SHA-256 digest.

The cookie value is 256 random bits, so the digest cannot be reversed or
guessed and a stolen database row does not sign anyone in. Each session has
its own CSRF token, which forms echo back.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter.audit import service as audit
from charter.auth.models import ConsoleSession, User
from charter.auth.principal import Principal
from charter.auth.roles import permissions_of
from charter.db.base import rowcount, utcnow
from charter.errors import InvalidInput

MAX_HOURS = 24 * 30
MAX_COOKIE_CHARS = 200
"""Anything longer is not one of our cookies; it is refused before hashing."""


def _digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode()).hexdigest()


def start_session(session: Session, user: User, *, hours: int) -> tuple[str, ConsoleSession]:
    """Open a session for an authenticated, active user; return the cookie value and the row.

    The cookie value is returned once and never stored.
    """
    if not 1 <= hours <= MAX_HOURS:
        raise InvalidInput(f"a session lasts between 1 and {MAX_HOURS} hours")
    if not user.active:
        raise InvalidInput("a disabled user cannot start a session")
    cookie_value = secrets.token_urlsafe(32)
    now = utcnow()
    row = ConsoleSession(
        session_hash=_digest(cookie_value),
        user=user,
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        expires_at=now + timedelta(hours=hours),
    )
    session.add(row)
    session.flush()
    return cookie_value, row


def _live(session: Session, cookie_value: str) -> ConsoleSession | None:
    if not cookie_value or len(cookie_value) > MAX_COOKIE_CHARS:
        return None
    row = session.scalars(
        select(ConsoleSession).where(ConsoleSession.session_hash == _digest(cookie_value))
    ).one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow():
        return None
    return row


def end_session(session: Session, cookie_value: str) -> None:
    """Sign out: the session stops working at once. Unknown or ended sessions are ignored."""
    row = _live(session, cookie_value)
    if row is None:
        return
    row.revoked_at = utcnow()
    username = row.user.username
    audit.record(session, actor=f"user:{username}", action="auth.logout", target=f"user:{username}")


def end_user_sessions(session: Session, user: User) -> int:
    """End every open session of ``user`` (on disable or password change); return how many."""
    now = utcnow()
    result = session.execute(
        update(ConsoleSession)
        .where(ConsoleSession.user_id == user.id, ConsoleSession.revoked_at.is_(None))
        .where(ConsoleSession.expires_at > now)
        .values(revoked_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return rowcount(result)


def principal_from_session(session: Session, cookie_value: str) -> Principal | None:
    """The signed-in user behind a cookie, or None if it is unknown, expired, ended or disabled."""
    row = _live(session, cookie_value)
    if row is None or not row.user.active:
        return None
    user = row.user
    return Principal(
        kind="user",
        name=user.username,
        role=user.role,
        permissions=permissions_of(user.role),
        csrf_token=row.csrf_token,
    )
