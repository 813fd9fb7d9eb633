"""E-mail challenges: proof that a visitor controls an address, stored without the address.

A row holds the keyed hash of the normalized address (to rate-limit and to
match), the address sealed with AES-GCM (to create the person only once the
code is right), and keyed hashes of the six-digit code and of the link
token — never any of them in the clear (P-SEC-1). Rows are short-lived and
pruned a day after they expire.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow


class EmailChallenge(Base):
    """One code (and link) sent to one address; works once, for a while, for a few tries."""

    __tablename__ = "email_challenges"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # What the proof is for ("preferences", "requests"): a code sent for one never works for the other.
    purpose: Mapped[str] = mapped_column(String(32), default="preferences", server_default="preferences")
    email_hash: Mapped[str] = mapped_column(String(64), index=True)
    sealed_email: Mapped[bytes] = mapped_column(LargeBinary)
    code_hash: Mapped[str] = mapped_column(String(64))
    link_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    used_at: Mapped[datetime | None] = mapped_column(default=None)
