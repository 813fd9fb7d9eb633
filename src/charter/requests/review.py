"""The privacy office's decisions, and the executor's state changes (P-RGT-1..8, P-RET-2/3).

Each function checks the state (:mod:`transitions`), changes the request,
writes the audit log and queues the e-mail to the requester, all in the
caller's transaction; the caller sends the e-mail after the commit
(:func:`charter.requests.notices.deliver`).

Approving a restriction, objection, opt-out of sale/sharing or withdrawal
of consent records the ledger events at once (``written=True``: the
request is a written notice), so the decision engine refuses those uses
from then on (P-RGT-4, P-USE-5); the request then runs through
``in_progress`` to ``completed``. Access, portability, correction and
deletion stay ``approved`` until the runner (:mod:`charter.execution.runner`) takes them
(:func:`start`, :func:`complete`, :func:`fail`); a failed run is the office's to
:func:`resume` or :func:`give_up` (charter.execution.retry).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from charter import audit
from charter.db.base import utcnow
from charter.errors import NotFound
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.policy import service as policy
from charter.policy.schema import Statement
from charter.requests import claimed, deadlines, factcheck, holds, identity_start, notices, terms
from charter.requests.errors import (
    AlreadyExtended,
    GroundNotAllowed,
    HeldByLegalHold,
    InvalidRequest,
    RequestClosed,
)
from charter.requests.kinds import CLOSED, LEDGER_KINDS, DenialReason, RequestKind, Status
from charter.requests.models import PrivacyRequest
from charter.requests.sealing import details_of, identity_of, seal_details
from charter.requests.transitions import move, require
from charter.settings import RequestSettings
from charter.subjects import service as subjects
from charter.subjects.models import Identity, Person
from charter.subjects.normalize import IdentityKind

MAX_NOTE = 2_000


#: built once: a run reads its request at its start and at its end, and building the query cost more than sending it
_BY_PUBLIC_ID = select(PrivacyRequest).where(PrivacyRequest.public_id == bindparam("public_id"))


def get(session: Session, public_id: str) -> PrivacyRequest:
    row = session.scalar(_BY_PUBLIC_ID, {"public_id": public_id[:32]})
    if row is None:
        raise NotFound("no request has this id; `charter requests list` shows them")
    return row


def _note(text: str | None, what: str, *, required: bool) -> str | None:
    text = (text or "").strip()
    if not text:
        if required:
            raise InvalidRequest(f"{what} is required")
        return None
    if len(text) > MAX_NOTE:
        raise InvalidRequest(f"{what} must be at most {MAX_NOTE:,} characters")
    return text


_IDENTITY = select(Identity).where(Identity.kind == bindparam("kind"), Identity.lookup_hash == bindparam("hash"))


def person_id_of(session: Session, row: PrivacyRequest) -> int | None:
    """The requester's person, linked now if Charter came to know the address since (e.g. for a legal hold)."""
    if row.person_id is None:
        identity = session.scalar(_IDENTITY, {"kind": row.identity_kind, "hash": row.identity_hash})
        if identity is not None and Status(row.status) not in (Status.RECEIVED, Status.VERIFYING):
            row.person_id = subjects.canonical(session, session.get_one(Person, identity.person_id)).id
    return row.person_id


def statement_of(session: Session, row: PrivacyRequest) -> Statement:
    return policy.statement_of(policy.get(session, row.statement_version))


def terms_of(session: Session, row: PrivacyRequest) -> terms.Terms:
    return terms.terms_for(statement_of(session, row), row.jurisdiction, RequestKind(row.kind))


# -- decisions -----------------------------------------------------------------------


