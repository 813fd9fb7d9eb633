"""What the statement in force says about a request: its jurisdiction, deadline, verification, grounds.

Pure: takes a :class:`~charter.policy.schema.Statement` and answers from it
(P-RGT-8: the deadline is the statement's, never a constant in code).
A request type the jurisdiction does not list (the 2023 statement offers no
"opt-out of sale" because West sells nothing) is still accepted: the law
gives the right whatever the statement says, so it gets the jurisdiction's
default deadline and e-mail verification, and ``offered`` is False so the
privacy office sees it.
"""

from __future__ import annotations

from dataclasses import dataclass

from charter.errors import InvalidInput, shown
from charter.policy.schema import Jurisdiction, RightOffer, Statement
from charter.policy.types import Duration
from charter.requests.kinds import DenialReason, RequestKind

#: The statement's right for each request type, in order of preference.
RIGHTS: dict[RequestKind, tuple[str, ...]] = {
    RequestKind.ACCESS: ("access",),
    RequestKind.PORTABILITY: ("portability",),
    RequestKind.CORRECTION: ("correction",),
    RequestKind.DELETION: ("deletion",),
    RequestKind.RESTRICTION: ("restriction",),
    RequestKind.OBJECTION: ("objection",),
    RequestKind.OPT_OUT_SALE_SHARING: ("opt_out_sale", "limit_use"),
    RequestKind.WITHDRAW_CONSENT: ("withdraw_consent",),
}
FALLBACK_DEADLINE = Duration(30, "days")
"""Only for a statement whose jurisdiction names no deadline at all (``policy check`` warns about those)."""

#: Verification levels that ask for more than control of the e-mail address (P-RGT-7).
STRONG = frozenset({"email_and_facts", "email_facts_and_document"})


@dataclass(frozen=True)
class Terms:
    """The deadline and verification a request gets under one jurisdiction of one statement."""

    jurisdiction: str
    jurisdiction_name: str
    deadline: Duration
    extension: Duration | None
    acknowledge_within: Duration | None
    verification: str
    offered: bool

    @property
    def strong_verification(self) -> bool:
        return self.verification in STRONG


def jurisdictions(statement: Statement) -> list[Jurisdiction]:
    return list(statement.rights.jurisdictions)


def default_jurisdiction(statement: Statement, configured: str = "") -> str:
    """The configured id if the statement has it, else the catch-all (regions ``*``), else the first."""
    found = statement.rights.jurisdictions
    if not found:
        raise InvalidInput("the statement in force names no jurisdictions, so it offers no rights to request")
    ids = [j.id for j in found]
    if configured in ids:
        return configured
    return next((j.id for j in found if "*" in j.regions), ids[0])


def _jurisdiction(statement: Statement, jurisdiction: str) -> Jurisdiction:
    for candidate in statement.rights.jurisdictions:
        if candidate.id == jurisdiction:
            return candidate
    known = ", ".join(j.id for j in statement.rights.jurisdictions) or "none"
    raise InvalidInput(
        f"jurisdiction {shown(jurisdiction)} is not in statement {statement.version}; use one of {known}"
    )


def _offer(found: Jurisdiction, kind: RequestKind) -> RightOffer | None:
    by_right = {offer.right: offer for offer in found.rights}
    return next((by_right[right] for right in RIGHTS[kind] if right in by_right), None)


def terms_for(statement: Statement, jurisdiction: str, kind: RequestKind) -> Terms:
    found = _jurisdiction(statement, jurisdiction)
    offer = _offer(found, kind)
    deadline = (offer.deadline if offer else None) or found.deadline or FALLBACK_DEADLINE
    extension = (offer.extension if offer else None) or found.extension
    return Terms(
        jurisdiction=found.id,
        jurisdiction_name=found.name,
        deadline=deadline,
        extension=extension,
        acknowledge_within=found.acknowledge_within,
        verification=offer.verification if offer else "email",
        offered=offer is not None,
    )


def allowed_denials(statement: Statement, kind: RequestKind) -> list[DenialReason]:
    """The grounds a refusal of ``kind`` may give under ``statement`` (P-RGT-3, P-RET-2, P-RET-3).

    A legal obligation to retain is a ground only where the statement names
    it (2023: "We have legal obligations to retain the data (deletion only)";
    the 2019 statement does not) and only for deletion; a legal hold only for
    deletion (the hold itself is checked when denying).
    """
    grounds = [
        DenialReason.MANIFESTLY_UNFOUNDED,
        DenialReason.OTHERS_RIGHTS,
        DenialReason.IDENTITY_NOT_VERIFIED,
    ]
    texts = " ".join(statement.rights.refusal_reasons).lower()
    if "disproportionate" in texts:
        grounds.append(DenialReason.DISPROPORTIONATE)
    if kind == RequestKind.DELETION:
        if "legal obligation" in texts:
            grounds.append(DenialReason.LEGAL_OBLIGATION)
        grounds.append(DenialReason.LEGAL_HOLD)
    return grounds
