"""Password hashing (argon2id) and the password policy.

The hasher uses argon2-cffi's defaults (RFC 9106's low-memory profile).
When those defaults change in a later release, ``needs_rehash`` says so and
the next successful sign-in stores a fresh hash.
"""

from __future__ import annotations

import contextlib
import functools
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from charter.errors import InvalidInput

MIN_LENGTH = 12
MAX_LENGTH = 1024
"""Longer inputs are refused before hashing: argon2 would hash them, slowly."""

_HASHER = PasswordHasher()


def check_policy(password: str, *, username: str) -> None:
    """Refuse a password that is too short, one repeated character, or the username."""
    if len(password) < MIN_LENGTH:
        raise InvalidInput(f"the password must be at least {MIN_LENGTH} characters long")
    if len(password) > MAX_LENGTH:
        raise InvalidInput(f"the password must be at most {MAX_LENGTH} characters long")
    if len(set(password)) == 1:
        raise InvalidInput("the password must not be one character repeated")
    if password.strip().lower() == username.strip().lower():
        raise InvalidInput("the password must not be the username")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify(password_hash: str, password: str) -> bool:
    """True when ``password`` matches; False for a mismatch or an unreadable hash."""
    if len(password) > MAX_LENGTH:
        burn()
        return False
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _HASHER.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


@functools.cache
def _dummy_hash() -> str:
    return _HASHER.hash(secrets.token_urlsafe(32))


def burn(password: str = "") -> None:
    """Spend the time of one verification, so an unknown user answers as slowly as a known one."""
    with contextlib.suppress(VerificationError, InvalidHashError):
        _HASHER.verify(_dummy_hash(), password[:MAX_LENGTH])


def generate() -> str:
    """A strong random password (24 URL-safe characters, 144 bits)."""
    return secrets.token_urlsafe(18)
