from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.mail.smtpd import SmtpServer, running_smtpd


@pytest.fixture
def smtpd() -> Iterator[SmtpServer]:
    """A real SMTP server on a free local port; ``smtpd.messages`` is what it received."""
    with running_smtpd() as server:
        yield server
