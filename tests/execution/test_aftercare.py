"""After a deletion: the ledger tombstoned, the Vault emptied, the hashes suppressed, the notice still sent.

Promises: P-RGT-3 (deletion: nothing identifying left in Charter's own
ledger either, and the person is not contacted again), P-RGT-8 (the
requester is still told the request is complete), P-SEC-1 (counts only in
the audit log). A deletion that fails verification changes none of it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, insert, select, text

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.db.base import utcnow
from charter.decisions.model import DecisionRequest
from charter.decisions.service import PersonRef, Question, decide_many
from charter.decisions.state import EMPTY
from charter.demo import stores
from charter.execution.runner import Runner
from charter.execution.steps import Action, Step
from charter.ledger import service as ledger
from charter.ledger.events import TOMBSTONE, Event, EventKind, Source
from charter.ledger.models import LedgerEvent, SubjectState
from charter.maillinks.models import MailLink
from charter.maillinks.service import MailLinks
from charter.requests import notices, review
from charter.requests.kinds import RequestKind
from charter.settings import Settings
from charter.subjects import service as subjects
from charter.subjects.models import Identity
from charter.subjects.service import Vault
from charter.suppression import service as suppression
from tests.execution.conftest import ANA, approved
from tests.requests.conftest import Recorder

MakeRunner = Callable[..., Runner]
PHONE = "+351912345678"
BIRTH = "1988-07-14"


def _ledger_for_ana(database: Database, config: Settings, vault: Vault) -> str:
    """Ana in the ledger with two identities, a consent, a signal, her birth date and a mail link; her public id."""
    now = utcnow() - timedelta(days=2)
    common: dict[str, Any] = {"source": Source.BANNER, "jurisdiction": "eu", "evidence": {"banner": "sha-of-text"}}
    with database.session() as session:
        person = subjects.resolve(session, "email", ANA, vault=vault, create=True)
        assert person is not None
        subjects.link(session, person, "phone", PHONE, vault=vault)
        events = [
            Event(kind=EventKind.CONSENT_GIVEN, at=now, data={"purpose": "marketing_new_services"}, **common),
            Event(kind=EventKind.SIGNAL_GPC, at=now, data={"on": True}, **common),
            Event(kind=EventKind.AGE_ATTESTED, at=now, data={"birth_date": BIRTH}, **common),
        ]
        known = ledger.StatementPurposes(session)
        ledger.record_many(session, person, [ledger.check_purposes(session, e, known=known) for e in events], actor="t")
        MailLinks.from_settings(config).mint(session, person, "marketing_new_services", actor="test")
        return person.public_id


def _marketing(database: Database, vault: Vault, ref: PersonRef) -> Any:
    question = Question(
        DecisionRequest(
            purpose="marketing_new_services", categories=("user.contact.email",), at=utcnow(), channel="email"
        ),
        ref,
    )
    with database.session() as session:
        return decide_many(session, [question], vault=vault, sample_rate=0.0)[0]


def test_a_completed_deletion_tombstones_the_ledger_and_suppresses_the_person(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    """P-RGT-3: no personal value left in the ledger tables, identities gone, hashes listed, contact refused."""
    public_person = _ledger_for_ana(database, config, vault)
    assert _marketing(database, vault, PersonRef(identity_kind="email", identity_value=ANA)).allowed
    public_id = approved(database, config, vault, RequestKind.DELETION)
    outcome = make_runner().run(public_id)
    assert outcome.status == "completed", outcome.error

    with database.session() as session:
        person = subjects.by_public_id(session, public_person)
        assert person is not None
        rows = list(session.scalars(select(LedgerEvent).where(LedgerEvent.person_id == person.id)))
        assert len(rows) == 3 and {r.kind for r in rows} == {TOMBSTONE}
        assert all(r.data == {"request": public_id} and r.evidence == {} and r.jurisdiction is None for r in rows)
        assert ledger.state_of(session, person) == EMPTY
        assert session.scalar(select(Identity).where(Identity.person_id == person.id)) is None
        assert session.scalar(select(MailLink).where(MailLink.person_id == person.id)) is None
        # nothing identifying in the raw tables: not the address, not the phone, not the birth date, no purpose
        dumped = json.dumps(
            [list(r) for r in session.execute(text("SELECT * FROM ledger_events"))]
            + [list(r) for r in session.execute(text("SELECT * FROM subject_states"))],
            default=str,
        )
        for value in (ANA, PHONE, BIRTH, "marketing_new_services", "sha-of-text"):
            assert value not in dumped
        state = session.scalar(select(SubjectState.state).where(SubjectState.person_id == person.id))
        assert state is not None and state["consents"] == {} and state["gpc"] is False
        assert ledger.rebuild(session).changed == 0  # a rebuild cannot bring her consents back
        assert suppression.is_suppressed(session, vault, "email", " Ana@Example.org ")
        assert suppression.is_suppressed(session, vault, "phone", PHONE)
        assert not suppression.is_suppressed(session, vault, "email", "ben@example.org")
        finished = session.scalar(select(AuditEntry).where(AuditEntry.action == "execution.finished"))
        assert finished is not None
        assert finished.data["ledger_events_tombstoned"] == 3 and finished.data["identities_removed"] == 2
        assert finished.data["mail_links_removed"] == 1 and finished.data["suppressed"] == 2
        assert ANA not in json.dumps([e.data for e in session.scalars(select(AuditEntry))])

    for ref in (PersonRef(identity_kind="email", identity_value=ANA), PersonRef(public_id=public_person)):
        decision = _marketing(database, vault, ref)
        assert not decision.allowed
        assert decision.reasons[0].promises == ("P-RGT-3",) and "suppression list" in decision.reasons[0].message

    # the requester is still told it is done (P-RGT-8): notices are addressed from the request, not the Vault
    mailer = Recorder()
    notices.deliver(database, mailer, vault=vault, settings=config)
    completed = [m for m in mailer.messages if m["Subject"] == notices.SUBJECTS[notices.COMPLETED]]
    assert len(completed) == 1 and completed[0]["To"] == ANA


def test_running_a_completed_deletion_again_changes_nothing_more(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    _ledger_for_ana(database, config, vault)
    public_id = approved(database, config, vault, RequestKind.DELETION)
    assert make_runner().run(public_id).status == "completed"
    with database.session() as session:
        listed = suppression.listed(session)
    assert make_runner().run(public_id).executed == []
    with database.session() as session:
        assert [suppression.document(r) for r in suppression.listed(session)] == [
            suppression.document(r) for r in listed
        ]
        assert [e.action for e in session.scalars(select(AuditEntry))].count("execution.finished") == 1


def test_a_person_unknown_to_the_ledger_is_still_suppressed_by_the_request_identity(
    database: Database, config: Settings, vault: Vault, make_runner: MakeRunner
) -> None:
    """P-RGT-3: the data stores knew her, Charter's ledger did not: her address is listed all the same."""
    public_id = approved(database, config, vault, RequestKind.DELETION)
    assert make_runner().run(public_id).status == "completed"
    with database.session() as session:
        entry = suppression.entry_for(session, vault, "email", ANA)
        assert entry is not None and entry.request == public_id and entry.person is None and entry.reason == "erased"
    decision = _marketing(database, vault, PersonRef(identity_kind="email", identity_value=ANA))
    assert not decision.allowed and decision.reasons[0].promises == ("P-RGT-3",)


