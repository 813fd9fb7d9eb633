"""The audit log's one table: append-only, hash-chained entries."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, event
from sqlalchemy.orm import Mapped, mapped_column

from charter.audit.chain import ChainedEntry, timestamp
from charter.db.base import Base
from charter.errors import CharterError


class AuditEntry(Base):
    """One change of state. Written once by ``charter.audit.record``, never changed.

    ``seq`` is assigned by ``record`` (1, 2, 3 … with no gaps), not by the
    database, because it is part of the hash and must be known before insert.
    """

    __tablename__ = "audit_entries"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column()
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100), index=True)
    target: Mapped[str] = mapped_column(String(255), index=True)
    data: Mapped[dict[str, object]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    def as_dict(self) -> dict[str, object]:
        """Every field, ``at`` in the hashed form: what export and ``--json`` show."""
        return self.chained().as_dict()

    def chained(self) -> ChainedEntry:
        """This entry as plain values, ready to re-hash."""
        return ChainedEntry(
            seq=self.seq,
            at=timestamp(self.at),
            actor=self.actor,
            action=self.action,
            target=self.target,
            data=self.data,
            prev_hash=self.prev_hash,
            hash=self.hash,
        )


def _refuse_change(_mapper: object, _connection: object, target: AuditEntry) -> None:
    # A bug that modifies an entry through the ORM should fail loudly here,
    # not surface weeks later as a broken chain.
    raise CharterError(f"audit entry {target.seq} is append-only; it cannot be changed or deleted")


event.listen(AuditEntry, "before_update", _refuse_change)
event.listen(AuditEntry, "before_delete", _refuse_change)
