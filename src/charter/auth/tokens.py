"""Scoped API tokens for machines.

A token reads ``cht_<token_id>_<secret>``: the 12-hex-digit ``token_id`` is
public (it names the token in lists and the audit log) and finds the row;
the 256-bit secret is stored only as its SHA-256 digest and compared in
constant time. A token may carry only permissions its owner's role has, and
at each use it gets the intersection of its scopes and the owner's current
role, so demoting a user narrows their tokens too.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit import service as audit
from charter.auth.models import TOKEN_NAME_MAX, ApiToken, User
from charter.auth.principal import Principal
from charter.auth.roles import Permission, permissions_of
from charter.auth.users import get_user
from charter.db.base import utcnow
from charter.errors import Conflict, InvalidInput, NotFound

PREFIX = "cht_"
MAX_EXPIRES_DAYS = 3650
LAST_USED_EVERY = timedelta(minutes=1)
"""``last_used_at`` is written at most this often, not on every request."""

_TOKEN = re.compile(r"cht_([0-9a-f]{12})_([0-9a-f]{64})")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def parse_scopes(scopes: Iterable[str | Permission]) -> frozenset[Permission]:
    parsed: set[Permission] = set()
    for scope in scopes:
        try:
            parsed.add(Permission(str(scope).strip()))
        except ValueError:
            known = ", ".join(p.value for p in Permission)
            raise InvalidInput(f"unknown scope {str(scope)[:40]!r}; known scopes: {known}") from None
    if not parsed:
        raise InvalidInput("a token needs at least one scope")
    return frozenset(parsed)


def create_token(
    session: Session,
    *,
    username: str,
    name: str,
    scopes: Iterable[str | Permission],
    expires_days: int | None = None,
    actor: str,
) -> tuple[str, ApiToken]:
    """Issue a token for ``username``; return the token string (shown once) and its row."""
    owner = get_user(session, username)
    if not owner.active:
        raise InvalidInput("a disabled user cannot own new tokens")
    name = name.strip()
    if not 1 <= len(name) <= TOKEN_NAME_MAX or any(ord(c) < 32 for c in name):
        raise InvalidInput(f"a token name is 1 to {TOKEN_NAME_MAX} printable characters")
    wanted = parse_scopes(scopes)
    beyond = wanted - permissions_of(owner.role)
    if beyond:
        listed = ", ".join(sorted(beyond))
        raise InvalidInput(f"the {owner.role} role does not have {listed}; a token cannot exceed its owner")
    if expires_days is not None and not 1 <= expires_days <= MAX_EXPIRES_DAYS:
        raise InvalidInput(f"--expires-days must be between 1 and {MAX_EXPIRES_DAYS}")
    token_id = _new_token_id(session)
    secret = secrets.token_hex(32)
    now = utcnow()
    row = ApiToken(
        token_id=token_id,
        owner=owner,
        owner_id=owner.id,
        name=name,
        scopes=sorted(wanted),
        secret_hash=_digest(secret),
        created_at=now,
        expires_at=None if expires_days is None else now + timedelta(days=expires_days),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="token.created",
        target=f"user:{owner.username}",
        data={"token_id": token_id, "scopes": list(row.scopes), "name": name, "expires_days": expires_days},
    )
    return f"{PREFIX}{token_id}_{secret}", row


def _new_token_id(session: Session) -> str:
    for _ in range(5):  # 48 random bits: a clash is already unlikely
        token_id = secrets.token_hex(6)
        if session.scalar(select(ApiToken.id).where(ApiToken.token_id == token_id)) is None:
            return token_id
    raise Conflict("could not pick a free token id; try again")


_TOKEN_ID = re.compile(r"[0-9a-f]{12}")


def get_token(session: Session, token_id: str) -> ApiToken:
    token_id = token_id.strip().lower()
    row = None
    if _TOKEN_ID.fullmatch(token_id):
        row = session.scalars(select(ApiToken).where(ApiToken.token_id == token_id)).one_or_none()
    if row is None:
        raise NotFound("no token has this id")
    return row


def revoke_token(session: Session, *, token_id: str, actor: str) -> ApiToken:
    """Stop a token working at once. Revoking a revoked token changes nothing."""
    row = get_token(session, token_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="token.revoked",
            target=f"user:{row.owner.username}",
            data={"token_id": row.token_id},
        )
    return row


def list_tokens(session: Session, *, username: str | None = None) -> list[ApiToken]:
    query = select(ApiToken).join(ApiToken.owner).order_by(User.username, ApiToken.created_at)
    if username is not None:
        query = query.where(ApiToken.owner_id == get_user(session, username).id)
    return list(session.scalars(query))


def principal_from_token(session: Session, token: str) -> Principal | None:
    """The caller behind a bearer token, or None if it is malformed, wrong, expired,
    revoked, or its owner is disabled."""
    match = _TOKEN.fullmatch(token)
    if match is None:
        return None
    token_id, secret = match.groups()
    row = session.scalars(select(ApiToken).where(ApiToken.token_id == token_id)).one_or_none()
    if row is None or not hmac.compare_digest(_digest(secret), row.secret_hash):
        return None
    now = utcnow()
    if row.revoked_at is not None or (row.expires_at is not None and row.expires_at <= now):
        return None
    owner = row.owner
    if not owner.active:
        return None
    known = {p.value for p in Permission}
    scopes = frozenset(Permission(s) for s in row.scopes if s in known)
    if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
        row.last_used_at = now
    return Principal(kind="token", name=row.token_id, role=owner.role, permissions=scopes & permissions_of(owner.role))
