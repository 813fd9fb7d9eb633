"""Sending through a real SMTP server (aiosmtpd on a free local port), and every way it can fail.

Failures are ``Unavailable`` naming the server, never a password or the
recipient (style rule 5; P-SEC-1).
"""

from __future__ import annotations

import socket

import pytest
from pydantic import SecretStr

from charter.errors import Unavailable
from charter.mail import SmtpMailer, compose
from charter.settings import MailSettings
from tests.mail.smtpd import HOST, SmtpServer, free_port, running_smtpd


def _message(settings: MailSettings) -> object:
    return compose(settings, to="ana@example.org", subject="Hello", text="The body.\n")


def test_a_message_reaches_the_server(smtpd: SmtpServer) -> None:
    settings = smtpd.settings(from_address="West Privacy <privacy@west.example>")
    mailer = SmtpMailer(settings)
    where = mailer.send(compose(settings, to="ana@example.org", subject="Hello", text="The body.\n"))
    assert where == f"smtp {HOST}:{smtpd.port}"
    [received] = smtpd.messages
    assert received["To"] == "ana@example.org"
    assert received["From"] == "West Privacy <privacy@west.example>"
    assert received["Subject"] == "Hello"
    assert received["Message-ID"].endswith("@west.example>")
    assert received.get_content().strip() == "The body."
    assert mailer.description == f"smtp {HOST}:{smtpd.port} (plain)"


def test_signing_in_with_the_right_password_sends() -> None:
    with running_smtpd(logins={"charter": "s3cret-Pa55"}) as server:
        settings = server.settings(username="charter", password=SecretStr("s3cret-Pa55"))
        SmtpMailer(settings).send(compose(settings, to="ana@example.org", subject="Hi", text="x\n"))
        assert len(server.messages) == 1


def test_a_refused_sign_in_names_the_server_not_the_password() -> None:
    with running_smtpd(logins={"charter": "right-password"}) as server:
        settings = server.settings(username="charter", password=SecretStr("wrong-Pa55word"))
        with pytest.raises(Unavailable) as caught:
            SmtpMailer(settings).send(compose(settings, to="ana@example.org", subject="Hi", text="x\n"))
        assert server.messages == []
    detail = caught.value.detail
    assert f"{HOST}:{server.port}" in detail and "sign-in" in detail and "CHARTER_MAIL_PASSWORD" in detail
    assert "wrong-Pa55word" not in detail and "right-password" not in detail
    assert "ana@example.org" not in detail
    assert caught.value.status == 503


def test_a_server_that_is_down_is_unavailable() -> None:
    settings = MailSettings(backend="smtp", host=HOST, port=free_port(), starttls=False, password=SecretStr("pw-123"))
    with pytest.raises(Unavailable, match=rf"the mail server {HOST}:\d+ refused the connection") as caught:
        SmtpMailer(settings).send(compose(settings, to="ana@example.org", subject="Hi", text="x\n"))
    assert "pw-123" not in caught.value.detail
    assert "nothing was sent" in caught.value.detail


def test_a_server_that_never_answers_times_out() -> None:
    """A socket that accepts and never greets: the configured timeout ends the wait."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind((HOST, 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        settings = MailSettings(backend="smtp", host=HOST, port=port, starttls=False, timeout=0.2)
        with pytest.raises(Unavailable, match=r"did not answer within 0\.2 seconds"):
            SmtpMailer(settings).send(compose(settings, to="ana@example.org", subject="Hi", text="x\n"))


def test_starttls_asked_of_a_server_without_it_is_unavailable(smtpd: SmtpServer) -> None:
    settings = smtpd.settings(starttls=True)
    with pytest.raises(Unavailable, match="does not offer STARTTLS"):
        SmtpMailer(settings).send(compose(settings, to="ana@example.org", subject="Hi", text="x\n"))
    assert smtpd.messages == []
    assert SmtpMailer(settings).description.endswith("(STARTTLS)")


def test_an_unknown_host_is_unavailable() -> None:
    settings = MailSettings(backend="smtp", host="mail.invalid", port=25, starttls=False, timeout=2)
    with pytest.raises(Unavailable, match=r"mail\.invalid:25"):
        SmtpMailer(settings).send(compose(settings, to="ana@example.org", subject="Hi", text="x\n"))
