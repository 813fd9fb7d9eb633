"""Recording events, reading a person's state, rebuilding every state, merging people.

The projection row of a person is updated in the transaction that appends
the event: incrementally when the event is the newest, or recomputed from
all that person's events (ordered by ``at``, then ``id``) when it is
back-dated. Writers for one person are serialized (a row lock on
PostgreSQL, the database write lock on SQLite), so no update is lost.
``rebuild`` recomputes every state with the same ``apply`` and must find
nothing to change. See docs/design/ledger.md.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db.base import rowcount
from charter.decisions.state import EMPTY, PersonState
from charter.errors import InvalidInput, NotFound, shown
from charter.ledger.codec import decode, encode
from charter.ledger.events import PURPOSE_KINDS, TOMBSTONE, Event, EventKind, Source
from charter.ledger.models import LedgerEvent, SubjectState
from charter.ledger.projection import apply, project
from charter.ledger.signals import BrowserSignals, signal_events
from charter.policy import service as policy
from charter.subjects import service as subjects
from charter.subjects.models import Person
from charter.subjects.normalize import IdentityKind

"""Kinds whose ``data.purpose`` must be a purpose of the statement."""

_WILDCARD_KINDS = frozenset(
    {EventKind.RESTRICTED, EventKind.UNRESTRICTED, EventKind.OBJECTED, EventKind.OBJECTION_WITHDRAWN}
)


class UnknownPurpose(InvalidInput):
    code = "unknown_purpose"
    status = 422
    title = "The purpose is not in the statement"


class UnknownStatement(InvalidInput):
    code = "unknown_statement"
    status = 422
    title = "No such statement version"


# --- purposes -----------------------------------------------------------------------------------


class StatementPurposes:
    """The purposes of each statement a batch of events names or falls under, read once per batch."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_version: dict[str, frozenset[str]] = {}
        self._by_day: dict[date, tuple[str, frozenset[str]] | None] = {}

    def of_version(self, version: str) -> frozenset[str]:
        found = self._by_version.get(version)
        if found is None:
            try:
                row = policy.get(self.session, version)
            except NotFound:
                raise UnknownStatement(f"statement version {shown(version)} is not published") from None
            found = self._by_version[version] = frozenset(p.id for p in policy.statement_of(row).purposes)
        return found

    def in_force(self, day: date) -> tuple[str, frozenset[str]] | None:
        if day not in self._by_day:
            row = policy.in_force(self.session, day)
            self._by_day[day] = (
                None if row is None else (row.version, frozenset(p.id for p in policy.statement_of(row).purposes))
            )
        return self._by_day[day]


def check_purposes(session: Session, event: Event, *, known: StatementPurposes | None = None) -> Event:
    """The event, refused if its purpose is not one of the statement's; the version filled in if absent.

    The statement is the version the event names, else the one in force on
    the event's date (P-COL-4: consent is recorded with the statement's
    version). ``*`` is allowed for restriction and objection (every purpose).
    """
    known = known or StatementPurposes(session)
    if event.kind not in PURPOSE_KINDS:
        return event
    purpose = str(event.data["purpose"])
    if purpose == "*" and event.kind in _WILDCARD_KINDS:
        return event
    if event.statement_version is not None:
        version, purposes = event.statement_version, known.of_version(event.statement_version)
    else:
        found = known.in_force(event.at.date())
        if found is None:
            raise UnknownStatement(f"no statement was in force on {event.at.date()}; publish one first")
        version, purposes = found
    if purpose not in purposes:
        raise UnknownPurpose(f"purpose {shown(purpose)} is not in statement {version}")
    if event.statement_version is None:
        return event.model_copy(update={"statement_version": version})
    return event


# --- rows and events ------------------------------------------------------------------------------


def _utc(event: Event) -> Event:
    """The same event with ``at`` in UTC, so the live projection and a rebuild fold identical events."""
    if event.at.tzinfo is UTC:
        return event
    return event.model_copy(update={"at": event.at.astimezone(UTC)})


def to_event(row: LedgerEvent) -> Event:
    """The event a stored row holds (rows were validated when recorded)."""
    return Event.model_construct(
        kind=EventKind(row.kind),
        at=row.at,
        source=Source(row.source),
        statement_version=row.statement_version,
        jurisdiction=row.jurisdiction,
        evidence=dict(row.evidence or {}),
        data=dict(row.data or {}),
    )


