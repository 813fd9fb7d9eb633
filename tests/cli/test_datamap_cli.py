"""``charter datamap check``: exit 0 clean, 1 drift, 2 invalid; FILE:LINE:COL lines; --json shapes."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from charter.cli.main import app
from charter.demo import stores
from tests.conftest import EXAMPLES

WEST = str(EXAMPLES / "datamap")
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>[\w.\[\]]+): (?P<message>.+)$")


@pytest.fixture
def home(tmp_path: Path) -> Path:
    stores.create(tmp_path / "home")
    return tmp_path / "home"


def invoke(home: Path, *args: str) -> Result:
    env = {"CHARTER_HOME": str(home), "CHARTER_DATABASE_URL": f"sqlite:///{home / 'unused.db'}"}
    result = CliRunner().invoke(app, ["datamap", "check", *args], env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


def test_a_clean_map_exits_0_statically_and_live(home: Path) -> None:
    result = invoke(home, WEST)
    assert result.exit_code == 0, result.output
    assert "ok — 2 systems, 2 datasets, 7 collections" in result.stdout
    result = invoke(home, WEST, "--live")
    assert result.exit_code == 0, result.output
    assert "live: shop, support reached" in result.stdout


def test_drift_exits_1_with_positioned_lines(home: Path) -> None:
    with sqlite3.connect(home / "support.db") as db:
        db.execute("DROP TABLE messages")
    result = invoke(home, WEST, "--live")
    assert result.exit_code == 1
    [line] = [line for line in result.stdout.splitlines() if "does not exist" in line]
    match = PROBLEM_LINE.match(line)
    assert match and match["file"].endswith("support.yaml") and match["path"] == "dataset[0].collections[1].name"


def test_invalid_files_exit_2_with_one_line_per_problem(home: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    text = (EXAMPLES / "datamap" / "datasets" / "support.yaml").read_text()
    bad.write_text(text.replace("field: tickets.id", "field: ticket.id"))
    result = invoke(home, str(bad))
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert all(PROBLEM_LINE.match(line) for line in lines), lines
    assert "has no collection 'ticket'; did you mean 'tickets'?" in lines[0]


def test_json_output(home: Path, tmp_path: Path) -> None:
    result = invoke(home, WEST, "--live", "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True and payload["checked_systems"] == ["shop", "support"]
    assert payload["findings"] == []
    broken = tmp_path / "broken.yaml"
    broken.write_text("dataset: [\n")
    result = invoke(home, str(broken), "--json")
    assert result.exit_code == 2
    payload = json.loads(result.stdout)
    assert payload["ok"] is False and payload["findings"][0]["severity"] == "error"
    assert payload["findings"][0]["line"] == 2


def test_strict_makes_warnings_count(home: Path) -> None:
    with sqlite3.connect(home / "shop.db") as db:
        db.execute("CREATE TABLE newsletter (id INTEGER PRIMARY KEY, email TEXT)")
    assert invoke(home, WEST, "--live").exit_code == 0
    result = invoke(home, WEST, "--live", "--strict")
    assert result.exit_code == 1
    assert "warning: unmapped data: table 'newsletter'" in result.stdout


def _erasure(home: Path, *args: str) -> Result:
    env = {"CHARTER_HOME": str(home), "CHARTER_DATABASE_URL": f"sqlite:///{home / 'unused.db'}"}
    result = CliRunner().invoke(app, ["datamap", "erasure", *args], env=env)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


def test_erasure_says_per_field_what_a_deletion_does_and_why(home: Path, tmp_path: Path) -> None:
    """P-RGT-3, P-RET-2: the office sees, before any request, what is erased, what is kept and why."""
    result = _erasure(home, WEST, "--personal")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "west_shop.customers.email: keyed_hash — set on the field" in lines
    assert "west_shop.orders.placed_at: keep — kept with the collection: tax records, kept 10 years (P-RET-2)" in lines
    payload = json.loads(_erasure(home, WEST, "--json").stdout)
    fates = {(f["collection"], f["field"]): f for f in payload["fields"]}
    assert fates[("west_shop.customers", "id")]["strategy"] is None
    assert "primary key" in fates[("west_shop.customers", "id")]["why"]
    bad = tmp_path / "bad.yaml"
    bad.write_text("dataset: [\n")
    result = _erasure(home, str(bad))
    assert result.exit_code == 2 and "bad.yaml" in result.stderr


def test_notes_are_shown_and_never_count(home: Path, tmp_path: Path) -> None:
    import shutil

    folder = tmp_path / "map"
    shutil.copytree(WEST, folder)
    (folder / "policy.yaml").write_text("policy:\n  - fides_key: default_erasure_policy\n    rules: []\n")
    for args in ((str(folder),), (str(folder), "--live", "--strict")):
        result = invoke(home, *args)
        assert result.exit_code == 0, result.output
        assert "policy.yaml:1:1: policy: note: skipped: a Fides policy is not part of the data map" in result.stdout
        assert "0 errors, 0 drift, 0 warnings, 1 notes" in result.stdout
