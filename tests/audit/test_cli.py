"""``charter audit``: exit codes, messages and ``--json`` shapes, on both backends."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import text
from typer.testing import CliRunner, Result

from charter.audit import record
from charter.cli.audit import app
from charter.db import Database

VERIFICATION_KEYS = {"ok", "entries", "first_bad_seq", "reason", "head_hash"}
ENTRY_KEYS = {"seq", "at", "actor", "action", "target", "data", "prev_hash", "hash"}

Invoke = Callable[..., Result]


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Invoke:
    runner = CliRunner()
    env = {"CHARTER_DATABASE_URL": database.url, "CHARTER_HOME": str(tmp_path / "home")}

    def invoke(*args: str) -> Result:
        return runner.invoke(app, list(args), env=env)

    return invoke


def append(database: Database, actions: list[str]) -> list[str]:
    with database.session() as session:
        return [
            record(session, actor="cli", action=action, target=f"thing:{i}", data={"n": i}).hash
            for i, action in enumerate(actions, start=1)
        ]


def tamper(database: Database, seq: int) -> None:
    with database.engine.begin() as conn:
        conn.execute(
            text("UPDATE audit_entries SET target = :target WHERE seq = :seq"),
            {"target": "thing:forged", "seq": seq},
        )


def test_verify_an_intact_log(database: Database, run: Invoke) -> None:
    hashes = append(database, ["test.one", "test.two", "test.three"])
    result = run("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == f"audit log intact: 3 entries, head {hashes[-1][:12]}\n"


def test_verify_an_empty_log(run: Invoke) -> None:
    result = run("verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == "audit log intact: 0 entries, head none\n"


def test_verify_json_when_intact(database: Database, run: Invoke) -> None:
    hashes = append(database, ["test.one", "test.two"])
    result = run("verify", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ok": True,
        "entries": 2,
        "first_bad_seq": None,
        "reason": None,
        "head_hash": hashes[-1],
    }


def test_verify_a_tampered_log_exits_1(database: Database, run: Invoke) -> None:
    append(database, ["test.one", "test.two", "test.three"])
    tamper(database, 2)
    result = run("verify")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert "audit log broken: entry 2: contents do not match its hash (edited)" in result.stderr


def test_verify_json_when_tampered(database: Database, run: Invoke) -> None:
    hashes = append(database, ["test.one", "test.two", "test.three"])
    tamper(database, 2)
    result = run("verify", "--json")
    assert result.exit_code == 1
    payload = json.loads(result.stdout)
    assert set(payload) == VERIFICATION_KEYS
    assert payload == {
        "ok": False,
        "entries": 1,
        "first_bad_seq": 2,
        "reason": "entry 2: contents do not match its hash (edited)",
        "head_hash": hashes[0],
    }


def test_verify_against_an_anchor(database: Database, run: Invoke) -> None:
    hashes = append(database, ["test.one", "test.two"])
    assert run("verify", "--anchor", f"2:{hashes[1]}").exit_code == 0
    result = run("verify", "--anchor", f"3:{hashes[1]}")
    assert result.exit_code == 1
    assert "entries removed from the end" in result.stderr
    malformed = run("verify", "--anchor", "2:abc")
    assert malformed.exit_code == 2
    assert "error: an anchor is SEQ:HASH" in malformed.stderr


def test_export_to_stdout(database: Database, run: Invoke) -> None:
    hashes = append(database, ["test.one", "test.two", "test.three"])
    result = run("export")
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["hash"] for line in lines] == hashes
    assert all(set(line) == ENTRY_KEYS for line in lines)
    assert result.stderr == "exported 3 entries\n"
    assert run("export", "--since", "2").stderr == "exported 1 entry\n"


def test_export_since_to_a_file(database: Database, run: Invoke, tmp_path: Path) -> None:
    append(database, ["test.one", "test.two", "test.three"])
    out = tmp_path / "audit.jsonl"
    result = run("export", "--since", "1", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert [json.loads(line)["seq"] for line in out.read_text().splitlines()] == [2, 3]
    assert result.stderr == "exported 2 entries\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []


def test_export_to_a_missing_directory_is_an_input_error(run: Invoke, tmp_path: Path) -> None:
    result = run("export", "--output", str(tmp_path / "missing" / "audit.jsonl"))
    assert result.exit_code == 2
    assert "error: cannot write to" in result.stderr


def test_list_shows_a_table(database: Database, run: Invoke) -> None:
    append(database, ["user.created", "policy.published"])
    result = run("list")
    assert result.exit_code == 0, result.output
    assert "policy.published" in result.stdout
    assert "user.created" in result.stdout
    assert result.stdout.index("policy.published") < result.stdout.index("user.created")


def test_list_json_filters_and_limits(database: Database, run: Invoke) -> None:
    append(database, ["user.created", "policy.published", "user.created", "user.created"])
    result = run("list", "--json", "--action", "user.created", "--limit", "2")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [entry["seq"] for entry in payload] == [4, 3]
    assert all(set(entry) == ENTRY_KEYS for entry in payload)
    assert payload[0]["data"] == {"n": 4}


def test_list_rejects_a_bad_limit(run: Invoke) -> None:
    assert run("list", "--limit", "0").exit_code == 2


def test_verify_an_export_file(database: Database, run: Invoke, tmp_path: Path) -> None:
    hashes = append(database, ["test.one", "test.two", "test.three"])
    out = tmp_path / "audit.jsonl"
    assert run("export", "--output", str(out)).exit_code == 0
    intact = run("verify", "--file", str(out))
    assert intact.exit_code == 0, intact.output
    assert intact.stdout == f"audit log intact: 3 entries, head {hashes[-1][:12]}\n"

    out.write_text(out.read_text().replace('"n":2', '"n":20'))
    broken = run("verify", "--file", str(out), "--json")
    assert broken.exit_code == 1
    assert json.loads(broken.stdout)["first_bad_seq"] == 2

    out.write_text("not json\n")
    malformed = run("verify", "--file", str(out))
    assert malformed.exit_code == 2
    assert f"{out}:1:1: not an audit entry" in malformed.stderr
