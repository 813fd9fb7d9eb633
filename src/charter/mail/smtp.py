"""Sending through an SMTP server with the standard library.

Every failure becomes :class:`Unavailable` naming the server (``host:port``)
and what went wrong in words; the server's own reply text is left out (it
may quote the recipient), and so is every credential.
"""

from __future__ import annotations

import logging
import smtplib
import socket
import ssl
from email.message import EmailMessage

from charter.errors import Unavailable
from charter.settings import MailSettings

log = logging.getLogger("charter.mail")


class SmtpMailer:
    def __init__(self, settings: MailSettings) -> None:
        self.settings = settings

    @property
    def description(self) -> str:
        s = self.settings
        security = "TLS" if s.ssl else "STARTTLS" if s.starttls else "plain"
        return f"smtp {s.host}:{s.port} ({security})"

    @property
    def _where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.ssl:
            return smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=ssl.create_default_context())
        return smtplib.SMTP(s.host, s.port, timeout=s.timeout)

    def send(self, message: EmailMessage) -> str:
        s = self.settings
        try:
            with self._connect() as client:
                if s.starttls and not s.ssl:
                    client.starttls(context=ssl.create_default_context())
                if s.username:
                    password = s.password.get_secret_value() if s.password is not None else ""
                    client.login(s.username, password)
                client.send_message(message)
        except (smtplib.SMTPException, OSError) as exc:
            raise Unavailable(f"the mail server {self._where} {_reason(exc, s.timeout)}; nothing was sent") from exc
        log.info("mail sent through %s", self._where)
        return f"smtp {self._where}"


def _reason(exc: BaseException, timeout: float) -> str:
    """What went wrong, in words, without the server's reply text or any credential."""
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return (
            f"refused Charter's sign-in (SMTP {exc.smtp_code}); check CHARTER_MAIL_USERNAME and CHARTER_MAIL_PASSWORD"
        )
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "does not offer STARTTLS or sign-in; check CHARTER_MAIL_STARTTLS and CHARTER_MAIL_SSL"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "refused the recipient"
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"refused the sender (SMTP {exc.smtp_code}); check CHARTER_MAIL_FROM_ADDRESS"
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"refused the message (SMTP {exc.smtp_code})"
    if isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError):
        return f"did not answer within {timeout:g} seconds"  # smtplib wraps a read timeout in a disconnect
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "closed the connection unexpectedly"
    if isinstance(exc, ConnectionRefusedError):
        return "refused the connection (is it running?)"
    if isinstance(exc, socket.gaierror):
        return "could not be found (check CHARTER_MAIL_HOST)"
    if isinstance(exc, ssl.SSLError):
        return "failed the TLS handshake (check CHARTER_MAIL_SSL, CHARTER_MAIL_STARTTLS and its certificate)"
    if isinstance(exc, smtplib.SMTPException):
        return "refused the message"
    return "could not be reached"
