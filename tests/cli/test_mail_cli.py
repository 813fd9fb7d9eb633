"""``charter mail test``: exit 0 when the message is handed over, 1 when the server is down, 2 for a bad address."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from charter.cli import mail
from tests.mail.smtpd import HOST, free_port, running_smtpd

root = typer.Typer(pretty_exceptions_enable=False)
root.add_typer(mail.app, name="mail")


def _env(tmp_path: Path, **mail_env: str) -> dict[str, str]:
    env = {"CHARTER_HOME": str(tmp_path / "home"), "CHARTER_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    env.update({f"CHARTER_MAIL_{k.upper()}": v for k, v in mail_env.items()})
    return env


def test_the_outbox_backend_writes_the_test_message(tmp_path: Path) -> None:
    result = CliRunner().invoke(root, ["mail", "test", "--to", "Ana@Example.org"], env=_env(tmp_path))
    assert result.exit_code == 0, result.output
    [written] = (tmp_path / "home" / "outbox").glob("*.eml")
    assert result.output.strip() == f"wrote a test message to {written}"
    assert "To: ana@example.org" in written.read_text()


def test_smtp_sends_to_a_real_server_and_prints_json(tmp_path: Path) -> None:
    with running_smtpd() as server:
        env = _env(tmp_path, backend="smtp", host=HOST, port=str(server.port), starttls="false")
        result = CliRunner().invoke(root, ["mail", "test", "--to", "ana@example.org", "--json"], env=env)
        assert result.exit_code == 0, result.output
        assert [m["Subject"] for m in server.messages] == ["Charter test message"]
    assert json.loads(result.output) == {
        "sent": True,
        "backend": "smtp",
        "via": f"smtp {HOST}:{server.port} (plain)",
        "where": f"smtp {HOST}:{server.port}",
    }


def test_a_server_that_is_down_exits_1_with_one_line(tmp_path: Path) -> None:
    env = _env(tmp_path, backend="smtp", host=HOST, port=str(free_port()), starttls="false", password="pw-never-shown")
    result = CliRunner().invoke(root, ["mail", "test", "--to", "ana@example.org"], env=env)
    assert result.exit_code == 1
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: the mail server {HOST}:")
    assert "pw-never-shown" not in result.output and "Traceback" not in result.output


def test_a_malformed_address_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(root, ["mail", "test", "--to", "ana-at-example.org"], env=_env(tmp_path))
    assert result.exit_code == 2
    assert result.output.strip() == (
        "error: email identity must look like name@domain.tld (one @, a dot in the domain, no spaces)"
    )
    assert not (tmp_path / "home" / "outbox").exists()
