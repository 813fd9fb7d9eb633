"""A real SMTP server on a free local port (aiosmtpd), for tests that send mail.

``running_smtpd()`` starts one and yields an :class:`SmtpServer` whose
``messages`` are the parsed messages it accepted, in order. With
``logins`` it requires AUTH (over plain text: the test server has no TLS).
``free_port()`` also gives a port nothing listens on, for "server down".
"""

from __future__ import annotations

import email
import email.policy
import socket
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from charter.settings import MailSettings

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Inbox:
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, _server: Any, _session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    host: str
    port: int
    inbox: Inbox

    @property
    def messages(self) -> list[EmailMessage]:
        return self.inbox.messages

    def settings(self, **overrides: Any) -> MailSettings:
        """Mail settings that send here (no STARTTLS: the test server speaks plain SMTP)."""
        values: dict[str, Any] = {"backend": "smtp", "host": self.host, "port": self.port, "starttls": False}
        values.update(overrides)
        return MailSettings(**values)


def _authenticator(logins: dict[str, str]) -> Any:
    def check(_server: Any, _session: Any, _envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = (
            mechanism in ("LOGIN", "PLAIN")
            and isinstance(data, LoginPassword)
            and logins.get(data.login.decode()) == data.password.decode()
        )
        return AuthResult(success=ok, handled=False)

    return check


@contextmanager
def running_smtpd(logins: dict[str, str] | None = None) -> Iterator[SmtpServer]:
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {}
    if logins is not None:
        options = {"authenticator": _authenticator(logins), "auth_required": True, "auth_require_tls": False}
    with warnings.catch_warnings():
        # AUTH without TLS is what we want here: a local test server with no certificate.
        warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
        controller = Controller(inbox, hostname=HOST, port=port, **options)
        controller.start()
        try:
            yield SmtpServer(HOST, port, inbox)
        finally:
            controller.stop()
