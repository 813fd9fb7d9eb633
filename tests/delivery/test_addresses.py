"""Which third-party addresses Charter posts a person's data to: the SSRF guard (P-RGT-5, P-SEC-1)."""

from __future__ import annotations

import pytest

from charter.delivery.addresses import RecipientRefused, check_url, is_public, public_addresses

GOOD = "https://import.example.com/charter?account=42"


def test_a_public_https_address_is_accepted() -> None:
    assert check_url(GOOD) == GOOD
    assert check_url("https://93.184.215.14:8443/in") == "https://93.184.215.14:8443/in"


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("http://import.example.com/in", "https://"),
        ("ftp://import.example.com/in", "https://"),
        ("https:///in", "no host"),
        ("https://user:pw@import.example.com/in", "user name or password"),
        ("https://token@import.example.com/in", "user name or password"),
        ("https://import.example.com/in#frag", "fragment"),
        ("https://import.example.com:99999/in", "not a web address"),
        ("https://127.0.0.1/in", "private or local"),
        ("https://10.1.2.3/in", "private or local"),
        ("https://169.254.169.254/latest/meta-data", "private or local"),
        ("https://[::1]/in", "private or local"),
        ("https://[::ffff:192.168.0.1]/in", "private or local"),
        ("https://localhost:8443/in", "private or local"),
        ("https://printer.local/in", "private or local"),
        ("https://" + "a" * 2_000 + ".com/", "at most"),
    ],
)
def test_refused_addresses_name_the_field_and_never_echo_the_url(url: str, says: str) -> None:
    with pytest.raises(RecipientRefused, match=says) as refused:
        check_url(url)
    assert refused.value.status == 422 and refused.value.exit_code == 2
    assert refused.value.problems[0].path == "details.url"
    assert url not in refused.value.detail and "pw" not in refused.value.detail


def test_private_addresses_only_when_the_setting_allows_them() -> None:
    assert check_url("https://127.0.0.1:8443/in", allow_private=True)
    with pytest.raises(RecipientRefused):
        check_url("http://127.0.0.1:8443/in", allow_private=True)  # https is never optional


def test_every_resolved_address_must_be_public() -> None:
    """A host name that resolves (even partly) into a private network is refused at sending time."""
    assert public_addresses("import.example.com", 443, lambda _h, _p: ["93.184.215.14"]) == ["93.184.215.14"]
    with pytest.raises(RecipientRefused, match="resolves into a private"):
        public_addresses("rebind.example.com", 443, lambda _h, _p: ["93.184.215.14", "10.0.0.5"])
    with pytest.raises(RecipientRefused, match="does not resolve"):
        public_addresses("gone.example.com", 443, lambda _h, _p: [])

    def broken(_host: str, _port: int) -> list[str]:
        raise OSError("no such host")

    with pytest.raises(RecipientRefused, match="does not resolve"):
        public_addresses("gone.example.com", 443, broken)
    assert public_addresses("here.test", 443, lambda _h, _p: ["127.0.0.1"], allow_private=True) == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("192.168.1.1", False),
        ("100.64.0.1", False),
        ("224.0.0.1", False),
        ("0.0.0.0", False),  # noqa: S104 - an address to classify, nothing binds to it
        ("fe80::1", False),
        ("fd00::1", False),
    ],
)
def test_what_counts_as_public(address: str, public: bool) -> None:
    assert is_public(address) is public