def approve(
    session: Session,
    row: PrivacyRequest,
    *,
    actor: str,
    vault: subjects.Vault,
    identity_checked: bool = False,
    identities_checked: bool = False,
    now: datetime | None = None,
) -> PrivacyRequest:
    """Approve a request under review.

    ``identities_checked``: the reviewer confirmed that the other identifiers the requester gave (a phone, a
    loyalty number: :mod:`charter.requests.claimed`) are theirs, so the run searches them as starts; without it
    they are searched only where the person's own rows hold them.

    Refused (409) for a deletion while a legal hold covers the person
    (P-RET-3), and (422) where the statement asks for more than control of
    the e-mail (P-RGT-7: ``email_and_facts``) or the request is high-risk
    (``CHARTER_REQUESTS_FACTS_KINDS``), the requester's facts did not match
    the stores (:mod:`charter.requests.factcheck`) and the reviewer has not
    confirmed they checked the identity (``identity_checked``).
    """
    now = now or utcnow()
    require(row, Status.IN_REVIEW, doing="approved")
    kind = RequestKind(row.kind)
    active = holds.active_for(session, person_id_of(session, row))
    if kind == RequestKind.DELETION:
        on_person = [hold for hold in active if hold.person_id is not None]
        if on_person:
            raise HeldByLegalHold(
                f"legal hold {on_person[0].public_id} covers this person ({on_person[0].reason[:200]}); "
                "release it first, or deny the request with the ground legal_hold"
            )
    # P-RGT-7: no e-mail code was ever sent: facts (or an agent's proof) and the office's own check, always.
    if identity_start.without_email(row):
        problem = identity_start.approval_problem(session, row, identity_checked=identity_checked, now=now)
        if problem is not None:
            raise InvalidRequest(problem)
    # P-RGT-7: facts matched automatically (factcheck) stand for the reviewer's own check of the identity.
    elif factcheck.needs_confirmation(session, row) and not identity_checked:
        raise InvalidRequest(
            f"this request must be verified with facts already held (statement {row.statement_version}: "
            f"{row.verification}; {factcheck.describe(factcheck.state_of(session, row)) or 'no facts matched'}); "
            "confirm you checked the requester's identity (identity_checked), or ask for more verification"
        )
    row.decided_at, row.decided_by = now, actor
    opened = details_of(vault, row)
    others = claimed.claimed_of(opened)
    if others and identities_checked:
        row.sealed_details = seal_details(vault, row.public_id, {**opened, claimed.CONFIRMED: True})
    move(
        session,
        row,
        Status.APPROVED,
        actor=actor,
        now=now,
        data={
            "identity_checked": identity_checked,
            "other_identities_confirmed": sorted(others) if identities_checked else [],
            "held_systems": sorted({h.system for h in active if h.system is not None}),
            **_facts_outcome(session, row),
        },
    )
    if kind in LEDGER_KINDS:
        _carry_out_in_ledger(session, row, kind, actor=actor, vault=vault, now=now)
    else:
        notices.queue(session, row, notices.APPROVED)
    return row


def _facts_outcome(session: Session, row: PrivacyRequest) -> dict[str, object]:
    """The facts matching outcome for the approval's audit entry (an outcome only, never a value)."""
    state = factcheck.state_of(session, row)
    return {} if state is None else {"facts": state.outcome}


def _carry_out_in_ledger(
    session: Session, row: PrivacyRequest, kind: RequestKind, *, actor: str, vault: subjects.Vault, now: datetime
) -> None:
    move(session, row, Status.IN_PROGRESS, actor=actor, now=now)
    person = _person_for(session, row, vault)
    events = ledger_events(row, kind, statement_of(session, row), details_of(vault, row), now=now)
    known = ledger.StatementPurposes(session)
    checked = [ledger.check_purposes(session, event, known=known) for event in events]
    ledger.record_many(session, person, checked, actor=f"request:{row.public_id}")
    move(session, row, Status.COMPLETED, actor=actor, now=now, data={"ledger_events": len(checked)})
    notices.queue(session, row, notices.COMPLETED)


def _person_for(session: Session, row: PrivacyRequest, vault: subjects.Vault) -> Person:
    """The requester's person; created now if Charter did not know them, so the restriction holds from now on."""
    if row.person_id is not None:
        return subjects.canonical(session, session.get_one(Person, row.person_id))
    kind = IdentityKind(row.identity_kind)  # a custom kind never reaches here (identity_start.check_level)
    person = subjects.resolve(session, kind, identity_of(vault, row), vault=vault, create=True)
    if person is None:  # pragma: no cover - create=True always gives a person
        raise NotFound("the requester could not be recorded")
    row.person_id = person.id
    return person


