"""A folder standing in for a mail server: each message is one ``.eml`` file.

For demos and development (``CHARTER_MAIL_BACKEND=outbox``): open the file
with any mail program, or read the code in it with ``cat``. Files are
readable by the owner only, since they hold an address and a code.
"""

from __future__ import annotations

import logging
import os
import secrets
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from pathlib import Path

from charter.errors import Unavailable

log = logging.getLogger("charter.mail")


class OutboxMailer:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @property
    def description(self) -> str:
        return f"outbox {self.folder}"

    def send(self, message: EmailMessage) -> str:
        name = f"{datetime.now(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}.eml"
        path = self.folder / name
        try:
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(message.as_bytes(policy=SMTP))
        except OSError as exc:
            raise Unavailable(
                f"the outbox folder {self.folder} cannot be written ({exc.strerror or 'error'}); nothing was sent"
            ) from exc
        log.info("mail written to the outbox: %s", path)
        return str(path)
