from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from charter.auth import service as auth
from charter.auth.models import User
from charter.auth.roles import Role
from charter.db import Database
from charter.errors import Conflict, InvalidInput, NotFound

from .factories import PASSWORD, actions, audit_rows, audit_text, make_user


def test_create_user_stores_a_hash_and_audits(database: Database) -> None:
    with database.session() as session:
        user = make_user(session, "  Alice ", Role.ANALYST, display_name="Alice A.", email="alice@example.org")
        assert user.username == "alice"
    with database.session() as session:
        stored = auth.get_user(session, "alice")
        assert stored.password_hash.startswith("$argon2id$")
        assert PASSWORD not in stored.password_hash
        assert stored.display_name == "Alice A."
    rows = audit_rows(database)
    assert [(r["actor"], r["action"], r["target"], r["data"]) for r in rows] == [
        ("test", "user.created", "user:alice", {"role": "analyst"})
    ]
    assert "alice@example.org" not in audit_text(database)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"password": "short"}, "at least 12"),
        ({"password": "zzzzzzzzzzzzzz"}, "one character repeated"),
        ({"password": "bob.the.builder", "username": "bob.the.builder"}, "not be the username"),
        ({"username": "ab"}, "3 to 64"),
        ({"username": "has space"}, "3 to 64"),
        ({"username": "x" * 65}, "3 to 64"),
        ({"role": "superuser"}, "unknown role"),
        ({"email": "not-an-address"}, "e-mail"),
    ],
)
def test_bad_input_is_refused_and_nothing_is_written(database: Database, changes: dict[str, str], message: str) -> None:
    arguments: dict[str, object] = {"username": "carol", "role": "analyst", "password": PASSWORD}
    arguments.update(changes)
    with pytest.raises(InvalidInput, match=message), database.session() as session:
        auth.create_user(session, actor="test", **arguments)  # type: ignore[arg-type]
    with database.session() as session:
        assert auth.list_users(session) == []
    assert audit_rows(database) == []


def test_duplicate_username_is_a_conflict_whatever_the_case(database: Database) -> None:
    with database.session() as session:
        make_user(session, "alice")
    with pytest.raises(Conflict), database.session() as session:
        make_user(session, "ALICE", Role.ANALYST)
    with database.session() as session:
        assert [u.username for u in auth.list_users(session)] == ["alice"]


def test_authenticate_right_wrong_unknown(database: Database) -> None:
    with database.session() as session:
        make_user(session, "alice")
    with database.session() as session:
        user = auth.authenticate_password(session, "Alice", PASSWORD)
        assert user is not None
        assert user.username == "alice"
        assert user.last_login_at is not None
    with database.session() as session:
        assert auth.authenticate_password(session, "alice", PASSWORD + "!") is None
        assert auth.authenticate_password(session, "nobody", PASSWORD) is None
        assert auth.authenticate_password(session, "../bad name", PASSWORD) is None
    rows = audit_rows(database)
    assert [(r["action"], r["target"], r["data"]) for r in rows[1:]] == [
        ("auth.login", "user:alice", {}),
        ("auth.login_failed", "user:alice", {"reason": "wrong_password"}),
        ("auth.login_failed", "user:?", {"reason": "unknown_user"}),
        ("auth.login_failed", "user:?", {"reason": "unknown_user"}),
    ]
    assert rows[1]["actor"] == "user:alice"
    assert rows[2]["actor"] == "anonymous"


def test_login_rehashes_an_outdated_hash(database: Database) -> None:
    with database.session() as session:
        user = make_user(session, "alice")
        user.password_hash = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(PASSWORD)
    with database.session() as session:
        assert auth.authenticate_password(session, "alice", PASSWORD) is not None
    with database.session() as session:
        fresh = auth.get_user(session, "alice").password_hash
        assert "m=8192" not in fresh
        assert auth.authenticate_password(session, "alice", PASSWORD) is not None


def test_disabled_user_cannot_sign_in_and_sessions_end(database: Database) -> None:
    with database.session() as session:
        make_user(session, "root")
        bob = make_user(session, "bob", Role.ANALYST)
        cookie, _row = auth.start_session(session, bob, hours=1)
    with database.session() as session:
        auth.disable_user(session, username="bob", actor="test")
        auth.disable_user(session, username="bob", actor="test")  # idempotent: one audit entry
    with database.session() as session:
        assert auth.authenticate_password(session, "bob", PASSWORD) is None
        assert auth.principal_from_session(session, cookie) is None
    rows = audit_rows(database)
    disabled = [r for r in rows if r["action"] == "user.disabled"]
    assert [(r["target"], r["data"]) for r in disabled] == [("user:bob", {"sessions_ended": 1})]
    assert rows[-1]["data"] == {"reason": "disabled"}


def test_set_role_and_last_admin_guard(database: Database) -> None:
    with database.session() as session:
        make_user(session, "root")
        make_user(session, "bob", Role.ANALYST)
    with pytest.raises(Conflict, match="last active admin"), database.session() as session:
        auth.set_role(session, username="root", role="analyst", actor="test")
    with pytest.raises(Conflict, match="last active admin"), database.session() as session:
        auth.disable_user(session, username="root", actor="test")
    with database.session() as session:
        assert auth.set_role(session, username="bob", role="admin", actor="test").role is Role.ADMIN
        auth.set_role(session, username="bob", role="admin", actor="test")  # unchanged: not audited
        assert auth.set_role(session, username="root", role=Role.AUDITOR, actor="test").role is Role.AUDITOR
    changes = [r for r in audit_rows(database) if r["action"] == "user.role_changed"]
    assert [(r["target"], r["data"]) for r in changes] == [
        ("user:bob", {"from": "analyst", "to": "admin"}),
        ("user:root", {"from": "admin", "to": "auditor"}),
    ]


def test_set_password_replaces_it_and_ends_sessions(database: Database) -> None:
    new_password = "a brand new passphrase"
    with database.session() as session:
        alice = make_user(session, "alice")
        cookie, _row = auth.start_session(session, alice, hours=1)
    with pytest.raises(InvalidInput), database.session() as session:
        auth.set_password(session, username="alice", password="alice", actor="test")
    with database.session() as session:
        auth.set_password(session, username="alice", password=new_password, actor="test")
    with database.session() as session:
        assert auth.principal_from_session(session, cookie) is None
        assert auth.authenticate_password(session, "alice", PASSWORD) is None
        assert auth.authenticate_password(session, "alice", new_password) is not None
    assert "user.password_changed" in actions(database)
    assert new_password not in audit_text(database)


def test_unknown_user_is_not_found(database: Database) -> None:
    with pytest.raises(NotFound), database.session() as session:
        auth.set_role(session, username="ghost", role="admin", actor="test")


def test_list_users_is_sorted(database: Database) -> None:
    with database.session() as session:
        for name in ("carol", "alice", "bob"):
            make_user(session, name, Role.ANALYST)
    with database.session() as session:
        assert [u.username for u in auth.list_users(session)] == ["alice", "bob", "carol"]
        assert session.scalars(select(User.username).where(User.active)).all()


def test_impossible_names_are_simply_not_found(database: Database) -> None:
    # PostgreSQL refuses NUL bytes in a query; such a name must be "no such user", not a 500.
    with database.session() as session:
        assert auth.find_user(session, "ali\x00ce") is None
        assert auth.authenticate_password(session, "ali\x00ce", PASSWORD) is None
    with pytest.raises(NotFound), database.session() as session:
        auth.disable_user(session, username="x\x00y", actor="test")
