"""Building a message: headers checked, plain text always, HTML optional."""

from __future__ import annotations

from collections.abc import Mapping
from email.errors import HeaderParseError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, make_msgid, parseaddr

from charter.errors import InvalidInput, Misconfigured
from charter.settings import MailSettings

MAX_SUBJECT = 200
BAD_RECIPIENT = "the recipient must be an e-mail address such as name@example.org"


def _domain_of(address: str) -> str:
    _name, email = parseaddr(address)
    return email.rpartition("@")[2] or "localhost"


def _single_line(field: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise InvalidInput(f"the {field} of an e-mail must be one line")
    return value


def compose(
    settings: MailSettings,
    *,
    to: str,
    subject: str,
    text: str,
    html: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> EmailMessage:
    """A message from the configured sender to one recipient.

    ``to`` must already be a normalized address (``subjects.normalize``); a
    malformed one is refused with a message that does not repeat it.
    """
    _name, sender = parseaddr(settings.from_address)
    if "@" not in sender:
        raise Misconfigured("CHARTER_MAIL_FROM_ADDRESS must contain an e-mail address, e.g. privacy@example.com")
    local, at, domain = _single_line("recipient", to).rpartition("@")
    if not at or not local or not domain:
        raise InvalidInput(BAD_RECIPIENT)
    message = EmailMessage()
    message["From"] = settings.from_address
    try:
        recipient = Address(addr_spec=to)
    except (ValueError, IndexError, AttributeError, HeaderParseError) as exc:
        # The header parser's own errors; AttributeError is a CPython bug on an unclosed domain
        # literal ("a@[b.c"), which the identity rules accept.
        raise InvalidInput(BAD_RECIPIENT) from exc
    if recipient.addr_spec != to:  # e.g. a comment the parser drops: the mail would go elsewhere
        raise InvalidInput(BAD_RECIPIENT)
    message["To"] = recipient
    message["Subject"] = _single_line("subject", subject)[:MAX_SUBJECT]
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain_of(settings.from_address))
    for name, value in (headers or {}).items():
        message[_single_line("header name", name)] = _single_line(f"{name} header", value)
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    return message
