"""Matching facts already held before a high-risk request is approved (P-RGT-7).

The flow, for a request type listed in ``CHARTER_REQUESTS_FACTS_KINDS``
(default: deletion, access, portability):

1. at intake :func:`require` writes a ``request_facts`` row, outcome *pending*;
2. once the e-mail is confirmed, the requester is asked for facts (the kinds
   the data map can check, :mod:`charter.execution.facts_lookup`) and
   :func:`check` compares them with what the stores hold about the address
   (through a :class:`Lookup`), storing only the outcome: matched N of M, not
   matched, no facts held, or a store unavailable; audited as
   ``request.facts_checked`` with counts and kinds only, never a value;
3. :func:`needs_confirmation` tells :func:`charter.requests.review.approve`
   whether the reviewer must still confirm "I checked the requester's
   identity": yes for a high-risk request (or a statement level of
   ``email_and_facts``) unless the facts matched.

Whatever happens — no such person in the stores, facts wrong, a store down,
attempts used up — the requester gets the same answer (:data:`NEUTRAL`):
the outcome is for the privacy office only, so nobody learns from Charter
whether the organization holds data about an address (no enumeration).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from charter import audit
from charter.db import Database
from charter.db.base import rowcount, utcnow
from charter.errors import Unavailable
from charter.requests import facts, identity_start, terms
from charter.requests.facts import Outcome
from charter.requests.kinds import RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestFacts
from charter.requests.sealing import identity_of
from charter.settings import RequestSettings
from charter.subjects.service import Vault

NEUTRAL = "Thank you; the privacy office will review your request."
"""The one answer a requester gets after sending facts, whatever the outcome."""

OPEN_FOR_FACTS = frozenset({Status.IN_REVIEW, Status.NEEDS_MORE_VERIFICATION})


class Lookup(Protocol):
    """Reads what the data stores hold about an identity (:class:`charter.execution.facts_lookup.StoreLookup`)."""

    def held(self, identity_kind: str, identity: str, kinds: Collection[str]) -> Mapping[str, Sequence[str]]:
        """Normalized values per fact kind in ``kinds`` (empty when nobody is found); Unavailable if a store is down."""
        ...


def high_risk(settings: RequestSettings) -> frozenset[RequestKind]:
    """The request types that need facts matched, from ``CHARTER_REQUESTS_FACTS_KINDS`` (checked when the
    settings load: an unknown type stops start-up)."""
    return frozenset(RequestKind(name) for name in settings.facts_kind_set())


class _NoLookup:
    """No data map to read: every lookup is a store that is down (the outcome "unavailable")."""

    def held(self, identity_kind: str, identity: str, kinds: Collection[str]) -> Mapping[str, Sequence[str]]:
        raise Unavailable("no data map was given, so no store was read")


NO_LOOKUP: Lookup = _NoLookup()


def require(session: Session, row: PrivacyRequest, settings: RequestSettings, *, now: datetime) -> None:
    """At intake: a high-risk request will ask its requester for facts once the e-mail is confirmed; a request
    made without an e-mail address always (facts are its only proof, P-RGT-7)."""
    if RequestKind(row.kind) in high_risk(settings) or identity_start.without_email(row):
        session.add(RequestFacts(request_id=row.id, outcome=Outcome.PENDING.value, created_at=now))


def state_of(session: Session, row: PrivacyRequest) -> RequestFacts | None:
    return session.scalar(select(RequestFacts).where(RequestFacts.request_id == row.id))


def needs_confirmation(session: Session, row: PrivacyRequest) -> bool:
    """Must the reviewer confirm they checked the identity? Yes when facts are asked for and did not match."""
    state = state_of(session, row)
    if state is not None and state.outcome == Outcome.MATCHED.value:
        return False
    return state is not None or row.verification in terms.STRONG


def may_send(state: RequestFacts | None, row: PrivacyRequest, settings: RequestSettings) -> bool:
    """May facts be sent (and the form be shown)? While in review and attempts remain.

    Never depends on the outcome: a form that vanished after a match would
    tell the requester what only the privacy office may know.
    """
    open_for = OPEN_FOR_FACTS | {Status.VERIFYING} if identity_start.without_email(row) else OPEN_FOR_FACTS
    return state is not None and Status(row.status) in open_for and state.attempts < settings.facts_attempts


def describe(state: RequestFacts | None) -> str | None:
    """The verification level for the console, e.g. ``facts matched 2 of 2 (postal code, date of birth)``."""
    if state is None:
        return None
    outcome = Outcome(state.outcome)
    if outcome in (Outcome.MATCHED, Outcome.NOT_MATCHED):
        text = f"{outcome.label}: {state.matched} of {state.compared}"
    else:
        text = outcome.label
    if state.kinds:
        parts = ", ".join(
            f"{kind.replace('_', ' ')} {how.replace('_', ' ')}" for kind, how in sorted(state.kinds.items())
        )
        text += f" ({parts})"
    if state.attempts:
        text += f"; {state.attempts} attempt{'s' if state.attempts != 1 else ''}"
    return text


def check(
    database: Database,
    public_id: str,
    given: Mapping[str, str],
    *,
    lookup: Lookup,
    vault: Vault,
    settings: RequestSettings,
    now: datetime | None = None,
) -> None:
    """Compare the requester's normalized facts with the stores and keep only the outcome.

    Returns nothing on purpose: the caller answers :data:`NEUTRAL` whatever
    happened. A request that asks for no facts, is not in review or used up
    its attempts is left as it is; otherwise the latest attempt's outcome is
    the one kept. The stores are read
    outside Charter's transaction; the outcome is written with a conditional
    update, so two sends at once count as two attempts and one outcome wins.
    """
    now = now or utcnow()
    with database.session() as session:
        row = session.scalar(select(PrivacyRequest).where(PrivacyRequest.public_id == public_id[:32]))
        state = None if row is None else state_of(session, row)
        if row is not None:  # the identity the request started from is no proof of itself (a phone's last digits)
            given = identity_start.usable_facts(row.identity_kind, given)
        if row is None or state is None or not may_send(state, row, settings) or not given:
            return
        identity_kind, identity, attempts = row.identity_kind, identity_of(vault, row), state.attempts
    try:
        held: Mapping[str, Sequence[str]] | None = lookup.held(identity_kind, identity, set(given))
    except Unavailable:
        held = None
    result = facts.evaluate(given, held)
    with database.session() as session:
        changed = session.execute(
            update(RequestFacts)
            .where(RequestFacts.id == state.id, RequestFacts.attempts == attempts)
            .values(
                outcome=result.outcome.value,
                given=result.given,
                compared=result.compared,
                matched=result.matched,
                kinds=result.kinds,
                attempts=attempts + 1,
                checked_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(changed) != 1:
            return  # another send of the same request was recorded first
        audit.record(
            session,
            actor="requester",
            action="request.facts_checked",
            target=f"request:{public_id}",
            data={
                "outcome": result.outcome.value,
                "given": result.given,
                "compared": result.compared,
                "matched": result.matched,
                "kinds": result.kinds,
                "attempt": attempts + 1,
            },
        )
