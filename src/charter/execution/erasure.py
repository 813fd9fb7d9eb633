"""The erasure strategies as pure functions of (field's strategy, original value, row): what the field becomes.

Every strategy gives the same result when applied again to the same original,
which is what makes an erase step idempotent and lets ``verify`` recompute
what each erased field must now hold:

* ``set_null`` → NULL; ``redact_text`` → the map's replacement (default ``(erased)``);
* ``generalize_date`` → the first day of the year (``to: year``, the default) or month;
* ``keyed_hash`` → HMAC-SHA256 of the value under a key derived for this purpose
  (32 hex characters): the same person gets the same pseudonym in every store,
  and without the secret key nobody can test a guess;
* ``random_token`` → a token unlinkable to the value: HMAC under another derived key
  of (request, collection, field, primary key), 24 hex characters (``length``: 8 to 64). Random to anyone
  without the secret key, yet stable, so a re-run writes the same token.

Values travel as JSON (dates as ISO text, :func:`plain`); the connector turns
ISO text back into the column's type.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from charter.crypto import derive
from charter.datamap.schema import TOKEN_LENGTH
from charter.errors import InvalidInput
from charter.execution.steps import FieldErasure

KEYED_HASH = "charter.erasure.keyed_hash"
RANDOM_TOKEN = "charter.erasure.random_token"  # noqa: S105 - a key-derivation purpose, not a secret
DEFAULT_REPLACEMENT = "(erased)"


_NATIVE = frozenset({str, int, float, bool, type(None)})


def plain(value: Any) -> Any:
    """A JSON-safe form of a column value (dates as ISO text, bytes as hex, decimals as text)."""
    if type(value) in _NATIVE:  # most values: no isinstance chain
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if isinstance(value, Decimal):
        return str(value)
    return value


def plain_row(row: dict[str, Any]) -> dict[str, Any]:
    return {key: plain(value) for key, value in row.items()}


class Strategies:
    """The field strategies, with their keys derived once from the installation's secret key."""

    def __init__(self, secret: bytes) -> None:
        self._hash_key = derive(secret, KEYED_HASH)
        self._token_key = derive(secret, RANDOM_TOKEN)

    def keyed_hash(self, value: Any) -> str:
        return hmac.new(self._hash_key, str(value).encode(), hashlib.sha256).hexdigest()[:32]

    def token(self, *parts: object) -> str:
        """64 hex characters; a field takes the first ``length`` (24 unless the map says otherwise)."""
        message = "\x00".join(str(p) for p in parts).encode()
        return hmac.new(self._token_key, message, hashlib.sha256).hexdigest()

    def new_value(self, erasure: FieldErasure, original: Any, *, where: tuple[str, str, Any]) -> Any:
        """What the field holding ``original`` becomes; ``where`` is (request, collection, primary key)."""
        if original is None:
            return None
        strategy = erasure.strategy
        if strategy == "set_null":
            return None
        if strategy == "redact_text":
            return erasure.replacement if erasure.replacement is not None else DEFAULT_REPLACEMENT
        if strategy == "keyed_hash":
            return self.keyed_hash(original)
        if strategy == "random_token":
            return self.token(*where, erasure.field)[: erasure.length or TOKEN_LENGTH]
        if strategy == "generalize_date":
            return generalize(original, erasure.to or "year")
        raise InvalidInput(f"erasure strategy '{strategy}' cannot rewrite a field")

    def changes(
        self, fields: tuple[FieldErasure, ...], row: dict[str, Any], *, where: tuple[str, str, Any]
    ) -> dict[str, Any]:
        return {f.field: self.new_value(f, row.get(f.field), where=where) for f in fields}


def generalize(value: Any, to: str) -> str:
    """``2001-05-17`` → ``2001-01-01`` (year) or ``2001-05-01`` (month); datetimes keep their form at midnight."""
    text = plain(value)
    if not isinstance(text, str) or len(text) < 10:
        raise InvalidInput("generalize_date applies to dates only")
    year, month = text[:4], text[5:7] if to == "month" else "01"
    day = f"{year}-{month}-01"
    return f"{day}T00:00:00" if len(text) > 10 else day
