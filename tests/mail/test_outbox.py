"""The outbox backend: each message an .eml file only its owner can read; the registry picks backends."""

from __future__ import annotations

import email
import email.policy
import stat
from email.message import EmailMessage
from pathlib import Path

import pytest

from charter.errors import Misconfigured, Unavailable
from charter.mail import BACKENDS, Mailer, OutboxMailer, SmtpMailer, compose, mailer_for
from charter.settings import MailSettings, Settings


def test_the_outbox_writes_one_private_eml_file_per_message(tmp_path: Path) -> None:
    mailer = OutboxMailer(tmp_path / "outbox")
    settings = MailSettings()
    first = Path(mailer.send(compose(settings, to="ana@example.org", subject="One", text="1\n")))
    second = Path(mailer.send(compose(settings, to="bo@example.org", subject="Two", text="2\n")))
    assert first != second and first.parent == second.parent == tmp_path / "outbox"
    assert first.suffix == ".eml"
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    parsed = email.message_from_bytes(first.read_bytes(), policy=email.policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed["To"] == "ana@example.org" and parsed["Subject"] == "One"
    assert mailer.description == f"outbox {tmp_path / 'outbox'}"


def test_an_outbox_that_cannot_be_written_is_unavailable(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(Unavailable, match="outbox folder"):
        OutboxMailer(blocker).send(compose(MailSettings(), to="ana@example.org", subject="x", text="x\n"))


def test_the_registry_builds_the_configured_backend(tmp_path: Path) -> None:
    outbox = mailer_for(Settings.load(env="test", home=tmp_path))
    assert isinstance(outbox, OutboxMailer) and outbox.folder == tmp_path / "outbox"
    smtp = mailer_for(Settings.load(env="test", home=tmp_path, mail=MailSettings(backend="smtp", host="mx.example")))
    assert isinstance(smtp, SmtpMailer) and "mx.example:587" in smtp.description


def test_a_backend_missing_from_the_registry_is_misconfigured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.load(env="test", home=tmp_path)
    monkeypatch.delitem(BACKENDS, "outbox")
    with pytest.raises(Misconfigured, match="CHARTER_MAIL_BACKEND=outbox is not known"):
        mailer_for(settings)


def test_the_mail_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHARTER_MAIL_BACKEND", "smtp")
    monkeypatch.setenv("CHARTER_MAIL_HOST", "smtp.west.example")
    monkeypatch.setenv("CHARTER_MAIL_PORT", "465")
    monkeypatch.setenv("CHARTER_MAIL_SSL", "true")
    monkeypatch.setenv("CHARTER_MAIL_PASSWORD", "pw-from-env")
    settings = Settings.load(env="test", home=tmp_path)
    assert settings.mail.backend == "smtp" and settings.mail.port == 465 and settings.mail.ssl
    assert "pw-from-env" not in repr(settings)  # SecretStr masks itself
    mailer: Mailer = mailer_for(settings)
    assert mailer.description == "smtp smtp.west.example:465 (TLS)"
