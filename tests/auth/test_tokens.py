from __future__ import annotations

from datetime import timedelta

import pytest

from charter.auth import service as auth
from charter.auth.roles import Permission, Role
from charter.db import Database, utcnow
from charter.errors import InvalidInput, NotFound

from .factories import PASSWORD, audit_rows, audit_text, make_user


def _token(
    database: Database,
    *,
    role: Role = Role.PRIVACY_OFFICER,
    scopes: tuple[str, ...] = ("policy:read", "policy:publish"),
    **extra: object,
) -> str:
    with database.session() as session:
        if auth.find_user(session, "root") is None:
            make_user(session, "root")
        if auth.find_user(session, "ci-bot") is None:
            make_user(session, "ci-bot", role)
        token, _row = auth.create_token(
            session, username="ci-bot", name="ci publish", scopes=scopes, actor="test", **extra
        )  # type: ignore[arg-type]
    return token


def test_token_format_and_principal(database: Database) -> None:
    token = _token(database)
    prefix, token_id, secret = token.split("_")
    assert prefix == "cht"
    assert len(token_id) == 12
    assert len(secret) == 64
    with database.session() as session:
        principal = auth.principal_from_token(session, token)
        assert principal is not None
        assert (principal.kind, principal.name, principal.role) == ("token", token_id, Role.PRIVACY_OFFICER)
        assert principal.permissions == {Permission.POLICY_READ, Permission.POLICY_PUBLISH}
        assert principal.csrf_token is None
        row = auth.get_token(session, token_id)
        assert row.secret_hash != secret
        assert secret not in row.secret_hash
    with database.session() as session:
        assert auth.get_token(session, token_id).last_used_at is not None


def test_scopes_beyond_the_role_are_refused(database: Database) -> None:
    with database.session() as session:
        make_user(session, "ann", Role.ANALYST)
    with pytest.raises(InvalidInput, match="policy:publish"), database.session() as session:
        auth.create_token(session, username="ann", name="x", scopes=["policy:read", "policy:publish"], actor="test")
    for scopes, message in ((["nope:nope"], "unknown scope"), ([], "at least one scope")):
        with pytest.raises(InvalidInput, match=message), database.session() as session:
            auth.create_token(session, username="ann", name="x", scopes=scopes, actor="test")
    with pytest.raises(InvalidInput, match="expires"), database.session() as session:
        auth.create_token(session, username="ann", name="x", scopes=["policy:read"], expires_days=0, actor="test")
    with pytest.raises(NotFound), database.session() as session:
        auth.create_token(session, username="ghost", name="x", scopes=["policy:read"], actor="test")
    with database.session() as session:
        assert auth.list_tokens(session) == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("0" if t[-1] != "0" else "1"),  # wrong secret
        lambda t: "cht_000000000000_" + t.split("_")[2],  # unknown id
        lambda t: t.replace("cht_", "xyz_"),
        lambda t: t + "0",
        lambda _t: "",
    ],
)
def test_wrong_or_malformed_tokens_are_refused(database: Database, mangle: object) -> None:
    token = _token(database)
    with database.session() as session:
        assert auth.principal_from_token(session, mangle(token)) is None  # type: ignore[operator]


def test_revoked_token_is_refused(database: Database) -> None:
    token = _token(database)
    token_id = token.split("_")[1]
    with database.session() as session:
        auth.revoke_token(session, token_id=token_id, actor="test")
        auth.revoke_token(session, token_id=token_id, actor="test")  # idempotent
    with database.session() as session:
        assert auth.principal_from_token(session, token) is None
    revoked = [r for r in audit_rows(database) if r["action"] == "token.revoked"]
    assert [(r["target"], r["data"]) for r in revoked] == [("user:ci-bot", {"token_id": token_id})]
    with pytest.raises(NotFound), database.session() as session:
        auth.revoke_token(session, token_id="ffffffffffff", actor="test")


def test_expired_token_is_refused(database: Database) -> None:
    token = _token(database, expires_days=30)
    with database.session() as session:
        row = auth.get_token(session, token.split("_")[1])
        assert row.expires_at is not None
        assert timedelta(days=29) < row.expires_at - utcnow() <= timedelta(days=30)
        row.expires_at = utcnow() - timedelta(seconds=1)
    with database.session() as session:
        assert auth.principal_from_token(session, token) is None


def test_disabled_owner_makes_the_token_useless(database: Database) -> None:
    token = _token(database)
    with database.session() as session:
        auth.disable_user(session, username="ci-bot", actor="test")
    with database.session() as session:
        assert auth.principal_from_token(session, token) is None


def test_demoting_the_owner_narrows_the_token(database: Database) -> None:
    token = _token(database)
    with database.session() as session:
        auth.set_role(session, username="ci-bot", role="analyst", actor="test")
    with database.session() as session:
        principal = auth.principal_from_token(session, token)
    assert principal is not None
    assert principal.permissions == {Permission.POLICY_READ}


def test_list_tokens_by_user(database: Database) -> None:
    _token(database)
    _token(database, scopes=("policy:read",))
    with database.session() as session:
        assert len(auth.list_tokens(session)) == 2
        assert len(auth.list_tokens(session, username="ci-bot")) == 2
        assert auth.list_tokens(session, username="root") == []


def test_no_secret_ever_reaches_the_audit_log(database: Database) -> None:
    token = _token(database)
    token_id = token.split("_")[1]
    with database.session() as session:
        cookie, _row = auth.start_session(session, auth.get_user(session, "ci-bot"), hours=1)
        auth.authenticate_password(session, "ci-bot", PASSWORD)
        auth.authenticate_password(session, "ci-bot", "a wrong password guess")
        auth.set_password(session, username="ci-bot", password="replacement passphrase", actor="test")
        auth.end_session(session, cookie)
        auth.revoke_token(session, token_id=token_id, actor="test")
    text = audit_text(database)
    for secret in (token, token.split("_")[2], PASSWORD, "a wrong password guess", "replacement passphrase", cookie):
        assert secret not in text
    created = next(r for r in audit_rows(database) if r["action"] == "token.created")
    assert created["data"] == {
        "token_id": token_id,
        "scopes": ["policy:publish", "policy:read"],
        "name": "ci publish",
        "expires_days": None,
    }


def test_impossible_token_ids_are_not_found(database: Database) -> None:
    _token(database)
    for token_id in ("\x00" * 12, "not-an-id", ""):
        with pytest.raises(NotFound), database.session() as session:
            auth.revoke_token(session, token_id=token_id, actor="test")
