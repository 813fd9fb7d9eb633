from __future__ import annotations

from datetime import UTC

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from charter.auth.models import User
from charter.auth.roles import Role
from charter.db import Database, utcnow

from .factories import make_user


def test_role_and_times_round_trip(database: Database) -> None:
    with database.session() as session:
        make_user(session, "alice", Role.PRIVACY_OFFICER, email="alice@example.org")
    with database.session() as session:
        user = session.scalars(select(User)).one()
        assert user.role is Role.PRIVACY_OFFICER
        assert user.created_at.tzinfo is not None
        assert user.created_at.utcoffset() == UTC.utcoffset(None)
        assert user.last_login_at is None
        assert user.active is True
        stored = session.execute(text("SELECT role FROM users")).scalar_one()
        assert stored == "privacy_officer"


def test_username_is_unique_in_the_database(database: Database) -> None:
    with database.session() as session:
        make_user(session, "alice")
    with database.session() as session:
        session.add(User(username="alice", role=Role.ANALYST, password_hash="x", created_at=utcnow()))
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_repr_shows_no_email_or_hash(database: Database) -> None:
    with database.session() as session:
        user = make_user(session, "alice", email="alice@example.org")
        shown = repr(user)
    assert "alice@example.org" not in shown
    assert "argon2" not in shown
