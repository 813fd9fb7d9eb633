"""Privacy requests, their documents and e-mails, and legal holds.

The requester's identity is stored as elsewhere in Charter: a keyed hash to
find it and the normalized value sealed with AES-GCM, never in the clear
(P-SEC-1). Details that may hold personal data (a corrected value, a third
party's address, an agent's name) are one sealed JSON document; a proof of
agency is sealed too. The staff's decision note is plain text: it is
written to be sent to the requester and shown in the console.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow
from charter.subjects.models import new_public_id


class PrivacyRequest(Base):
    """One request by one person (or their agent), from receipt to its answer."""

    __tablename__ = "privacy_requests"
    __table_args__ = (Index("ix_privacy_requests_status_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(32))
    jurisdiction: Mapped[str] = mapped_column(String(80))
    statement_version: Mapped[str] = mapped_column(String(64))
    verification: Mapped[str] = mapped_column(String(32))
    offered: Mapped[bool] = mapped_column(Boolean, default=True)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    acknowledge_by: Mapped[datetime | None] = mapped_column(default=None)
    acknowledged_at: Mapped[datetime | None] = mapped_column(default=None)
    original_due_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime] = mapped_column(index=True)
    extended_at: Mapped[datetime | None] = mapped_column(default=None)
    extension_reason: Mapped[str | None] = mapped_column(Text, default=None)
    identity_kind: Mapped[str] = mapped_column(String(40))  # email, phone, or a kind the data map declares
    identity_hash: Mapped[str] = mapped_column(String(64), index=True)
    sealed_identity: Mapped[bytes] = mapped_column(LargeBinary)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True, default=None)
    challenge_id: Mapped[str | None] = mapped_column(String(32), unique=True, default=None)
    sealed_details: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    by_agent: Mapped[bool] = mapped_column(Boolean, default=False)
    verified_at: Mapped[datetime | None] = mapped_column(default=None)
    verified_via: Mapped[str | None] = mapped_column(String(16), default=None)
    decision_reason: Mapped[str | None] = mapped_column(String(32), default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(default=None)
    decided_by: Mapped[str | None] = mapped_column(String(200), default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestDocument(Base):
    """A file sent with a request (a proof of agency), sealed; only its type and size are in the clear."""

    __tablename__ = "request_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(32))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RequestNotice(Base):
    """An e-mail owed to the requester, written in the transaction of the change it reports.

    Sent after the commit; one that could not be sent stays pending (with
    the attempt count and a reason without personal data) until
    ``charter requests notify`` or the next change sends it.
    """

    __tablename__ = "request_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(index=True, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(200), default=None)
    #: taken by a deliverer sending it; others skip it until ``notices.CLAIM_LEASE`` has passed
    claimed_at: Mapped[datetime | None] = mapped_column(default=None)


class LegalHold(Base):
    """Records about a person, or in a system, that must not be destroyed until released (P-RET-3)."""

    __tablename__ = "legal_holds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True, default=None)
    system: Mapped[str | None] = mapped_column(String(80), index=True, default=None)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    created_by: Mapped[str] = mapped_column(String(200))
    released_at: Mapped[datetime | None] = mapped_column(default=None)
    released_by: Mapped[str | None] = mapped_column(String(200), default=None)
    release_reason: Mapped[str | None] = mapped_column(Text, default=None)


# -- facts matching (charter.requests.factcheck; migration 0010) ------------------------


class RequestFacts(Base):
    """Whether the requester of a high-risk request proved facts Charter already holds (P-RGT-7).

    One row per request that needs it, written at intake (``outcome`` pending).
    Only the outcome is kept: counts and, per fact kind, matched / not
    matched / not held. The facts the requester typed and the values the
    stores hold are never stored, logged or audited.
    """

    __tablename__ = "request_facts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), unique=True)
    #: pending | matched | not_matched | no_facts | unavailable
    outcome: Mapped[str] = mapped_column(String(16), default="pending")
    #: facts given; of those, facts the stores hold a value for; of those, facts that matched
    given: Mapped[int] = mapped_column(Integer, default=0)
    compared: Mapped[int] = mapped_column(Integer, default=0)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    #: fact kind → matched | not_matched | not_held (names only, never a value)
    kinds: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    checked_at: Mapped[datetime | None] = mapped_column(default=None)


# -- requests started without an e-mail address (charter.requests.status_secret; migration 0014) --------


class RequestSecret(Base):
    """The status secret of a request started from a phone or another identifier: the requester's only way back.

    Shown once at submission (a link to keep); only its SHA-256 is stored. It
    opens that request's status page, its facts form and its copy; it proves
    nothing about identity (facts and the office do that).
    """

    __tablename__ = "request_secrets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(default=None)
    uses: Mapped[int] = mapped_column(Integer, default=0)