def test_a_deletion_that_fails_verification_neither_tombstones_nor_suppresses(
    database: Database, config: Settings, vault: Vault, home: Path, make_runner: MakeRunner
) -> None:
    """P-RGT-3: a failed erasure is not reported as done, and Charter forgets nothing of the person."""
    public_person = _ledger_for_ana(database, config, vault)

    def reappear(where: str, step: Step) -> None:
        # a ticket for her arrives between the erasure and its verification
        if where == "after" and step.action == Action.ERASE and step.collection == "west_support.tickets":
            engine = create_engine(f"sqlite:///{home / stores.SUPPORT_FILE}")
            with engine.begin() as conn:
                conn.execute(
                    insert(stores.tickets).values(
                        email=ANA, subject="Hello again", status="open", opened_at=utcnow().replace(tzinfo=None)
                    )
                )
            engine.dispose()

    public_id = approved(database, config, vault, RequestKind.DELETION)
    outcome = make_runner(fault=reappear).run(public_id)
    assert outcome.status == "failed" and outcome.error is not None
    assert "still identifies the requester" in outcome.error
    with database.session() as session:
        person = subjects.by_public_id(session, public_person)
        assert person is not None
        assert {r.kind for r in session.scalars(select(LedgerEvent).where(LedgerEvent.person_id == person.id))} == {
            EventKind.CONSENT_GIVEN.value,
            EventKind.SIGNAL_GPC.value,
            EventKind.AGE_ATTESTED.value,
        }
        assert ledger.state_of(session, person).birth_date == date.fromisoformat(BIRTH)
        assert subjects.resolve(session, "email", ANA, vault=vault, create=False) is not None
        assert not suppression.is_suppressed(session, vault, "email", ANA)
        assert review.get(session, public_id).status == "failed"
    assert _marketing(database, vault, PersonRef(identity_kind="email", identity_value=ANA)).allowed
