"""``charter users`` against a real database on each backend."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from charter.auth import service as auth
from charter.cli import users
from charter.db import Database

from .factories import audit_text

Run = Callable[..., Result]


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Run:
    runner = CliRunner(env={"CHARTER_DATABASE_URL": database.url, "CHARTER_HOME": str(tmp_path)})

    def invoke(*args: str, stdin: str | None = None) -> Result:
        return runner.invoke(users.app, list(args), input=stdin)

    return invoke


def test_create_generates_a_password_and_prints_it_once(run: Run, database: Database) -> None:
    result = run("create", "alice", "--role", "admin", "--display-name", "Alice A.")
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "created alice (admin)"
    password = lines[-1]
    assert len(password) == 24
    with database.session() as session:
        assert auth.authenticate_password(session, "alice", password) is not None
    assert password not in audit_text(database)
    listed = run("list")
    assert password not in listed.stdout


def test_create_with_password_stdin_and_json(run: Run, database: Database) -> None:
    result = run(
        "create",
        "bob",
        "--role",
        "analyst",
        "--email",
        "bob@example.org",
        "--password-stdin",
        "--json",
        stdin="a fine long passphrase\n",
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["username"] == "bob"
    assert shown["role"] == "analyst"
    assert shown["password"] is None
    with database.session() as session:
        assert auth.authenticate_password(session, "bob", "a fine long passphrase") is not None


@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (("create", "carol", "--role", "boss"), None, "unknown role"),
        (("create", "carol", "--role", "admin", "--password-stdin"), "short\n", "at least 12"),
        (("create", "carol", "--role", "admin", "--password-stdin"), "\n", "empty line"),
        (("create", "c", "--role", "admin"), None, "3 to 64"),
        (("set-role", "carol", "boss"), None, "unknown role"),
    ],
)
def test_bad_input_exits_2_with_one_line(run: Run, args: tuple[str, ...], stdin: str | None, message: str) -> None:
    result = run(*args, stdin=stdin)
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0
    assert result.stderr.startswith("error: ")
    assert message in result.stderr
    assert result.stdout == ""


def test_duplicate_exits_1(run: Run) -> None:
    assert run("create", "alice", "--role", "admin").exit_code == 0
    result = run("create", "Alice", "--role", "analyst")
    assert result.exit_code == 1
    assert "already exists" in result.stderr


def test_list_set_role_disable_set_password(run: Run, database: Database) -> None:
    assert run("create", "root", "--role", "admin").exit_code == 0
    assert run("create", "bob", "--role", "analyst").exit_code == 0
    result = run("set-role", "bob", "auditor")
    assert result.exit_code == 0
    assert "bob is now auditor" in result.stdout
    result = run("set-password", "bob", "--password-stdin", stdin="another long passphrase\n")
    assert result.exit_code == 0, result.output
    with database.session() as session:
        assert auth.authenticate_password(session, "bob", "another long passphrase") is not None
    result = run("set-password", "bob")
    assert result.exit_code == 0
    generated = result.stdout.strip().splitlines()[-1]
    assert len(generated) == 24
    assert run("disable", "bob").exit_code == 0
    rows = json.loads(run("list", "--json").stdout)
    assert [(r["username"], r["role"], r["active"]) for r in rows] == [
        ("bob", "auditor", False),
        ("root", "admin", True),
    ]
    assert "bob" in run("list").stdout
    result = run("disable", "root")
    assert result.exit_code == 1
    assert "last active admin" in result.stderr
    result = run("disable", "ghost")
    assert result.exit_code == 1
    assert "no user" in result.stderr
    text = audit_text(database)
    assert generated not in text
    assert "another long passphrase" not in text
    assert '"actor": "cli"' in text
