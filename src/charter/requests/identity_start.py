"""Starting a request from an identity other than e-mail: a phone, a loyalty number (issue 11, P-RGT-7).

A request normally starts from an e-mail address, the one channel Charter can
prove (a code is sent there). A person known to the organization only by a
phone number or a customer number may still ask (docs/design/identity-start.md):

* **which kinds** — e-mail always; any other kind only if the data map
  declares a field of that kind (Charter's own, such as ``phone``, or a custom
  one such as ``loyalty_id``): :class:`StartKinds`. Others are refused naming
  the kinds accepted. Values are normalized as everywhere (a phone to E.164 in
  the default region; a custom kind trimmed, 1–200 printable characters).
* **what proves it** — Charter sends no SMS, so there is no code: the
  requester answers facts the stores already hold about that identity
  (:mod:`charter.requests.factcheck`, "using data already held"), never the
  kind they started from (the last four digits of the phone they typed prove
  nothing), and the office confirms before approval (:func:`approval_problem`).
* **when it may** — the statement's verification level for that right decides,
  failing closed (:func:`check_level`): facts may stand in for the e-mail code
  only where the statement says it verifies with data already held
  (``rights.verify_with_data_held``) and the level asks for no document; an
  unknown level is a refusal. This depends on the statement alone, so refusing
  at intake tells nobody anything about a person.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from charter.errors import shown
from charter.policy.schema import Statement
from charter.requests.errors import InvalidRequest
from charter.requests.facts import Outcome
from charter.requests.kinds import LEDGER_KINDS, RequestKind
from charter.requests.models import PrivacyRequest, RequestDocument, RequestFacts
from charter.requests.terms import Terms
from charter.subjects.normalize import IdentityKind, InvalidIdentity, normalize
from charter.subjects.service import Vault

EMAIL = IdentityKind.EMAIL.value
MAX_VALUE = 200
#: aliases a requester or a data map may write for Charter's own kinds
ALIASES = {"phone_number": IdentityKind.PHONE.value, "e-mail": EMAIL, "email_address": EMAIL}
#: levels under which facts may stand in for the e-mail code (when the statement verifies with data held)
FACTS_MAY_STAND_IN = frozenset({"none", "email", "email_and_facts"})
#: a match proves the identity only with at least this many facts compared, every one matched
MIN_FACTS = 2
#: facts that say nothing about a requester who started from this kind (they typed it themselves)
SAME_AS_START = {IdentityKind.PHONE.value: frozenset({"phone_last4"})}
#: how far back other requests for the same identity count against a match (guessing across requests)
CONTESTED_WINDOW = timedelta(days=30)


def without_email(row: PrivacyRequest) -> bool:
    """Was the request started from an identity other than an e-mail address (no code was ever sent)?"""
    return row.identity_kind != EMAIL


def canonical_kind(raw: str) -> str:
    kind = (raw or "").strip().lower()
    return ALIASES.get(kind, kind)


@dataclass(frozen=True)
class StartKinds:
    """The identity kinds a request may start from here: e-mail, and the others the data map declares."""

    others: frozenset[str] = frozenset()

    @classmethod
    def of(cls, declared: set[str] | frozenset[str]) -> StartKinds:
        kinds = {canonical_kind(k) for k in declared} - {EMAIL}
        return cls(frozenset(k for k in kinds if k))

    def accepted(self) -> list[str]:
        return [EMAIL, *sorted(self.others)]

    def normalize(self, raw_kind: str, value: object, *, region: str) -> tuple[str, str]:
        """The kind and the one spelling of ``value``; InvalidIdentity naming the kinds accepted (never the value)."""
        kind = canonical_kind(raw_kind)
        if kind != EMAIL and kind not in self.others:
            raise InvalidIdentity(
                f"a request cannot start from identity kind {shown(kind or raw_kind)}; use one of "
                f"{', '.join(self.accepted())}"
            )
        if not isinstance(value, str):
            raise InvalidIdentity(f"{kind} identity must be text")
        if kind in {k.value for k in IdentityKind}:
            found, normalized = normalize(kind, value, region=region)
            return found.value, normalized
        text = value.strip()
        if not 1 <= len(text) <= MAX_VALUE or not text.isprintable():
            raise InvalidIdentity(f"{kind} identity must be 1-{MAX_VALUE} printable characters")
        return kind, text


def lookup_hash(vault: Vault, kind: str, normalized: str) -> str:
    """The keyed hash of an identity of any kind (custom kinds included), as the ledger and the suppression list
    hash theirs: the kind is part of the message."""
    return vault.keys.lookup_hash(kind, normalized)


def check_level(statement: Statement, terms: Terms, kind: RequestKind, identity_kind: str) -> None:
    """May a request of ``kind`` start from ``identity_kind`` (not e-mail) under this statement? InvalidRequest if not.

    Fails closed: facts stand in for the e-mail code only where the statement says it verifies with data held
    and its level for the right is one facts can meet; a restriction or an objection is recorded in Charter's
    own ledger, which knows people only by Charter's identity kinds.
    """
    level = terms.verification
    if level not in FACTS_MAY_STAND_IN:
        raise InvalidRequest(
            f"under statement {statement.version} a {kind.label.lower()} request needs {level.replace('_', ' ')}, "
            "which information we already hold cannot replace; give an e-mail address"
        )
    if level != "none" and not statement.rights.verify_with_data_held:
        raise InvalidRequest(
            f"under statement {statement.version} a request is verified by a code sent to an e-mail address; "
            "give an e-mail address"
        )
    if kind in LEDGER_KINDS and identity_kind not in {k.value for k in IdentityKind}:
        raise InvalidRequest(
            f"a {kind.label.lower()} request is kept in our consent records, which know people by e-mail, phone "
            f"or account id; give one of those instead of a {identity_kind}"
        )


def usable_facts(identity_kind: str, given: Mapping[str, str]) -> dict[str, str]:
    """The facts that can prove a requester who started from ``identity_kind`` (not the one they typed)."""
    ignored = SAME_AS_START.get(identity_kind, frozenset())
    return {kind: value for kind, value in given.items() if kind not in ignored}


def offered_facts(identity_kind: str, offered: list[str]) -> list[str]:
    ignored = SAME_AS_START.get(identity_kind, frozenset())
    return [kind for kind in offered if kind not in ignored]


def contested(session: Session, row: PrivacyRequest, *, now: datetime) -> int:
    """Other requests for the same identity, started without e-mail in the window, whose facts did not match.

    Guessing facts across many requests (one guess each) must not end in one approved by luck: while any such
    request exists, a match is not proof (the office checks the identity another way, e.g. an agent's proof).
    """
    found = session.scalar(
        select(func.count(PrivacyRequest.id))
        .join(RequestFacts, RequestFacts.request_id == PrivacyRequest.id)
        .where(
            PrivacyRequest.identity_kind == row.identity_kind,
            PrivacyRequest.identity_hash == row.identity_hash,
            PrivacyRequest.id != row.id,
            PrivacyRequest.received_at >= now - CONTESTED_WINDOW,
            RequestFacts.outcome == Outcome.NOT_MATCHED.value,
        )
    )
    return int(found or 0)


def proven_by_facts(state: RequestFacts | None) -> bool:
    return (
        state is not None
        and state.outcome == Outcome.MATCHED.value
        and state.compared >= MIN_FACTS
        and state.matched == state.compared
    )


def approval_problem(session: Session, row: PrivacyRequest, *, identity_checked: bool, now: datetime) -> str | None:
    """Why a request started without e-mail cannot be approved yet, or None (P-RGT-7, failing closed).

    Needs all of: a level facts may meet; facts matched (at least :data:`MIN_FACTS`, none contested by failed
    requests for the same identity) or an authorized agent's proof on file; and the office's explicit
    ``identity_checked``.
    """
    if row.verification not in FACTS_MAY_STAND_IN:
        return f"the statement's verification level {row.verification!r} cannot be met without an e-mail code"
    state = session.scalar(select(RequestFacts).where(RequestFacts.request_id == row.id))
    disputed = contested(session, row, now=now)
    by_facts = proven_by_facts(state) and disputed == 0
    proof = row.by_agent and session.scalar(
        select(func.count(RequestDocument.id)).where(RequestDocument.request_id == row.id)
    )
    if not (by_facts or proof):
        why = "the requester's facts did not prove the identity"
        if proven_by_facts(state) and disputed:
            why = f"the facts matched, but {disputed} other request(s) for the same {row.identity_kind} failed them"
        elif state is not None and state.outcome == Outcome.MATCHED.value:
            why = f"only {state.compared} fact(s) could be compared; at least {MIN_FACTS} are needed"
        return (
            f"this request was made with a {row.identity_kind} and no e-mail address: {why}, and no authorized "
            "agent's proof is on file; ask for more verification or deny it"
        )
    if not identity_checked:
        return (
            f"this request was made with a {row.identity_kind} and no e-mail address: confirm you checked the "
            "requester's identity (identity_checked) before approving"
        )
    return None


def describe(session: Session, row: PrivacyRequest, *, now: datetime) -> str | None:
    """The console's line for a request started without e-mail (None for an e-mail request)."""
    if not without_email(row):
        return None
    state = session.scalar(select(RequestFacts).where(RequestFacts.request_id == row.id))
    parts = [f"started from a {row.identity_kind}, no e-mail: no code was sent"]
    if proven_by_facts(state):
        parts.append("facts prove the identity")
    else:
        parts.append(f"facts do not prove the identity (at least {MIN_FACTS} must be compared and match)")
    disputed = contested(session, row, now=now)
    if disputed:
        parts.append(f"{disputed} other request(s) for the same {row.identity_kind} in 30 days failed their facts")
    return "; ".join(parts)
