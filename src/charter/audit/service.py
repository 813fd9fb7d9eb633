"""Appending to, reading and exporting the audit log.

Every function takes the caller's ``Session`` and works inside the caller's
transaction: ``record`` never commits, so an audit entry and the change it
describes are committed together or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import BigInteger, bindparam, insert, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from charter.audit.chain import (
    GENESIS_HASH,
    ChainedEntry,
    canonical_json,
    entry_hash,
    timestamp,
)
from charter.audit.models import AuditEntry
from charter.db.base import utcnow
from charter.errors import Conflict, InvalidInput

CHAIN_LOCK_KEY = int.from_bytes(b"ch-audit", "big")
"""PostgreSQL advisory lock key that serializes appends. Other code must not reuse it."""

BATCH = 1000
"""Rows fetched per round trip when streaming the whole log."""

MAX_DATA_CHARS = 8_000
"""``data`` is for ids, counts and hashes; anything bigger is a mistake."""

MAX_PAGE = 500

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")
_ACTOR = re.compile(r"[a-z][a-z0-9_-]*(:\S+)?")

# Keys that name a secret or a person's contact details. A guard against the
# obvious mistakes only: the rule is that callers pass ids, counts and hashes.
_FORBIDDEN_KEYS = frozenset(
    {"password", "passphrase", "secret", "secret_key", "api_key", "private_key", "email", "phone"}
)

_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.action,
    AuditEntry.target,
    AuditEntry.data,
    AuditEntry.prev_hash,
    AuditEntry.hash,
)


_FIELDS = ("seq", "at", "actor", "action", "target", "data", "prev_hash", "hash")
INSERT = insert(AuditEntry)


@dataclass(frozen=True)
class Entry:
    """An entry to append with :func:`record_many` (the same arguments as :func:`record`)."""

    actor: str
    action: str
    target: str
    data: Mapping[str, object] | None = None


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    target: str,
    data: Mapping[str, object] | None = None,
) -> AuditEntry | None:
    """Append one entry in the caller's transaction and return it (sent, not committed); inside
    :func:`gathered`, None: it is sent at the end of that block.

    The chain lock is held until the caller's transaction ends, so call this
    close to the commit: appends from other transactions wait meanwhile.
    """
    made = record_many(session, [Entry(actor, action, target, data)])
    return made[0] if made else None


#: where :func:`gathered` keeps the entries checked but not yet sent: a list in ``session.info``
_GATHERED = "charter.audit.gathered"


@contextmanager
def gathered(session: Session) -> Iterator[None]:
    """The entries recorded inside this block are checked as they are recorded and sent together at its end,
    chained in the order recorded, with one INSERT (and one take of the chain lock).

    For a transaction that records from several places (a run's end: its steps' erasures, ``execution.finished``
    and the request's ``request.completed``): each was an INSERT of its own. The lock is also taken later, so
    it is held for less of the transaction. If the block raises, nothing it recorded is sent. A block inside
    another joins it (its entries go with the outer block's)."""
    if _GATHERED in session.info:
        yield
        return
    pending: list[tuple[Entry, dict[str, object]]] = []
    session.info[_GATHERED] = pending
    try:
        yield
    finally:
        session.info.pop(_GATHERED, None)
    _append(session, pending)


def record_many(session: Session, wanted: Sequence[Entry]) -> list[AuditEntry]:
    """Append several entries, chained in order, with one INSERT (a runner's batch of erasures is one entry
    per step; a statement each was a round trip each). Every entry is checked before any is sent.

    Returns the entries appended; inside :func:`gathered`, none yet (they are appended at the end of it)."""
    if not wanted:
        return []
    checked = check(wanted)
    pending = session.info.get(_GATHERED)
    if pending is not None:
        if session.in_nested_transaction():  # its entries could be rolled back without the block's
            raise RuntimeError("audit.gathered does not cover savepoints: record outside the block")
        pending.extend(checked)
        return []
    return _append(session, checked)


Checked = Sequence[tuple[Entry, dict[str, object]]]


def check(wanted: Sequence[Entry]) -> list[tuple[Entry, dict[str, object]]]:
    """Each entry checked (InvalidInput naming the field, never the value), its data as it will be hashed."""
    checked = []
    for one in wanted:
        _check_text("actor", one.actor, 200, _ACTOR)
        _check_text("action", one.action, 100, _ACTION)
        _check_text("target", one.target, 255, None)
        checked.append((one, _clean_data(dict(one.data or {}))))
    return checked


def _append(session: Session, checked: Checked) -> list[AuditEntry]:
    """Send entries already checked: chained from the head, one INSERT."""
    if not checked:
        return []
    # The caller's own pending changes go first, so their errors stay theirs
    # and the IntegrityError below can only be about the audit entries.
    session.flush()
    made = chained(checked, _next_link(session))
    try:
        # a plain INSERT on the session's connection (an ORM flush of the entries cost more than the round
        # trip); several rows go as one multi-row INSERT (SQLAlchemy's "insertmanyvalues")
        rows = rows_of(made)
        session.connection().execute(INSERT, rows if len(rows) > 1 else rows[0])
    except IntegrityError as exc:
        # Only reachable if _lock_chain could not hold the lock (an autocommit
        # connection, another backend): the primary key refuses a forked chain.
        raise Conflict("another transaction appended to the audit log at the same time; retry") from exc
    if not session.in_nested_transaction():
        last = made[-1]
        session.info[_HEAD] = (session.get_transaction(), last.seq, last.hash)
    return made


def chained(checked: Checked, link: tuple[int, str]) -> list[AuditEntry]:
    """The entries, chained in order from ``link`` (the next seq and the previous hash: :func:`link_after`)."""
    seq, prev_hash = link
    made: list[AuditEntry] = []
    for one, clean in checked:
        at = utcnow()
        entry = AuditEntry(
            seq=seq,
            at=at,
            actor=one.actor,
            action=one.action,
            target=one.target,
            data=clean,
            prev_hash=prev_hash,
            hash=entry_hash(
                seq=seq,
                at=timestamp(at),
                actor=one.actor,
                action=one.action,
                target=one.target,
                data=clean,
                prev_hash=prev_hash,
            ),
        )
        made.append(entry)
        seq, prev_hash = seq + 1, entry.hash
    return made


def rows_of(made: Sequence[AuditEntry]) -> list[dict[str, object]]:
    """The rows :data:`INSERT` sends for chained entries."""
    return [{c: getattr(entry, c) for c in _FIELDS} for entry in made]


def link_after(head: tuple[int, str] | None) -> tuple[int, str]:
    """The next seq and previous hash after the chain's head as read (None: the log is empty)."""
    return (1, GENESIS_HASH) if head is None else (int(head[0]) + 1, str(head[1]))


#: where a transaction that appended keeps the chain's head: (that transaction, seq, hash)
_HEAD = "charter.audit.head"


def _next_link(session: Session) -> tuple[int, str]:
    """The next entry's seq and previous hash. The first append of a transaction takes the chain lock and
    reads the head; later appends of the same transaction still hold the lock, so they continue from the
    entry it wrote last (two round trips saved per entry: a request's completion writes several). Inside a
    savepoint the head is read again and forgotten, since the savepoint may be rolled back."""
    if session.in_nested_transaction():
        session.info.pop(_HEAD, None)
    else:
        held = session.info.get(_HEAD)
        if held is not None and held[0] is session.get_transaction():
            return held[1] + 1, held[2]
    bind = session.get_bind()
    if bind.dialect.name == "postgresql" and bind.dialect.driver == "psycopg":
        head = _locked_head_psycopg(session)
    else:
        _lock_chain(session)
        head = session.execute(HEAD_ROW).first()
    return link_after(None if head is None else (head[0], head[1]))


HEAD_ROW = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
#: the chain lock on PostgreSQL, held to the end of the transaction (:func:`_lock_chain`)
LOCK = text("SELECT pg_advisory_xact_lock(:key)").bindparams(bindparam("key", CHAIN_LOCK_KEY, type_=BigInteger))
#: Both in one simple-protocol message (no parameters: the key is our constant): one round trip instead of two.
#: PostgreSQL runs them one after the other and, under READ COMMITTED, takes the second one's snapshot after
#: the lock is granted, so the head read is the committed one — as with two separate statements.
_LOCK_AND_HEAD = (
    f"SELECT pg_advisory_xact_lock({int(CHAIN_LOCK_KEY)}); "  # noqa: S608 - this module's int constant, no input
    "SELECT seq, hash FROM audit_entries ORDER BY seq DESC LIMIT 1"
)


def _locked_head_psycopg(session: Session) -> tuple[int, str] | None:
    """Take the chain lock and read the head in one round trip, on the session's own connection."""
    raw = session.connection().connection.dbapi_connection
    assert raw is not None
    cursor = raw.cursor()
    try:
        cursor.execute(_LOCK_AND_HEAD)
        cursor.nextset()
        row = cursor.fetchone()
    finally:
        cursor.close()
    return None if row is None else (row[0], row[1])


def _lock_chain(session: Session) -> None:
    """Make this transaction the only appender until it ends.

    PostgreSQL: a transaction-scoped advisory lock; under READ COMMITTED the
    head is read by the next statement, after the lock is granted, so it is
    the committed head. SQLite: a write that matches no row takes the
    database write lock (waiting up to ``busy_timeout``); in WAL mode a
    transaction holding that lock always reads the latest commit. Other
    backends rely on the primary key alone.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(LOCK)
    elif dialect == "sqlite":
        session.execute(text("UPDATE audit_entries SET seq = seq WHERE 0 = 1"))


def _check_text(name: str, value: str, limit: int, pattern: re.Pattern[str] | None) -> None:
    # Messages name the field, never the value: it may be anything.
    if not value or len(value) > limit:
        raise InvalidInput(f"audit {name} must be 1 to {limit} characters")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise InvalidInput(f"audit {name} must not contain control characters")
    _check_encodable(name, value)
    if pattern is not None and not pattern.fullmatch(value):
        raise InvalidInput(f"audit {name} is not in the expected form")


def _check_encodable(name: str, value: str) -> None:
    # Lone surrogates cannot be stored as UTF-8 (PostgreSQL refuses them).
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(f"audit {name} is not valid Unicode") from None


def _clean_data(data: dict[str, object]) -> dict[str, object]:
    """Check ``data`` holds only hash-stable JSON values; return a plain copy."""
    cleaned = _clean_mapping(data, "data")
    if len(canonical_json(cleaned)) > MAX_DATA_CHARS:
        raise InvalidInput(f"audit data is larger than {MAX_DATA_CHARS} characters; record ids")
    return cleaned


def _clean_mapping(value: Mapping[Any, object], path: str) -> dict[str, object]:
    cleaned: dict[str, object] = {}
    for key, item in value.items():
        if not isinstance(key, str):
            raise InvalidInput(f"audit {path} keys must be strings")
        if key.lower() in _FORBIDDEN_KEYS:
            raise InvalidInput(f"audit {path}.{key} looks like a secret or personal data; record an id or hash")
        cleaned[key] = _clean_value(item, f"{path}.{key}")
    return cleaned


def _clean_value(value: object, path: str) -> object:
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInput(f"audit {path} must not contain NUL characters")
        _check_encodable(path, value)
        return value
    if isinstance(value, Mapping):
        return _clean_mapping(value, path)
    if isinstance(value, list | tuple):
        return [_clean_value(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise InvalidInput(f"audit {path} is a {type(value).__name__}; use strings, integers, booleans, lists or objects")


def stream(session: Session, *, since_seq: int | None = None) -> Iterator[ChainedEntry]:
    """Entries after ``since_seq`` (all if None) in seq order, fetched in batches.

    Plain values, not ORM objects, so nothing accumulates in the session
    while a million entries go by; on PostgreSQL a server-side cursor.
    """
    statement = select(*_COLUMNS).order_by(AuditEntry.seq).execution_options(yield_per=BATCH)
    if since_seq is not None:
        statement = statement.where(AuditEntry.seq > since_seq)
    result = session.execute(statement)
    try:
        for seq, at, actor, action, target, data, prev_hash, hash_ in result:
            yield ChainedEntry(
                seq=seq,
                at=timestamp(at),
                actor=actor,
                action=action,
                target=target,
                data=data,
                prev_hash=prev_hash,
                hash=hash_,
            )
    finally:
        result.close()


def export(session: Session, out: TextIO, *, since_seq: int | None = None) -> int:
    """Write entries after ``since_seq`` (all if None) as JSON lines; return how many.

    Each line is the canonical encoding of one entry, so it can be re-hashed
    with ``charter.audit.chain.entry_hash`` by anyone holding the file.
    """
    if since_seq is not None and since_seq < 0:
        raise InvalidInput("--since must be a sequence number of 0 or more")
    count = 0
    for entry in stream(session, since_seq=since_seq):
        out.write(canonical_json(entry.as_dict()) + "\n")
        count += 1
    return count


def entries(
    session: Session,
    *,
    limit: int,
    before_seq: int | None = None,
    action: str | None = None,
) -> list[AuditEntry]:
    """A page of entries, newest first; pass the last ``seq`` seen as ``before_seq`` for the next."""
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_PAGE}")
    statement = select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(limit)
    if before_seq is not None:
        statement = statement.where(AuditEntry.seq < before_seq)
    if action is not None:
        statement = statement.where(AuditEntry.action == action)
    return list(session.scalars(statement))
