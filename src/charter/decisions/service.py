"""Decisions with their I/O: the statement in force, the people's states, the decision log.

``decide`` stays pure; this module gathers what it needs in as few queries
as a batch allows (one per table, not one per decision) and records a sample
of decisions for audit.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from charter.db import utcnow
from charter.decisions.compiled import StatementHistory
from charter.decisions.engine import decide_at
from charter.decisions.model import Decision, DecisionRequest
from charter.decisions.models import DecisionLogEntry
from charter.decisions.state import EMPTY, PersonState
from charter.errors import InvalidInput, Problem
from charter.ledger.codec import decode
from charter.ledger.models import SubjectState
from charter.policy.models import PolicyVersion
from charter.policy.service import statement_of
from charter.subjects import service as subjects
from charter.subjects.models import Identity, Person
from charter.subjects.service import Vault
from charter.suppression import service as suppression

_T = TypeVar("_T")


@dataclass(frozen=True)
class PersonRef:
    """Who a decision is about: Charter's public id, or an identity (e-mail, phone …)."""

    public_id: str | None = None
    identity_kind: str | None = None
    identity_value: str | None = None


@dataclass(frozen=True)
class Question:
    request: DecisionRequest
    person: PersonRef | None = None


_histories: dict[tuple[str, ...], StatementHistory] = {}


def history(session: Session) -> StatementHistory:
    """Every published statement, compiled once per set of versions.

    Only the versions' hashes are read to know whether the cache still holds;
    the documents themselves (hundreds of kilobytes) only when they changed.
    """
    key = tuple(session.scalars(select(PolicyVersion.sha256).order_by(PolicyVersion.effective, PolicyVersion.id)))
    found = _histories.get(key)
    if found is None:
        rows = session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective, PolicyVersion.id))
        _histories.clear()
        found = _histories[key] = StatementHistory.of(statement_of(row) for row in rows)
    return found


CHUNK = 500  # ids per IN (...): well under every backend's bound-parameter limit


def _chunks(items: Sequence[_T]) -> Iterator[Sequence[_T]]:
    for begin in range(0, len(items), CHUNK):
        yield items[begin : begin + CHUNK]


def _states(
    session: Session, people: Sequence[tuple[int, PersonRef]], vault: Vault
) -> dict[PersonRef, tuple[str | None, PersonState, datetime | None]]:
    """Each person's public id, state and suppression time; an unknown person has the empty state.

    A batch names thousands of people: they are found with one query per
    chunk of identities or public ids, and their states with one per chunk
    of people, never one query per person.
    """
    wanted: dict[PersonRef, tuple[str, str]] = {}  # ref -> ("id", public id) or (kind, lookup hash)
    for index, ref in people:
        if ref in wanted:
            continue
        if ref.public_id is not None:
            wanted[ref] = ("id", ref.public_id)
        elif ref.identity_kind is not None and ref.identity_value is not None:
            try:
                kind, normalized = vault.normalize(ref.identity_kind, ref.identity_value)
            except InvalidInput as exc:
                raise InvalidInput(
                    f"request {index}: {exc.detail}", problems=[Problem(f"requests[{index}].person", exc.detail)]
                ) from None
            wanted[ref] = (kind.value, vault.lookup_hash(kind, normalized))
        else:
            raise InvalidInput("a person is named by public_id or by an identity (kind and value)")
    people_of = _people(session, set(wanted.values()))
    states = _states_of(session, {person.id for person in people_of.values()})
    # P-RGT-3: erased identities are on the suppression list (an identity nobody holds any more is asked by hash)
    by_person = suppression.since_for_people(session, {p.id: p.public_id for p in people_of.values()})
    by_key = suppression.since_for_keys(session, (k for k in wanted.values() if k[0] != "id" and k not in people_of))
    found: dict[PersonRef, tuple[str | None, PersonState, datetime | None]] = {}
    for ref, key in wanted.items():
        person = people_of.get(key)
        if person is None:
            found[ref] = (None, EMPTY, by_key.get(key))
        else:
            found[ref] = (person.public_id, states.get(person.id, EMPTY), by_person.get(person.id))
    return found


def _people(session: Session, keys: set[tuple[str, str]]) -> dict[tuple[str, str], Person]:
    """The live person for each key; merged people resolve to whom they were merged into."""
    public_ids = sorted(value for kind, value in keys if kind == "id" and 1 <= len(value) <= 32)
    by_kind: dict[str, list[str]] = {}
    for kind, value in sorted(keys):
        if kind != "id":
            by_kind.setdefault(kind, []).append(value)
    found: dict[tuple[str, str], Person] = {}
    for chunk in _chunks(public_ids):
        for person in session.scalars(select(Person).where(Person.public_id.in_(chunk))):
            found[("id", person.public_id)] = person
    for kind, digests in by_kind.items():
        for chunk in _chunks(digests):
            # kind and hash together, so the unique (kind, lookup_hash) index answers, not a scan
            rows = session.execute(
                select(Identity.lookup_hash, Person)
                .join(Person, Person.id == Identity.person_id)
                .where(Identity.kind == kind, Identity.lookup_hash.in_(chunk))
            )
            for digest, person in rows:
                found[(kind, digest)] = person
    return {
        key: person if person.merged_into is None else subjects.canonical(session, person)
        for key, person in found.items()
    }


