from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from charter.auth import passwords
from charter.errors import InvalidInput


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("short", "at least 12"),
        ("aaaaaaaaaaaaaaaa", "one character repeated"),
        ("alice.example", "not be the username"),
        ("ALICE.EXAMPLE", "not be the username"),
        ("x" * 1024 + "y", "at most 1024"),
    ],
)
def test_policy_refuses_weak_passwords(password: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        passwords.check_policy(password, username="alice.example")


def test_policy_accepts_a_long_password() -> None:
    passwords.check_policy("correct horse battery staple", username="alice")


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = passwords.hash_password("correct horse battery staple")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify(hashed, "correct horse battery staple")
    assert not passwords.verify(hashed, "correct horse battery stapler")


def test_unreadable_hash_and_huge_input_do_not_verify() -> None:
    assert not passwords.verify("not a hash", "whatever whatever")
    hashed = passwords.hash_password("correct horse battery staple")
    assert not passwords.verify(hashed, "x" * 5000)


def test_needs_rehash_when_parameters_differ() -> None:
    weaker = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash("correct horse battery")
    assert passwords.needs_rehash(weaker)
    assert not passwords.needs_rehash(passwords.hash_password("correct horse battery"))
    assert passwords.needs_rehash("garbage")


def test_generated_passwords_pass_the_policy_and_differ() -> None:
    first, second = passwords.generate(), passwords.generate()
    assert first != second
    passwords.check_policy(first, username="alice")
    assert len(first) == 24


def test_burn_never_raises() -> None:
    passwords.burn("anything")
    passwords.burn("y" * 10_000)
