"""``charter serve`` and ``charter worker`` get a command line of their own, without every domain's commands.

The processes they start live for weeks; the full command line imports every
command module (and each one its domain's services) only to parse two
options. These tests hold that the service commands are the same commands
(same help, same errors) and that they leave the other command modules out.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from charter.cli.main import SERVICES, full_app, service_app

OTHER_COMMANDS = ("charter.cli.ledger", "charter.cli.policy", "charter.cli.consent", "charter.cli.audit")


@pytest.mark.parametrize("name", sorted(SERVICES))
@pytest.mark.parametrize("args", [("--help",), ("--no-such-option",)])
def test_a_service_command_answers_as_in_the_full_command_line(name: str, args: tuple[str, ...]) -> None:
    runner = CliRunner()
    alone = runner.invoke(service_app(name), [name, *args], prog_name="charter")
    full = runner.invoke(full_app(), [name, *args], prog_name="charter")
    assert (alone.exit_code, alone.output) == (full.exit_code, full.output)


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_starting_a_service_does_not_import_the_other_commands(name: str) -> None:
    done = _imported_after(name, "--help")
    assert "Usage: charter " + name in done.stdout
    assert done.stderr.strip().splitlines()[-1] == "[]"


def test_every_other_command_goes_through_the_full_command_line() -> None:
    done = _imported_after("--help")
    for name in ("serve", "worker", "ledger", "requests"):
        assert name in done.stdout
    assert done.stderr.strip().splitlines()[-1] == str(sorted(OTHER_COMMANDS))


def _imported_after(*argv: str) -> subprocess.CompletedProcess[str]:
    """``charter ARGV`` in a fresh interpreter; its help on stdout, then which OTHER_COMMANDS it imported on stderr."""
    code = (
        f"import sys; from charter.cli.main import run; sys.argv = ['charter', *{argv!r}]\n"
        "try:\n    run()\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {OTHER_COMMANDS!r} if m in sys.modules), file=sys.stderr)"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
