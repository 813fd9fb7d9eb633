"""Sending e-mail: one :class:`Mailer` protocol, two backends, chosen by settings.

* ``smtp`` (:class:`SmtpMailer`): stdlib ``smtplib``, STARTTLS or TLS, optional sign-in.
* ``outbox`` (:class:`OutboxMailer`): each message becomes an ``.eml`` file under
  ``HOME/outbox/``; nothing leaves the machine (demos, development).

Build messages with :func:`compose`; get the configured mailer with
:func:`mailer_for` (``Services.mailer`` does it once per process). A server
that cannot be reached or refuses a message raises
:class:`charter.errors.Unavailable` naming the host, never a credential or a
recipient. Tests swap in a real local server (aiosmtpd) or a fake through
``BACKENDS`` or by assigning ``services.mailer``.
"""

from __future__ import annotations

from charter.mail.message import compose
from charter.mail.outbox import OutboxMailer
from charter.mail.service import BACKENDS, Mailer, mailer_for
from charter.mail.smtp import SmtpMailer

__all__ = ["BACKENDS", "Mailer", "OutboxMailer", "SmtpMailer", "compose", "mailer_for"]
