"""Keys derived from the secret key, one per purpose, and what Charter does with them.

A :class:`KeyRing` turns the installation's secret key into independent
subkeys with HKDF-SHA256 (RFC 5869), one per purpose name, so a key used to
hash identities is never the key that encrypts them (promise P-SEC-1):

* :meth:`KeyRing.lookup_hash` — HMAC-SHA256 of a normalized identity. Keyed,
  so a copy of the database alone does not let anyone test a list of
  e-mail addresses against it.
* :meth:`KeyRing.seal` / :meth:`KeyRing.open` — AES-256-GCM with a random
  96-bit nonce and the caller's context as associated data, so a value
  sealed for one row or kind cannot be opened as another.

Sealed values start with a format byte and a 4-byte key id (a hash of the
sealing subkey); a ring built with ``previous`` secrets still opens values
sealed under them, which is how a secret key is rotated: seal with the new
one, open with either, re-seal in the background. See docs/design/ledger.md.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Sequence

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from charter.errors import InvalidInput

LOOKUP = "charter.identity.lookup"
SEAL = "charter.identity.seal"

_SALT = b"charter.keyring.v1"
_FORMAT = b"\x01"
_KEY_ID_BYTES = 4
_NONCE_BYTES = 12
_HEADER = len(_FORMAT) + _KEY_ID_BYTES + _NONCE_BYTES


class SealBroken(InvalidInput):
    """A sealed value that does not open: tampered, truncated, wrong context or unknown key."""

    code = "seal_broken"
    title = "An encrypted value could not be opened"


def derive(secret: bytes, purpose: str) -> bytes:
    """A 256-bit subkey of ``secret`` for ``purpose``; different purposes give unrelated keys."""
    if not secret:
        raise ValueError("the secret key is empty")
    return HKDF(algorithm=SHA256(), length=32, salt=_SALT, info=purpose.encode()).derive(secret)


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"charter.key-id" + key).digest()[:_KEY_ID_BYTES]


class KeyRing:
    """Subkeys of the secret key (and of earlier secret keys, to open old seals)."""

    def __init__(self, secret: bytes, *, previous: Sequence[bytes] = ()) -> None:
        self._lookup = derive(secret, LOOKUP)
        seal_key = derive(secret, SEAL)
        self._seal_id = _key_id(seal_key)
        self._sealers: dict[bytes, AESGCM] = {self._seal_id: AESGCM(seal_key)}
        for old in previous:
            old_key = derive(old, SEAL)
            self._sealers.setdefault(_key_id(old_key), AESGCM(old_key))

    def lookup_hash(self, kind: str, normalized: str) -> str:
        """Hex HMAC-SHA256 of ``kind`` and the normalized value (the kind is part of the message)."""
        message = kind.encode() + b"\x00" + normalized.encode()
        return hmac.new(self._lookup, message, hashlib.sha256).hexdigest()

    def seal(self, plaintext: bytes, *, context: bytes) -> bytes:
        """``format ‖ key id ‖ nonce ‖ ciphertext+tag``; ``context`` must be given again to open."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._sealers[self._seal_id].encrypt(nonce, plaintext, context)
        return _FORMAT + self._seal_id + nonce + sealed

    def open(self, sealed: bytes, *, context: bytes) -> bytes:
        """The plaintext, or :class:`SealBroken` if anything about the value or context is wrong."""
        if len(sealed) < _HEADER + 16 or sealed[:1] != _FORMAT:
            raise SealBroken("the encrypted value is not in a format Charter knows")
        key_id = sealed[1 : 1 + _KEY_ID_BYTES]
        sealer = self._sealers.get(key_id)
        if sealer is None:
            raise SealBroken("the encrypted value was sealed with a key this installation does not hold")
        nonce = sealed[1 + _KEY_ID_BYTES : _HEADER]
        try:
            return sealer.decrypt(nonce, sealed[_HEADER:], context)
        except InvalidTag as exc:
            raise SealBroken("the encrypted value was altered or belongs to another record") from exc
