"""The vocabulary of requests: their types, states, the transitions between them, denial grounds.

::

    received ──▶ verifying ──▶ verified ──▶ in_review ──▶ approved ──▶ in_progress ──▶ completed
     (code mailed)  (code or link redeemed)    │    ▲                        ▲       │
                                               ▼    │ (more information)     │ retry ▼
                                        needs_more_verification              └──── failed ──▶ given_up (a reason)
    verified, in_review, needs_more_verification ──▶ denied (with a ground)
    received, verifying ──▶ expired (never confirmed within CHARTER_REQUESTS_UNVERIFIED_DAYS; see expiry.py)

Restriction, objection, opt-out and withdrawal are carried out at approval
(ledger events), passing through in_progress to completed at once.

``failed`` is not an answer: the requester is not told, the deadline keeps
running, and the office either retries the run after fixing the cause
(back to in_progress, done steps kept) or gives up with a reason the
requester is sent (``given_up``, closed). See charter.execution.retry.

Only the transitions in :data:`TRANSITIONS` exist; anything else is a
:class:`~charter.requests.errors.IllegalTransition` (409).
"""

from __future__ import annotations

from enum import StrEnum


class RequestKind(StrEnum):
    ACCESS = "access"  # P-RGT-1
    PORTABILITY = "portability"  # P-RGT-5
    CORRECTION = "correction"  # P-RGT-2
    DELETION = "deletion"  # P-RGT-3
    RESTRICTION = "restriction"  # P-RGT-4
    OBJECTION = "objection"  # P-RGT-4
    OPT_OUT_SALE_SHARING = "opt_out_sale_sharing"  # P-RGT-6, CCPA
    WITHDRAW_CONSENT = "withdraw_consent"  # P-USE-5

    @property
    def label(self) -> str:
        return LABELS[self]


LABELS: dict[RequestKind, str] = {
    RequestKind.ACCESS: "See the personal information you hold about me (access)",
    RequestKind.PORTABILITY: "Send me my data in a machine-readable form (portability)",
    RequestKind.CORRECTION: "Correct inaccurate information (correction)",
    RequestKind.DELETION: "Delete my personal information (deletion)",
    RequestKind.RESTRICTION: "Restrict the processing of my information (restriction)",
    RequestKind.OBJECTION: "Object to the processing of my information (objection)",
    RequestKind.OPT_OUT_SALE_SHARING: "Do not sell or share my personal information (opt-out)",
    RequestKind.WITHDRAW_CONSENT: "Withdraw my consent (withdrawal)",
}

#: Kinds whose approval is carried out at once in the consent ledger; the others wait for the executor.
LEDGER_KINDS = frozenset(
    {
        RequestKind.RESTRICTION,
        RequestKind.OBJECTION,
        RequestKind.OPT_OUT_SALE_SHARING,
        RequestKind.WITHDRAW_CONSENT,
    }
)


class Status(StrEnum):
    RECEIVED = "received"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    IN_REVIEW = "in_review"
    NEEDS_MORE_VERIFICATION = "needs_more_verification"
    APPROVED = "approved"
    DENIED = "denied"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"  # a run failed: the office retries it or gives up (not an answer yet)
    GIVEN_UP = "given_up"  # the office gave up on a failed request, with a reason the requester received
    EXPIRED = "expired"  # never confirmed by e-mail in time (charter.requests.expiry)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.RECEIVED: frozenset({Status.VERIFYING, Status.EXPIRED}),
    # verifying → in review: a request made without an e-mail address, once its facts are sent
    Status.VERIFYING: frozenset({Status.VERIFIED, Status.IN_REVIEW, Status.EXPIRED}),
    Status.VERIFIED: frozenset({Status.IN_REVIEW, Status.DENIED}),
    Status.IN_REVIEW: frozenset({Status.APPROVED, Status.DENIED, Status.NEEDS_MORE_VERIFICATION}),
    Status.NEEDS_MORE_VERIFICATION: frozenset({Status.IN_REVIEW, Status.DENIED}),
    Status.APPROVED: frozenset({Status.IN_PROGRESS}),
    Status.IN_PROGRESS: frozenset({Status.COMPLETED, Status.FAILED}),
    Status.DENIED: frozenset(),
    Status.COMPLETED: frozenset(),
    Status.FAILED: frozenset({Status.IN_PROGRESS, Status.GIVEN_UP}),
    Status.GIVEN_UP: frozenset(),
    Status.EXPIRED: frozenset(),
}

CLOSED = frozenset({Status.DENIED, Status.COMPLETED, Status.GIVEN_UP, Status.EXPIRED})
"""Answered: no deadline runs any more. ``failed`` is not among them: the office still owes an answer."""


class DenialReason(StrEnum):
    """Grounds a refusal may give; the statement in force at receipt must allow the ground."""

    LEGAL_OBLIGATION = "legal_obligation"  # P-RET-2 (deletion only; the 2023 statement names it)
    LEGAL_HOLD = "legal_hold"  # P-RET-3 (deletion only; needs an active hold)
    MANIFESTLY_UNFOUNDED = "manifestly_unfounded"  # GDPR Art. 12(5), CCPA: unfounded or excessive
    OTHERS_RIGHTS = "others_rights"  # would reveal another person's data (P-RGT-3)
    DISPROPORTIONATE = "disproportionate"  # burden or expense out of proportion (both statements)
    IDENTITY_NOT_VERIFIED = "identity_not_verified"  # P-RGT-7: could not confirm who asks


DENIAL_TEXT: dict[DenialReason, str] = {
    DenialReason.LEGAL_OBLIGATION: "We have legal obligations to retain the data; it will be deleted under our "
    "standard retention schedule when the obligation ends.",
    DenialReason.LEGAL_HOLD: "The records are subject to a legal hold for pending or imminent litigation or a "
    "government investigation; they cannot be destroyed until the matter is closed.",
    DenialReason.MANIFESTLY_UNFOUNDED: "The request is manifestly unfounded or excessive.",
    DenialReason.OTHERS_RIGHTS: "Answering it would reveal personal information about other people and violate "
    "their rights.",
    DenialReason.DISPROPORTIONATE: "The burden or expense of answering would be disproportionate to the risks to "
    "your privacy.",
    DenialReason.IDENTITY_NOT_VERIFIED: "We could not verify your identity well enough to act on the request.",
}
