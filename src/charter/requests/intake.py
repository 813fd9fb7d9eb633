"""Receiving a request and proving who asks (P-RGT-7, P-RGT-8).

:func:`submit` records the request with its due date from the statement in
force, mails the acknowledgement with a one-time code and link (the
preference center's challenges, purpose ``requests``) and answers the same
whether or not Charter knows the address: nobody is looked up until the
code is right. :func:`verify_code` / :func:`verify_link` redeem it, link
the request to the person if Charter knows them (never creating anyone),
confirm an authorized agent's request (the person's own code is the
confirmation) and put it in the privacy office's queue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from charter import audit
from charter.db import Database
from charter.db.base import utcnow
from charter.errors import NotFound, Unavailable
from charter.mail import Mailer, compose
from charter.policy import service as policy
from charter.policy.schema import Statement
from charter.preferences import challenges
from charter.preferences.challenges import Claimed, Started
from charter.preferences.errors import ChallengeInvalid, WrongCode
from charter.preferences.models import EmailChallenge
from charter.requests import claimed, deadlines, details, factcheck, notices, terms
from charter.requests.details import Agent, Document
from charter.requests.errors import InvalidRequest
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestDocument, RequestFacts
from charter.requests.sealing import seal_details, seal_document, seal_identity
from charter.requests.transitions import move
from charter.settings import Settings
from charter.subjects import service as subjects
from charter.subjects.models import Identity, Person, new_public_id
from charter.subjects.normalize import IdentityKind, kind_of

PURPOSE = "requests"
VERIFY_PATH = "/privacy/requests/verify"
AGENT_PROOF = "agent_proof"


@dataclass(frozen=True)
class Submission:
    """What the requester sent. ``identity_kind`` must be ``email``: it is how they prove who they are."""

    kind: RequestKind
    identity_kind: str
    identity: str = field(repr=False)
    jurisdiction: str | None = None
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    agent: Agent | None = None
    proof: Document | None = None
    #: other identifiers (kind, value): claims until the office confirms them (charter.requests.claimed)
    identities: tuple[tuple[str, str], ...] = field(default=(), repr=False)


@dataclass(frozen=True)
class Received:
    public_id: str
    challenge_id: str
    due_at: datetime


def statement_in_force(session: Session, at: datetime) -> tuple[str, Statement]:
    row = policy.in_force(session, at.date())
    if row is None:
        raise NotFound("no privacy statement is in force yet, so no request can be received")
    return row.version, policy.statement_of(row)


def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}{VERIFY_PATH}?{urlencode({'token': token})}"


def _record(
    session: Session, submission: Submission, *, vault: subjects.Vault, settings: Settings, now: datetime
) -> tuple[PrivacyRequest, terms.Terms, Agent | None]:
    kind = kind_of(submission.identity_kind)
    found_kind, normalized = vault.normalize(kind, submission.identity)
    if found_kind != IdentityKind.EMAIL:
        raise InvalidRequest("a request is verified by e-mail: give the requester's e-mail address")
    version, statement = statement_in_force(session, now)
    jurisdiction = submission.jurisdiction or terms.default_jurisdiction(
        statement, settings.requests.default_jurisdiction
    )
    found = terms.terms_for(statement, jurisdiction, submission.kind)
    cleaned = details.check(
        submission.kind, submission.details, statement, allow_private=settings.delivery.allow_private_recipients
    )
    agent = details.check_agent(
        submission.agent,
        submission.proof,
        statement,
        max_bytes=settings.requests.max_document_bytes,
        kind=submission.kind,
    )
    holidays = settings.requests.holiday_dates()
    due = deadlines.add(now, found.deadline, holidays)
    row = PrivacyRequest(
        public_id=new_public_id(),
        kind=submission.kind.value,
        status=Status.RECEIVED.value,
        jurisdiction=found.jurisdiction,
        statement_version=version,
        verification=found.verification,
        offered=found.offered,
        received_at=now,
        acknowledge_by=None
        if found.acknowledge_within is None
        else deadlines.add(now, found.acknowledge_within, holidays),
        original_due_at=due,
        due_at=due,
        identity_kind=found_kind.value,
        identity_hash=vault.lookup_hash(found_kind, normalized),
        sealed_identity=b"",
        by_agent=agent is not None,
        updated_at=now,
    )
    row.sealed_identity = seal_identity(vault, row.public_id, normalized)
    if agent is not None:
        cleaned = {**cleaned, "agent": {"name": agent.name, "email": agent.email, "relationship": agent.relationship}}
    others = claimed.check(submission.identities, region=vault.phone_region)
    if others:
        cleaned = {**cleaned, claimed.KEY: others}
    row.sealed_details = seal_details(vault, row.public_id, cleaned)
    session.add(row)
    session.flush()
    factcheck.require(session, row, settings.requests, now=now)  # P-RGT-7: high-risk types match facts held
    if submission.proof is not None:
        session.add(
            RequestDocument(
                request_id=row.id,
                purpose=AGENT_PROOF,
                content_type=submission.proof.content_type,
                size=len(submission.proof.data),
                sealed=seal_document(vault, row.public_id, AGENT_PROOF, submission.proof.data),
                created_at=now,
            )
        )
    audit.record(
        session,
        actor="requester" if agent is None else "agent",
        action="request.received",
        target=f"request:{row.public_id}",
        data={
            "kind": row.kind,
            "jurisdiction": row.jurisdiction,
            "statement_version": version,
            "due_at": due.isoformat(),
            "deadline": str(found.deadline),
            "verification": found.verification,
            "by_agent": agent is not None,
            "agent_relationship": None if agent is None else agent.relationship,
            "proof": submission.proof is not None,
            "other_identity_kinds": sorted(others),
        },
    )
    return row, found, agent


def submit(
    database: Database,
    mailer: Mailer,
    submission: Submission,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime | None = None,
) -> Received:
    """Record the request, mail the acknowledgement and code; all of it, or nothing if the mail fails."""
    now = now or utcnow()
    with database.session() as session:
        row, found, agent = _record(session, submission, vault=vault, settings=settings, now=now)
        started = challenges.start(
            session, submission.identity, vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
        )
        row.challenge_id = started.challenge_id
        row.acknowledged_at = now
        move(session, row, Status.VERIFYING, actor="charter", now=now, data={"acknowledged": True})
        text = acknowledgement(session, row, found, started, agent, settings=settings)
        message = compose(
            settings.mail,
            to=started.email,
            subject=f"We received your privacy request {row.public_id}",
            text=text,
            headers={"Auto-Submitted": "auto-generated"},
        )
        received = Received(row.public_id, started.challenge_id, row.due_at)
    try:
        mailer.send(message)
    except Unavailable:
        _abandon(database, received)
        raise
    return received


def _abandon(database: Database, received: Received) -> None:
    """The acknowledgement could not be sent: forget the request (the person is told to try again)."""
    with database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == received.public_id))
        if row is None:
            return
        session.execute(delete(RequestDocument).where(RequestDocument.request_id == row.id))
        session.execute(delete(RequestFacts).where(RequestFacts.request_id == row.id))  # facts matching (issue 4)
        session.delete(row)
        challenges.discard(session, received.challenge_id)
        audit.record(
            session,
            actor="charter",
            action="request.abandoned",
            target=f"request:{received.public_id}",
            data={"why": "mail_unavailable"},
        )


def acknowledgement(
    session: Session,
    row: PrivacyRequest,
    found: terms.Terms,
    started: Started,
    agent: Agent | None,
    *,
    settings: Settings,
) -> str:
    who = notices.organization_of(session, row.statement_version)
    label = RequestKind(row.kind).label
    minutes = settings.preferences.code_minutes
    lines = ["Hello,", ""]
    if agent is not None and agent.relationship == details.PARENT:
        lines += [
            f"{agent.name} ({agent.email}) told us they are the parent or guardian of the person this address",
            "belongs to, and asked us to delete that child's data. Only if this is right, confirm it with the",
            "code below; if not, ignore this e-mail and nothing will be done.",
            "",
        ]
    elif agent is not None:
        lines += [
            f"{agent.name} ({agent.email}) told us they act for you as your authorized agent and made this",
            "privacy request in your name. Only if you agree, confirm it with the code below; if you do not",
            "know them, ignore this e-mail and nothing will be done.",
            "",
        ]
    lines += [
        f"{who} received your privacy request {row.public_id} on {row.received_at:%d %B %Y}:",
        f"  {label}",
        f"Under the rules for {found.jurisdiction_name} we answer by {row.due_at:%d %B %Y}.",
        "",
        "To confirm that the request is yours, enter this code:",
        "",
        f"Your code: {started.code}",
        "",
        f"Or open this link:\n{link_for(settings, started.link_token)}",
        "",
        f"The code and the link work once, for {minutes} minutes. We act on the request only after it is",
        "confirmed. If you did not ask for this, ignore this e-mail.",
        "",
    ]
    return "\n".join(lines)


# -- verification --------------------------------------------------------------------


def _by_challenge(session: Session, challenge_id: str) -> PrivacyRequest:
    row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.challenge_id == challenge_id))
    if row is None:  # pragma: no cover - a request's challenge is deleted only with the request
        raise ChallengeInvalid(challenges.INVALID)
    return row


def _verified(session: Session, claimed: Claimed, *, vault: subjects.Vault, now: datetime) -> PrivacyRequest:
    row = _by_challenge(session, claimed.challenge_id)
    challenge = session.get_one(EmailChallenge, claimed.challenge_id)
    person = session.scalar(
        select(Identity).where(Identity.kind == IdentityKind.EMAIL.value, Identity.lookup_hash == challenge.email_hash)
    )
    if person is not None:
        found = subjects.canonical(session, session.get_one(Person, person.person_id))
        row.person_id = found.id
    row.verified_at = now
    row.verified_via = claimed.via
    move(
        session,
        row,
        Status.VERIFIED,
        actor="requester",
        now=now,
        data={"via": claimed.via, "agent_confirmed": row.by_agent},
    )
    move(session, row, Status.IN_REVIEW, actor="charter", now=now)
    notices.queue(session, row, notices.VERIFIED)
    return row


def verify_code(
    database: Database,
    public_id: str,
    code: str,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime | None = None,
) -> str:
    """Redeem the code sent for request ``public_id``; return the id. A wrong try is counted and committed."""
    now = now or utcnow()
    wrong: WrongCode | None = None
    with database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id[:32]))
        if row is None or row.challenge_id is None:
            raise ChallengeInvalid(challenges.INVALID)
        try:
            claimed = challenges.claim_code(
                session, row.challenge_id, code, vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
            )
        except WrongCode as exc:
            wrong = exc
        else:
            return _verified(session, claimed, vault=vault, now=now).public_id
    raise wrong


def verify_link(
    database: Database, token: str, *, vault: subjects.Vault, settings: Settings, now: datetime | None = None
) -> str:
    now = now or utcnow()
    with database.session() as session:
        claimed = challenges.claim_link(
            session, token, vault=vault, settings=settings.preferences, now=now, purpose=PURPOSE
        )
        return _verified(session, claimed, vault=vault, now=now).public_id
