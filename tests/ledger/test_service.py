"""Recording events and keeping each person's state current on write (P-COL-4, P-USE-5, P-RGT-4, P-TRK-2)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from charter.audit.models import AuditEntry
from charter.db import Database
from charter.errors import InvalidInput
from charter.ledger import service as ledger
from charter.ledger.events import Event, EventKind, Source
from charter.ledger.models import LedgerEvent, SubjectState
from charter.ledger.projection import project
from charter.subjects import service as subjects
from charter.subjects.models import Person
from tests.subjects.factories import T0, event, make_vault

VAULT = make_vault()
ANALYTICS = "analytics_trends_benchmarks"


def person(session: object, email: str = "ana@example.org") -> Person:
    found = subjects.resolve(session, "email", email, vault=VAULT, create=True)  # type: ignore[arg-type]
    assert found is not None
    return found


def test_record_then_state_and_audit_without_values(ledger_db: Database) -> None:
    """P-COL-4: a consent is recorded with the version of the statement in force."""
    with ledger_db.session() as session:
        ana = person(session)
        checked = ledger.check_purposes(session, event(EventKind.CONSENT_GIVEN, purpose=ANALYTICS))
        assert checked.statement_version == "2023-01-01"
        ledger.record(session, ana, checked, actor="test")
    with ledger_db.session() as session:
        state = ledger.state_of(session, ana)
        assert state.consented(ANALYTICS)
        assert state.consents[ANALYTICS].statement_version == "2023-01-01"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "ledger.recorded")).one()
        assert entry.target == f"person:{ana.public_id}"
        assert entry.data == {"kind": "consent.given", "source": "api"}


def test_withdrawal_after_consent_means_not_consented(ledger_db: Database) -> None:
    """P-USE-5: after withdrawal no analytics use is allowed."""
    with ledger_db.session() as session:
        ana = person(session)
        ledger.record(session, ana, event(EventKind.CONSENT_GIVEN, 0, purpose=ANALYTICS), actor="test")
        ledger.record(session, ana, event(EventKind.CONSENT_WITHDRAWN, 5, purpose=ANALYTICS, written=True), actor="t")
    with ledger_db.session() as session:
        state = ledger.state_of(session, ana)
        assert not state.consented(ANALYTICS) and state.consents[ANALYTICS].written


def test_back_dated_event_is_folded_in_time_order(ledger_db: Database) -> None:
    """A consent recorded late but dated before a withdrawal does not undo the withdrawal."""
    with ledger_db.session() as session:
        ana = person(session)
        ledger.record(session, ana, event(EventKind.CONSENT_WITHDRAWN, 10, purpose=ANALYTICS), actor="test")
    with ledger_db.session() as session:
        ledger.record(session, ana, event(EventKind.CONSENT_GIVEN, 1, purpose=ANALYTICS), actor="test")
        ledger.record(session, ana, event(EventKind.RESTRICTED, 2, purpose="*"), actor="test")
    with ledger_db.session() as session:
        state = ledger.state_of(session, ana)
        assert not state.consented(ANALYTICS)
        assert state.is_restricted("anything")  # P-RGT-4
        assert state == project(ledger.events_of(session, ana))
        row = session.get_one(SubjectState, ana.id)
        assert row.last_at == T0 + timedelta(minutes=10)


def test_events_in_other_time_zones_are_stored_in_utc(ledger_db: Database) -> None:
    at = datetime(2024, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=2)))
    with ledger_db.session() as session:
        ana = person(session)
        ledger.record(
            session, ana, Event(kind=EventKind.SIGNAL_GPC, at=at, source=Source.BANNER, data={"on": True}), actor="test"
        )
    with ledger_db.session() as session:
        assert ledger.state_of(session, ana).gpc  # P-TRK-2
        stored = session.scalars(select(LedgerEvent)).one()
        assert stored.at == datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
        assert ledger.rebuild(session).changed == 0


def test_unknown_purpose_is_refused_naming_it(ledger_db: Database) -> None:
    with ledger_db.session() as session:
        with pytest.raises(ledger.UnknownPurpose, match="no_such_purpose"):
            ledger.check_purposes(session, event(EventKind.CONSENT_GIVEN, purpose="no_such_purpose"))
        with pytest.raises(ledger.UnknownPurpose, match="not an identifier"):
            ledger.check_purposes(session, event(EventKind.CONSENT_GIVEN, purpose="ana@example.org"))
        named = Event(
            kind=EventKind.CONSENT_GIVEN,
            at=T0,
            source=Source.API,
            statement_version="2019-04-04",
            data={"purpose": ANALYTICS},
        )
        with pytest.raises(ledger.UnknownPurpose, match="2019-04-04"):
            ledger.check_purposes(session, named)  # the 2019 statement had no analytics purposes
        with pytest.raises(ledger.UnknownStatement):
            ledger.check_purposes(session, named.model_copy(update={"statement_version": "1999"}))
        early = Event(
            kind=EventKind.CONSENT_GIVEN, at=T0.replace(year=2010), source=Source.API, data={"purpose": ANALYTICS}
        )
        with pytest.raises(ledger.UnknownStatement, match="no statement was in force"):
            ledger.check_purposes(session, early)
        star = event(EventKind.OBJECTED, purpose="*")
        assert ledger.check_purposes(session, star) is star
        gpc = event(EventKind.SIGNAL_GPC, on=True)
        assert ledger.check_purposes(session, gpc) is gpc


def test_merge_keeps_every_event_of_both_people(ledger_db: Database) -> None:
    with ledger_db.session() as session:
        ana, cookie = person(session), subjects.resolve(session, "cookie_id", "c-1", vault=VAULT, create=True)
        assert cookie is not None
        ledger.record(session, ana, event(EventKind.CONSENT_GIVEN, 0, purpose=ANALYTICS), actor="t")
        ledger.record(session, cookie, event(EventKind.SIGNAL_DNT, 1, on=True), actor="t")
        ledger.record(session, cookie, event(EventKind.CONSENT_WITHDRAWN, 2, purpose=ANALYTICS), actor="t")
        ledger.record(session, ana, event(EventKind.UNSUBSCRIBED, 3), actor="t")
        before = session.scalar(select(func.count()).select_from(LedgerEvent))
    with ledger_db.session() as session:
        kept = ledger.link(session, session.get_one(Person, ana.id), "cookie_id", "c-1", vault=VAULT, actor="t")
        assert kept.id == ana.id
    with ledger_db.session() as session:
        assert session.scalar(select(func.count()).select_from(LedgerEvent)) == before == 4
        assert set(session.scalars(select(LedgerEvent.person_id))) == {ana.id}
        state = ledger.state_of(session, ana)
        assert state.dnt and state.unsubscribed and not state.consented(ANALYTICS)  # histories interleaved by time
        assert session.get(SubjectState, cookie.id) is None
        merged = subjects.by_public_id(session, cookie.public_id)
        assert merged is not None and ledger.state_of(session, merged) == state
        assert ledger.rebuild(session).changed == 0


def test_rebuild_finds_and_repairs_a_damaged_projection(ledger_db: Database) -> None:
    with ledger_db.session() as session:
        ana, bo = person(session), person(session, "bo@example.org")
        ledger.record(session, ana, event(EventKind.CONSENT_GIVEN, purpose=ANALYTICS), actor="t")
        ledger.record(session, bo, event(EventKind.SIGNAL_GPC, on=True), actor="t")
        person(session, "nobody@example.org")  # no events: no state row needed
    with ledger_db.session() as session:
        session.get_one(SubjectState, bo.id).state = {"v": 1}
    seen: list[tuple[int, int]] = []
    with ledger_db.session() as session:
        report = ledger.rebuild(session, batch=2, progress=lambda done, total: seen.append((done, total)))
    assert report.as_dict() == {"people": 3, "events": 2, "changed": 1}
    assert seen == [(2, 3), (3, 3)]
    with ledger_db.session() as session:
        assert ledger.state_of(session, bo).gpc
        assert ledger.rebuild(session).changed == 0
        with pytest.raises(InvalidInput):
            ledger.rebuild(session, batch=0)


def test_a_rebuild_in_batch_transactions_releases_each_batch(ledger_db: Database) -> None:
    """With commit_batches, what a batch repaired is committed before the next starts (locks released)."""
    with ledger_db.session() as session:
        ana, bo = person(session), person(session, "bo@example.org")
        ledger.record(session, ana, event(EventKind.SIGNAL_GPC, on=True), actor="t")
        ledger.record(session, bo, event(EventKind.SIGNAL_GPC, on=True), actor="t")
    with ledger_db.session() as session:
        session.get_one(SubjectState, ana.id).state = {"v": 1}
    committed: list[bool] = []

    def look(done: int, total: int) -> None:
        with ledger_db.session() as other:  # another connection sees the batch already
            committed.append(ledger.state_of(other, ana).gpc)

    with ledger_db.session() as session:
        report = ledger.rebuild(session, batch=1, commit_batches=True, progress=look)
    assert report.changed == 1 and committed == [True, True]


def test_concurrent_records_lose_no_update(ledger_db: Database) -> None:
    """Threads recording for one person at once: every event lands in the state."""
    with ledger_db.session() as session:
        ana = person(session)
    purposes = [f"p{i}" for i in range(4)]
    errors: list[BaseException] = []

    def write(index: int) -> None:
        try:
            for n in range(5):
                with ledger_db.session() as session:
                    target = session.get_one(Person, ana.id)
                    ledger.record(
                        session,
                        target,
                        event(EventKind.PREFERENCE_SET, index * 10 + n, key=f"{purposes[index]}_{n}", value=True),
                        actor="t",
                    )
        except BaseException as exc:  # noqa: BLE001 - surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ledger_db.session() as session:
        state = ledger.state_of(session, ana)
        assert len(state.preferences) == 20
        assert ledger.rebuild(session).changed == 0
