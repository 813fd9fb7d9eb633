"""``charter mail-links mint``: output shapes and exit codes (2 for bad input, never the identity in an error)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from charter.cli import maillinks
from charter.db import Database
from tests.cli_runner import Invoke, invoker
from tests.maillinks.conftest import MARKETING
from tests.subjects.factories import publish_examples

root = typer.Typer(pretty_exceptions_enable=False)
root.add_typer(maillinks.app, name="mail-links")


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Invoke:
    publish_examples(database)
    return invoker(
        root,
        database,
        tmp_path / "home",
        CHARTER_BASE_URL="https://privacy.example.org",
        CHARTER_MAIL_LINKS_MAILTO="unsubscribe@example.org",
    )


def test_mint_json(run: Invoke) -> None:
    result = run("mail-links", "mint", "--identity", "email:Ana@Example.org", "--list", MARKETING, "--json")
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["list"] == MARKETING and body["campaign"] is None
    assert body["unsubscribe_url"].startswith("https://privacy.example.org/u/")
    assert body["headers"] == {
        "List-Unsubscribe": f"<{body['unsubscribe_url']}>, <mailto:unsubscribe@example.org?subject=unsubscribe>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    again = run("mail-links", "mint", "--person", body["person"], "--list", MARKETING, "--campaign", "c1", "--json")
    assert again.exit_code == 0 and json.loads(again.stdout)["person"] == body["person"]


def test_mint_text_prints_the_headers_to_paste(run: Invoke) -> None:
    result = run("mail-links", "mint", "-i", "email:ana@example.org", "--list", MARKETING)
    assert result.exit_code == 0, result.output
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in result.stdout
    assert "List-Unsubscribe: <https://privacy.example.org/u/" in result.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--identity", "email:secret-person@@nowhere", "--list", MARKETING], "email identity must look like"),
        (["--identity", "fax:secret-person", "--list", MARKETING], "identity kind is not known"),
        (["--identity", "secret-person", "--list", MARKETING], "--identity is written KIND:VALUE"),
        (["--list", MARKETING], "give --identity KIND:VALUE or --person ID"),
        (["--identity", "email:secret-person@example.org", "--list", "nope"], "list nope is not a purpose"),
        (["--identity", "email:secret-person@example.org", "--list", "provide_services"], "not a marketing purpose"),
    ],
)
def test_bad_input_exits_2_without_echoing_the_identity(run: Invoke, args: list[str], message: str) -> None:
    result = run("mail-links", "mint", *args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "secret-person" not in result.output


def test_unknown_person_exits_1(run: Invoke) -> None:
    result = run("mail-links", "mint", "--person", "nobody", "--list", MARKETING)
    assert result.exit_code == 1 and "no person has this id" in result.output
