"""One table: the keyed hashes of identities whose owner was erased, and why.

A row holds no identity in any readable form: ``lookup_hash`` is the same
HMAC the Vault files identities under (``subjects.Vault.lookup_hash``), so a
later lookup by e-mail finds the row without the e-mail ever being stored
again. ``person`` is the erased person's public id (their row stays, empty,
for the tombstoned ledger and the audit log), so a decision asked by that id
is suppressed too.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow

ERASED = "erased"
"""The one reason so far: the person's data was erased at their request."""


class Suppressed(Base):
    """An identity (by keyed hash) that must not be contacted again; one row per (kind, hash)."""

    __tablename__ = "suppression_list"
    __table_args__ = (UniqueConstraint("kind", "lookup_hash"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40))
    lookup_hash: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32), default=ERASED)
    #: the request whose completion put the hash here (its public id)
    request: Mapped[str] = mapped_column(String(32))
    #: the erased person's public id, when Charter knew them (None: the request's identity only)
    person: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
