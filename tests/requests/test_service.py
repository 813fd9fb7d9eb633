"""Requests from receipt to decision, on SQLite and PostgreSQL, under both example statements.

Promises: P-RGT-7 (verified before anything is done; agents with proof),
P-RGT-8 (deadlines from the statement in force, one extension, shown),
P-RGT-3 / P-RET-2 / P-RET-3 (refusal grounds, legal holds), P-RGT-4
(restriction carried out in the ledger, then refused by the decision
engine), P-SEC-1 (nothing in the clear, every step audited).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select, update

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.db.base import utcnow
from charter.decisions.model import Decision, DecisionRequest
from charter.decisions.service import PersonRef, Question, decide_many
from charter.errors import InvalidInput, NotFound, Unavailable
from charter.preferences import service as preferences
from charter.preferences.errors import ChallengeExpired, ChallengeInvalid, WrongCode
from charter.requests import holds, intake, notices, review
from charter.requests.details import PARENT, Agent, Document
from charter.requests.errors import (
    AlreadyExtended,
    GroundNotAllowed,
    HeldByLegalHold,
    IllegalTransition,
    InvalidRequest,
)
from charter.requests.kinds import DenialReason, RequestKind, Status
from charter.requests.models import PrivacyRequest, RequestDocument, RequestNotice
from charter.settings import Settings
from charter.subjects import service as subjects
from charter.subjects.models import Person
from charter.subjects.normalize import InvalidIdentity
from charter.subjects.service import Vault
from tests.requests.conftest import Recorder

AT_2024 = datetime(2024, 1, 31, 10, 0, tzinfo=UTC)  # the 2023 statement is in force
AT_2020 = datetime(2020, 1, 31, 10, 0, tzinfo=UTC)  # the 2019 statement is in force
FRIDAY = datetime(2024, 3, 1, 10, 0, tzinfo=UTC)


def submit(
    db: Database,
    mailer: Recorder,
    vault: Vault,
    config: Settings,
    kind: RequestKind = RequestKind.ACCESS,
    *,
    email: str = "ana@example.org",
    jurisdiction: str | None = "eu",
    at: datetime = AT_2024,
    **extra: object,
) -> intake.Received:
    submission = intake.Submission(kind=kind, identity_kind="email", identity=email, jurisdiction=jurisdiction, **extra)  # type: ignore[arg-type]
    return intake.submit(db, mailer, submission, vault=vault, settings=config, now=at)


def row_of(db: Database, public_id: str) -> PrivacyRequest:
    with db.session() as session:
        row = review.get(session, public_id)
        session.expunge(row)
        return row


def verified(
    db: Database, mailer: Recorder, vault: Vault, config: Settings, received: intake.Received, at: datetime
) -> None:
    intake.verify_code(
        db, received.public_id, mailer.code(), vault=vault, settings=config, now=at + timedelta(minutes=1)
    )


@pytest.mark.parametrize(
    ("at", "jurisdiction", "due", "extended"),
    [
        (AT_2024, "eu", datetime(2024, 2, 29, 10, tzinfo=UTC), datetime(2024, 4, 29, 10, tzinfo=UTC)),
        (AT_2024, "uk", datetime(2024, 2, 29, 10, tzinfo=UTC), datetime(2024, 4, 29, 10, tzinfo=UTC)),
        (AT_2020, "eu", datetime(2020, 2, 29, 10, tzinfo=UTC), datetime(2020, 4, 29, 10, tzinfo=UTC)),
        (FRIDAY, "california", datetime(2024, 4, 15, 10, tzinfo=UTC), datetime(2024, 5, 30, 10, tzinfo=UTC)),
    ],
)
def test_due_dates_and_extensions_come_from_the_statement_in_force(
    db: Database,
    mailer: Recorder,
    vault: Vault,
    config: Settings,
    at: datetime,
    jurisdiction: str,
    due: datetime,
    extended: datetime,
) -> None:
    """GDPR: one month + two (2019 and 2023); CCPA (2023 only): 45 days + 45 (P-RGT-8)."""
    received = submit(db, mailer, vault, config, jurisdiction=jurisdiction, at=at)
    assert received.due_at == due
    with db.session() as session:
        row = review.get(session, received.public_id)
        assert row.statement_version == ("2019-04-04" if at.year == 2020 else "2023-01-01")
        review.extend(session, row, reason="many systems to search", actor="user:po", settings=config.requests, now=at)
        assert row.due_at == extended
        assert row.original_due_at == due
        with pytest.raises(AlreadyExtended):
            review.extend(session, row, reason="again", actor="user:po", settings=config.requests, now=at)
    assert notices.deliver(db, mailer, vault=vault, settings=config).sent == 1
    assert f"answer by {extended:%d %B %Y}" in mailer.texts()[-1]
    assert "many systems to search" in mailer.texts()[-1]


def test_ccpa_acknowledgement_is_due_in_ten_business_days(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """The 2023 statement's California terms: acknowledge within 10 business days (P-RGT-8)."""
    received = submit(db, mailer, vault, config, jurisdiction="california", at=FRIDAY)
    row = row_of(db, received.public_id)
    assert row.acknowledge_by == datetime(2024, 3, 15, 10, tzinfo=UTC)
    assert row.acknowledged_at == FRIDAY  # the acknowledgement goes out at once
    eu = row_of(db, submit(db, mailer, vault, config, email="bo@example.org", at=FRIDAY).public_id)
    assert eu.acknowledge_by is None


