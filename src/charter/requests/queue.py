"""The privacy office's queue: requests by due date, one request with its timeline and holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.audit.models import AuditEntry
from charter.db.base import utcnow
from charter.errors import InvalidInput
from charter.requests import claimed, factcheck, holds, identity_start, notices
from charter.requests.kinds import CLOSED, RequestKind, Status
from charter.requests.models import LegalHold, PrivacyRequest, RequestDocument
from charter.requests.review import person_id_of
from charter.requests.sealing import details_of
from charter.subjects.models import Person
from charter.subjects.normalize import mask
from charter.subjects.service import Vault

MAX_PAGE = 500
OPEN = "open"


@dataclass(frozen=True)
class Summary:
    public_id: str
    kind: str
    status: str
    jurisdiction: str
    statement_version: str
    received_at: datetime
    due_at: datetime
    extended: bool
    overdue: bool
    by_agent: bool

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.public_id,
            "type": self.kind,
            "status": self.status,
            "jurisdiction": self.jurisdiction,
            "statement_version": self.statement_version,
            "received_at": self.received_at.isoformat(),
            "due_at": self.due_at.isoformat(),
            "extended": self.extended,
            "overdue": self.overdue,
            "by_agent": self.by_agent,
        }


def overdue(row: PrivacyRequest, now: datetime) -> bool:
    return Status(row.status) not in CLOSED and row.due_at < now


def summary(row: PrivacyRequest, now: datetime) -> Summary:
    return Summary(
        public_id=row.public_id,
        kind=row.kind,
        status=row.status,
        jurisdiction=row.jurisdiction,
        statement_version=row.statement_version,
        received_at=row.received_at,
        due_at=row.due_at,
        extended=row.extended_at is not None,
        overdue=overdue(row, now),
        by_agent=row.by_agent,
    )


def listed(
    session: Session,
    *,
    status: str | None = OPEN,
    kind: str | None = None,
    only_overdue: bool = False,
    limit: int = 100,
    now: datetime | None = None,
) -> list[Summary]:
    """Requests by due date, soonest first. ``status``: one state, ``open`` (not answered) or None (all)."""
    now = now or utcnow()
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    statement = select(PrivacyRequest).order_by(PrivacyRequest.due_at, PrivacyRequest.id).limit(limit)
    if status == OPEN or only_overdue:
        statement = statement.where(PrivacyRequest.status.not_in([s.value for s in CLOSED]))
    elif status is not None:
        try:
            statement = statement.where(PrivacyRequest.status == Status(status).value)
        except ValueError:
            known = ", ".join([OPEN, *(s.value for s in Status)])
            raise InvalidInput(f"status is not known; use one of {known}") from None
    if kind is not None:
        try:
            statement = statement.where(PrivacyRequest.kind == RequestKind(kind).value)
        except ValueError:
            raise InvalidInput(f"type is not known; use one of {', '.join(k.value for k in RequestKind)}") from None
    if only_overdue:
        statement = statement.where(PrivacyRequest.due_at < now)
    return [summary(row, now) for row in session.scalars(statement)]


@dataclass(frozen=True)
class Step:
    at: datetime
    actor: str
    action: str
    data: dict[str, object]


def timeline(session: Session, row: PrivacyRequest) -> list[Step]:
    """What happened to the request, from the audit log, oldest first."""
    entries = session.scalars(
        select(AuditEntry).where(AuditEntry.target == f"request:{row.public_id}").order_by(AuditEntry.seq)
    )
    return [Step(e.at, e.actor, e.action, dict(e.data)) for e in entries]


def hold_dict(session: Session, hold: LegalHold) -> dict[str, object]:
    return {
        "id": hold.public_id,
        "person": holds.person_public_id(session, hold),
        "system": hold.system,
        "reason": hold.reason,
        "created_at": hold.created_at.isoformat(),
        "created_by": hold.created_by,
        "released_at": None if hold.released_at is None else hold.released_at.isoformat(),
        "released_by": hold.released_by,
        "release_reason": hold.release_reason,
    }


def document(
    session: Session, row: PrivacyRequest, now: datetime | None = None, *, vault: Vault | None = None
) -> dict[str, object]:
    """Everything the office sees about a request; personal values stay sealed (the details are not shown).

    With ``vault``, the other identifiers the requester gave are shown **masked** (``***23``), with whether
    the office confirmed them: enough to compare with what the office holds, never the value in a log."""
    now = now or utcnow()
    person_id = person_id_of(session, row)
    person = None if person_id is None else session.get_one(Person, person_id).public_id
    documents = session.scalars(select(RequestDocument).where(RequestDocument.request_id == row.id))
    waiting = notices.pending(session, request_id=row.id)
    return {
        **summary(row, now).as_dict(),
        "original_due_at": row.original_due_at.isoformat(),
        "acknowledge_by": None if row.acknowledge_by is None else row.acknowledge_by.isoformat(),
        "acknowledged_at": None if row.acknowledged_at is None else row.acknowledged_at.isoformat(),
        "extension_reason": row.extension_reason,
        "verification": row.verification,
        "offered_by_statement": row.offered,
        "verified_at": None if row.verified_at is None else row.verified_at.isoformat(),
        "verified_via": row.verified_via,
        "facts": factcheck.describe(factcheck.state_of(session, row)),
        # a request made without an e-mail address: the kind it started from and what proves it (issue 11)
        "identity_kind": row.identity_kind,
        "without_email": identity_start.describe(session, row, now=now),
        "person": person,
        "decision": {
            "ground": row.decision_reason,
            "note": row.decision_note,
            "at": None if row.decided_at is None else row.decided_at.isoformat(),
            "by": row.decided_by,
        },
        "documents": [{"purpose": d.purpose, "content_type": d.content_type, "size": d.size} for d in documents],
        "holds": [hold_dict(session, hold) for hold in holds.active_for(session, person_id)],
        "other_identities": [] if vault is None else _others(vault, row),
        "emails_pending": len(waiting),
        "timeline": [
            {"at": step.at.isoformat(), "actor": step.actor, "action": step.action, "data": step.data}
            for step in timeline(session, row)
        ],
    }


def _others(vault: Vault, row: PrivacyRequest) -> list[dict[str, object]]:
    """The requester's other identifiers, masked (charter.requests.claimed)."""
    opened = details_of(vault, row)
    confirmed = claimed.confirmed(opened)
    return [
        {"kind": kind, "masked": mask(kind, value), "confirmed": confirmed}
        for kind, values in sorted(claimed.claimed_of(opened).items())
        for value in values
    ]
