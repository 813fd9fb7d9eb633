"""Which recipient addresses Charter will post a person's data to: the guard against server-side request forgery.

A portability request names a URL; Charter later POSTs the person's package
there. Without a guard, anyone could file a request naming
``https://10.0.0.5/admin`` or ``https://localhost:8443/`` and make Charter
post into the organization's own network. So:

* at intake (:func:`check_url`), the URL must be ``https``, carry no user or
  password, and — when its host is an IP address or a ``localhost`` name —
  that address must be public;
* at sending time (:func:`public_addresses`), the host name is resolved and
  *every* address it resolves to must be public; the connection is then
  made to one of those checked addresses (never resolved again), so a DNS
  answer that changes between the check and the connection cannot redirect
  it (DNS rebinding).

``allow_private`` (``CHARTER_DELIVERY_ALLOW_PRIVATE_RECIPIENTS``) lifts the
address rule for tests against a local server; nothing else.

Pure apart from the resolver, which is passed in (tests give their own).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from charter.errors import Problem
from charter.requests.errors import InvalidRequest

MAX_URL = 2_000
FIELD = "details.url"
_LOCAL_NAMES = ("localhost", ".localhost", ".local", ".internal", ".home.arpa")

Resolver = Callable[[str, int], Sequence[str]]
"""``(host, port)`` → the IP addresses (text) a connection may use."""


class RecipientRefused(InvalidRequest):
    """The third party's address is not one Charter posts personal data to (a request detail that is wrong)."""

    code = "recipient_refused"
    status = 422
    title = "Charter does not send data to this address"


def _refused(message: str) -> RecipientRefused:
    return RecipientRefused(f"{FIELD}: {message}", problems=[Problem(path=FIELD, message=message)])


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (not loopback, private, link-local, reserved, multicast)."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        return None


def check_url(text: str, *, allow_private: bool = False) -> str:
    """``text`` if Charter may post to it later, else :class:`RecipientRefused` naming ``details.url``.

    The message never repeats the URL (it may hold the recipient's token for the person).
    """
    if len(text) > MAX_URL:
        raise _refused(f"the address must be at most {MAX_URL} characters")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise _refused("this is not a web address") from None
    if parts.scheme != "https":
        raise _refused("the address must start with https:// (Charter sends personal data only encrypted)")
    if not parts.hostname:
        raise _refused("the address has no host name")
    if parts.username is not None or parts.password is not None:
        raise _refused("the address must not contain a user name or password")
    if parts.fragment:
        raise _refused("the address must not contain a #fragment")
    if port == 0:
        raise _refused("the address has no valid port")
    if not allow_private:
        host = parts.hostname.lower().rstrip(".")
        literal = _literal(host)
        if (literal is not None and not is_public(literal)) or host.endswith(_LOCAL_NAMES) or host == "localhost":
            raise _refused("the address points into a private or local network")
    return text


def system_resolver(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to for a TCP connection (the operating system's resolver)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in found})


def public_addresses(host: str, port: int, resolver: Resolver, *, allow_private: bool = False) -> list[str]:
    """The addresses to connect to; :class:`RecipientRefused` if any is not public (or none is found)."""
    try:
        addresses = list(resolver(host, port))
    except OSError:
        raise _refused("the recipient's host name does not resolve") from None
    if not addresses:
        raise _refused("the recipient's host name does not resolve")
    if not allow_private and not all(is_public(a) for a in addresses):
        raise _refused("the recipient's host name resolves into a private or local network")
    return addresses
