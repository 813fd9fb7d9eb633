"""Access logs without the secrets some public URLs carry.

Three public URLs are bearer credentials: the preference center's e-mailed
link (``/privacy/preferences/verify?token=…``, signs in as the person), the
one-click unsubscribe link (``/u/TOKEN``) and the open pixel
(``/o/TOKEN.gif``). The server's access log would otherwise write them out
whole, so anyone who can read the log could use them. :class:`RedactTokens`
masks them in every record of the ``uvicorn.access`` logger; ``create_app``
installs it.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
MASK = "[redacted]"
_IN_PATH = re.compile(r"(?<![^\s\"])(/[uo]/)[^/?#\s\"]+")  # a path that starts /u/ or /o/
_IN_QUERY = re.compile(r"([?&]token=)[^&#\s\"]*")


def redact(text: str) -> str:
    """``text`` with link tokens in paths and ``token=`` query values masked."""
    return _IN_QUERY.sub(rf"\g<1>{MASK}", _IN_PATH.sub(rf"\g<1>{MASK}", text))


class RedactTokens(logging.Filter):
    """Masks link tokens in a record's message and its text arguments; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def install(name: str = ACCESS_LOGGER) -> None:
    """Add :class:`RedactTokens` to the logger ``name`` once (logging config keeps a logger's filters)."""
    logger = logging.getLogger(name)
    if not any(isinstance(f, RedactTokens) for f in logger.filters):
        logger.addFilter(RedactTokens())
