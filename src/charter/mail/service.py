"""The mailer protocol and the registry that picks a backend from the settings."""

from __future__ import annotations

from collections.abc import Callable
from email.message import EmailMessage
from typing import Protocol

from charter.errors import Misconfigured
from charter.settings import Settings


class Mailer(Protocol):
    """Something that delivers a message or raises :class:`charter.errors.Unavailable`."""

    @property
    def description(self) -> str:
        """Where messages go, for people (``smtp mail.example.org:587``); no secrets."""
        ...

    def send(self, message: EmailMessage) -> str:
        """Deliver ``message``; return where it went (the server, or the outbox file)."""
        ...


MailerFactory = Callable[[Settings], Mailer]


def _smtp(settings: Settings) -> Mailer:
    from charter.mail.smtp import SmtpMailer

    return SmtpMailer(settings.mail)


def _outbox(settings: Settings) -> Mailer:
    from charter.mail.outbox import OutboxMailer

    return OutboxMailer(settings.home / "outbox")


BACKENDS: dict[str, MailerFactory] = {"smtp": _smtp, "outbox": _outbox}
"""Backend name (``CHARTER_MAIL_BACKEND``) → factory. Tests may register their own."""


def mailer_for(settings: Settings) -> Mailer:
    factory = BACKENDS.get(settings.mail.backend)
    if factory is None:
        known = ", ".join(sorted(BACKENDS))
        raise Misconfigured(f"CHARTER_MAIL_BACKEND={settings.mail.backend} is not known; use one of {known}")
    return factory(settings)
