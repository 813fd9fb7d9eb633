"""Legal holds (P-RET-3): records about a person, or in a system, kept until the matter is closed.

A hold is placed and released with a reason, both audited; it is never
deleted. An active hold on the person blocks approval of their deletion
request (:func:`charter.requests.review.approve`) and is shown with the
request; a hold on a system is shown too and handed to the executor, which
leaves that system's records in place.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import bindparam, or_, select
from sqlalchemy.orm import Session

from charter import audit
from charter.db.base import utcnow
from charter.errors import Conflict, InvalidInput, NotFound
from charter.requests.models import LegalHold
from charter.subjects import service as subjects
from charter.subjects.models import Person

MAX_REASON = 2_000
_SYSTEM = re.compile(r"[a-z][a-z0-9_.\-]{0,79}")


def _reason(text: str, what: str = "reason") -> str:
    text = text.strip()
    if not text or len(text) > MAX_REASON:
        raise InvalidInput(f"a {what} is required (at most {MAX_REASON:,} characters)")
    return text


def place(
    session: Session,
    *,
    reason: str,
    actor: str,
    person: Person | None = None,
    system: str | None = None,
    now: datetime | None = None,
) -> LegalHold:
    """Hold a person's records, or a system's, until released."""
    if (person is None) == (system is None):
        raise InvalidInput("a legal hold covers one person or one system: give exactly one")
    if system is not None and not _SYSTEM.fullmatch(system):
        raise InvalidInput("a system is named by an id: lower-case letters, digits, '_', '-' or '.'")
    now = now or utcnow()
    hold = LegalHold(
        person_id=None if person is None else subjects.canonical(session, person).id,
        system=system,
        reason=_reason(reason),
        created_at=now,
        created_by=actor,
    )
    session.add(hold)
    session.flush()
    target = f"person:{subjects.canonical(session, person).public_id}" if person is not None else f"system:{system}"
    audit.record(session, actor=actor, action="hold.placed", target=target, data={"hold": hold.public_id})
    return hold


def get(session: Session, public_id: str) -> LegalHold:
    hold = session.scalar(select(LegalHold).where(LegalHold.public_id == public_id[:32]))
    if hold is None:
        raise NotFound("no legal hold has this id; `charter holds list` shows them")
    return hold


def release(session: Session, public_id: str, *, reason: str, actor: str, now: datetime | None = None) -> LegalHold:
    hold = get(session, public_id)
    if hold.released_at is not None:
        raise Conflict(f"legal hold {hold.public_id} was already released")
    hold.released_at = now or utcnow()
    hold.released_by = actor
    hold.release_reason = _reason(reason, "reason for the release")
    session.flush()
    audit.record(
        session, actor=actor, action="hold.released", target=f"hold:{hold.public_id}", data={"hold": hold.public_id}
    )
    return hold


def listed(session: Session, *, active_only: bool = True) -> list[LegalHold]:
    statement = select(LegalHold).order_by(LegalHold.created_at.desc(), LegalHold.id.desc())
    if active_only:
        statement = statement.where(LegalHold.released_at.is_(None))
    return list(session.scalars(statement.limit(1000)))


#: built once (every run of a deletion asks): holds on any system, or on the person (``:person`` NULL matches none)
_ACTIVE_FOR = (
    select(LegalHold)
    .where(
        LegalHold.released_at.is_(None),
        or_(LegalHold.system.is_not(None), LegalHold.person_id == bindparam("person")),
    )
    .order_by(LegalHold.created_at)
)


def active_for(session: Session, person_id: int | None) -> list[LegalHold]:
    """The active holds that concern a request: on its person (if known), and on any system."""
    return list(session.scalars(_ACTIVE_FOR, {"person": person_id}))


def person_public_id(session: Session, hold: LegalHold) -> str | None:
    if hold.person_id is None:
        return None
    return session.get_one(Person, hold.person_id).public_id
