"""Finding people by identity through keyed hashes; nothing stored in the clear (P-SEC-1, P-DEF-1)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select

from charter.crypto import SealBroken
from charter.db import Database
from charter.db.models import metadata
from charter.errors import Conflict, InvalidInput
from charter.subjects import service as subjects
from charter.subjects.models import Identity, Person
from charter.subjects.normalize import InvalidIdentity
from tests.subjects.factories import make_vault

VAULT = make_vault()


def test_resolve_creates_once_and_finds_by_any_spelling(database: Database) -> None:
    with database.session() as session:
        assert subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=False) is None
        person = subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=True)
        assert person is not None and len(person.public_id) == 32
    with database.session() as session:
        again = subjects.resolve(session, "email", "  ANA@Example.org", vault=VAULT, create=True)
        assert again is not None and again.public_id == person.public_id
        assert session.scalar(select(Person.id).where(Person.id != again.id)) is None


def test_no_plaintext_identity_in_any_column_of_any_row(database: Database) -> None:
    """P-SEC-1: the e-mail address and phone appear nowhere in the database, in any table."""
    with database.session() as session:
        person = subjects.resolve(session, "email", "ana.secret@example.org", vault=VAULT, create=True)
        assert person is not None
        subjects.link(session, person, "phone", "+1 415 555 0132", vault=VAULT)
    needles = [b"ana.secret", b"example.org", b"4155550132"]
    with database.engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    raw = value if isinstance(value, bytes) else str(value).encode()
                    assert not any(n in raw for n in needles), f"plaintext identity in {table.name}"
    assert "identities" in inspect(database.engine).get_table_names()


def test_sealed_value_opens_only_for_its_row(database: Database) -> None:
    with database.session() as session:
        subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=True)
        subjects.resolve(session, "email", "bo@example.org", vault=VAULT, create=True)
        first, second = session.scalars(select(Identity).order_by(Identity.id)).all()
        assert VAULT.reveal(first) == "ana@example.org"
        first.sealed, second.sealed = second.sealed, first.sealed
        with pytest.raises(SealBroken):
            VAULT.reveal(first)
        session.rollback()


def test_another_key_cannot_find_the_person(database: Database) -> None:
    with database.session() as session:
        subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=True)
    other = make_vault(b"a different installation secret")
    with database.session() as session:
        assert subjects.resolve(session, "email", "ana@example.org", vault=other, create=False) is None


def test_malformed_identity_is_refused_and_nothing_created(database: Database) -> None:
    with pytest.raises(InvalidIdentity) as caught, database.session() as session:
        subjects.resolve(session, "email", "ana-at-example.org", vault=VAULT, create=True)
    assert "ana-at-example.org" not in str(caught.value)
    with database.session() as session:
        assert session.scalar(select(Person)) is None


def test_link_adds_identity_and_refuses_someone_elses(database: Database) -> None:
    with database.session() as session:
        ana = subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=True)
        bo = subjects.resolve(session, "email", "bo@example.org", vault=VAULT, create=True)
        assert ana is not None and bo is not None
        subjects.link(session, ana, "account_id", "A-1", vault=VAULT)
        subjects.link(session, ana, "account_id", "A-1", vault=VAULT)  # again: a no-op
        found = subjects.resolve(session, "account_id", "A-1", vault=VAULT, create=False)
        assert found is not None and found.id == ana.id
        with pytest.raises(Conflict, match="merge"):
            subjects.link(session, bo, "account_id", "A-1", vault=VAULT)
        assert len(subjects.identities_of(session, ana)) == 2


def test_merge_moves_identities_and_old_id_resolves_to_the_kept_person(database: Database) -> None:
    with database.session() as session:
        ana = subjects.resolve(session, "email", "ana@example.org", vault=VAULT, create=True)
        old = subjects.resolve(session, "cookie_id", "c-77", vault=VAULT, create=True)
        assert ana is not None and old is not None
        assert subjects.merge(session, ana, old) == 1
        old_public = old.public_id
    with database.session() as session:
        kept = subjects.by_public_id(session, old_public)
        assert kept is not None and kept.public_id == ana.public_id
        by_cookie = subjects.resolve(session, "cookie_id", "c-77", vault=VAULT, create=False)
        assert by_cookie is not None and by_cookie.id == ana.id
        with pytest.raises(InvalidInput, match="themselves"):
            subjects.merge(session, kept, session.get_one(Person, old.id))


def test_unknown_public_id_is_none(database: Database) -> None:
    with database.session() as session:
        assert subjects.by_public_id(session, "0" * 32) is None
        assert subjects.by_public_id(session, "x" * 100) is None
