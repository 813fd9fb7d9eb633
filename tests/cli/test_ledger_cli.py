"""``charter consent record`` and ``charter ledger rebuild|import|state``: exit codes and output shapes.

The apps are mounted here the way ``charter.cli.main`` mounts them, so these
tests do not depend on the registration.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import typer

from charter.cli import consent, ledger
from charter.db import Database
from tests.cli_runner import Invoke, invoker
from tests.subjects.factories import publish_examples

root = typer.Typer(pretty_exceptions_enable=False)
root.add_typer(consent.app, name="consent")
root.add_typer(ledger.app, name="ledger")
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):\d+: (?P<field>[\w.]+): .+$")


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Invoke:
    publish_examples(database)
    return invoker(root, database, tmp_path / "home")


def test_record_then_state(run: Invoke) -> None:
    """P-USE-5: a consent then its withdrawal leaves the person not consented."""
    given = run(
        "consent",
        "record",
        "--identity",
        "email:Ana@Example.org",
        "--kind",
        "consent.given",
        "--purpose",
        "analytics_trends_benchmarks",
        "--at",
        "2024-03-01T10:00:00Z",
        "--json",
    )
    assert given.exit_code == 0, given.output
    out = json.loads(given.stdout)
    assert out["statement_version"] == "2023-01-01" and len(out["person"]) == 32
    assert "ana@example.org" not in given.stdout.lower()
    withdrawn = run(
        "consent",
        "record",
        "-i",
        "email:ana@example.org",
        "-k",
        "consent.withdrawn",
        "--purpose",
        "analytics_trends_benchmarks",
        "--written",
    )
    assert withdrawn.exit_code == 0 and out["person"] in withdrawn.stdout
    gpc = run("consent", "record", "-i", "email:ana@example.org", "-k", "signal.gpc", "--on", "--source", "banner")
    assert gpc.exit_code == 0, gpc.output
    state = run("ledger", "state", "--identity", "email:ana@example.org", "--json")
    assert state.exit_code == 0
    document = json.loads(state.stdout)
    assert document["person"] == out["person"]
    assert document["state"]["consents"]["analytics_trends_benchmarks"]["given"] is False
    assert document["state"]["gpc"] is True
    text = run("ledger", "state", "-i", "email:ana@example.org")
    assert "withdrawn" in text.stdout and "gpc" in text.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-i", "ana@example.org", "-k", "consent.given", "--purpose", "x"], "KIND:VALUE"),
        (["-i", "email:nobody", "-k", "consent.given", "--purpose", "x"], "email identity must look like"),
        (["-i", "email:a@example.org", "-k", "consent.given", "--purpose", "nope"], "purpose nope is not in"),
        (["-i", "email:a@example.org", "-k", "consent.nope"], "kind: is not an event kind"),
        (["-i", "email:a@example.org", "-k", "signal.gpc"], "needs data.on"),
        (["-i", "email:a@example.org", "-k", "signal.gpc", "--on", "--at", "noon"], "at:"),
        (["-i", "email:a@example.org", "-k", "signal.gpc", "--on", "--data", "[1]"], "--data must be a JSON object"),
    ],
)
def test_record_bad_input_exits_2(run: Invoke, args: list[str], message: str) -> None:
    result = run("consent", "record", *args)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert "nobody" not in result.stderr or "identity" not in message


def test_state_of_unknown_person_exits_1(run: Invoke) -> None:
    result = run("ledger", "state", "-i", "email:ghost@example.org")
    assert result.exit_code == 1 and "no person is known by this email identity" in result.stderr
    assert "ghost" not in result.stderr


def test_rebuild(run: Invoke) -> None:
    run("consent", "record", "-i", "cookie_id:c1", "-k", "sale_sharing.opted_out")
    result = run("ledger", "rebuild", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"people": 1, "events": 1, "changed": 0}
    text = run("ledger", "rebuild", "--batch", "10")
    assert text.exit_code == 0 and "0 stored states differed" in text.stdout


def test_import_exit_codes(run: Invoke, tmp_path: Path) -> None:
    header = "identity_kind,identity,kind,at,purpose\n"
    good = tmp_path / "good.csv"
    good.write_text(
        header
        + "email,ana@example.org,consent.given,2024-03-01T10:00:00Z,analytics_trends_benchmarks\n"
        + "email,bad,consent.given,2024-03-01T10:00:00Z,analytics_trends_benchmarks\n"
    )
    bad = tmp_path / "bad.csv"
    bad.write_text(header + "email,ana@example.org,consent.given,2024-03-01T10:00:00Z,no_such\n")

    dry = run("ledger", "import", str(good), "--dry-run", "--json")
    assert dry.exit_code == 0 and json.loads(dry.stdout)["valid"] == 1 and json.loads(dry.stdout)["recorded"] == 0

    partial = run("ledger", "import", str(good))
    assert partial.exit_code == 0, partial.output
    assert "recorded 1 of 2 rows; 1 rejected" in partial.stdout
    match = PROBLEM_LINE.match(partial.stderr.strip())
    assert match and match["file"] == str(good) and match["line"] == "3" and match["field"] == "identity"

    failed = run("ledger", "import", str(bad))
    assert failed.exit_code == 2
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    match = PROBLEM_LINE.match(lines[0])
    assert match and (match["file"], match["line"], match["field"]) == (str(bad), "2", "purpose")

    as_json = run("ledger", "import", str(bad), "--json")
    assert as_json.exit_code == 2 and json.loads(as_json.stdout)["rejects"][0]["field"] == "purpose"

    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    nothing = run("ledger", "import", str(empty))
    assert nothing.exit_code == 2 and "no valid row" in nothing.stderr
