"""Sealed before/after records of corrections (P-RGT-2), referenced from the audit log by id and digest.

The audit log refuses personal data, yet a correction must be provable: what
each field held before and what it holds now. So the values live here,
sealed with the key ring under a context naming the request and the step
(a record copied to another request does not open), and the audit entry of
the ``update`` step carries only this record's id and the SHA-256 of its
plaintext. The plaintext starts with 128 random bits, so the digest cannot be
confirmed by guessing a surname. Staff open a record through
``charter requests correction ID`` or ``GET /api/v1/requests/{id}/correction``;
each opening is audited (P-SEC-1). See docs/design/suppression.md.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from charter import audit
from charter.crypto import KeyRing
from charter.db.base import Base, utcnow
from charter.errors import InvalidInput, NotFound
from charter.execution.steps import Step
from charter.requests.kinds import RequestKind
from charter.requests.models import PrivacyRequest


class CorrectionRecord(Base):
    """One ``update`` step's before and after, sealed; names and counts in the clear, values never."""

    __tablename__ = "correction_records"
    __table_args__ = (UniqueConstraint("request_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(32))
    system: Mapped[str] = mapped_column(String(80))
    collection: Mapped[str] = mapped_column(String(200))
    fields: Mapped[list[str]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def _context(request: str, step_id: str) -> bytes:
    return b"charter.correction\x00" + request.encode() + b"\x00" + step_id.encode()


def before_after(step: Step, key: str, rows: list[dict[str, Any]], corrected: Any) -> dict[str, Any]:
    """What an update changes: per row (by primary key), each named field's value before and after."""
    names = sorted(f.field for f in step.fields)
    return {
        "system": step.system,
        "collection": step.collection,
        "key": key,
        "fields": names,
        "rows": [
            {"key": row[key], "before": {n: row.get(n) for n in names}, "after": dict.fromkeys(names, corrected)}
            for row in rows
        ],
    }


def store(session: Session, keys: KeyRing, request: str, step: Step, document: dict[str, Any]) -> CorrectionRecord:
    """Seal and keep one step's before/after (in the caller's transaction); the stored row if it exists."""
    row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == request))
    if row is None:
        raise NotFound(f"request {request[:32]} does not exist")
    found = session.scalar(
        select(CorrectionRecord).where(CorrectionRecord.request_id == row.id, CorrectionRecord.step_id == step.id)
    )
    if found is not None:
        return found
    plaintext = json.dumps(
        {"salt": secrets.token_hex(16), "request": request, "step": step.id, **document},
        sort_keys=True,
        default=str,
    ).encode()
    record = CorrectionRecord(
        request_id=row.id,
        step_id=step.id,
        system=step.system,
        collection=step.collection,
        fields=list(document.get("fields", [])),
        rows=len(document.get("rows", [])),
        sealed=keys.seal(plaintext, context=_context(request, step.id)),
        sha256=hashlib.sha256(plaintext).hexdigest(),
    )
    session.add(record)
    session.flush()
    return record


def opened(keys: KeyRing, request: str, record: CorrectionRecord) -> dict[str, Any]:
    """A record's before/after, checked against its digest (a SealBroken if the key or row is wrong)."""
    plaintext = keys.open(record.sealed, context=_context(request, record.step_id))
    if hashlib.sha256(plaintext).hexdigest() != record.sha256:
        raise InvalidInput(f"correction record {record.id} does not match its digest; it was altered")
    document: dict[str, Any] = json.loads(plaintext)
    document.pop("salt", None)
    return document


def read(session: Session, keys: KeyRing, row: PrivacyRequest, *, actor: str) -> dict[str, Any]:
    """The before/after of a correction request, for staff; the opening is audited (P-SEC-1, P-RGT-2).

    A request that is not a correction is refused (400); one with no record
    yet (not carried out) is NotFound.
    """
    if RequestKind(row.kind) != RequestKind.CORRECTION:
        raise InvalidInput(f"request {row.public_id} is a {RequestKind(row.kind).value} request, not a correction")
    records = list(
        session.scalars(
            select(CorrectionRecord).where(CorrectionRecord.request_id == row.id).order_by(CorrectionRecord.id)
        )
    )
    if not records:
        raise NotFound(f"request {row.public_id} has no correction record yet (it has not been carried out)")
    shown = [
        {
            "record": record.id,
            "sha256": record.sha256,
            "recorded_at": record.created_at.isoformat(),
            **opened(keys, row.public_id, record),
        }
        for record in records
    ]
    audit.record(
        session,
        actor=actor,
        action="execution.correction_read",
        target=f"request:{row.public_id}",
        data={"records": [r.id for r in records]},
    )
    return {"request": row.public_id, "records": shown}
