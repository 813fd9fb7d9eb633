"""``charter requests`` and ``charter holds``: the queue from a shell; bad input exits 2 with one line.

Promises: P-RGT-8 (the queue by due date, extension once), P-RET-3 (holds
block deletion approval, exit 1 with the reason), P-RGT-3 (denial grounds).
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from charter.cli.main import app
from charter.db import Database
from charter.db.base import utcnow
from charter.requests import intake
from charter.requests.kinds import RequestKind
from charter.settings import DatabaseSettings, Settings
from tests.cli_runner import Invoke, invoker
from tests.requests.conftest import Recorder
from tests.subjects.factories import make_vault, publish_examples


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def invoke(database: Database, home: Path) -> Invoke:
    publish_examples(database)
    return invoker(app, database, home, CHARTER_MAIL_BACKEND="outbox")


def received(database: Database, home: Path, kind: RequestKind, email: str) -> str:
    """A verified request, as the privacy center would leave it (the CLI's own vault key is HOME's)."""
    settings = Settings.load(env="test", home=home, database=DatabaseSettings(url=database.url))
    vault = make_vault(settings.secret_key())
    mailer = Recorder()
    now = utcnow()
    submission = intake.Submission(kind=kind, identity_kind="email", identity=email, jurisdiction="eu")
    done = intake.submit(database, mailer, submission, vault=vault, settings=settings, now=now)
    intake.verify_code(
        database, done.public_id, mailer.code(), vault=vault, settings=settings, now=now + timedelta(seconds=1)
    )
    return done.public_id


def test_list_show_extend_and_deny(invoke: Invoke, database: Database, home: Path) -> None:
    first = received(database, home, RequestKind.ACCESS, "ana@example.org")
    listed = invoke("requests", "list", "--json")
    assert listed.exit_code == 0, listed.output
    assert [r["id"] for r in json.loads(listed.output)["requests"]] == [first]
    extended = invoke("requests", "extend", first, "--reason", "many systems", "--json")
    assert extended.exit_code == 0, extended.output
    assert json.loads(extended.output)["extended"] is True
    twice = invoke("requests", "extend", first, "--reason", "again")
    assert twice.exit_code == 1
    assert twice.output.strip().count("\n") == 0 and "already extended" in twice.output
    denied = invoke("requests", "deny", first, "--reason", "manifestly_unfounded")
    assert denied.exit_code == 0, denied.output
    assert "denied" in denied.output
    assert len(list((home / "outbox").glob("*.eml"))) == 3  # verified, extended, denied
    shown = invoke("requests", "show", first)
    assert "request.denied" in shown.output


def test_holds_block_deletion_from_the_cli(invoke: Invoke, database: Database, home: Path) -> None:
    request_id = received(database, home, RequestKind.DELETION, "bo@example.org")
    added = invoke("holds", "add", "--identity", "email:bo@example.org", "--reason", "Case 9", "--json")
    assert added.exit_code == 0, added.output
    hold = json.loads(added.output)["id"]
    blocked = invoke("requests", "approve", request_id, "--identity-checked")
    assert blocked.exit_code == 1
    assert "Case 9" in blocked.output
    assert json.loads(invoke("holds", "list", "--json").output)["holds"][0]["id"] == hold
    assert invoke("holds", "release", hold, "--reason", "settled").exit_code == 0
    approved = invoke("requests", "approve", request_id, "--identity-checked", "--json")
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["status"] == "approved"


@pytest.mark.parametrize(
    "args",
    [
        ("requests", "list", "--status", "sleeping"),
        ("requests", "list", "--type", "telepathy"),
        ("holds", "add", "--reason", "x"),
        ("holds", "add", "--system", "Bad System!", "--reason", "x"),
        ("holds", "add", "--identity", "passport:1", "--reason", "x"),
    ],
)
def test_bad_input_exits_2_with_one_line(invoke: Invoke, args: tuple[str, ...]) -> None:
    result = invoke(*args)
    assert result.exit_code == 2, result.output
    assert len(result.output.strip().splitlines()) == 1
