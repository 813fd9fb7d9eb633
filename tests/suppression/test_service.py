"""The suppression list and its effects: decisions, mail links, and what is not affected.

Promises: P-RGT-3 (an erased person is not contacted again: marketing and
e-mail tracking are denied with the suppression named; a consent given after
the erasure lifts it for that purpose only), P-SEC-1 (the list holds keyed
hashes, never an identity).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from faker import Faker
from sqlalchemy import event as sa_event
from sqlalchemy import text

from charter.db import Database
from charter.db.base import utcnow
from charter.decisions.engine import decide
from charter.decisions.model import Decision, DecisionRequest
from charter.decisions.service import PersonRef, Question, decide_many, history
from charter.decisions.state import EMPTY
from charter.errors import InvalidInput
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.maillinks.service import MailLinks
from charter.preferences import challenges
from charter.settings import PreferenceSettings, Settings
from charter.subjects import service as subjects
from charter.suppression import service as suppression
from charter.suppression.errors import SuppressedRecipient
from tests.decisions.conftest import IN_2024, _statement, event, person
from tests.subjects.factories import make_vault, publish_examples

MARKETING = "marketing_new_services"
VAULT = make_vault()


@pytest.fixture
def db(database: Database) -> Database:
    publish_examples(database)
    return database


@pytest.fixture
def email() -> str:
    return Faker().unique.email()


def _erase(db: Database, email: str, *, request: str = "r" * 32) -> None:
    with db.session() as session:
        suppression.suppress(
            session, [suppression.key_of(VAULT, "email", email)], request=request, person=None, now=utcnow()
        )


def _ask(
    db: Database, ref: PersonRef, purpose: str = MARKETING, categories: tuple[str, ...] = ("user.contact.email",)
) -> Decision:
    question = Question(DecisionRequest(purpose=purpose, categories=categories, at=utcnow(), channel="email"), ref)
    with db.session() as session:
        return decide_many(session, [question], vault=VAULT, sample_rate=0.0)[0]


def test_the_list_holds_keyed_hashes_and_finds_any_spelling_of_the_address(db: Database, email: str) -> None:
    """P-SEC-1: the address is never stored; a differently cased one is found (same normalization as the Vault)."""
    _erase(db, "x" + email)
    with db.session() as session:
        assert not suppression.is_suppressed(session, VAULT, "email", email)
    _erase(db, email)
    with db.session() as session:
        assert suppression.is_suppressed(session, VAULT, "email", email.upper())
        assert not suppression.is_suppressed(session, VAULT, "email", "y" + email)
        dumped = str(list(session.execute(text("SELECT * FROM suppression_list"))))
        assert email not in dumped and email.split("@")[0] not in dumped
        entries = [suppression.document(row) for row in suppression.listed(session)]
        assert entries[-1]["lookup_hash"] == suppression.key_of(VAULT, "email", email)[1]


def test_listing_twice_keeps_one_row_stamped_with_the_later_erasure(db: Database, email: str) -> None:
    _erase(db, email, request="a" * 32)
    _erase(db, email, request="b" * 32)
    with db.session() as session:
        (entry,) = suppression.listed(session)
        assert entry.request == "b" * 32


def test_bad_input_is_refused_without_echoing_it(db: Database) -> None:
    with db.session() as session, pytest.raises(InvalidInput) as raised:
        suppression.is_suppressed(session, VAULT, "email", "not an address")
    assert "not an address" not in raised.value.detail
    with db.session() as session, pytest.raises(InvalidInput):
        suppression.listed(session, limit=0)


def test_the_engine_stays_pure_suppression_is_data() -> None:
    """P-RGT-3: the same question, with and without ``suppressed_since``; only contact purposes change."""
    statement = _statement("statement-2023.yaml")
    erased = IN_2024 - timedelta(days=1)
    marketing = DecisionRequest(purpose=MARKETING, categories=("user.contact.email",), at=IN_2024, channel="email")
    assert decide(marketing, statement, EMPTY).allowed
    denied = decide(marketing, statement, EMPTY, suppressed_since=erased)
    assert not denied.allowed
    assert denied.reasons[0].promises == ("P-RGT-3",) and denied.reasons[0].clause == "suppression"
    billing = DecisionRequest(purpose="cpni_a_provide_service", categories=("user.cpni.billing",), at=IN_2024)
    assert decide(billing, statement, EMPTY, suppressed_since=erased).allowed
    anew = person(event("consent.given", at=IN_2024 - timedelta(hours=1), purpose=MARKETING))
    assert decide(marketing, statement, anew, suppressed_since=erased).allowed
    before = person(event("consent.given", at=IN_2024 - timedelta(days=2), purpose=MARKETING))
    assert not decide(marketing, statement, before, suppressed_since=erased).allowed


def test_a_suppressed_address_nobody_holds_is_denied_marketing_with_the_reason(db: Database, email: str) -> None:
    """P-RGT-3: asked by an address Charter no longer holds, the answer still names the suppression."""
    assert _ask(db, PersonRef(identity_kind="email", identity_value=email)).allowed
    _erase(db, email)
    decision = _ask(db, PersonRef(identity_kind="email", identity_value=email))
    assert not decision.allowed and "suppression list" in decision.reasons[0].message
    assert not _ask(db, PersonRef(identity_kind="email", identity_value=email), "email_open_tracking").allowed
    other = _ask(db, PersonRef(identity_kind="email", identity_value="x" + email))
    assert other.allowed


def test_signing_up_again_and_consenting_lifts_suppression_for_that_purpose_only(db: Database, email: str) -> None:
    """P-RGT-3 (c): a fresh explicit consent after the erasure lifts it, for that purpose; nothing else does."""
    _erase(db, email)
    later = utcnow() + timedelta(seconds=1)
    with db.session() as session:
        person = subjects.resolve(session, "email", email, vault=VAULT, create=True)  # they sign up again
        assert person is not None
        ledger.record(
            session,
            person,
            Event(kind=EventKind.SIGNAL_DNT, at=later, source=Source.API, data={"on": False}),
            actor="t",
        )
        public_id = person.public_id
    for ref in (PersonRef(identity_kind="email", identity_value=email), PersonRef(public_id=public_id)):
        assert not _ask(db, ref).allowed  # a new person, but no consent yet: still suppressed
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        given = Event(kind=EventKind.CONSENT_GIVEN, at=later, source=Source.PRIVACY_CENTER, data={"purpose": MARKETING})
        ledger.record(session, person, ledger.check_purposes(session, given), actor="t")
    for ref in (PersonRef(identity_kind="email", identity_value=email), PersonRef(public_id=public_id)):
        assert _ask(db, ref).allowed
    assert not _ask(db, PersonRef(public_id=public_id), "email_open_tracking").allowed  # not consented to that one
    with db.session() as session:
        assert suppression.is_suppressed(session, VAULT, "email", email)  # the record of the erasure stays


def test_no_mail_link_is_minted_for_a_suppressed_person_until_they_consent(db: Database, email: str) -> None:
    """P-RGT-3 (b): marketing mail goes through mail links; they are refused, and nobody is created meanwhile."""
    links = MailLinks.from_settings(Settings.load(env="test"))
    _erase(db, email)
    with db.session() as session:
        person = subjects.resolve(session, "email", email, vault=VAULT, create=True)
        assert person is not None
        with pytest.raises(SuppressedRecipient) as raised:
            links.mint(session, person, MARKETING, actor="test")
        assert email not in raised.value.detail and raised.value.status == 409
        session.rollback()
    with db.session() as session:
        assert subjects.resolve(session, "email", email, vault=VAULT, create=False) is None
        person = subjects.resolve(session, "email", email, vault=VAULT, create=True)
        assert person is not None
        given = Event(
            kind=EventKind.CONSENT_GIVEN,
            at=utcnow() + timedelta(seconds=1),
            source=Source.API,
            data={"purpose": MARKETING},
        )
        ledger.record(session, person, ledger.check_purposes(session, given), actor="t")
        assert links.mint(session, person, MARKETING, actor="test").list_id == MARKETING


def test_mail_the_person_asks_for_is_not_suppressed(db: Database, email: str) -> None:
    """P-RGT-3 scope: a preference-center code is an answer, not a contact, and must not reveal an erasure."""
    _erase(db, email)
    with db.session() as session:
        started = challenges.start(session, email, vault=VAULT, settings=PreferenceSettings())
    assert started.email == email.lower() and started.code


def test_decisions_for_many_people_ask_the_list_once_per_chunk(db: Database) -> None:
    """Set-based: a batch of 600 identities costs a bounded number of queries, not one per person."""
    fake = Faker()
    emails = [f"{i}.{fake.user_name()}@example.org" for i in range(600)]
    _erase(db, emails[0])
    questions = [
        Question(
            DecisionRequest(purpose=MARKETING, categories=("user.contact.email",), at=utcnow()),
            PersonRef(None, "email", e),
        )
        for e in emails
    ]
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    with db.session() as session:
        history(session)
        bind = session.connection().engine
        sa_event.listen(bind, "before_cursor_execute", seen)
        try:
            decisions = decide_many(session, questions, vault=VAULT, sample_rate=0.0)
        finally:
            sa_event.remove(bind, "before_cursor_execute", seen)
    assert [d.allowed for d in decisions].count(False) == 1 and not decisions[0].allowed
    assert 1 <= len([s for s in statements if "suppression_list" in s]) <= 4
