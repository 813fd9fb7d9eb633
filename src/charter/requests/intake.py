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
from charter.requests import (
    claimed,
    deadlines,
    details,
    factcheck,
    facts,
    identity_start,
    notices,
    status_secret,
    terms,
)
from charter.requests.details import Agent, Document
from charter.requests.errors import InvalidRequest
from charter.requests.identity_start import EMAIL, StartKinds
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestDocument, RequestFacts
from charter.requests.sealing import seal_details, seal_document, seal_identity
from charter.requests.transitions import move
from charter.settings import Settings
from charter.subjects import service as subjects
from charter.subjects.models import Identity, Person, new_public_id
from charter.subjects.normalize import IdentityKind

PURPOSE = "requests"
VERIFY_PATH = "/privacy/requests/verify"
AGENT_PROOF = "agent_proof"


@dataclass(frozen=True)
class Submission:
    """What the requester sent. ``identity_kind``: ``email`` (a code is sent there), or another kind the data map
    declares (:mod:`charter.requests.identity_start`), proven with ``facts`` the stores already hold."""

    kind: RequestKind
    identity_kind: str
    identity: str = field(repr=False)
    jurisdiction: str | None = None
    details: dict[str, Any] = field(default_factory=dict, repr=False)
    agent: Agent | None = None
    proof: Document | None = None
    #: other identifiers (kind, value): claims until the office confirms them (charter.requests.claimed)
    identities: tuple[tuple[str, str], ...] = field(default=(), repr=False)
    #: facts held (kind → value as typed) proving a request made without an e-mail address
    facts: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class Received:
    public_id: str
    challenge_id: str
    due_at: datetime
    #: a request made without an e-mail address: the status secret, to show once (never stored or logged)
    secret: str | None = field(default=None, repr=False)


def statement_in_force(session: Session, at: datetime) -> tuple[str, Statement]:
    row = policy.in_force(session, at.date())
    if row is None:
        raise NotFound("no privacy statement is in force yet, so no request can be received")
    return row.version, policy.statement_of(row)


def link_for(settings: Settings, token: str) -> str:
    return f"{settings.base_url.rstrip('/')}{VERIFY_PATH}?{urlencode({'token': token})}"


def _record(
    session: Session,
    submission: Submission,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime,
    starts: StartKinds | None = None,
) -> tuple[PrivacyRequest, terms.Terms, Agent | None]:
    identity_kind, normalized = (starts or StartKinds()).normalize(
        submission.identity_kind, submission.identity, region=vault.phone_region
    )
    version, statement = statement_in_force(session, now)
    jurisdiction = submission.jurisdiction or terms.default_jurisdiction(
        statement, settings.requests.default_jurisdiction
    )
    found = terms.terms_for(statement, jurisdiction, submission.kind)
    if identity_kind != EMAIL:  # P-RGT-7: the statement's level decides whether facts may stand in for the code
        identity_start.check_level(statement, found, submission.kind, identity_kind)
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
        identity_kind=identity_kind,
        identity_hash=identity_start.lookup_hash(vault, identity_kind, normalized),
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
    factcheck.require(session, row, settings.requests, now=now)  # P-RGT-7: high-risk types (and no e-mail) match facts
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
            "identity_kind": identity_kind,
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
    starts: StartKinds | None = None,
    lookup: factcheck.Lookup | None = None,
) -> Received:
    """Record the request, mail the acknowledgement and code; all of it, or nothing if the mail fails.

    A request made with another identity than e-mail (``starts``: the kinds the data map declares) has no
    code to send: :func:`_submit_without_email` compares its facts through ``lookup`` instead."""
    now = now or utcnow()
    if identity_start.canonical_kind(submission.identity_kind) != EMAIL:
        return _submit_without_email(
            database, submission, vault=vault, settings=settings, now=now, starts=starts, lookup=lookup
        )
    if submission.facts:
        raise InvalidRequest("facts are asked for once the e-mail code is entered (verify-facts), not with the request")
    with database.session() as session:
        row, found, agent = _record(session, submission, vault=vault, settings=settings, now=now, starts=starts)
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


def _submit_without_email(
    database: Database,
    submission: Submission,
    *,
    vault: subjects.Vault,
    settings: Settings,
    now: datetime,
    starts: StartKinds | None,
    lookup: factcheck.Lookup | None,
) -> Received:
    """A request made with a phone or another identifier: recorded, its facts compared, then in review.

    The answer (a status secret shown once) is the same whatever the facts' outcome, and whether anyone holds
    that identity at all: the outcome is for the office, who must still confirm before approving
    (:func:`charter.requests.identity_start.approval_problem`)."""
    kind_name, _normalized = (starts or StartKinds()).normalize(  # the kind first: its refusal names those accepted
        submission.identity_kind, submission.identity, region=vault.phone_region
    )
    try:
        given = facts.cleaned(submission.facts)
    except ValueError as exc:
        kind = facts.KINDS[str(exc)]
        raise InvalidRequest(f"facts.{kind.id}: {kind.hint}") from None
    usable = identity_start.usable_facts(kind_name, given)
    if not usable:
        asked = ", ".join(identity_start.offered_facts(kind_name, list(facts.KINDS)))
        raise InvalidRequest(
            "a request without an e-mail address is verified with information we already hold: give at least one "
            f"fact ({asked})"
        )
    with database.session() as session:
        row, _found, _agent = _record(session, submission, vault=vault, settings=settings, now=now, starts=starts)
        row.acknowledged_at = now
        move(session, row, Status.VERIFYING, actor="charter", now=now, data={"acknowledged": True, "channel": "facts"})
        secret = status_secret.issue(session, row, now=now)
        received = Received(row.public_id, "", row.due_at, secret=secret)
    factcheck.check(
        database,
        received.public_id,
        usable,
        lookup=lookup or factcheck.NO_LOOKUP,
        vault=vault,
        settings=settings.requests,
        now=now,
    )
    with database.session() as session:
        sent = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == received.public_id))
        if sent is not None and sent.status == Status.VERIFYING.value:
            move(session, sent, Status.IN_REVIEW, actor="requester", now=now, data={"channel": "facts"})
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
