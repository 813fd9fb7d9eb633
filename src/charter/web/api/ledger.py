"""/api/v1/consents and /api/v1/subjects: record what people said, read their standing.

Mounted at ``/api/v1``. Responses name people by public id only; an
identity sent in is never echoed back, not even in an error.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from charter import audit
from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.errors import InputTooLarge, InvalidInput, NotFound, Problem
from charter.ledger import service as ledger
from charter.ledger.codec import encode
from charter.ledger.events import Event
from charter.subjects import service as subjects
from charter.web.security import requires, services_of

router = APIRouter()
MAX_EVENTS = 1_000


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=32, examples=["email"])
    value: str = Field(max_length=320, examples=["ana@example.org"])


class ConsentsIn(BaseModel):
    """Events for one person, recorded all together or not at all."""

    model_config = ConfigDict(extra="forbid")
    identity: IdentityIn
    events: list[Event] = Field(min_length=1, description=f"At most {MAX_EVENTS:,} events.")


class ConsentsOut(BaseModel):
    person: str = Field(description="The person's public id.")
    recorded: int
    event_ids: list[int]
    state: dict[str, Any]


class StateOut(BaseModel):
    person: str
    state: dict[str, Any]


@router.post("/consents", response_model=ConsentsOut, status_code=201, tags=["ledger"])
def record_consents(
    body: ConsentsIn, request: Request, principal: Principal = requires(Permission.CONSENT_WRITE)
) -> ConsentsOut:
    """Record events (consents, withdrawals, opt-outs, signals …) for the person with this identity.

    Unknown purposes and malformed identities are 422 problem+json; nothing
    is recorded unless every event is valid.
    """
    if len(body.events) > MAX_EVENTS:
        raise InputTooLarge(f"at most {MAX_EVENTS:,} events per call; this one has {len(body.events):,}")
    vault = services_of(request).vault
    kind, normalized = vault.normalize(body.identity.kind, body.identity.value)
    with services_of(request).database.session() as session:
        known = ledger.StatementPurposes(session)
        checked = []
        for index, event in enumerate(body.events):
            try:
                checked.append(ledger.check_purposes(session, event, known=known))
            except InvalidInput as exc:
                field = "data.purpose" if isinstance(exc, ledger.UnknownPurpose) else "statement_version"
                problem = Problem(path=f"events[{index}].{field}", message=exc.detail)
                raise type(exc)(f"events[{index}]: {exc.detail}", problems=[problem]) from None
        person = subjects.resolve(session, kind, normalized, vault=vault, create=True)
        if person is None:  # pragma: no cover - create=True always gives a person
            raise NotFound("the person could not be created")
        rows = [ledger.record(session, person, event, actor=principal.actor) for event in checked]
        state = ledger.state_of(session, person)
        return ConsentsOut(
            person=person.public_id, recorded=len(rows), event_ids=[r.id for r in rows], state=encode(state)
        )


@router.get("/subjects/{public_id}/state", response_model=StateOut, tags=["ledger"])
def subject_state(
    request: Request, public_id: str, principal: Principal = requires(Permission.SUBJECTS_READ)
) -> StateOut:
    """A person's current state by public id (a merged id answers for the person it was merged into)."""
    with services_of(request).database.session() as session:
        person = subjects.by_public_id(session, public_id)
        if person is None:
            raise NotFound("no person has this id")
        state = encode(ledger.state_of(session, person))
        # P-SEC-1: every access to personal information is recorded.
        audit.record(session, actor=principal.actor, action="subjects.state_read", target=f"person:{person.public_id}")
        return StateOut(person=person.public_id, state=state)