def _states_of(session: Session, person_ids: set[int]) -> dict[int, PersonState]:
    states: dict[int, PersonState] = {}
    for chunk in _chunks(sorted(person_ids)):
        rows = session.execute(
            select(SubjectState.person_id, SubjectState.state).where(SubjectState.person_id.in_(chunk))
        )
        states.update((person_id, decode(document)) for person_id, document in rows)
    return states


def decide_many(
    session: Session, questions: Sequence[Question], *, vault: Vault, sample_rate: float, system: str | None = None
) -> list[Decision]:
    """Decide every question; log a sample of them (P-SEC-1: uses of PI are accountable)."""
    statements = history(session)
    states = _states(session, [(i, q.person) for i, q in enumerate(questions) if q.person is not None], vault)
    decisions = []
    log: list[dict[str, object]] = []
    for index, question in enumerate(questions):
        public_id, state, suppressed = states[question.person] if question.person is not None else (None, EMPTY, None)
        try:
            decision = decide_at(question.request, statements, state, suppressed_since=suppressed)
        except InvalidInput as exc:
            raise InvalidInput(
                f"request {index}: {exc.detail}", problems=[Problem(f"requests[{index}]", exc.detail)]
            ) from None
        decisions.append(decision)
        if sample_rate >= 1.0 or (sample_rate > 0.0 and random.random() < sample_rate):  # noqa: S311 - sampling
            log.append(_entry(question.request, decision, public_id, system))
    if log:
        # One executemany for the batch, not an ORM object and an INSERT per decision.
        session.execute(insert(DecisionLogEntry), log)
    return decisions


def _entry(
    request: DecisionRequest, decision: Decision, public_id: str | None, system: str | None
) -> dict[str, object]:
    return dict(
        decided_at=utcnow(),
        asked_for=request.at,
        system=(request.system or system or "")[:120],
        person=public_id,
        purpose=request.purpose[:80],
        action=request.action,
        categories=list(request.categories),
        recipient=request.recipient,
        outcome=decision.outcome,
        statement_version=decision.statement_version,
        reasons=[{"promises": list(r.promises), "clause": r.clause} for r in decision.reasons],
    )


MAX_LOG_PAGE = 1_000


@dataclass(frozen=True)
class LogFilter:
    """Which logged decisions an auditor wants: a time window, a person, a purpose, an outcome."""

    since: datetime | None = None
    until: datetime | None = None
    person: str | None = None
    purpose: str | None = None
    outcome: str | None = None
    after_id: int = 0
    limit: int = 100


def logged(session: Session, wanted: LogFilter) -> list[DecisionLogEntry]:
    """Logged decisions in the order they were given, a page at a time (``after_id`` is the cursor)."""
    if not 1 <= wanted.limit <= MAX_LOG_PAGE:
        raise InvalidInput(f"limit must be between 1 and {MAX_LOG_PAGE:,}")
    if wanted.outcome not in (None, "allow", "deny"):
        raise InvalidInput("outcome is allow or deny")
    query = select(DecisionLogEntry).where(DecisionLogEntry.id > wanted.after_id)
    if wanted.since is not None:
        query = query.where(DecisionLogEntry.decided_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(DecisionLogEntry.decided_at < wanted.until)
    if wanted.person is not None:
        query = query.where(DecisionLogEntry.person == wanted.person)
    if wanted.purpose is not None:
        query = query.where(DecisionLogEntry.purpose == wanted.purpose)
    if wanted.outcome is not None:
        query = query.where(DecisionLogEntry.outcome == wanted.outcome)
    return list(session.scalars(query.order_by(DecisionLogEntry.id).limit(wanted.limit)))


def log_document(entry: DecisionLogEntry) -> dict[str, object]:
    """One logged decision as auditors read it (API and CLI alike)."""
    return {
        "id": entry.id,
        "decided_at": entry.decided_at.isoformat(),
        "asked_for": entry.asked_for.isoformat(),
        "system": entry.system,
        "person": entry.person,
        "purpose": entry.purpose,
        "action": entry.action,
        "categories": list(entry.categories),
        "recipient": entry.recipient,
        "outcome": entry.outcome,
        "statement_version": entry.statement_version,
        "reasons": list(entry.reasons),
    }
