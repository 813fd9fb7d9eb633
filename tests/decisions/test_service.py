"""decide_many: many people in one batch, found in bulk; merged people answer as whom they joined."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from charter.db import Database
from charter.decisions.model import DecisionRequest
from charter.decisions.service import PersonRef, Question, decide_many
from charter.errors import InvalidInput
from charter.ledger import service as ledger
from charter.ledger.events import EventKind
from charter.subjects import service as subjects
from tests.subjects.factories import event, make_vault, publish_examples

ANALYTICS = "analytics_trends_benchmarks"
WHEN = datetime(2024, 6, 1, tzinfo=UTC)
VAULT = make_vault()


def _ask(person: PersonRef | None) -> Question:
    return Question(DecisionRequest(purpose=ANALYTICS, categories=("user.contact.email",), at=WHEN), person)


def _by_email(email: str) -> PersonRef:
    return PersonRef(identity_kind="email", identity_value=email)


@pytest.fixture
def ledger_db(database: Database) -> Database:
    publish_examples(database)
    return database


def test_a_batch_of_many_people_reads_each_state(ledger_db: Database) -> None:
    """P-USE-5: each person's own consent decides; more people than one query chunk."""
    consented = {f"p{n}@example.org" for n in range(0, 1200, 3)}
    with ledger_db.session() as session:
        for email in consented:
            person = subjects.resolve(session, "email", email, vault=VAULT, create=True)
            assert person is not None
            ledger.record(session, person, event(EventKind.CONSENT_GIVEN, purpose=ANALYTICS), actor="test")
    emails = [f"p{n}@example.org" for n in range(1200)]
    questions = [_ask(_by_email(email.upper())) for email in emails] + [_ask(None)]
    with ledger_db.session() as session:
        decisions = decide_many(session, questions, vault=VAULT, sample_rate=0.0)
    assert [d.allowed for d in decisions] == [email in consented for email in emails] + [False]


def test_public_ids_and_merged_people(ledger_db: Database) -> None:
    """A merged person's old id answers with the state of the person they were merged into."""
    with ledger_db.session() as session:
        ana = subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=True)
        other = subjects.resolve(session, "email", "ana.work@example.org", vault=VAULT, create=True)
        assert ana is not None and other is not None
        ledger.record(session, other, event(EventKind.CONSENT_GIVEN, purpose=ANALYTICS), actor="test")
        old_id = ana.public_id
        ledger.merge(session, other, ana, actor="test")
    with ledger_db.session() as session:
        decisions = decide_many(
            session,
            [
                _ask(PersonRef(public_id=old_id)),
                _ask(_by_email("ana@example.org")),
                _ask(PersonRef(public_id="nobody")),
            ],
            vault=VAULT,
            sample_rate=0.0,
        )
    assert [d.allowed for d in decisions] == [True, True, False]


def test_a_malformed_identity_is_located_in_the_batch(ledger_db: Database) -> None:
    questions = [_ask(_by_email("ana@example.org")), _ask(_by_email("not an address"))]
    with ledger_db.session() as session, pytest.raises(InvalidInput) as caught:
        decide_many(session, questions, vault=VAULT, sample_rate=0.0)
    assert caught.value.problems[0].path == "requests[1].person"
    assert "not an address" not in caught.value.detail