def _row(person_id: int, event: Event) -> LedgerEvent:
    return LedgerEvent(
        person_id=person_id,
        kind=event.kind.value,
        at=event.at,
        source=event.source.value,
        statement_version=event.statement_version,
        jurisdiction=event.jurisdiction,
        evidence=dict(event.evidence),
        data=dict(event.data),
    )


def _lock_people(session: Session, person_ids: Sequence[int]) -> None:
    """Serialize writers of these people's states until the transaction ends.

    PostgreSQL: ``SELECT … FOR UPDATE`` on the people rows (in id order, so
    two writers cannot deadlock). SQLite: a write that matches no row takes
    the database write lock; from then on this transaction reads the latest
    commit.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        session.execute(text("UPDATE subject_states SET person_id = person_id WHERE 0 = 1"))
    else:
        session.execute(
            select(Person.id).where(Person.id.in_(sorted(person_ids))).order_by(Person.id).with_for_update()
        )


def _events_of(session: Session, person_id: int) -> list[LedgerEvent]:
    return list(
        session.scalars(
            select(LedgerEvent)
            .where(LedgerEvent.person_id == person_id, LedgerEvent.kind != TOMBSTONE)  # an erasure's tombstones
            .order_by(LedgerEvent.at, LedgerEvent.id)
        )
    )


def _state_row(session: Session, person_id: int) -> SubjectState | None:
    return session.scalar(
        select(SubjectState).where(SubjectState.person_id == person_id).execution_options(populate_existing=True)
    )


def _store(
    session: Session, person_id: int, row: SubjectState | None, state: PersonState, last: LedgerEvent | None
) -> None:
    document = encode(state)
    if row is None:
        session.add(
            SubjectState(
                person_id=person_id,
                state=document,
                last_event_id=None if last is None else last.id,
                last_at=None if last is None else last.at,
            )
        )
        return
    row.state = document
    row.last_event_id = None if last is None else last.id
    row.last_at = None if last is None else last.at


def _recompute(session: Session, person_id: int, row: SubjectState | None) -> PersonState:
    events = _events_of(session, person_id)
    state = project(to_event(e) for e in events)
    _store(session, person_id, row, state, events[-1] if events else None)
    return state


# --- the public operations ------------------------------------------------------------------------


def record(session: Session, person: Person, event: Event, *, actor: str) -> LedgerEvent:
    """Append ``event`` for ``person`` and bring their state up to date, in the caller's transaction.

    Purposes are the caller's to check first (:func:`check_purposes`); the
    audit log gets one entry naming the kind and source, never a value.
    """
    person = subjects.canonical(session, person)
    event = _utc(event)
    _lock_people(session, [person.id])
    stored = _row(person.id, event)
    session.add(stored)
    session.flush()
    row = _state_row(session, person.id)
    if row is None or row.last_at is None or event.at < row.last_at:
        _recompute(session, person.id, row)  # first event, or back-dated: fold them all in order
    else:
        _store(session, person.id, row, apply(decode(row.state), event), stored)
    audit.record(
        session,
        actor=actor,
        action="ledger.recorded",
        target=f"person:{person.public_id}",
        data={"kind": event.kind.value, "source": event.source.value},
    )
    return stored


def record_many(session: Session, person: Person, events: Iterable[Event], *, actor: str) -> list[LedgerEvent]:
    return [record(session, person, event, actor=actor) for event in events]


def record_signals(
    session: Session,
    person: Person,
    signals: BrowserSignals,
    *,
    at: datetime,
    statement_version: str | None,
    actor: str,
) -> int:
    """Record the GPC / DNT a person's browser sent that the ledger does not hold yet (P-TRK-2); how many."""
    if not signals.any:
        return 0
    events = signal_events(state_of(session, person), signals, at=at, statement_version=statement_version)
    record_many(session, person, events, actor=actor)
    return len(events)


def state_of(session: Session, person: Person) -> PersonState:
    """The person's current state (the empty state for someone with no events)."""
    person = subjects.canonical(session, person)
    document = session.scalar(select(SubjectState.state).where(SubjectState.person_id == person.id))
    return EMPTY if document is None else decode(document)


def events_of(session: Session, person: Person) -> list[Event]:
    """Every event of the person, in the order they are applied."""
    return [to_event(row) for row in _events_of(session, subjects.canonical(session, person).id)]


