"""Statement versions: read a file, publish it immutably, find the one in force.

An organization lives under a sequence of statements. Each published
version is a new row that is never changed; the version in force at a time
``t`` is the one with the latest effective date not after ``t``.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charter.audit.service import record
from charter.errors import EffectiveDateRegression, InputTooLarge, InvalidInput, NotFound, VersionExists
from charter.policy.check import ensure_valid
from charter.policy.loader import Loaded, load
from charter.policy.models import PolicyVersion
from charter.policy.schema import Statement
from charter.settings import PolicySettings


def read_text(data: bytes | str, *, source: str, limits: PolicySettings) -> Loaded:
    """Parse, validate and check a statement; raise with every problem found."""
    return ensure_valid(load(data, source=source, max_bytes=limits.max_bytes, max_nodes=limits.max_nodes))


def read_file(path: Path, *, limits: PolicySettings) -> tuple[Loaded, bytes]:
    """Like ``read_text`` for a file, refusing an oversized file before reading it."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read the file ({exc.strerror}); check the path") from None
    if size > limits.max_bytes:
        raise InputTooLarge(
            f"{path}: the file is {size:,} bytes; statements may be at most {limits.max_bytes:,} bytes "
            "(CHARTER_POLICY_MAX_BYTES)"
        )
    data = path.read_bytes()
    return read_text(data, source=str(path), limits=limits), data


def publish(session: Session, loaded: Loaded, raw: bytes | str, *, actor: str) -> PolicyVersion:
    """Store a checked statement as a new immutable version (P-STM-1).

    Refuses a version that exists, and an effective date that is not after
    every published one: history is only ever appended to.
    """
    statement = loaded.statement
    if session.scalar(select(PolicyVersion.id).where(PolicyVersion.version == statement.version)) is not None:
        raise VersionExists(f"version {statement.version} is already published; give the new file a new version")
    latest = session.scalar(select(func.max(PolicyVersion.effective)))
    if latest is not None and statement.effective <= latest:
        raise EffectiveDateRegression(
            f"effective date {statement.effective} is not after {latest}, the latest published; "
            "a new version must take effect later"
        )
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    row = PolicyVersion(
        version=statement.version,
        effective=statement.effective,
        title=statement.title,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
        source_name=Path(loaded.source).name[:255],
        source_text=text,
        document=statement.model_dump(mode="json"),
        published_by=actor,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise VersionExists(f"version {statement.version} was published meanwhile") from None
    record(
        session,
        actor=actor,
        action="policy.published",
        target=f"policy_version:{statement.version}",
        data={"effective": statement.effective.isoformat(), "sha256": row.sha256},
    )
    return row


def versions(session: Session) -> list[PolicyVersion]:
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective)))


_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-]{0,63}$")


def get(session: Session, version: str) -> PolicyVersion:
    """The published version ``version``; NotFound for unknown or impossible ids."""
    row = None
    if _VERSION.fullmatch(version):
        row = session.scalar(select(PolicyVersion).where(PolicyVersion.version == version))
    if row is None:
        shown = version if _VERSION.fullmatch(version) else "(not a version id)"
        raise NotFound(f"no published statement has version {shown}; see `charter policy versions`")
    return row


def today() -> date:
    """The day by which "the statement in force" is read everywhere: the UTC date, as the ledger dates events."""
    return datetime.now(UTC).date()


def in_force(session: Session, at: date) -> PolicyVersion | None:
    """The version whose effective date is the latest not after ``at``."""
    return session.scalar(
        select(PolicyVersion).where(PolicyVersion.effective <= at).order_by(PolicyVersion.effective.desc()).limit(1)
    )


def statement_for(session: Session, version: str) -> Statement:
    """The parsed statement of the published version ``version`` (NotFound as :func:`get`). A version already
    parsed costs one small read (its hash), not the whole stored document: every e-mail names the
    organization from the statement its request was made under."""
    if _VERSION.fullmatch(version):
        sha256 = session.scalar(select(PolicyVersion.sha256).where(PolicyVersion.version == version))
        cached = _parsed.get(sha256) if sha256 is not None else None
        if cached is not None:
            return cached
    return statement_of(get(session, version))


def statement_of(row: PolicyVersion) -> Statement:
    """The parsed statement of a version, memoized by content hash (rows never change)."""
    cached = _parsed.get(row.sha256)
    if cached is None:
        cached = Statement.model_validate(row.document)
        if len(_parsed) > 256:
            _parsed.clear()
        _parsed[row.sha256] = cached
    return cached


_parsed: dict[str, Statement] = {}
