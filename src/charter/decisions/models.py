"""The decision log: a sampled record of decisions, for audit (who asked what, and the answer)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base


class DecisionLogEntry(Base):
    """One decision as given. Names the person by public id only, never by an identity."""

    __tablename__ = "decision_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    decided_at: Mapped[datetime] = mapped_column(index=True)
    asked_for: Mapped[datetime] = mapped_column()
    system: Mapped[str] = mapped_column(String(120), default="")
    person: Mapped[str | None] = mapped_column(String(32), index=True, default=None)
    purpose: Mapped[str] = mapped_column(String(80), index=True)
    action: Mapped[str] = mapped_column(String(16))
    categories: Mapped[list[str]] = mapped_column(JSON)
    recipient: Mapped[str | None] = mapped_column(String(80), default=None)
    outcome: Mapped[str] = mapped_column(String(8))
    statement_version: Mapped[str] = mapped_column(String(64))
    reasons: Mapped[list[dict[str, object]]] = mapped_column(JSON)
