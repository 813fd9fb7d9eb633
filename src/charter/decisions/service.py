"""Decisions with their I/O: the statement in force, the people's states, the decision log.

``decide`` stays pure; this module gathers what it needs in as few queries
as a batch allows (one per table, not one per decision) and records a sample
of decisions for audit.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from charter.db import utcnow
from charter.decisions.compiled import StatementHistory
from charter.decisions.engine import decide_at
from charter.decisions.model import Decision, DecisionRequest
from charter.decisions.models import DecisionLogEntry
from charter.decisions.state import EMPTY, PersonState
from charter.errors import InvalidInput, Problem
from charter.ledger import service as ledger
from charter.policy.models import PolicyVersion
from charter.policy.service import statement_of
from charter.subjects import service as subjects
from charter.subjects.service import Vault


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
    """Every published statement, compiled once per set of versions."""
    rows = list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective)))
    key = tuple(row.sha256 for row in rows)
    found = _histories.get(key)
    if found is None:
        _histories.clear()
        found = _histories[key] = StatementHistory.of(statement_of(row) for row in rows)
    return found


def _states(
    session: Session, people: Sequence[PersonRef], vault: Vault
) -> dict[PersonRef, tuple[str | None, PersonState]]:
    """Each person's public id and state; an unknown person has the empty state."""
    found: dict[PersonRef, tuple[str | None, PersonState]] = {}
    for ref in dict.fromkeys(people):
        if ref.public_id is not None:
            person = subjects.by_public_id(session, ref.public_id)
        elif ref.identity_kind is not None and ref.identity_value is not None:
            person = subjects.resolve(session, ref.identity_kind, ref.identity_value, vault=vault, create=False)
        else:
            raise InvalidInput("a person is named by public_id or by an identity (kind and value)")
        found[ref] = (person.public_id, ledger.state_of(session, person)) if person is not None else (None, EMPTY)
    return found


def decide_many(
    session: Session, questions: Sequence[Question], *, vault: Vault, sample_rate: float, system: str | None = None
) -> list[Decision]:
    """Decide every question; log a sample of them (P-SEC-1: uses of PI are accountable)."""
    statements = history(session)
    states = _states(session, [q.person for q in questions if q.person is not None], vault)
    decisions = []
    log: list[DecisionLogEntry] = []
    for index, question in enumerate(questions):
        public_id, state = states[question.person] if question.person is not None else (None, EMPTY)
        try:
            decision = decide_at(question.request, statements, state)
        except InvalidInput as exc:
            raise InvalidInput(
                f"request {index}: {exc.detail}", problems=[Problem(f"requests[{index}]", exc.detail)]
            ) from None
        decisions.append(decision)
        if sample_rate >= 1.0 or (sample_rate > 0.0 and random.random() < sample_rate):  # noqa: S311 - sampling
            log.append(_entry(question.request, decision, public_id, system))
    if log:
        session.add_all(log)
    return decisions


def _entry(request: DecisionRequest, decision: Decision, public_id: str | None, system: str | None) -> DecisionLogEntry:
    return DecisionLogEntry(
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
