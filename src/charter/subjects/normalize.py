"""One spelling per identity, so the same person is found however they typed it.

Rules (docs/design/ledger.md has the reasons):

* ``email``: trimmed and lower-cased as a whole; ``local@domain`` with a dot
  in the domain, no spaces, at most 254 characters (RFC 5321's path limit).
* ``phone``: E.164 (``+14155550123``); a number without ``+country`` is read
  in the configured default region; numbers that cannot exist are refused.
* ``account_id``, ``cookie_id``, ``device_id``: trimmed, 1–200 printable
  characters, case kept (systems treat ids as case-sensitive).
* ``client_id``: ``CLIENT:ID`` — the supplying client's slug (lower-case
  letters, digits, ``_``, ``-``; at most 64) and its id for the person, so two
  clients' ids never collide; the id part follows the rule above.

A malformed identity raises :class:`InvalidIdentity` naming the kind and the
rule it breaks, never the value (it may be someone's address).
"""

from __future__ import annotations

import re
from enum import StrEnum

from charter.errors import InvalidInput

MAX_EMAIL = 254
MAX_ID = 200
DEFAULT_REGION = "US"


class IdentityKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    ACCOUNT_ID = "account_id"
    COOKIE_ID = "cookie_id"
    DEVICE_ID = "device_id"
    CLIENT_ID = "client_id"


class InvalidIdentity(InvalidInput):
    """An identity that cannot be normalized. The message names the kind and rule, not the value."""

    code = "invalid_identity"
    status = 422
    title = "The identity is not valid"


_EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")
_CLIENT = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")


def kind_of(text: str) -> IdentityKind:
    try:
        return IdentityKind(text.strip().lower())
    except ValueError:
        known = ", ".join(k.value for k in IdentityKind)
        raise InvalidIdentity(f"identity kind is not known; use one of {known}") from None


def normalize(kind: IdentityKind | str, value: str, *, region: str = DEFAULT_REGION) -> tuple[IdentityKind, str]:
    """The kind and the one spelling of ``value`` Charter stores and hashes."""
    found = kind if isinstance(kind, IdentityKind) else kind_of(kind)
    if not isinstance(value, str):
        raise InvalidIdentity(f"{found} identity must be text")
    if found is IdentityKind.EMAIL:
        return found, _email(value)
    if found is IdentityKind.PHONE:
        return found, _phone(value, region)
    if found is IdentityKind.CLIENT_ID:
        return found, _client_id(value)
    return found, _plain_id(found, value)


def _email(value: str) -> str:
    text = value.strip().lower()
    if len(text) > MAX_EMAIL:
        raise InvalidIdentity(f"email identity is longer than {MAX_EMAIL} characters")
    if not _EMAIL.fullmatch(text):
        raise InvalidIdentity("email identity must look like name@domain.tld (one @, a dot in the domain, no spaces)")
    return text


def _phone(value: str, region: str) -> str:
    text = value.strip()
    if not text or len(text) > 40:
        raise InvalidIdentity("phone identity must be 1-40 characters")
    # phonenumbers' metadata (58 modules, about 1 MB) is loaded with the first phone number: a server or
    # worker whose requesters give e-mail addresses (the channel Charter proves) never carries it
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise InvalidIdentity("phone identity is not a phone number (write it in E.164, e.g. +14155550123)") from None
    if not phonenumbers.is_valid_number(number):
        raise InvalidIdentity("phone identity is not a valid number for its country code")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _plain_id(kind: IdentityKind, value: str) -> str:
    text = value.strip()
    if not 1 <= len(text) <= MAX_ID:
        raise InvalidIdentity(f"{kind} identity must be 1-{MAX_ID} characters")
    if not text.isprintable():
        raise InvalidIdentity(f"{kind} identity must be printable characters only")
    return text


def _client_id(value: str) -> str:
    client, sep, rest = value.strip().partition(":")
    if not sep or not _CLIENT.fullmatch(client):
        raise InvalidIdentity(
            "client_id identity must be CLIENT:ID, CLIENT being the client's slug (a-z, 0-9, _ or -, at most 64)"
        )
    return f"{client}:{_plain_id(IdentityKind.CLIENT_ID, rest)}"


def parse_identity(text: str, *, region: str = DEFAULT_REGION) -> tuple[IdentityKind, str]:
    """``KIND:VALUE`` as written on the command line or in a file (``email:ana@example.org``)."""
    kind, sep, value = text.partition(":")
    if not sep:
        raise InvalidIdentity("an identity is written KIND:VALUE, e.g. email:name@example.org")
    return normalize(kind, value, region=region)


def mask(kind: str, value: str) -> str:
    """A form of ``value`` a person can recognize and no one can read back: ``a***@e***.org``, ``***23``."""
    if kind == "email" and "@" in value:
        local, _, domain = value.rpartition("@")
        name, dot, tld = domain.rpartition(".")
        head = f"{name[:1]}***{dot}{tld}" if dot else f"{domain[:1]}***"
        return f"{local[:1]}***@{head}"
    if kind == "phone":
        return f"***{value[-2:]}" if len(value) > 6 else "***"
    return f"{value[:1]}***" if len(value) > 3 else "***"