@dataclass(frozen=True)
class RebuildReport:
    people: int
    events: int
    changed: int

    def as_dict(self) -> dict[str, int]:
        return {"people": self.people, "events": self.events, "changed": self.changed}


Progress = Callable[[int, int], None]
"""``progress(people_done, people_total)``, called after each batch."""


def rebuild(
    session: Session, *, batch: int = 1000, progress: Progress | None = None, commit_batches: bool = False
) -> RebuildReport:
    """Recompute every person's state from their events; report how many stored states differed.

    People are taken ``batch`` at a time: one query for their events, one
    for their stored states. Their rows are locked while a batch is
    recomputed so a concurrent ``record`` cannot be overwritten. With
    ``commit_batches`` each batch is its own transaction, so on a large
    ledger a person's locks are released as soon as their batch is done
    (not after the whole rebuild, minutes later); each batch stays atomic.
    """
    if batch < 1:
        raise InvalidInput("batch must be at least 1")
    total = session.scalar(select(func.count()).select_from(Person)) or 0
    done = events = changed = 0
    after = 0
    while True:
        ids = list(session.scalars(select(Person.id).where(Person.id > after).order_by(Person.id).limit(batch)))
        if not ids:
            break
        after = ids[-1]
        _lock_people(session, ids)
        by_person: dict[int, list[LedgerEvent]] = {}
        for row in session.scalars(
            select(LedgerEvent)
            .where(LedgerEvent.person_id.in_(ids), LedgerEvent.kind != TOMBSTONE)
            .order_by(LedgerEvent.person_id, LedgerEvent.at, LedgerEvent.id)
        ):
            by_person.setdefault(row.person_id, []).append(row)
        stored = {
            r.person_id: r
            for r in session.scalars(
                select(SubjectState).where(SubjectState.person_id.in_(ids)).execution_options(populate_existing=True)
            )
        }
        for person_id in ids:
            rows = by_person.get(person_id, [])
            events += len(rows)
            current = stored.get(person_id)
            if not rows and current is None:
                continue
            state = project(to_event(r) for r in rows)
            if current is None or not _same(current.state, state):
                changed += 1
                _store(session, person_id, current, state, rows[-1] if rows else None)
        if commit_batches:
            session.commit()
        else:
            session.flush()
        session.expunge_all()
        done += len(ids)
        if progress is not None:
            progress(done, total)
    return RebuildReport(people=done, events=events, changed=changed)


def _same(document: dict[str, Any], state: PersonState) -> bool:
    try:
        return decode(document) == state
    except (ValueError, KeyError, TypeError):
        return False


@dataclass(frozen=True)
class MergeReport:
    kept: str
    merged: str
    identities: int
    events: int


def merge(session: Session, keep: Person, other: Person, *, actor: str) -> MergeReport:
    """Fold ``other`` into ``keep``: identities and every event move; keep's state is recomputed.

    Histories interleave by time (``at``, then ``id``); no event is lost or
    changed except for the person it points to.
    """
    keep, other = subjects.canonical(session, keep), subjects.canonical(session, other)
    _lock_people(session, [keep.id, other.id])
    identities = subjects.merge(session, keep, other)
    moved = rowcount(
        session.execute(update(LedgerEvent).where(LedgerEvent.person_id == other.id).values(person_id=keep.id))
    )
    session.execute(delete(SubjectState).where(SubjectState.person_id == other.id))
    _recompute(session, keep.id, _state_row(session, keep.id))
    audit.record(
        session,
        actor=actor,
        action="subjects.merged",
        target=f"person:{keep.public_id}",
        data={"merged": other.public_id, "identities": identities, "events": moved},
    )
    return MergeReport(kept=keep.public_id, merged=other.public_id, identities=identities, events=moved)


def link(
    session: Session, person: Person, kind: IdentityKind | str, value: str, *, vault: subjects.Vault, actor: str
) -> Person:
    """Give ``person`` another identity; if someone else holds it, merge that person in (P-DEF-1)."""
    person = subjects.canonical(session, person)
    holder = subjects.resolve(session, kind, value, vault=vault, create=False)
    if holder is None:
        identity = subjects.link(session, person, kind, value, vault=vault)
        audit.record(
            session,
            actor=actor,
            action="subjects.linked",
            target=f"person:{person.public_id}",
            data={"kind": identity.kind},
        )
    elif holder.id != person.id:
        merge(session, person, holder, actor=actor)
    return person
