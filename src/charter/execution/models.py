"""Execution state in Charter's own database: one run per request, one row per step of its plan.

Nothing personal is stored in the clear: ``summary`` holds counts and
names only; what later steps need (the rows a fetch found, to erase them by
primary key or to write the package) is ``sealed`` with the key ring, its
context naming the request and the step. See docs/design/execution.md.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from charter.db.base import Base, utcnow


class ExecutionRun(Base):
    """The frozen plan of one request (its digest) and how carrying it out ended."""

    __tablename__ = "execution_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("privacy_requests.id"), unique=True)
    plan_digest: Mapped[str] = mapped_column(String(64))
    #: running | completed | failed
    status: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    #: deletion: the certificate (systems, collections, rows, strategies, times, audit references)
    certificate: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: access/portability: the package's name (set while it is kept: ``ExecutionPackage``; before migration
    #: 0013 a file under CHARTER_HOME/packages), and the SHA-256 of its zip
    package: Mapped[str | None] = mapped_column(String(200), default=None)
    package_sha256: Mapped[str | None] = mapped_column(String(64), default=None)
    #: how many times the office retried the run after it failed (charter.execution.retry; migration 0012)
    retries: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: the office gave up on the failed request: when, who, and the reason the requester was sent
    given_up_at: Mapped[datetime | None] = mapped_column(default=None)
    given_up_by: Mapped[str | None] = mapped_column(String(200), default=None)
    given_up_reason: Mapped[str | None] = mapped_column(Text, default=None)


class ExecutionStep(Base):
    """One step of a run: claimed by one worker at a time under a lease, done once."""

    __tablename__ = "execution_steps"
    __table_args__ = (UniqueConstraint("run_id", "step_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("execution_runs.id"), index=True)
    step_id: Mapped[str] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    system: Mapped[str] = mapped_column(String(80))
    collection: Mapped[str] = mapped_column(String(200))
    #: SHA-256 of the step as planned (a retry keeps a done step only if the new plan has the same step)
    digest: Mapped[str | None] = mapped_column(String(64), default=None)
    #: pending | claimed | done | failed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    lease_until: Mapped[datetime | None] = mapped_column(default=None)
    #: counts and names only (rows found, erased, keys found): never a personal value
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    #: what later steps need (the rows found), sealed with context request + step
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    error: Mapped[str | None] = mapped_column(String(300), default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class ExecutionPackage(Base):
    """The sealed access/portability package of a completed run (charter.execution.package), until retention
    drops it. Inserted in the transaction that completes the run: "completed" and the copy are one commit."""

    __tablename__ = "execution_packages"

    run_id: Mapped[int] = mapped_column(ForeignKey("execution_runs.id"), primary_key=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
