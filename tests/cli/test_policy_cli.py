"""``charter policy``: exit codes, one line per problem, ``--json`` shapes.

Commands that only read files (check, render, diff of two files) run once;
commands that touch the database (publish, versions, diff of published
versions) run on SQLite and on PostgreSQL through the ``database`` fixture.
Whatever happens, no output contains a traceback.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from charter.cli.main import app
from charter.db import Database
from tests.conftest import EXAMPLES

Invoke = Callable[..., Result]

S2019 = str(EXAMPLES / "statement-2019.yaml")
S2023 = str(EXAMPLES / "statement-2023.yaml")
CHANGE_KEYS = {"path", "kind", "old", "new", "substantive", "reason"}
PROBLEM_LINE = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<path>[\w.\[\]]+): (?P<message>.+)$")
COLLECTION_HEAD = "collection:\n  categories:\n    - user.name\n    - user.contact\n"


def invoker(env: dict[str, str]) -> Invoke:
    runner = CliRunner()

    def invoke(*args: str) -> Result:
        result = runner.invoke(app, list(args), env=env)
        # A Charter error is an exit code and a message, never a crash.
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        assert "Traceback" not in result.stderr
        return result

    return invoke


@pytest.fixture
def cli(tmp_path: Path) -> Invoke:
    """For commands that read files only: the database named here is never created."""
    return invoker(
        {"CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}", "CHARTER_HOME": str(tmp_path / "home")}
    )


@pytest.fixture
def run(database: Database, tmp_path: Path) -> Invoke:
    return invoker({"CHARTER_DATABASE_URL": database.url, "CHARTER_HOME": str(tmp_path / "home")})


def variant(tmp_path: Path, name: str, old: str, new: str, *, base: str = S2019) -> Path:
    """A copy of an example with one exact piece of text replaced."""
    text = Path(base).read_text()
    assert text.count(old) == 1, f"{old!r} must occur exactly once"
    path = tmp_path / name
    path.write_text(text.replace(old, new))
    return path


def position(text: str, needle: str) -> tuple[int, int]:
    """The 1-based line and column where ``needle`` first starts in ``text``."""
    before = text[: text.index(needle)]
    return before.count("\n") + 1, len(before) - before.rfind("\n")


def yaml_bomb() -> str:
    """Ten levels of ten aliases: a few hundred bytes that expand to 10^10 nodes."""
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for level in range(1, 10):
        lines.append(f"l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def stderr_lines(result: Result) -> list[str]:
    return result.stderr.splitlines()


# --- check ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", [S2019, S2023])
def test_check_accepts_the_examples(cli: Invoke, path: str) -> None:
    result = cli("policy", "check", path)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{path}: ok")
    assert result.stderr == ""


def test_check_json(cli: Invoke) -> None:
    result = cli("policy", "check", S2019, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {
        "ok": True,
        "file": S2019,
        "version": "2019-04-04",
        "effective": "2019-04-04",
        "purposes": 27,
        "rules": 40,
        "recipients": 13,
        "jurisdictions": 4,
    }


def test_check_reports_an_unknown_category_at_its_line(cli: Invoke, tmp_path: Path) -> None:
    bad = variant(tmp_path, "bad.yaml", COLLECTION_HEAD, COLLECTION_HEAD.replace("user.contact", "user.contcat"))
    result = cli("policy", "check", str(bad))
    assert result.exit_code == 2
    assert result.stdout == ""
    [line] = stderr_lines(result)
    row, column = position(bad.read_text(), "user.contcat")
    assert line == (
        f"{bad}:{row}:{column}: collection.categories[1]: unknown data category 'user.contcat'; "
        "did you mean 'user.contact'?"
    )


def test_check_prints_one_line_per_problem(cli: Invoke, tmp_path: Path) -> None:
    wrong = COLLECTION_HEAD.replace("user.name", "user.nmae").replace("user.contact", "user.contcat")
    bad = variant(tmp_path, "two.yaml", COLLECTION_HEAD, wrong)
    result = cli("policy", "check", str(bad), "--json")  # --json changes stdout only; problems stay on stderr
    assert result.exit_code == 2
    lines = stderr_lines(result)
    assert len(lines) == 2, result.stderr
    found = [PROBLEM_LINE.match(line) for line in lines]
    assert all(found), lines
    text = bad.read_text()
    assert [(m["file"], int(m["line"]), int(m["col"]), m["path"]) for m in found if m] == [
        (str(bad), *position(text, "user.nmae"), "collection.categories[0]"),
        (str(bad), *position(text, "user.contcat"), "collection.categories[1]"),
    ]
    assert all("did you mean" in line for line in lines)


def test_check_suggests_the_field_meant(cli: Invoke, tmp_path: Path) -> None:
    bad = variant(tmp_path, "typo.yaml", "  minimum_age:\n    age: 13\n", "  minimum_age:\n    agee: 13\n")
    result = cli("policy", "check", str(bad))
    assert result.exit_code == 2
    lines = stderr_lines(result)
    row, column = position(bad.read_text(), "agee: 13")
    assert any(
        line.startswith(f"{bad}:{row}:{column}: ")
        and "collection.minimum_age.agee: unknown field 'agee'; did you mean 'age'?" in line
        for line in lines
    ), lines
    assert all(PROBLEM_LINE.match(line) for line in lines), lines


def test_check_malformed_yaml_points_at_the_spot(cli: Invoke, tmp_path: Path) -> None:
    bad = tmp_path / "broken.yaml"
    bad.write_text("charter: 1\nversion: [unclosed\n")
    result = cli("policy", "check", str(bad))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert re.match(rf"^{re.escape(str(bad))}:\d+:\d+: malformed YAML: ", line), line


def test_check_a_missing_file(cli: Invoke, tmp_path: Path) -> None:
    missing = tmp_path / "nowhere.yaml"
    result = cli("policy", "check", str(missing))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert line.startswith("error: ")
    assert str(missing) in line
    assert "cannot read the file" in line


def test_check_refuses_a_10_mb_file(cli: Invoke, tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("# " + "x" * 10_000_000 + "\n")
    result = cli("policy", "check", str(big))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert "10,000,003 bytes" in line
    assert "CHARTER_POLICY_MAX_BYTES" in line


def test_check_refuses_a_yaml_bomb(cli: Invoke, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(yaml_bomb())
    result = cli("policy", "check", str(bomb))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert "YAML nodes" in line


def test_check_a_file_that_is_not_utf8(cli: Invoke, tmp_path: Path) -> None:
    latin = tmp_path / "latin.yaml"
    latin.write_bytes("title: Déclaration\n".encode("latin-1"))
    result = cli("policy", "check", str(latin))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert "not UTF-8" in line


def test_check_refuses_deep_nesting(cli: Invoke, tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("[" * 1000 + "]" * 1000 + "\n")
    result = cli("policy", "check", str(deep))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert "nests more than" in line


def test_check_survives_very_deep_nesting(tmp_path: Path) -> None:
    """Run in a child process: the failure this guards against kills the process."""
    deep = tmp_path / "deeper.yaml"
    deep.write_text("[" * 40_000 + "]" * 40_000 + "\n")
    entry = "import sys; from charter.cli.main import run; sys.argv[0] = 'charter'; run()"
    env = {
        **os.environ,
        "CHARTER_HOME": str(tmp_path / "home"),
        "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'unused.db'}",
    }
    done = subprocess.run(
        [sys.executable, "-c", entry, "policy", "check", str(deep)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, (done.returncode, done.stderr[-500:])
    assert "nests more than" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_an_impossible_date(cli: Invoke, tmp_path: Path) -> None:
    bad = variant(tmp_path, "feb30.yaml", "effective: 2019-04-04\n", "effective: 2019-02-30\n")
    result = cli("policy", "check", str(bad))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert line.startswith(f"{bad}:{position(bad.read_text(), '2019-02-30')[0]}:")


# --- render --------------------------------------------------------------------------


def test_render_markdown_starts_with_the_title_and_date(cli: Invoke) -> None:
    result = cli("policy", "render", S2019, "--format", "md")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "# Privacy Statement"
    assert any("Effective April 4, 2019" in line for line in lines[:5]), lines[:5]


def test_render_html_is_a_full_document(cli: Invoke) -> None:
    result = cli("policy", "render", S2023, "--format", "html")
    assert result.exit_code == 0, result.output
    html = result.stdout
    assert html.lower().startswith("<!doctype html>")
    assert '<html lang="en">' in html
    assert "<title>Privacy Statement</title>" in html
    assert html.rstrip().endswith("</html>")
    assert 'datetime="2023-01-01"' in html
    assert "January 1, 2023" in html


def test_render_to_a_file(cli: Invoke, tmp_path: Path) -> None:
    out = tmp_path / "statement.md"
    result = cli("policy", "render", S2019, "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("# Privacy Statement")


def test_render_an_unknown_format(cli: Invoke) -> None:
    result = cli("policy", "render", S2019, "--format", "pdf")
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    assert "pdf" in line
    assert "html or md" in line


# --- diff ----------------------------------------------------------------------------


def diff_json(invoke: Invoke, *args: str) -> list[dict[str, object]]:
    result = invoke("policy", "diff", *args, "--json")
    assert result.exit_code == 0, result.output
    changes = json.loads(result.stdout)
    assert isinstance(changes, list)
    return changes


def test_diff_json_shape_and_the_minimum_age(cli: Invoke) -> None:
    changes = diff_json(cli, S2019, S2023)
    assert changes
    assert all(set(change) == CHANGE_KEYS for change in changes)
    assert all(change["kind"] in {"added", "removed", "changed"} for change in changes)
    age = next(change for change in changes if change["path"] == "collection.minimum_age.age")
    assert age["substantive"] is True
    assert (age["kind"], age["old"], age["new"]) == ("changed", 13, 18)
    assert "minimum age" in str(age["reason"])
    assert any(not change["substantive"] for change in changes)


def test_diff_of_a_file_with_itself_is_empty(cli: Invoke) -> None:
    assert diff_json(cli, S2023, S2023) == []
    result = cli("policy", "diff", S2023, S2023)
    assert result.exit_code == 0
    assert result.stdout.strip() == "no changes"


def test_diff_substantive_filters(cli: Invoke) -> None:
    every = diff_json(cli, S2019, S2023)
    substantive = diff_json(cli, S2019, S2023, "--substantive")
    assert substantive == [change for change in every if change["substantive"]]
    assert 0 < len(substantive) < len(every)


def test_diff_table_marks_substantive_changes(cli: Invoke) -> None:
    result = cli("policy", "diff", S2019, S2023)
    assert result.exit_code == 0, result.output
    every = diff_json(cli, S2019, S2023)
    count = sum(1 for change in every if change["substantive"])
    assert result.stdout.rstrip().endswith(f"{len(every)} changes, {count} substantive (marked !)")


def test_diff_of_a_missing_file(cli: Invoke, tmp_path: Path) -> None:
    result = cli("policy", "diff", S2019, str(tmp_path / "gone.yaml"))
    assert result.exit_code == 2
    assert len(stderr_lines(result)) == 1


# --- publish and versions (both backends) --------------------------------------------


def versions(run: Invoke) -> list[dict[str, object]]:
    result = run("policy", "versions", "--json")
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    assert isinstance(listed, list)
    return listed


def test_publish_both_and_list_them(run: Invoke) -> None:
    assert versions(run) == []
    first = run("policy", "publish", S2019)
    assert first.exit_code == 0, first.output
    assert first.stdout.strip() == "published version 2019-04-04, effective 2019-04-04"
    second = run("policy", "publish", S2023, "--json")
    assert second.exit_code == 0, second.output
    assert json.loads(second.stdout) == {
        "version": "2023-01-01",
        "effective": "2023-01-01",
        "sha256": hashlib.sha256(Path(S2023).read_bytes()).hexdigest(),
    }
    listed = versions(run)
    assert [(v["version"], v["effective"], v["in_force"]) for v in listed] == [
        ("2019-04-04", "2019-04-04", False),
        ("2023-01-01", "2023-01-01", True),
    ]
    assert all(v["published_by"] == "cli" for v in listed)
    table = run("policy", "versions")
    assert table.exit_code == 0
    assert "2019-04-04" in table.stdout
    assert "2023-01-01" in table.stdout


def test_publishing_the_same_version_again(run: Invoke) -> None:
    assert run("policy", "publish", S2019).exit_code == 0
    again = run("policy", "publish", S2019)
    assert again.exit_code == 1
    assert again.stdout == ""
    [line] = stderr_lines(again)
    assert line.startswith("error: version 2019-04-04 is already published")
    assert len(versions(run)) == 1


def test_publishing_an_earlier_effective_date(run: Invoke) -> None:
    assert run("policy", "publish", S2023).exit_code == 0
    older = run("policy", "publish", S2019)
    assert older.exit_code == 1
    [line] = stderr_lines(older)
    assert line.startswith("error: effective date 2019-04-04 is not after 2023-01-01")
    assert [v["version"] for v in versions(run)] == ["2023-01-01"]


def test_publishing_an_invalid_file_stores_nothing(run: Invoke, tmp_path: Path) -> None:
    assert run("policy", "publish", S2019).exit_code == 0
    before = versions(run)
    bad = variant(
        tmp_path, "bad-2023.yaml", COLLECTION_HEAD, COLLECTION_HEAD.replace("user.contact", "user.contcat"), base=S2023
    )
    result = run("policy", "publish", str(bad))
    assert result.exit_code == 2
    [line] = stderr_lines(result)
    row, column = position(bad.read_text(), "user.contcat")
    assert line.startswith(f"{bad}:{row}:{column}: collection.categories[1]: unknown data category 'user.contcat'")
    assert versions(run) == before


def test_publishing_a_missing_file(run: Invoke, tmp_path: Path) -> None:
    result = run("policy", "publish", str(tmp_path / "gone.yaml"))
    assert result.exit_code == 2
    assert len(stderr_lines(result)) == 1
    assert versions(run) == []


def test_diff_of_published_versions(run: Invoke) -> None:
    assert run("policy", "publish", S2019).exit_code == 0
    assert run("policy", "publish", S2023).exit_code == 0
    by_version = diff_json(run, "2019-04-04", "2023-01-01")
    assert by_version == diff_json(run, S2019, S2023)
    assert diff_json(run, "2019-04-04", S2019) == []
    unknown = run("policy", "diff", "2019-04-04", "nope")
    assert unknown.exit_code == 1
    [line] = stderr_lines(unknown)
    assert line.startswith("error: no published statement has version")
    assert "nope" in line
