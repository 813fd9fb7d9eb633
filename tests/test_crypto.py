"""The key ring: independent subkeys, keyed lookup hashes, sealed values that resist tampering (P-SEC-1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from charter.crypto import LOOKUP, SEAL, KeyRing, SealBroken, derive

SECRET = b"s" * 43


def test_subkeys_differ_per_purpose_and_secret() -> None:
    assert derive(SECRET, LOOKUP) != derive(SECRET, SEAL)
    assert derive(SECRET, LOOKUP) != derive(b"t" * 43, LOOKUP)
    assert len(derive(SECRET, SEAL)) == 32


def test_empty_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        derive(b"", LOOKUP)


@given(st.binary(max_size=300), st.binary(max_size=40))
def test_seal_round_trip(plaintext: bytes, context: bytes) -> None:
    ring = KeyRing(SECRET)
    sealed = ring.seal(plaintext, context=context)
    assert ring.open(sealed, context=context) == plaintext


def test_seals_of_one_value_differ() -> None:
    """A random nonce per seal: equal values do not give equal ciphertexts."""
    ring = KeyRing(SECRET)
    assert ring.seal(b"ana@example.org", context=b"c") != ring.seal(b"ana@example.org", context=b"c")


@pytest.mark.parametrize("position", [0, 3, 10, 20, -1])
def test_tampering_is_detected(position: int) -> None:
    ring = KeyRing(SECRET)
    sealed = bytearray(ring.seal(b"ana@example.org", context=b"email"))
    sealed[position] ^= 0x01
    with pytest.raises(SealBroken):
        ring.open(bytes(sealed), context=b"email")


def test_truncated_value_is_refused() -> None:
    ring = KeyRing(SECRET)
    with pytest.raises(SealBroken):
        ring.open(ring.seal(b"x", context=b"c")[:20], context=b"c")


def test_other_context_does_not_open() -> None:
    ring = KeyRing(SECRET)
    sealed = ring.seal(b"ana@example.org", context=b"email:row-1")
    with pytest.raises(SealBroken, match="altered or belongs to another record"):
        ring.open(sealed, context=b"email:row-2")


def test_other_key_does_not_open_but_a_rotated_ring_does() -> None:
    old = KeyRing(b"old secret key 0123456789")
    sealed = old.seal(b"+14155550123", context=b"phone")
    with pytest.raises(SealBroken, match="does not hold"):
        KeyRing(SECRET).open(sealed, context=b"phone")
    rotated = KeyRing(SECRET, previous=[b"old secret key 0123456789"])
    assert rotated.open(sealed, context=b"phone") == b"+14155550123"
    assert rotated.seal(b"y", context=b"c")[1:5] != sealed[1:5]  # new seals use the new key id


def test_lookup_hash_is_keyed_and_kind_bound() -> None:
    a, b = KeyRing(SECRET), KeyRing(b"another secret key")
    assert a.lookup_hash("email", "ana@example.org") == a.lookup_hash("email", "ana@example.org")
    assert a.lookup_hash("email", "ana@example.org") != b.lookup_hash("email", "ana@example.org")
    assert a.lookup_hash("email", "x") != a.lookup_hash("account_id", "x")
    assert len(a.lookup_hash("email", "ana@example.org")) == 64