def test_the_2019_statement_has_no_california_and_no_extension_everywhere_else(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    with pytest.raises(InvalidInput, match="california is not in statement 2019-04-04"):
        submit(db, mailer, vault, config, jurisdiction="california", at=AT_2020)
    received = submit(db, mailer, vault, config, jurisdiction=None, at=AT_2020)  # default: the catch-all
    with db.session() as session:
        row = review.get(session, received.public_id)
        assert row.jurisdiction == "rest_of_world"
        assert row.due_at == AT_2020 + timedelta(days=30)
        with pytest.raises(GroundNotAllowed, match="allows no extension"):
            review.extend(session, row, reason="x", actor="user:po", settings=config.requests)


def test_the_same_answer_whether_or_not_the_person_is_known(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """No enumeration (P-RGT-7): a known and an unknown address get the same kind of answer and mail."""
    with db.session() as session:
        subjects.resolve(session, "email", "known@example.org", vault=vault, create=True)
    known = submit(db, mailer, vault, config, email="known@example.org")
    unknown = submit(db, mailer, vault, config, email="stranger@example.org")
    assert type(known) is type(unknown)
    assert known.due_at == unknown.due_at
    first, second = mailer.texts()

    def shape(text: str, received: intake.Received) -> str:
        import re

        text = text.replace(received.public_id, "ID")
        return re.sub(r"\d{6}|token=\S+", "X", text)

    assert shape(first, known) == shape(second, unknown)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1  # nobody was created


def test_a_verified_request_reaches_the_queue_and_links_a_known_person_only(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    with db.session() as session:
        ana = subjects.resolve(session, "email", "ana@example.org", vault=vault, create=True)
        assert ana is not None
        ana_id = ana.id
    known = submit(db, mailer, vault, config)
    verified(db, mailer, vault, config, known, AT_2024)
    unknown = submit(db, mailer, vault, config, email="nobody@example.org")
    verified(db, mailer, vault, config, unknown, AT_2024)
    assert row_of(db, known.public_id).person_id == ana_id
    assert row_of(db, unknown.public_id).person_id is None
    assert row_of(db, unknown.public_id).status == Status.IN_REVIEW
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(Person)) == 1
        actions = list(
            session.scalars(
                select(AuditEntry.action)
                .where(AuditEntry.target == f"request:{known.public_id}")
                .order_by(AuditEntry.seq)
            )
        )
    assert actions == ["request.received", "request.verifying", "request.verified", "request.in_review"]


def test_codes_are_checked_counted_single_use_and_bound_to_requests(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """Forged, wrong, expired and reused codes fail; a preference-center code never verifies a request."""
    received = submit(db, mailer, vault, config)
    code = mailer.code()
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(WrongCode):
        intake.verify_code(db, received.public_id, wrong, vault=vault, settings=config, now=AT_2024)
    with pytest.raises(ChallengeInvalid):
        intake.verify_code(db, "f" * 32, code, vault=vault, settings=config, now=AT_2024)
    with pytest.raises(ChallengeInvalid):
        intake.verify_link(db, "forged-token-of-enough-length", vault=vault, settings=config, now=AT_2024)
    late = AT_2024 + timedelta(minutes=config.preferences.code_minutes + 1)
    with pytest.raises(ChallengeExpired):
        intake.verify_code(db, received.public_id, code, vault=vault, settings=config, now=late)
    # a preference-center challenge for the same address cannot be redeemed as the request's
    challenge = preferences.send_code(db, mailer, "ana@example.org", vault=vault, settings=config, now=AT_2024)
    with pytest.raises(ChallengeInvalid):
        intake.verify_code(db, received.public_id, mailer.code(), vault=vault, settings=config, now=AT_2024)
    assert challenge
    assert row_of(db, received.public_id).status == Status.VERIFYING


def test_an_unknown_identity_type_or_a_non_email_identity_is_refused(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    with pytest.raises(InvalidIdentity):
        intake.submit(
            db,
            mailer,
            intake.Submission(kind=RequestKind.ACCESS, identity_kind="passport", identity="X1"),
            vault=vault,
            settings=config,
        )
    # a phone starts a request only where the data map declares one (issue 11: charter.requests.identity_start)
    with pytest.raises(InvalidIdentity, match=r"cannot start from identity kind phone; use one of email$"):
        intake.submit(
            db,
            mailer,
            intake.Submission(kind=RequestKind.ACCESS, identity_kind="phone", identity="+14155550123"),
            vault=vault,
            settings=config,
        )
    assert mailer.messages == []


def test_when_the_mail_server_is_down_nothing_is_left(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    mailer.down = True
    with pytest.raises(Unavailable):
        submit(db, mailer, vault, config)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(PrivacyRequest)) == 0


def test_illegal_transitions_are_conflicts(db: Database, mailer: Recorder, vault: Vault, config: Settings) -> None:
    received = submit(db, mailer, vault, config)
    with db.session() as session:
        row = review.get(session, received.public_id)
        with pytest.raises(IllegalTransition) as caught:
            review.approve(session, row, actor="user:po", vault=vault)
        assert caught.value.status == 409
        with pytest.raises(IllegalTransition):
            review.deny(session, row, reason="manifestly_unfounded", actor="user:po")
        with pytest.raises(IllegalTransition):
            review.complete(session, row, actor="executor")
    verified(db, mailer, vault, config, received, AT_2024)
    with db.session() as session:
        row = review.get(session, received.public_id)
        review.deny(session, row, reason="manifestly_unfounded", actor="user:po")
        with pytest.raises(IllegalTransition):
            review.approve(session, row, actor="user:po", vault=vault, identity_checked=True)
    with pytest.raises(NotFound), db.session() as session:
        review.get(session, "0" * 32)


def test_a_denial_gives_a_ground_of_the_statement_and_the_requester_reads_it(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RET-2 is a ground in 2023, not in 2019; the ground and the note reach the requester (P-RGT-3)."""
    old = submit(db, mailer, vault, config, RequestKind.DELETION, at=AT_2020)
    verified(db, mailer, vault, config, old, AT_2020)
    new = submit(db, mailer, vault, config, RequestKind.DELETION, email="bo@example.org")
    verified(db, mailer, vault, config, new, AT_2024)
    with db.session() as session:
        with pytest.raises(GroundNotAllowed, match="legal_obligation is not a ground statement 2019-04-04"):
            review.deny(session, review.get(session, old.public_id), reason="legal_obligation", actor="user:po")
        with pytest.raises(GroundNotAllowed, match="not known"):
            review.deny(session, review.get(session, new.public_id), reason="because", actor="user:po")
        review.deny(
            session,
            review.get(session, new.public_id),
            reason=DenialReason.LEGAL_OBLIGATION,
            note="Invoices are kept for 10 years under tax law.",
            actor="user:po",
        )
    notices.deliver(db, mailer, vault=vault, settings=config)
    last = mailer.messages[-1]
    assert last["To"] == "bo@example.org"
    assert "We have legal obligations to retain the data" in last.get_content()
    assert "Invoices are kept for 10 years" in last.get_content()


def test_a_legal_hold_blocks_deletion_until_released(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RET-3: a hold on the person blocks approval and says why; released, the deletion can go ahead."""
    with db.session() as session:
        person = subjects.resolve(session, "email", "ana@example.org", vault=vault, create=True)
        hold = holds.place(session, person=person, reason="Case 24-118, pending litigation", actor="user:counsel")
        system_hold = holds.place(session, system="billing", reason="tax audit", actor="user:counsel")
        hold_id = hold.public_id
        assert system_hold.system == "billing"
    received = submit(db, mailer, vault, config, RequestKind.DELETION)
    verified(db, mailer, vault, config, received, AT_2024)
    with db.session() as session:
        row = review.get(session, received.public_id)
        with pytest.raises(HeldByLegalHold, match="Case 24-118") as caught:
            review.approve(session, row, actor="user:po", vault=vault, identity_checked=True)
        assert caught.value.status == 409
    with db.session() as session:
        holds.release(session, hold_id, reason="case settled", actor="user:counsel")
    with db.session() as session, pytest.raises(InvalidRequest, match="facts already held"):
        review.approve(session, review.get(session, received.public_id), actor="user:po", vault=vault)
    with db.session() as session:
        row = review.approve(
            session, review.get(session, received.public_id), actor="user:po", vault=vault, identity_checked=True
        )
        assert row.status == Status.APPROVED  # waits for the executor
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "request.approved")).one()
        assert entry.data["held_systems"] == ["billing"]
        assert [h.system for h in holds.listed(session)] == ["billing"]


def test_legal_hold_is_a_ground_only_with_an_active_hold(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    received = submit(db, mailer, vault, config, RequestKind.DELETION)
    verified(db, mailer, vault, config, received, AT_2024)
    with db.session() as session, pytest.raises(GroundNotAllowed, match="no active legal hold"):
        review.deny(session, review.get(session, received.public_id), reason="legal_hold", actor="user:po")


def _decided_around_approval(
    db: Database, vault: Vault, public_id: str, email: str, purpose: str, category: str
) -> tuple[Decision, Decision]:
    """The engine's answer for ``email`` and ``purpose`` before and after the office approves the request (which
    completes at once: a ledger kind)."""
    question = Question(
        DecisionRequest(purpose=purpose, categories=(category,), at=AT_2024 + timedelta(hours=1)),
        PersonRef(identity_kind="email", identity_value=email),
    )
    with db.session() as session:
        [before] = decide_many(session, [question], vault=vault, sample_rate=0)
    with db.session() as session:
        row = review.approve(session, review.get(session, public_id), actor="user:po", vault=vault)
        assert row.status == Status.COMPLETED
    with db.session() as session:
        [after] = decide_many(session, [question], vault=vault, sample_rate=0)
    return before, after


def test_an_approved_restriction_is_recorded_and_the_engine_then_denies(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RGT-4: approval writes processing.restricted (written) for an unknown requester too; uses are refused."""
    received = submit(db, mailer, vault, config, RequestKind.RESTRICTION, email="cy@example.org")
    verified(db, mailer, vault, config, received, AT_2024)
    before, after = _decided_around_approval(
        db, vault, received.public_id, "cy@example.org", "marketing_new_services", "user.contact.email"
    )
    assert before.allowed
    assert not after.allowed
    assert any("restricted" in reason.message for reason in after.reasons)
    notices.deliver(db, mailer, vault=vault, settings=config)
    assert "It is done." in mailer.texts()[-1]


def test_an_approved_opt_out_of_sale_and_sharing_is_recorded_and_the_engine_then_denies_p_rgt_6(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RGT-6 (limit use and disclosure; CCPA): approving the opt-out writes sale_sharing.opted_out; cross-site
    tracking (a sharing use) is refused from then on."""
    received = submit(
        db, mailer, vault, config, RequestKind.OPT_OUT_SALE_SHARING, email="dee@example.org", jurisdiction="california"
    )
    verified(db, mailer, vault, config, received, AT_2024)
    before, after = _decided_around_approval(
        db, vault, received.public_id, "dee@example.org", "cross_site_tracking", "user.device.cookie_id"
    )
    assert before.allowed and not after.allowed
    assert any("opted out" in reason.message for reason in after.reasons), after.reasons


def test_withdrawal_names_consent_purposes_only(db: Database, mailer: Recorder, vault: Vault, config: Settings) -> None:
    with pytest.raises(InvalidRequest, match="rest on consent"):
        submit(db, mailer, vault, config, RequestKind.WITHDRAW_CONSENT, details={"purposes": ["provide_services"]})
    with pytest.raises(InvalidRequest, match="not purposes"):
        submit(db, mailer, vault, config, RequestKind.RESTRICTION, details={"purposes": ["nope"]})
    with pytest.raises(InvalidRequest, match=r"takes no details\.field"):
        submit(db, mailer, vault, config, RequestKind.ACCESS, details={"field": "x"})


def test_corrections_and_portability_details_are_checked_and_sealed(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    with pytest.raises(InvalidRequest, match="https"):
        submit(
            db,
            mailer,
            vault,
            config,
            RequestKind.PORTABILITY,
            details={"destination": "third_party", "url": "http://x.org"},
        )
    received = submit(
        db, mailer, vault, config, RequestKind.CORRECTION, details={"field": "postal code", "value": "SW1A 1AA"}
    )
    row = row_of(db, received.public_id)
    assert row.sealed_details is not None
    assert b"SW1A" not in row.sealed_details
    assert b"ana@example.org" not in row.sealed_identity
    from charter.requests.sealing import details_of

    assert details_of(vault, row) == {"field": "postal code", "value": "SW1A 1AA"}


def test_an_agent_needs_proof_in_2023_and_is_not_provided_for_in_2019(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-RGT-7: an authorized agent with proof of agency; the person confirms with their own code."""
    agent = Agent("Dana Agent", "dana@agents.example")
    with pytest.raises(InvalidRequest, match="does not provide for authorized agents"):
        submit(db, mailer, vault, config, at=AT_2020, agent=agent)
    with pytest.raises(InvalidRequest, match="proof of agency"):
        submit(db, mailer, vault, config, agent=agent)
    proof = Document("application/pdf", b"%PDF-1.4 signed authorization")
    received = submit(db, mailer, vault, config, agent=agent, proof=proof)
    assert mailer.messages[-1]["To"] == "ana@example.org"  # the person, not the agent, gets the code
    assert "Dana Agent" in mailer.texts()[-1]
    with db.session() as session:
        stored = session.scalars(select(RequestDocument)).one()
        assert b"signed authorization" not in stored.sealed
        assert (stored.content_type, stored.size) == ("application/pdf", len(proof.data))
    verified(db, mailer, vault, config, received, AT_2024)
    row = row_of(db, received.public_id)
    assert row.by_agent and row.status == Status.IN_REVIEW


def test_a_parent_can_have_a_childs_data_removed_where_the_statement_says_so_p_col_2(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """P-COL-2 (2019: "a parent can have a child's data removed"): a parent or guardian asks for the deletion of
    the child's data, even though that statement has no authorized agents; the code goes to the child's address,
    which names the parent; the 2023 statement does not provide for it, and a parent asks for deletion only."""
    parent = Agent("Paula Parent", "paula@family.example", PARENT)
    received = submit(
        db, mailer, vault, config, RequestKind.DELETION, email="kid@example.org", at=AT_2020, agent=parent
    )
    assert mailer.messages[-1]["To"] == "kid@example.org"
    assert "parent or guardian" in mailer.texts()[-1] and "Paula Parent" in mailer.texts()[-1]
    row = row_of(db, received.public_id)
    assert row.by_agent
    from charter.requests.sealing import details_of

    assert details_of(vault, row)["agent"] == {
        "name": "Paula Parent",
        "email": "paula@family.example",
        "relationship": "parent",
    }
    with pytest.raises(InvalidRequest, match="deleted"):
        submit(db, mailer, vault, config, RequestKind.ACCESS, email="kid@example.org", at=AT_2020, agent=parent)
    with pytest.raises(InvalidRequest, match="does not provide for a parent's request"):
        submit(db, mailer, vault, config, RequestKind.DELETION, email="kid@example.org", agent=parent)
    with pytest.raises(InvalidRequest, match="relationship must be"):
        submit(db, mailer, vault, config, RequestKind.DELETION, agent=Agent("X", "x@example.org", "uncle"))


def test_more_verification_goes_back_to_review(db: Database, mailer: Recorder, vault: Vault, config: Settings) -> None:
    received = submit(db, mailer, vault, config)
    verified(db, mailer, vault, config, received, AT_2024)
    with db.session() as session:
        row = review.ask_verification(
            session, review.get(session, received.public_id), message="The last 4 digits of your phone", actor="user:po"
        )
        assert row.status == Status.NEEDS_MORE_VERIFICATION
    notices.deliver(db, mailer, vault=vault, settings=config)
    assert "The last 4 digits of your phone" in mailer.texts()[-1]
    with db.session() as session:
        row = review.provide_verification(
            session, review.get(session, received.public_id), information="0123", vault=vault
        )
        assert row.status == Status.IN_REVIEW
        assert (
            review.approve(session, row, actor="user:po", vault=vault, identity_checked=True).status == Status.APPROVED
        )


def test_a_notice_that_cannot_be_sent_stays_pending(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    received = submit(db, mailer, vault, config)
    mailer.down = True
    verified(db, mailer, vault, config, received, AT_2024)
    assert notices.deliver(db, mailer, vault=vault, settings=config).pending == 1
    mailer.down = False
    assert notices.deliver(db, mailer, vault=vault, settings=config) == notices.Delivery(sent=1, pending=0)


@dataclass
class Flaky(Recorder):
    """Refuses every ``every``-th message, as a mail server that drops some connections."""

    every: int = 7
    tried: int = 0

    def send(self, message: EmailMessage) -> str:
        self.tried += 1
        if self.tried % self.every == 0:
            raise Unavailable("the test mail server dropped the connection")
        return super().send(message)


def test_many_pending_notices_go_out_in_batches_and_failures_are_tried_once(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """More notices than one claim batch: each is sent once; one the server refused stays pending for the next
    delivery (not tried again in a loop), and a delivery scoped to another request sends none of them."""
    received = submit(db, mailer, vault, config)
    with db.session() as session:
        row = review.get(session, received.public_id)
        for _ in range(notices.CLAIM_BATCH * 2 + 5):
            notices.queue(session, row, notices.APPROVED)
    flaky = Flaky()
    assert notices.deliver(db, flaky, vault=vault, settings=config, public_id="R-NOBODY") == notices.Delivery(0, 0)
    delivery = notices.deliver(db, flaky, vault=vault, settings=config, public_id=received.public_id)
    refused = flaky.tried // flaky.every
    assert flaky.tried == notices.CLAIM_BATCH * 2 + 5
    assert delivery == notices.Delivery(sent=flaky.tried - refused, pending=refused)
    again = notices.deliver(db, Recorder(), vault=vault, settings=config)
    assert again == notices.Delivery(sent=refused, pending=0)


def test_a_notice_being_sent_is_not_taken_by_a_second_deliverer(
    db: Database, mailer: Recorder, vault: Vault, config: Settings
) -> None:
    """Two deliverers at once (two servers sweeping, `charter requests notify` beside a worker): while one is
    sending a notice, the other leaves it alone — the requester is e-mailed once; a claim whose deliverer died
    lapses after CLAIM_LEASE and the notice goes out then."""
    received = submit(db, mailer, vault, config)
    with db.session() as session:
        notices.queue(session, review.get(session, received.public_id), notices.APPROVED)

    second: list[notices.Delivery] = []

    class Meanwhile(Recorder):
        def send(self, message: EmailMessage) -> str:
            second.append(notices.deliver(db, Recorder(), vault=vault, settings=config, public_id=received.public_id))
            return super().send(message)

    first = Meanwhile()
    assert notices.deliver(db, first, vault=vault, settings=config, public_id=received.public_id).sent == 1
    assert second == [notices.Delivery(sent=0, pending=0)] and len(first.messages) == 1

    with db.session() as session:  # a deliverer that died mid-send: its claim is old
        notices.queue(session, review.get(session, received.public_id), notices.APPROVED)
        session.flush()
        session.execute(
            update(RequestNotice)
            .where(RequestNotice.sent_at.is_(None))
            .values(claimed_at=utcnow() - notices.CLAIM_LEASE - timedelta(seconds=1), attempts=1)
        )
    late = Recorder()
    assert notices.deliver(db, late, vault=vault, settings=config).sent == 1 and len(late.messages) == 1
