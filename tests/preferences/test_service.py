"""The preference center's operations: send a code, show choices, save them all together or not at all.

Promises: P-RGT-4 / P-RGT-6 (object to and limit processing), P-USE-5
(withdraw analytics consent at any time), P-COL-4 (changes carry the
statement version), P-TRK-2 (GPC/DNT recorded for a verified person).
"""

from __future__ import annotations

from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from sqlalchemy import func, select

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.errors import Unavailable
from charter.ledger import service as ledger
from charter.ledger.events import EventKind, Source
from charter.ledger.signals import BrowserSignals
from charter.mail import SmtpMailer
from charter.preferences import service
from charter.preferences.errors import InvalidChoice, StatementChanged
from charter.preferences.models import EmailChallenge
from charter.settings import MailSettings, Settings
from charter.subjects import service as subjects
from charter.subjects.models import Person
from charter.subjects.service import Vault
from tests.mail.smtpd import HOST, SmtpServer, free_port, running_smtpd
from tests.preferences.conftest import NOW

ANALYTICS = "consent.analytics_trends_benchmarks"
VERSION = "2023-01-01"


@pytest.fixture
def smtpd() -> Iterator[SmtpServer]:
    with running_smtpd() as server:
        yield server


def _person(db: Database, vault: Vault) -> str:
    with db.session() as session:
        person = subjects.resolve(session, "email", "ana@example.org", vault=vault, create=True)
        assert person is not None
        return person.public_id


def _count(db: Database, model: type) -> int:
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_send_code_mails_the_code_and_link(db: Database, vault: Vault, smtpd: SmtpServer, tmp_path: object) -> None:
    settings = Settings.load(env="test", base_url="https://privacy.west.example", mail=smtpd.settings())
    challenge_id = service.send_code(db, SmtpMailer(settings.mail), "Ana@Example.org", vault=vault, settings=settings)
    [message] = smtpd.messages
    assert isinstance(message, EmailMessage)
    assert message["To"] == "ana@example.org" and message["Auto-Submitted"] == "auto-generated"
    body = message.get_content()
    assert "privacy choices West holds" in body and "15 minutes" in body
    assert "https://privacy.west.example/privacy/preferences/verify?token=" in body
    with db.session() as session:
        assert session.get(EmailChallenge, challenge_id) is not None


def test_a_mail_server_that_is_down_leaves_no_challenge(db: Database, vault: Vault) -> None:
    """Nothing half-written: the challenge is deleted again when its e-mail cannot go out."""
    mail = MailSettings(backend="smtp", host=HOST, port=free_port(), starttls=False)
    settings = Settings.load(env="test", mail=mail)
    with pytest.raises(Unavailable, match="refused the connection"):
        service.send_code(db, SmtpMailer(mail), "ana@example.org", vault=vault, settings=settings)
    assert _count(db, EmailChallenge) == 0
    assert _count(db, Person) == 0


def test_saving_records_only_changes_as_one_batch(db: Database, vault: Vault) -> None:
    public_id = _person(db, vault)
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        sheet = service.sheet(session, person, today=NOW.date())
        assert sheet.version == VERSION and sheet.organization == "West"
        assert [title for title, _ in sheet.groups()] == [
            "Only with your consent",
            "Unless you say no",
            "Selling and sharing",
            "E-mail from us",
        ]
        found = service.save(
            session,
            person,
            {ANALYTICS: "yes", "opt_out.marketing_new_services": "no", "email": "yes"},
            shown_version=VERSION,
        )
        assert [c.item.key for c in found] == [ANALYTICS, "opt_out.marketing_new_services"]
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        events = ledger.events_of(session, person)
        state = ledger.state_of(session, person)
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))
    assert [e.kind for e in events] == [EventKind.CONSENT_GIVEN, EventKind.OPTED_OUT]
    assert {(e.source, e.statement_version) for e in events} == {(Source.PRIVACY_CENTER, VERSION)}
    assert state.consented("analytics_trends_benchmarks") and "marketing_new_services" in state.opted_out
    assert actions[-3:] == ["ledger.recorded", "ledger.recorded", "preferences.changed"]

    with db.session() as session:  # the same answers again change nothing
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        assert service.save(session, person, {ANALYTICS: "yes"}, shown_version=VERSION) == []


def test_one_bad_answer_records_nothing(db: Database, vault: Vault) -> None:
    public_id = _person(db, vault)
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        with pytest.raises(InvalidChoice):
            service.save(session, person, {ANALYTICS: "yes", "email": "maybe"}, shown_version=VERSION)
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        assert ledger.events_of(session, person) == []


def test_a_form_shown_under_another_statement_is_refused(db: Database, vault: Vault) -> None:
    """P-COL-4: a consent is given to the statement the person read."""
    public_id = _person(db, vault)
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        with pytest.raises(StatementChanged, match=r"now version 2023-01-01"):
            service.save(session, person, {ANALYTICS: "yes"}, shown_version="2019-04-04")
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None and ledger.events_of(session, person) == []


def test_browser_signals_are_recorded_once(db: Database, vault: Vault) -> None:
    """P-TRK-2: GPC and DNT from a verified person's browser stand in their ledger."""
    public_id = _person(db, vault)
    for _ in range(2):
        with db.session() as session:
            person = subjects.by_public_id(session, public_id)
            assert person is not None
            service.record_signals(session, person, BrowserSignals(gpc=True, dnt=True))
            service.record_signals(session, person, BrowserSignals())
    with db.session() as session:
        person = subjects.by_public_id(session, public_id)
        assert person is not None
        kinds = [e.kind for e in ledger.events_of(session, person)]
        sheet = service.sheet(session, person, today=NOW.date())
    assert kinds == [EventKind.SIGNAL_GPC, EventKind.SIGNAL_DNT]
    assert sheet.gpc and sheet.dnt
