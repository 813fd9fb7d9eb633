"""/api/v1/decisions: may this use of personal data happen now? One question or up to 10,000."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from charter.auth.principal import Principal
from charter.auth.roles import Permission
from charter.decisions.model import Decision, DecisionRequest
from charter.decisions.service import MAX_LOG_PAGE, LogFilter, PersonRef, Question, decide_many, log_document, logged
from charter.errors import InputTooLarge, InvalidInput, Problem
from charter.web.security import requires, services_of

router = APIRouter()


class IdentityIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = Field(max_length=32, examples=["email"])
    value: str = Field(max_length=320)


class PersonIn(BaseModel):
    """The person: Charter's public id, or one of their identities. Never echoed back."""

    model_config = ConfigDict(extra="forbid")
    id: str | None = Field(default=None, max_length=64)
    identity: IdentityIn | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PersonIn:
        if (self.id is None) == (self.identity is None):
            raise ValueError("name the person by id or by identity, not both or neither")
        return self


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: str = Field(max_length=80, description="A purpose id of the statement in force.")
    categories: list[str] = Field(min_length=1, max_length=64, description="Data category keys.")
    at: datetime | None = Field(default=None, description="When the use happens; now by default.")
    action: Literal["use", "collect", "disclose", "transfer"] = "use"
    person: PersonIn | None = None
    system: str | None = Field(default=None, max_length=120)
    subject: str | None = Field(default=None, max_length=64, description="Data subject kind, e.g. customer.")
    recipient: str | None = Field(default=None, max_length=80)
    service: str | None = Field(default=None, max_length=80)
    jurisdiction: str | None = Field(default=None, max_length=8, examples=["US-CA"])
    source: str | None = Field(default=None, max_length=32)
    channel: Literal["email", "sms", "phone", "post", "web", "in_app"] | None = None
    within_subscribed_services: bool | None = None
    origin: str | None = Field(default=None, max_length=8)
    destination: str | None = Field(default=None, max_length=8)

    def question(self) -> Question:
        at = self.at or datetime.now(UTC)
        if at.tzinfo is None:
            raise InvalidInput("'at' needs a time zone, e.g. 2024-06-01T12:00:00Z")
        person = None
        if self.person is not None:
            identity = self.person.identity
            person = PersonRef(
                public_id=self.person.id,
                identity_kind=identity.kind if identity else None,
                identity_value=identity.value if identity else None,
            )
        request = DecisionRequest(
            purpose=self.purpose,
            categories=tuple(self.categories),
            at=at,
            action=self.action,
            system=self.system,
            subject=self.subject,
            recipient=self.recipient,
            service=self.service,
            jurisdiction=self.jurisdiction,
            source=self.source,
            channel=self.channel,
            within_subscribed_services=self.within_subscribed_services,
            origin=self.origin,
            destination=self.destination,
        )
        return Question(request, person)


class BatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    requests: list[DecisionIn] = Field(min_length=1)


class ReasonOut(BaseModel):
    promises: list[str]
    clause: str
    message: str


class ObligationOut(BaseModel):
    kind: str
    detail: str
    promises: list[str]


class DecisionOut(BaseModel):
    outcome: Literal["allow", "deny"]
    allowed: bool
    reasons: list[ReasonOut]
    obligations: list[ObligationOut]
    statement_version: str

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls(
            outcome=decision.outcome,
            allowed=decision.allowed,
            reasons=[
                ReasonOut(promises=list(r.promises), clause=r.clause, message=r.message) for r in decision.reasons
            ],
            obligations=[
                ObligationOut(kind=o.kind, detail=o.detail, promises=list(o.promises)) for o in decision.obligations
            ],
            statement_version=decision.statement_version,
        )


class BatchOut(BaseModel):
    decisions: list[DecisionOut]


@router.post("", response_model=DecisionOut | BatchOut)
def decisions(
    body: DecisionIn | BatchIn, request: Request, principal: Principal = requires(Permission.DECISIONS_ASK)
) -> Response:
    """Decide one use (an object) or many (``{"requests": [...]}``); the batch is all-or-nothing on bad input."""
    services = services_of(request)
    items = body.requests if isinstance(body, BatchIn) else [body]
    limit = services.settings.decisions.max_batch
    if len(items) > limit:
        raise InputTooLarge(f"a batch holds at most {limit:,} decisions; this one has {len(items):,}")
    questions = []
    for index, item in enumerate(items):
        try:
            questions.append(item.question())
        except InvalidInput as exc:
            raise _located(exc, index, isinstance(body, BatchIn)) from None
    with services.database.session() as session:
        found = decide_many(
            session,
            questions,
            vault=services.vault,
            sample_rate=services.settings.decisions.log_sample_rate,
            system=principal.actor,
        )
    # Serialized here, once: FastAPI would re-validate the union response model on the event loop,
    # which costs more than deciding a batch of 10,000.
    out = (
        BatchOut(decisions=[DecisionOut.of(d) for d in found])
        if isinstance(body, BatchIn)
        else DecisionOut.of(found[0])
    )
    return Response(content=out.model_dump_json(), media_type="application/json")


def _located(exc: InvalidInput, index: int, batch: bool) -> InvalidInput:
    path = f"requests[{index}]" if batch else ""
    return InvalidInput(exc.detail, problems=[Problem(path=path, message=exc.detail)])


@router.get("/log")
def decision_log(
    request: Request,
    since: datetime | None = None,
    until: datetime | None = None,
    person: str | None = Query(default=None, max_length=32, description="A person's public id."),
    purpose: str | None = Query(default=None, max_length=80),
    outcome: Literal["allow", "deny"] | None = None,
    after: int = Query(default=0, ge=0, description="Cursor: the last id of the previous page."),
    limit: int = Query(default=100, ge=1, le=MAX_LOG_PAGE),
    _: Principal = requires(Permission.AUDIT_READ),
) -> dict[str, object]:
    """Logged decisions for auditors, oldest first; page with ``after`` = the previous page's ``next``."""
    wanted = LogFilter(since, until, person, purpose, outcome, after, limit)
    with services_of(request).database.session() as session:
        entries = [log_document(entry) for entry in logged(session, wanted)]
    return {"decisions": entries, "next": entries[-1]["id"] if len(entries) == limit else None}
