"""The ledger's two tables: the events (append-only) and each person's projected state.

``ledger_events`` is the record; ``subject_states`` is a cache of
``project(events)`` per person, kept on write and rebuildable from the
events at any time (``charter ledger rebuild``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow


class LedgerEvent(Base):
    """One event as recorded. Never updated, except ``person_id`` when two people merge."""

    __tablename__ = "ledger_events"
    __table_args__ = (Index("ix_ledger_events_person_at", "person_id", "at", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column()
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    source: Mapped[str] = mapped_column(String(32))
    statement_version: Mapped[str | None] = mapped_column(String(64), default=None)
    jurisdiction: Mapped[str | None] = mapped_column(String(16), default=None)
    evidence: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SubjectState(Base):
    """A person's state after every event up to ``last_event_id`` (ordered by at, id)."""

    __tablename__ = "subject_states"

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, autoincrement=False)
    state: Mapped[dict[str, Any]] = mapped_column(JSON)
    last_event_id: Mapped[int | None] = mapped_column(Integer, default=None)
    last_at: Mapped[datetime | None] = mapped_column(default=None)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