def ledger_events(
    row: PrivacyRequest, kind: RequestKind, statement: Statement, details: dict[str, object], *, now: datetime
) -> list[Event]:
    """The ledger events that carry out an approved request of a ledger kind."""
    common = {
        "at": now,
        "source": Source.AUTHORIZED_AGENT if row.by_agent else Source.PRIVACY_CENTER,
        "statement_version": statement.version,
        "jurisdiction": row.jurisdiction,
        "evidence": {"request": row.public_id},
    }
    named = details.get("purposes")
    purposes = [p for p in named if isinstance(p, str)] if isinstance(named, list) else []
    if kind == RequestKind.OPT_OUT_SALE_SHARING:
        return [Event(kind=EventKind.SALE_SHARING_OPTED_OUT, data={"written": True}, **common)]
    if kind == RequestKind.WITHDRAW_CONSENT:
        chosen = purposes or [p.id for p in statement.purposes if p.consent == "opt_in" and p.withdrawable]
        return [Event(kind=EventKind.CONSENT_WITHDRAWN, data={"purpose": p, "written": True}, **common) for p in chosen]
    event_kind = EventKind.RESTRICTED if kind == RequestKind.RESTRICTION else EventKind.OBJECTED
    return [Event(kind=event_kind, data={"purpose": p, "written": True}, **common) for p in (purposes or ["*"])]


def deny(
    session: Session,
    row: PrivacyRequest,
    *,
    reason: DenialReason | str,
    actor: str,
    note: str | None = None,
    now: datetime | None = None,
) -> PrivacyRequest:
    """Refuse with a ground the statement in force at receipt allows; the requester is told why (P-RGT-3)."""
    now = now or utcnow()
    require(row, Status.VERIFIED, Status.IN_REVIEW, Status.NEEDS_MORE_VERIFICATION, doing="denied")
    try:
        ground = DenialReason(reason)
    except ValueError:
        known = ", ".join(r.value for r in DenialReason)
        raise GroundNotAllowed(f"the refusal ground is not known; use one of {known}") from None
    kind = RequestKind(row.kind)
    allowed = terms.allowed_denials(statement_of(session, row), kind)
    if ground not in allowed:
        raise GroundNotAllowed(
            f"{ground.value} is not a ground statement {row.statement_version} allows for a {kind.value} request; "
            f"use one of {', '.join(g.value for g in allowed)}"
        )
    if ground == DenialReason.LEGAL_HOLD and not any(
        hold.person_id is not None for hold in holds.active_for(session, person_id_of(session, row))
    ):
        raise GroundNotAllowed("no active legal hold covers this person; place one first (`charter holds add`)")
    row.decision_reason = ground.value
    row.decision_note = _note(note, "the note", required=False)
    row.decided_at, row.decided_by = now, actor
    move(session, row, Status.DENIED, actor=actor, now=now, data={"ground": ground.value})
    notices.queue(session, row, notices.DENIED)
    return row


def extend(
    session: Session,
    row: PrivacyRequest,
    *,
    reason: str,
    actor: str,
    settings: RequestSettings,
    now: datetime | None = None,
) -> PrivacyRequest:
    """Extend the deadline once, by the period the law allows, with a reason the requester receives (P-RGT-8)."""
    now = now or utcnow()
    if Status(row.status) in CLOSED:
        raise RequestClosed(f"request {row.public_id} is {Status(row.status).label}: there is no deadline left")
    if row.extended_at is not None:
        raise AlreadyExtended(f"the deadline of request {row.public_id} was already extended once (the law allows one)")
    found = terms_of(session, row)
    if found.extension is None:
        raise GroundNotAllowed(
            f"statement {row.statement_version} allows no extension in {found.jurisdiction_name}; "
            "answer by the deadline"
        )
    text = _note(reason, "a reason for the extension", required=True)
    row.due_at = deadlines.add(row.original_due_at, found.extension, settings.holiday_dates())
    row.extended_at, row.extension_reason, row.updated_at = now, text, now
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="request.extended",
        target=f"request:{row.public_id}",
        data={"due_at": row.due_at.isoformat(), "extension": str(found.extension)},
    )
    notices.queue(session, row, notices.EXTENDED)
    return row


