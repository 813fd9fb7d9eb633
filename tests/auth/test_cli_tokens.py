"""``charter tokens`` against a real database on each backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from charter.auth import service as auth
from charter.auth.roles import Permission, Role
from charter.cli import tokens
from charter.db import Database

from .factories import audit_text, make_user

Run = Callable[..., Result]


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Run:
    runner = CliRunner(env={"CHARTER_DATABASE_URL": database.url, "CHARTER_HOME": str(tmp_path)})
    with database.session() as session:
        make_user(session, "root")
        make_user(session, "ann", Role.ANALYST)

    def invoke(*args: str) -> Result:
        return runner.invoke(tokens.app, list(args))

    return invoke


def test_create_prints_the_token_once_and_it_works(run: Run, database: Database) -> None:
    result = run(
        "create",
        "--user",
        "root",
        "--name",
        "ci",
        "--scope",
        "policy:read",
        "--scope",
        "policy:publish",
        "--expires-days",
        "90",
    )
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    assert token.startswith("cht_")
    with database.session() as session:
        principal = auth.principal_from_token(session, token)
    assert principal is not None
    assert principal.permissions == {Permission.POLICY_READ, Permission.POLICY_PUBLISH}
    listed = run("list", "--json")
    assert token not in listed.stdout
    assert token.split("_")[2] not in listed.stdout
    [row] = json.loads(listed.stdout)
    assert row["user"] == "root"
    assert row["scopes"] == ["policy:publish", "policy:read"]
    assert row["expires_at"] is not None
    assert row["state"] == "active"
    assert row["revoked_at"] is None
    assert token not in audit_text(database)


def test_create_json_and_revoke(run: Run, database: Database) -> None:
    result = run("create", "--user", "ann", "--name", "reader", "--scope", "policy:read", "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    token, token_id = shown["token"], shown["token_id"]
    result = run("revoke", token_id)
    assert result.exit_code == 0
    assert f"token {token_id} is revoked" in result.stdout
    with database.session() as session:
        assert auth.principal_from_token(session, token) is None
    assert "revoked" in run("list").stdout
    assert run("list", "--user", "root", "--json").stdout.strip() == "[]"


def test_scope_beyond_role_exits_2(run: Run) -> None:
    result = run("create", "--user", "ann", "--name", "x", "--scope", "users:manage")
    assert result.exit_code == 2
    assert "does not have users:manage" in result.stderr
    assert result.stdout == ""


def test_unknown_scope_and_unknown_token(run: Run) -> None:
    result = run("create", "--user", "ann", "--name", "x", "--scope", "everything")
    assert result.exit_code == 2
    assert "unknown scope" in result.stderr
    result = run("revoke", "0123456789ab")
    assert result.exit_code == 1
    assert "no token" in result.stderr
