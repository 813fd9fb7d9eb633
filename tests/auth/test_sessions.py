from __future__ import annotations

from datetime import timedelta

import pytest

from charter.auth import service as auth
from charter.auth.models import ConsoleSession
from charter.auth.roles import Permission, Role, permissions_of
from charter.db import Database, utcnow
from charter.errors import InvalidInput

from .factories import actions, audit_text, make_user


def test_session_principal(database: Database) -> None:
    with database.session() as session:
        user = make_user(session, "alice", Role.AUDITOR)
        cookie, row = auth.start_session(session, user, hours=8)
        assert row.session_hash != cookie
        assert cookie not in row.session_hash
        assert row.expires_at - row.created_at == timedelta(hours=8)
    with database.session() as session:
        principal = auth.principal_from_session(session, cookie)
    assert principal is not None
    assert (principal.kind, principal.name, principal.role) == ("user", "alice", Role.AUDITOR)
    assert principal.permissions == permissions_of(Role.AUDITOR)
    assert principal.can(Permission.AUDIT_READ)
    assert principal.csrf_token
    assert len(principal.csrf_token) >= 40
    assert principal.actor == "user:alice"


def test_each_session_has_its_own_cookie_and_csrf_token(database: Database) -> None:
    with database.session() as session:
        user = make_user(session, "alice")
        first = auth.start_session(session, user, hours=1)
        second = auth.start_session(session, user, hours=1)
    assert first[0] != second[0]
    assert first[1].csrf_token != second[1].csrf_token


def test_expired_session_is_refused(database: Database) -> None:
    with database.session() as session:
        cookie, row = auth.start_session(session, make_user(session, "alice"), hours=1)
        row.expires_at = utcnow() - timedelta(seconds=1)
    with database.session() as session:
        assert auth.principal_from_session(session, cookie) is None


def test_end_session_and_unknown_cookies(database: Database) -> None:
    with database.session() as session:
        cookie, _row = auth.start_session(session, make_user(session, "alice"), hours=1)
    with database.session() as session:
        assert auth.principal_from_session(session, "not-a-cookie") is None
        assert auth.principal_from_session(session, "") is None
        assert auth.principal_from_session(session, "x" * 5000) is None
        auth.end_session(session, cookie)
        auth.end_session(session, cookie)  # again: nothing to do, not audited twice
        auth.end_session(session, "not-a-cookie")
    with database.session() as session:
        assert auth.principal_from_session(session, cookie) is None
        assert session.get(ConsoleSession, 1) is not None
    assert actions(database).count("auth.logout") == 1
    assert cookie not in audit_text(database)


def test_role_change_applies_to_open_sessions(database: Database) -> None:
    with database.session() as session:
        make_user(session, "root")
        cookie, _row = auth.start_session(session, make_user(session, "bob", Role.AUDITOR), hours=1)
    with database.session() as session:
        auth.set_role(session, username="bob", role="analyst", actor="test")
    with database.session() as session:
        principal = auth.principal_from_session(session, cookie)
    assert principal is not None
    assert not principal.can(Permission.AUDIT_READ)


def test_session_length_and_disabled_user_are_checked(database: Database) -> None:
    with database.session() as session:
        make_user(session, "root")
        bob = make_user(session, "bob", Role.ANALYST)
        with pytest.raises(InvalidInput):
            auth.start_session(session, bob, hours=0)
        auth.disable_user(session, username="bob", actor="test")
        with pytest.raises(InvalidInput):
            auth.start_session(session, bob, hours=1)