def ask_verification(
    session: Session, row: PrivacyRequest, *, message: str, actor: str, now: datetime | None = None
) -> PrivacyRequest:
    """Ask the requester for more proof of identity (P-RGT-7: only when what is held is not enough)."""
    now = now or utcnow()
    text = _note(message, "a message saying what is needed", required=True)
    move(session, row, Status.NEEDS_MORE_VERIFICATION, actor=actor, now=now)
    notices.queue(session, row, notices.MORE_VERIFICATION, note=text)
    return row


def provide_verification(
    session: Session, row: PrivacyRequest, *, information: str, vault: subjects.Vault, now: datetime | None = None
) -> PrivacyRequest:
    """The verified requester adds what was asked for (sealed with the request); back to review."""
    now = now or utcnow()
    text = _note(information, "the information asked for", required=True)
    require(row, Status.NEEDS_MORE_VERIFICATION, doing="given more information")
    held = details_of(vault, row)
    given = held.get("more_verification")
    added = [*given, text] if isinstance(given, list) else [text]
    row.sealed_details = seal_details(vault, row.public_id, {**held, "more_verification": added})
    move(session, row, Status.IN_REVIEW, actor="requester", now=now, data={"more_information": True})
    return row


# -- the executor's part (called by charter.execution.runner) -------------------------


def start(session: Session, row: PrivacyRequest, *, actor: str, now: datetime | None = None) -> PrivacyRequest:
    move(session, row, Status.IN_PROGRESS, actor=actor, now=now or utcnow())
    return row


def complete(
    session: Session, row: PrivacyRequest, *, actor: str, now: datetime | None = None, nothing_found: bool = False
) -> PrivacyRequest:
    """Complete the request and tell the person; ``nothing_found``: every store was searched and none holds
    anything about them, which the notice says in those words (never "It is done")."""
    move(session, row, Status.COMPLETED, actor=actor, now=now or utcnow(), data={"found": not nothing_found})
    notices.queue(session, row, notices.COMPLETED, note=notices.NOTHING_FOUND if nothing_found else None)
    return row


def fail(session: Session, row: PrivacyRequest, *, actor: str, why: str, now: datetime | None = None) -> PrivacyRequest:
    """The run failed. The requester is not told (P-RGT-8: nothing is answered yet, the deadline runs): the office
    retries it (:func:`resume`) or gives up with a reason (:func:`give_up`), which is what they are told."""
    move(session, row, Status.FAILED, actor=actor, now=now or utcnow(), data={"why": why[:200]})
    return row


def resume(
    session: Session, row: PrivacyRequest, *, actor: str, data: dict[str, object], now: datetime | None = None
) -> PrivacyRequest:
    """The office retries a failed request's run (charter.execution.retry): back to in progress, audited."""
    require(row, Status.FAILED, doing="retried")
    move(session, row, Status.IN_PROGRESS, actor=actor, now=now or utcnow(), data={"retry": True, **data})
    return row


def give_up(session: Session, row: PrivacyRequest, *, reason: str, actor: str, now: datetime | None = None) -> str:
    """The office closes a failed request as not carried out; the requester is e-mailed the reason. The reason,
    checked; the run keeps it (charter.execution.retry)."""
    require(row, Status.FAILED, doing="given up")
    text = _note(reason, "a reason, sent to the requester,", required=True) or ""
    move(session, row, Status.GIVEN_UP, actor=actor, now=now or utcnow())
    notices.queue(session, row, notices.FAILED, note=text)
    return text
