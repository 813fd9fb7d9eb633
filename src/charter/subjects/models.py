"""People (data subjects) and the identities they are known by.

An identity is stored twice, neither time in the clear: a keyed hash to find
it (``lookup_hash``, unique per kind) and the normalized value sealed with
AES-GCM (``sealed``) for the rare reader allowed to see it (P-SEC-1).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow


def new_public_id() -> str:
    return uuid.uuid4().hex


class Person(Base):
    """A data subject. APIs name them by ``public_id``; ``id`` never leaves the database."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(32), unique=True, default=new_public_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    merged_into: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True, default=None)


class Identity(Base):
    """One way a person is known: an e-mail, a phone, an account or cookie id …"""

    __tablename__ = "identities"
    __table_args__ = (UniqueConstraint("kind", "lookup_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    lookup_hash: Mapped[str] = mapped_column(String(64))
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
