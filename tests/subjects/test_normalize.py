"""One spelling per identity; malformed identities are refused without echoing them."""

from __future__ import annotations

import pytest

from charter.subjects.normalize import IdentityKind, InvalidIdentity, normalize, parse_identity


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ana@example.org", "ana@example.org"),
        ("  Ana.Lima@Example.ORG \n", "ana.lima@example.org"),
        ("first+tag@mail.example.co.uk", "first+tag@mail.example.co.uk"),
    ],
)
def test_emails_are_trimmed_and_lower_cased(raw: str, expected: str) -> None:
    assert normalize("email", raw) == (IdentityKind.EMAIL, expected)


@pytest.mark.parametrize(
    "raw", ["ana", "ana@", "@example.org", "ana@example", "ana@@example.org", "a na@example.org", "ana@example.", ""]
)
def test_malformed_emails_are_refused_without_echo(raw: str) -> None:
    with pytest.raises(InvalidIdentity) as caught:
        normalize("email", raw)
    assert "email identity" in caught.value.detail
    assert not raw.strip() or raw.strip() not in caught.value.detail


def test_over_long_email_is_refused() -> None:
    with pytest.raises(InvalidIdentity, match="longer than 254"):
        normalize("email", "a" * 250 + "@example.org")


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("+1 415 555 0132", "US", "+14155550132"),
        ("(415) 555-0132", "US", "+14155550132"),
        ("020 7946 0018", "GB", "+442079460018"),
        ("+44 20 7946 0018", "US", "+442079460018"),
    ],
)
def test_phones_become_e164(raw: str, region: str, expected: str) -> None:
    assert normalize("phone", raw, region=region) == (IdentityKind.PHONE, expected)


@pytest.mark.parametrize("raw", ["12", "call me maybe", "+1 000 000 0000", "+999 1234567", " "])
def test_invalid_phones_are_refused_without_echo(raw: str) -> None:
    with pytest.raises(InvalidIdentity) as caught:
        normalize("phone", raw)
    assert "phone identity" in caught.value.detail
    assert not raw.strip() or raw.strip() not in caught.value.detail


@pytest.mark.parametrize("kind", ["account_id", "cookie_id", "device_id"])
def test_plain_ids_keep_case_and_are_trimmed(kind: str) -> None:
    assert normalize(kind, "  AbC-123 ") == (IdentityKind(kind), "AbC-123")


@pytest.mark.parametrize("raw", ["", "   ", "x" * 201, "tab\there", "nul\x00"])
def test_bad_plain_ids_are_refused(raw: str) -> None:
    with pytest.raises(InvalidIdentity, match="account_id identity"):
        normalize("account_id", raw)


def test_client_ids_are_namespaced_by_client() -> None:
    assert normalize("client_id", " acme-school:Student 42 ") == (IdentityKind.CLIENT_ID, "acme-school:Student 42")
    for bad in ("no-namespace", "Acme:1", ":1", "acme:"):
        with pytest.raises(InvalidIdentity, match="client_id identity"):
            normalize("client_id", bad)


def test_unknown_kind_is_named_among_the_known() -> None:
    with pytest.raises(InvalidIdentity, match="use one of email, phone"):
        normalize("passport", "X123")


def test_parse_identity_from_the_command_line() -> None:
    assert parse_identity("email:Ana@Example.org") == (IdentityKind.EMAIL, "ana@example.org")
    assert parse_identity("client_id:acme:7") == (IdentityKind.CLIENT_ID, "acme:7")
    with pytest.raises(InvalidIdentity, match="KIND:VALUE"):
        parse_identity("ana@example.org")
