"""``charter decide``: exit 0 allowed, 1 denied, 2 bad input; the answer reads the ledger."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from charter.cli.main import app
from charter.db import Database
from tests.cli_runner import Invoke, invoker
from tests.subjects.factories import publish_examples

ANALYTICS = ("--purpose", "analytics_trends_benchmarks", "-c", "user.contact.email", "--at", "2024-06-01T12:00:00Z")


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Invoke:
    publish_examples(database)
    return invoker(app, database, tmp_path / "home")


def _record(run: Invoke, kind: str, at: str) -> None:
    done = run(
        "consent", "record", "--identity", "email:ana@example.org", "--kind", kind,
        "--purpose", "analytics_trends_benchmarks", "--at", at,
    )  # fmt: skip
    assert done.exit_code == 0, done.output


def test_consent_then_withdrawal_flips_the_answer(run: Invoke) -> None:
    """P-USE-5: analytics needs explicit consent and stops when it is withdrawn."""
    assert run("decide", *ANALYTICS, "--identity", "email:ana@example.org").exit_code == 1
    _record(run, "consent.given", "2024-03-01T10:00:00Z")
    allowed = run("decide", *ANALYTICS, "--identity", "email:ANA@example.org", "--json")
    assert allowed.exit_code == 0, allowed.output
    assert json.loads(allowed.output)["outcome"] == "allow"
    _record(run, "consent.withdrawn", "2024-05-01T10:00:00Z")
    denied = run("decide", *ANALYTICS, "--identity", "email:ana@example.org")
    assert denied.exit_code == 1 and "DENY" in denied.output


def test_sale_is_refused_for_everyone(run: Invoke) -> None:
    """P-USE-6: no sale, with or without a person."""
    done = run("decide", "--purpose", "sell_personal_information", "-c", "user.contact.email", "--json")
    assert done.exit_code == 1
    assert json.loads(done.output)["reasons"][0]["promises"] == ["P-USE-6"]


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (("--purpose", "telepathy", "-c", "user.contact.email"), "telepathy"),
        (("--purpose", "analytics_trends_benchmarks", "-c", "user.mind"), "user.mind"),
        ((*ANALYTICS, "--identity", "email"), "KIND:VALUE"),
        ((*ANALYTICS, "--identity", "email:not-an-address"), "email"),
        (("--purpose", "analytics_trends_benchmarks", "-c", "user.contact.email", "--at", "soon"), "--at"),
        ((*ANALYTICS, "--action", "peek"), "--action"),
    ],
)
def test_bad_input_exits_2_with_one_line(run: Invoke, args: tuple[str, ...], fragment: str) -> None:
    done = run("decide", *args)
    assert done.exit_code == 2, done.output
    lines = [line for line in done.output.splitlines() if line.strip()]
    assert len(lines) == 1 and fragment in lines[0], done.output


def test_audit_decisions_lists_the_logged_answers(run: Invoke) -> None:
    """P-SEC-1: every decision asked from the CLI is logged (sample rate 1 by default) and listed."""
    run("decide", *ANALYTICS, "--identity", "email:ana@example.org")
    run("decide", "--purpose", "sell_personal_information", "-c", "user.contact.email")
    listed = run("audit", "decisions", "--json")
    assert listed.exit_code == 0, listed.output
    assert [d["outcome"] for d in json.loads(listed.output)] == ["deny", "deny"]
    denied = run("audit", "decisions", "--purpose", "sell_personal_information")
    assert "P-USE-6" in denied.output and "analytics" not in denied.output
    assert run("audit", "decisions", "--since", "last week").exit_code == 2
