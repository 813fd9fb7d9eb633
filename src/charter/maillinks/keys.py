"""Link tokens: 256 random bits, stored only as a keyed hash.

The hash key is a subkey of the installation's secret key
(``charter.crypto.derive``, purpose ``charter.maillinks.token``), so it is
unrelated to the identity keys. A token is 43 URL-safe base64 characters;
anything else is refused before the database is asked, with the same error
as a token that was never minted.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence

from charter.crypto import derive

PURPOSE = "charter.maillinks.token"
TOKEN_BYTES = 32
_TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")


class LinkKeys:
    """Mints tokens and hashes them; ``previous`` secrets keep links minted before a key rotation working."""

    def __init__(self, secret: bytes, *, previous: Sequence[bytes] = ()) -> None:
        self._keys = [derive(secret, PURPOSE), *(derive(old, PURPOSE) for old in previous)]

    @staticmethod
    def new_token() -> str:
        return secrets.token_urlsafe(TOKEN_BYTES)

    @staticmethod
    def well_formed(token: str) -> bool:
        return _TOKEN.fullmatch(token) is not None

    def digest(self, token: str) -> str:
        """The hash stored for a new token (under the current key)."""
        return self._hash(self._keys[0], token)

    def candidates(self, token: str) -> list[str]:
        """Every hash the token may be stored under (current key first); empty for a malformed token."""
        if not self.well_formed(token):
            return []
        return [self._hash(key, token) for key in self._keys]

    @staticmethod
    def _hash(key: bytes, token: str) -> str:
        return hmac.new(key, token.encode("ascii"), hashlib.sha256).hexdigest()
